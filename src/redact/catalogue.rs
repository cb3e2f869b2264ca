//! The catalogue of built-in secret kinds, as data: one row per kind with its id (the name in
//! markers), what it masks, its regexes, the keywords that must occur for them to run, the check a
//! match must pass, and examples it must mask (true positives) and leave alone (false positives).
//!
//! The kinds follow the industry's catalogue (gitleaks' default rule set): each provider token
//! with a recognizable shape has its own row; provider keys that gitleaks only finds next to the
//! provider's name (`ADAFRUIT_KEY=…`, `TWITTER_API_SECRET=…`) are what `secret-assignment` masks.
//! The regexes are our own. `tests.rs` runs every example in plain text, in a JSON string value
//! and in a `\/`-escaped JSON string.
//!
//! In an example, `«…»` marks the secret; an example without them is a secret whole. A pattern
//! with a group named `secret` masks that group; otherwise the whole match. Rows are in priority
//! order: where matches overlap, the masked span takes the name of the earlier row.

/// What a match must also satisfy (the regex crate has no look-around).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Check {
    None,
    /// Not `sk-ant-…` (the Anthropic row's), and a digit among it.
    OpenAi,
    /// Upper and lower case letters and a digit (a random key, not a word or a hex hash).
    Mixed,
    /// A digit, 24 characters or more, or a case change inside (not a plain word).
    Token,
    /// Not a placeholder (`$VAR`, `${VAR}`, `<…>`, `***`, `null`, …) and not a plain word.
    Prose,
    /// Not a placeholder.
    NotPlaceholder,
    /// The `name` group is a secret name (see `rules::is_secret_name`) and the value is not a
    /// placeholder.
    Assignment,
}

/// One kind of secret.
#[derive(Debug)]
pub(crate) struct Kind {
    pub id: &'static str,
    pub description: &'static str,
    pub patterns: &'static [&'static str],
    /// Lower-case ASCII; a text is run through the patterns only when it holds one of these
    /// (case-insensitively). Every match of a pattern contains one.
    pub keywords: &'static [&'static str],
    pub check: Check,
    // The examples are read by the table-driven tests only.
    #[cfg_attr(not(test), allow(dead_code))]
    pub tp: &'static [&'static str],
    #[cfg_attr(not(test), allow(dead_code))]
    pub fp: &'static [&'static str],
}

/// Texts no rule may touch: the API's ids, hashes, UUIDs, usage fields, base64 data.
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) const NEVER_SECRETS: &[&str] = &[
    "sevt_011CZkZ9X2dpNyB7HsEFoRfW",
    "sesn_011CZkZ9X2dpNyB7HsEFoRfW",
    "toolu_01A09q90qw90lq917835lq9",
    "msg_01XFDUDYJgAACzvnptvVoYEL",
    "agent_011CZkYpogX7uDKUyvBTophP",
    "env_011CZkZ9X2dpNyB7HsEFoRfW",
    "vlt_011CZkZ9X2dpNyB7HsEFoRfW",
    "req_011CZkZ9X2dpNyB7HsEFoRfW",
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "commit 4b825dc642cb6eb9a060e54bf8d69288fbee4904",
    "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "123e4567-e89b-12d3-a456-426614174000",
    r#"{"input_tokens": 1234, "output_tokens": 56, "max_tokens": 4096, "cache_read_input_tokens": 0}"#,
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
    "the session token budget was reached; rotate secrets monthly; the key point is the password policy",
    "https://platform.claude.com/docs/en/api/sessions?limit=20&order=desc",
];

pub(crate) const KINDS: &[Kind] = &[
    Kind {
        id: "private-key",
        description: r#"PEM private key blocks (RSA, EC, DSA, OpenSSH, PKCS#8, encrypted), `-----BEGIN … PRIVATE KEY-----` to the matching END line or the end of the text"#,
        patterns: &[
            r#"(?s)-----BEGIN[A-Z0-9 ]*PRIVATE KEY-----.*?(?:-----END[A-Z0-9 ]*PRIVATE KEY-----|\z)"#,
        ],
        keywords: &["private key"],
        check: Check::None,
        tp: &[
            r#"-----BEGIN RSA PRIVATE KEY-----
MIIEowIBAAKCAQEA7s1u8jzPde0IgxLd6GncfBAepfJBd0Kh8oOOL8dKLzd
-----END RSA PRIVATE KEY-----"#,
            r#"-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAAocJ2isAjIhKtJ0RlgLKOmxgJTeKdNn
-----END OPENSSH PRIVATE KEY-----"#,
            r#"key: «-----BEGIN PRIVATE KEY-----
MIIEvQIBADANBgkqhkiG9w0BAQEFAASCFRIBXuDL7DxtpYlSXpfK»"#,
        ],
        fp: &[
            r#"-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOC
-----END PUBLIC KEY-----"#,
            r#"store the private key in a vault"#,
        ],
    },
    Kind {
        id: "anthropic-key",
        description: r#"Anthropic API, admin and OAuth keys: `sk-ant-` and at least 20 of [A-Za-z0-9_-]"#,
        patterns: &[r#"(?:^|[^0-9A-Za-z])(?P<secret>sk-ant-[A-Za-z0-9_-]{20,})"#],
        keywords: &["sk-ant-"],
        check: Check::None,
        tp: &[
            r#"sk-ant-api03-tHF4vUCsMehGAkWvj7FAc9QeWJKY40uvSwMFLZDe"#,
            r#"sk-ant-admin01-1f8rESQedUStPKR0CsTy4Qwb8DwkNh"#,
            r#"mcp_«sk-ant-oat01-FdnXsiVpzz63FfkCzJr4i0B3JrTAwR»"#,
        ],
        fp: &[
            r#"sk-ant-short"#,
            r#"task-ant-api03-Abc123xyzAbc123xyzAbc123"#,
        ],
    },
    Kind {
        id: "openai-key",
        description: r#"OpenAI keys: `sk-`, `sk-proj-`, `sk-svcacct-`, `sk-admin-` and at least 20 of [A-Za-z0-9_-] with a digit among them (not `sk-ant-`)"#,
        patterns: &[r#"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}"#],
        keywords: &["sk-"],
        check: Check::OpenAi,
        tp: &[
            r#"sk-proj-4y9ojfljoQoaF1LlqsajAIxNKu8iS2G8NPRVdD53"#,
            r#"sk-T3BlbkFJX83RZJzzzzgEOzdmenCkhvMdgaKjIg"#,
            r#"OPENAI=«sk-svcacct-8xNbe3nNyjOq9wMxEhh2FDEEtfjgVv»"#,
        ],
        fp: &[
            r#"sk-learn-compatible-estimators-everywhere"#,
            r#"desk-1234567890123456789012345"#,
        ],
    },
    Kind {
        id: "github-token",
        description: r#"GitHub tokens: `ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_` and at least 20 alphanumerics; `github_pat_` fine-grained tokens"#,
        patterns: &[
            r#"(?:^|[^0-9A-Za-z])(?P<secret>gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})"#,
        ],
        keywords: &["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"],
        check: Check::None,
        tp: &[
            r#"ghp_VqE1SkHbn88HxjSI6bWHtP3fS2qHx6kwXoII"#,
            r#"gho_XGvOoNZYW2mZp0zVZomHFwUbbYrEqmSM9wCZ"#,
            r#"github_pat_117Uw9xfogoEmvnEN5N1aE_6PwZPf1Qh6yYTWmE4lBYOvfZ8UzDzV8fUkkibjL5"#,
            r#"use «ghs_DZPjN0MEQ7wjJJibaZUPgHV7iB3m03nbqnsG» now"#,
        ],
        fp: &[
            r#"ghp_short"#,
            r#"the ghx_abcdefghij1234567890ABCDEFGHIJ prefix"#,
        ],
    },
    Kind {
        id: "gitlab-token",
        description: r#"GitLab tokens: `glpat-`, `gldt-`, `glft-`, `glimt-`, `glptt-`, `glrt-`, `glsoat-`, `glcbt-`, `glffct-`, `glagent-`, `gloas-` and 20 or more of [A-Za-z0-9_-]; runner registration tokens `GR1348941…`"#,
        patterns: &[
            r#"(?:^|[^0-9A-Za-z])(?P<secret>gl(?:pat|dt|ft|imt|ptt|rt|soat|cbt|ffct|agent|oas)-[A-Za-z0-9_-]{20,}|GR1348941[A-Za-z0-9_-]{20,})"#,
        ],
        keywords: &[
            "glpat-",
            "gldt-",
            "glft-",
            "glimt-",
            "glptt-",
            "glrt-",
            "glsoat-",
            "glcbt-",
            "glffct-",
            "glagent-",
            "gloas-",
            "gr1348941",
        ],
        check: Check::None,
        tp: &[
            r#"glpat-pWLuqIA1id6Vw5DQL05H"#,
            r#"glrt-A064GiIjHGb3CXlMaXZj"#,
            r#"GR1348941ljENUhJduRHHJEYXg4Jd"#,
        ],
        fp: &[r#"glpat-short"#, r#"the glpat- prefix"#],
    },
    Kind {
        id: "aws-access-key-id",
        description: r#"AWS access key ids: `AKIA`, `ASIA`, `ABIA`, `ACCA` or `A3T?` and 16 of [A-Z0-9]"#,
        patterns: &[
            r#"(?:^|[^0-9A-Za-z])(?P<secret>(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16})(?:$|[^0-9A-Za-z])"#,
        ],
        keywords: &["akia", "asia", "abia", "acca", "a3t"],
        check: Check::None,
        tp: &[
            r#"AKIAIOSFODNN7EXAMPLE"#,
            r#"ASIAPMRCG629BE2U66MR"#,
            r#"id=«AKIA26846P7Q9M2I0HZ2»"#,
        ],
        fp: &[
            r#"AKIAEXAMPLE"#,
            r#"Asia is large"#,
            r#"AKIAUEP1ENTHJXJQI3OGZ5KO"#,
        ],
    },
    Kind {
        id: "aws-secret-key",
        description: r#"AWS secret access keys: 40 of [A-Za-z0-9/+] with upper and lower case letters and a digit, within 60 characters after `aws` and `secret` or `key` (in prose too)"#,
        patterns: &[
            r#"(?i:aws)[^\n]{0,40}?(?i:secret|key)[^\n]{0,30}?(?:^|[^A-Za-z0-9/+=])(?P<secret>[A-Za-z0-9/+]{40})(?:$|[^A-Za-z0-9/+=])"#,
        ],
        keywords: &["aws"],
        check: Check::Mixed,
        tp: &[
            r#"the AWS secret key is «wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY» for prod"#,
            r#"aws_secret_access_key = «kTBGzvAmwufUxbvJDCTbyvHNsG9eh6Yo/4gfqrc5»"#,
        ],
        fp: &[
            r#"aws key id 0123456789abcdef0123456789abcdef01234567 (a sha)"#,
            r#"AWS secret rotation is scheduled for tomorrow morning"#,
        ],
    },
    Kind {
        id: "aws-bedrock-key",
        description: r#"Amazon Bedrock API keys: `ABSK` and 109 or more of [A-Za-z0-9+/]"#,
        patterns: &[r#"(?:^|[^0-9A-Za-z])(?P<secret>ABSK[A-Za-z0-9+/]{109,}={0,2})"#],
        keywords: &["absk"],
        check: Check::None,
        tp: &[
            r#"ABSKXlrWi0B26R08qzjI6GKFSufrdZSlB5er8bOfZqfM2oeq3hDavJA76rNicHTp8hkqdlm7tOtHWnsCGRlrwZbqcabUGJmGEp7CgQ0PBQFI14zGtSnovm14TUOi"#,
        ],
        fp: &[r#"ABSKzwd1iaeOV4qBkdfQ1y3G"#],
    },
    Kind {
        id: "gcp-api-key",
        description: r#"Google Cloud / Firebase / Maps API keys: `AIza` and 35 of [A-Za-z0-9_-]"#,
        patterns: &[r#"(?:^|[^0-9A-Za-z])(?P<secret>AIza[0-9A-Za-z_-]{35})(?:$|[^0-9A-Za-z])"#],
        keywords: &["aiza"],
        check: Check::None,
        tp: &[
            r#"AIzaSyQsMpSscDlkrCaqx9vJupc94tnwlavyfEr"#,
            r#"key=«AIzaGPmpGXafq0fjzLczbttOofL9H2WjQ5TY4My»&q=x"#,
        ],
        fp: &[
            r#"AIzaWuUFjsUNPj"#,
            r#"AIzaSyc01T5GOBUSZGi6HWGK10Zb0RLZ5TR9SPofbciOx9"#,
        ],
    },
    Kind {
        id: "slack-token",
        description: r#"Slack tokens: `xoxb-`, `xoxa-`, `xoxp-`, `xoxr-`, `xoxs-`, `xoxe-`, `xoxe.xoxp-` and at least 10 of [A-Za-z0-9-]; app tokens `xapp-` (also after `_`, as in a tool name)"#,
        patterns: &[
            r#"(?:^|[^0-9A-Za-z])(?P<secret>xox(?:[baprse]|e\.xox[bp])-[A-Za-z0-9-]{10,}|xapp-\d-[A-Za-z0-9-]{10,})"#,
        ],
        keywords: &["xox", "xapp-"],
        check: Check::None,
        tp: &[
            r#"xoxb-123456789012-gy1CJdObOIRpFqaDZeV7G5If"#,
            r#"xoxe.xoxp-1-QHeVVEqZe2qpUWnoVPDF2yeE6RsXcNOPmeMjvqPV"#,
            r#"xapp-1-ATIA4D5RGN5-123456-99eee3692f09e2e8c662"#,
            r#"mcp_«xoxb-123456789012-LfjVHq8xiM0OGr4hTxoF»_tool"#,
        ],
        fp: &[r#"xoxb-short"#, r#"xoxo-1234567890abc"#],
    },
    Kind {
        id: "slack-webhook",
        description: r#"Slack incoming-webhook and workflow URLs: `hooks.slack.com/services|workflows|triggers/…` (also with `\/` escapes)"#,
        patterns: &[
            r#"(?P<secret>(?:https?:(?:\\?/){2})?hooks\.slack\.com(?:\\?/)(?:services|workflows|triggers)(?:\\?/)[A-Za-z0-9+/\\]{20,})"#,
        ],
        keywords: &["hooks.slack.com"],
        check: Check::None,
        tp: &[
            r#"https://hooks.slack.com/services/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"#,
            r#"«https:\/\/hooks.slack.com\/services\/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»"#,
        ],
        fp: &[r#"see https://api.slack.com/messaging/webhooks"#],
    },
    Kind {
        id: "stripe-key",
        description: r#"Stripe secret and restricted keys: `sk_live_`, `sk_test_`, `sk_prod_`, `rk_live_`, `rk_test_`, `rk_prod_` and 10 or more alphanumerics; webhook secrets `whsec_`"#,
        patterns: &[
            r#"(?:^|[^0-9A-Za-z])(?P<secret>(?:sk|rk)_(?:test|live|prod)_[A-Za-z0-9]{10,99}|whsec_[A-Za-z0-9]{24,})"#,
        ],
        keywords: &[
            "sk_live_", "sk_test_", "sk_prod_", "rk_live_", "rk_test_", "rk_prod_", "whsec_",
        ],
        check: Check::None,
        tp: &[
            r#"sk_live_d67JikEAvstqVVPqzPptEJQz"#,
            r#"rk_test_hkPkenG5ZFJoC6vWCBiJmpflvJfupx"#,
            r#"whsec_qZKm4bV3AyAVHnyrvWdFrK9xiRGHOY32"#,
            r#"STRIPE=«sk_live_nfr5pyzPCB9t2039bicBTW5Z»"#,
        ],
        fp: &[r#"sk_live_"#, r#"pk_live_E9LFaez7770H2DCpYgojjHRg"#],
    },
    Kind {
        id: "npm-token",
        description: r#"npm access tokens: `npm_` and 36 alphanumerics"#,
        patterns: &[r#"(?:^|[^0-9A-Za-z])(?P<secret>npm_[A-Za-z0-9]{36})(?:$|[^0-9A-Za-z])"#],
        keywords: &["npm_"],
        check: Check::None,
        tp: &[
            r#"npm_80USP2W5DfJXcaYioK6cPTt9iOqHOBSWhget"#,
            r#"//registry.npmjs.org/:_authToken=«npm_H8LmyqoYMaaItDr9uP14pEHpJpb9ATPtdbmF»"#,
        ],
        fp: &[r#"npm_config_cache"#, r#"npm_4RPAfqoQB7"#],
    },
    Kind {
        id: "huggingface-token",
        description: r#"Hugging Face access and organization tokens: `hf_` or `api_org_` and 34 letters"#,
        patterns: &[
            r#"(?:^|[^0-9A-Za-z])(?P<secret>(?:hf_|api_org_)[A-Za-z]{34})(?:$|[^0-9A-Za-z])"#,
        ],
        keywords: &["hf_", "api_org_"],
        check: Check::None,
        tp: &[
            r#"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"#,
            r#"token «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»"#,
        ],
        fp: &[
            r#"hf_hub_download"#,
            r#"xhf_ctQUyxvCkgafrfwAhJWnywXtZBfdTEmxIC"#,
        ],
    },
    Kind {
        id: "jwt",
        description: r#"JSON Web Tokens: `eyJ…` header and payload (base64url of a JSON object) and a signature, dot-separated; also a JWT base64-encoded again (`ZXlKaGJHY2lP…`)"#,
        patterns: &[
            r#"(?:^|[^0-9A-Za-z])(?P<secret>eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*)"#,
            r#"(?:^|[^0-9A-Za-z])(?P<secret>ZXlKaGJHY2lP[A-Za-z0-9+/]{20,}={0,2})"#,
        ],
        keywords: &["eyj", "zxlkagjhy2lp"],
        check: Check::None,
        tp: &[
            r#"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ.yPU8d0FZfWe7ihGyiRUIQfHOJMaidDn87XG3-q-xbMt"#,
            r#"cookie session=«eyJhbGciOiJub25lIn0.eyJ1c2VyIjoiYWRtaW4ifQ.»"#,
            r#"ZXlKaGJHY2lPaUpJVXpJMU5pSjkuZXlKemRXSWkMpu3uDxYYMfGmzWkpAePcEJIukB4ge"#,
        ],
        fp: &[
            r#"eyJ is how a JSON header starts"#,
            r#"eyJhbGciOiJIUzI1NiJ9 alone"#,
        ],
    },
    Kind {
        id: "digitalocean-token",
        description: r#"DigitalOcean personal, OAuth and refresh tokens: `dop_v1_`, `doo_v1_`, `dor_v1_` and 64 hex digits"#,
        patterns: &[r#"\b(?P<secret>do[opr]_v1_[a-f0-9]{64})\b"#],
        keywords: &["dop_v1_", "doo_v1_", "dor_v1_"],
        check: Check::None,
        tp: &[
            r#"dop_v1_8263dfe574de739988b886e7577496a2c8773e130f7eb19731662b5e803b61ba"#,
            r#"dor_v1_4168160adb59261ff2d3c425c8d99d19bdd0b6cc60d5d32cbe54014c2b54b955"#,
        ],
        fp: &[r#"dop_v1_23cf6941fa"#],
    },
    Kind {
        id: "dropbox-token",
        description: r#"Dropbox short-lived access tokens: `sl.` (or `sl.u.`) and 130 or more of [A-Za-z0-9_=-]"#,
        patterns: &[r#"(?:^|[^0-9A-Za-z])(?P<secret>sl\.(?:u\.)?[A-Za-z0-9_=-]{130,})"#],
        keywords: &["sl."],
        check: Check::None,
        tp: &[
            r#"sl.dM7Oyf5TNS05kOY2oNzN2m1ElKncz8HkywhjpU05mc4J1WRcQ1uhyMDJ2OXtPAtLpByQxCGClbaNFDpCWNX0D1lZEzgeiwBxfZCGGQccOif7UuXUGfdWG5yP8Yib2eNUS0hmi4Fs9Z6Y"#,
        ],
        fp: &[r#"sl.kRYU7oe1wNWqku5Nr50D"#, r#"see sl.sh for details"#],
    },
    Kind {
        id: "sendgrid-key",
        description: r#"SendGrid API keys: `SG.`, 22 characters, `.`, 43 characters"#,
        patterns: &[
            r#"(?:^|[^0-9A-Za-z])(?P<secret>SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43})(?:$|[^0-9A-Za-z])"#,
        ],
        keywords: &["sg."],
        check: Check::None,
        tp: &[r#"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"#],
        fp: &[r#"SG.olNV9ds0Hq.tO93L7Q5uU"#],
    },
    Kind {
        id: "sendinblue-key",
        description: r#"Brevo (Sendinblue) API keys: `xkeysib-`, 64 hex digits, `-`, 16 alphanumerics"#,
        patterns: &[r#"\b(?P<secret>xkeysib-[a-f0-9]{64}-[A-Za-z0-9]{16})\b"#],
        keywords: &["xkeysib-"],
        check: Check::None,
        tp: &[
            r#"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"#,
        ],
        fp: &[r#"xkeysib-e2e5738713"#],
    },
    Kind {
        id: "shopify-token",
        description: r#"Shopify access, custom-app, private-app tokens and shared secrets: `shpat_`, `shpca_`, `shppa_`, `shpss_` and 32 hex digits"#,
        patterns: &[
            r#"(?:^|[^0-9A-Za-z])(?P<secret>shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32})(?:$|[^0-9A-Za-z])"#,
        ],
        keywords: &["shpat_", "shpca_", "shppa_", "shpss_"],
        check: Check::None,
        tp: &[
            r#"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"#,
            r#"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"#,
        ],
        fp: &[r#"shpat_369aad80"#],
    },
    Kind {
        id: "twilio-key",
        description: r#"Twilio API keys: `SK` and 32 hex digits"#,
        patterns: &[r#"(?:^|[^0-9A-Za-z])(?P<secret>SK[0-9a-fA-F]{32})(?:$|[^0-9A-Za-z])"#],
        keywords: &["sk"],
        check: Check::None,
        tp: &[r#"SKb891baf90d0d3bf16295d06910bf3f5f"#],
        fp: &[
            r#"SKb85967f532f3ab3cc2d0b698d5c7e41"#,
            r#"askba4ea5ee874ae7689447ab57a683536c"#,
            r#"SK4499d863386ce10cd79e048c07dd7753eda83d7c"#,
        ],
    },
    Kind {
        id: "mailgun-key",
        description: r#"Mailgun private and public validation keys: `key-` or `pubkey-` and 32 hex digits"#,
        patterns: &[r#"(?:^|[^0-9A-Za-z])(?P<secret>(?:pub)?key-[a-f0-9]{32})(?:$|[^0-9A-Za-z])"#],
        keywords: &["key-"],
        check: Check::None,
        tp: &[
            r#"key-58dfe0d5a0cf318656b3e6f0bade65c3"#,
            r#"pubkey-b188cc102ddb8379c7ce65426f74bde9"#,
        ],
        fp: &[r#"key-value"#, r#"monkey-4fb78c8d5f08b79affd2b49c12a4b006"#],
    },
    Kind {
        id: "mailchimp-key",
        description: r#"Mailchimp API keys: 32 hex digits, `-us` and the data centre number"#,
        patterns: &[r#"(?:^|[^0-9A-Za-z])(?P<secret>[a-f0-9]{32}-us\d{1,2})(?:$|[^0-9A-Za-z])"#],
        keywords: &["-us"],
        check: Check::None,
        tp: &[r#"2983475eb46c5296f62e338d74ff1fe4-us14"#],
        fp: &[r#"f7f505aef9ebdd25b001a3ff416d4a3b-usage"#],
    },
    Kind {
        id: "postman-key",
        description: r#"Postman API keys: `PMAK-`, 24 hex, `-`, 34 hex"#,
        patterns: &[r#"\b(?P<secret>PMAK-[a-fA-F0-9]{24}-[a-fA-F0-9]{34})\b"#],
        keywords: &["pmak-"],
        check: Check::None,
        tp: &[r#"PMAK-af69dad8199bfca8b6f3a6a9-421cc1c93016f1c4261e5351d30b49895d"#],
        fp: &[r#"PMAK-1a0d1"#],
    },
    Kind {
        id: "pypi-token",
        description: r#"PyPI upload tokens: `pypi-AgEIcHlwaS5vcmc` and 50 or more of [A-Za-z0-9_-]"#,
        patterns: &[r#"(?P<secret>pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,})"#],
        keywords: &["pypi-ageichlwas5vcmc"],
        check: Check::None,
        tp: &[
            r#"pypi-AgEIcHlwaS5vcmcFKHc0hXZAKS6zCeaRyML8QjEXAJgfPEn5jOaBaaRQh92fn3hiEbrUKpCUVl7dxXVTS2jUW"#,
        ],
        fp: &[r#"pypi-AgEIcHlwaS5vcmcfsOJTFDQ74"#],
    },
    Kind {
        id: "rubygems-key",
        description: r#"RubyGems API keys: `rubygems_` and 48 hex digits"#,
        patterns: &[r#"\b(?P<secret>rubygems_[a-f0-9]{48})\b"#],
        keywords: &["rubygems_"],
        check: Check::None,
        tp: &[r#"rubygems_8110102c995f1abef543b5dfce8a981a049d7ccc7e90a88d"#],
        fp: &[r#"rubygems_version"#],
    },
    Kind {
        id: "linear-key",
        description: r#"Linear API keys: `lin_api_` and 40 alphanumerics"#,
        patterns: &[r#"\b(?P<secret>lin_api_[A-Za-z0-9]{40})\b"#],
        keywords: &["lin_api_"],
        check: Check::None,
        tp: &[r#"lin_api_kL60W4Ycs1jZ43Kjr2ZZJRX6FwIfIJFZymYWU7ot"#],
        fp: &[r#"lin_api_docs"#],
    },
    Kind {
        id: "notion-token",
        description: r#"Notion integration tokens: `ntn_`, 11 digits and 35 alphanumerics"#,
        patterns: &[
            r#"(?:^|[^0-9A-Za-z])(?P<secret>ntn_[0-9]{11}[A-Za-z0-9]{35})(?:$|[^0-9A-Za-z])"#,
        ],
        keywords: &["ntn_"],
        check: Check::None,
        tp: &[r#"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"#],
        fp: &[r#"ntn_2jpc7Fx3gx"#],
    },
    Kind {
        id: "new-relic-key",
        description: r#"New Relic user, insert and browser keys: `NRAK-`, `NRII-`, `NRJS-` and 19 or more of [A-Za-z0-9-]"#,
        patterns: &[r#"\b(?P<secret>NR(?:AK|II|JS)-[A-Za-z0-9-]{19,40})\b"#],
        keywords: &["nrak-", "nrii-", "nrjs-"],
        check: Check::None,
        tp: &[
            r#"NRAK-3FJUBWR7BGCN5NQR1G2IQCVMLYF"#,
            r#"NRJS-011bef2c328a72c5e5b"#,
        ],
        fp: &[r#"NRAK-short"#],
    },
    Kind {
        id: "pulumi-token",
        description: r#"Pulumi access tokens: `pul-` and 40 hex digits"#,
        patterns: &[r#"(?:^|[^0-9A-Za-z])(?P<secret>pul-[a-f0-9]{40})(?:$|[^0-9A-Za-z])"#],
        keywords: &["pul-"],
        check: Check::None,
        tp: &[r#"pul-77518b1018f134a069e3fab8c3bfc5e740e61572"#],
        fp: &[r#"pul-request"#],
    },
    Kind {
        id: "planetscale-token",
        description: r#"PlanetScale passwords, API and OAuth tokens: `pscale_pw_`, `pscale_tkn_`, `pscale_oauth_` and 32 or more of [A-Za-z0-9=._-]"#,
        patterns: &[r#"\b(?P<secret>pscale_(?:tkn|pw|oauth)_[A-Za-z0-9=._-]{32,64})"#],
        keywords: &["pscale_"],
        check: Check::None,
        tp: &[
            r#"pscale_pw_7N3x4ViXC9g77y1bOeCvu0oEhOxjvoVdlTCJ4jC3jrA"#,
            r#"pscale_tkn_ApjbrK1svZkqFguD5EhjGdO5YQ7nJE1shqWmxBqp7pg"#,
        ],
        fp: &[r#"pscale_pw_short"#],
    },
    Kind {
        id: "doppler-token",
        description: r#"Doppler tokens: `dp.pt.`, `dp.st.`, `dp.ct.`, `dp.sa.`, `dp.scim.`, `dp.audit.` and 40 or more alphanumerics"#,
        patterns: &[r#"\b(?P<secret>dp\.(?:pt|st|ct|sa|scim|audit)\.[A-Za-z0-9]{40,44})"#],
        keywords: &["dp."],
        check: Check::None,
        tp: &[
            r#"dp.pt.ysA5kd1UsjObCZGvGiCaY18HslxBc6AnrKli1lHXoTl"#,
            r#"dp.st.mMf1f4MUFWrlniNQTOZmLtmaeSUHA1U6dHZwvs1O38F"#,
        ],
        fp: &[r#"dp.pt.short"#],
    },
    Kind {
        id: "contentful-token",
        description: r#"Contentful personal access tokens: `CFPAT-` and 43 of [A-Za-z0-9_-]"#,
        patterns: &[r#"\b(?P<secret>CFPAT-[A-Za-z0-9_-]{43})"#],
        keywords: &["cfpat-"],
        check: Check::None,
        tp: &[r#"CFPAT-faA6WEi3QrplK1xckSxKM2awH7C9HehwTp0136uXT3y"#],
        fp: &[r#"CFPAT-short"#],
    },
    Kind {
        id: "databricks-token",
        description: r#"Databricks tokens: `dapi` and 32 hex digits"#,
        patterns: &[r#"(?:^|[^0-9A-Za-z])(?P<secret>dapi[a-f0-9]{32}(?:-\d)?)(?:$|[^0-9A-Za-z])"#],
        keywords: &["dapi"],
        check: Check::None,
        tp: &[
            r#"dapi193fe04072755398003680e7e3b35183"#,
            r#"dapief8333c4774ec50cd1c1bac7adac1a4b-2"#,
        ],
        fp: &[
            r#"dapi7d0b352ad6074dce1118"#,
            r#"rapid813830d71939b53182e4e349d98729e7"#,
        ],
    },
    Kind {
        id: "dynatrace-token",
        description: r#"Dynatrace API tokens: `dt0c01.`, 24 and 64 of [A-Z0-9]"#,
        patterns: &[r#"\b(?P<secret>dt0c01\.[A-Z0-9]{24}\.[A-Z0-9]{64})\b"#],
        keywords: &["dt0c01."],
        check: Check::None,
        tp: &[
            r#"dt0c01.YM9X39T44TBPVOM68YZAWKPU.9U5RSNSDBK9EW2D7Y2WG7OJ0VWIMR7G4RI0GA09H5ZJ0RHY23SWSWZ79YUA5Y2TL"#,
        ],
        fp: &[r#"dt0c01.ABC"#],
    },
    Kind {
        id: "easypost-key",
        description: r#"EasyPost production and test keys: `EZAK` or `EZTK` and 54 alphanumerics"#,
        patterns: &[r#"\b(?P<secret>EZ[AT]K[A-Za-z0-9]{54})\b"#],
        keywords: &["ezak", "eztk"],
        check: Check::None,
        tp: &[
            r#"EZAKItZjBKyLof06vu1M1p9unB569abdqK5Ft6IXtINBH0HURByDwcMRwC"#,
            r#"EZTK8aReHogAxGzPJ7Kj4m9AFzCXN5LvSHV0fkxuxe0tGlhP5sSv07G4AO"#,
        ],
        fp: &[r#"EZAKkHs0GnG5mA"#],
    },
    Kind {
        id: "age-secret-key",
        description: r#"age encryption secret keys: `AGE-SECRET-KEY-1` and 58 bech32 characters"#,
        patterns: &[r#"(?P<secret>AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58})"#],
        keywords: &["age-secret-key-1"],
        check: Check::None,
        tp: &[r#"AGE-SECRET-KEY-1TRXKZ6QQNQNEXQPVTL3FV68F2XPXY2LAMRQ5F0K32Z3XYKVUCPRWEZUR00"#],
        fp: &[r#"AGE-SECRET-KEY-1 is the prefix"#],
    },
    Kind {
        id: "1password-token",
        description: r#"1Password service-account tokens (`ops_eyJ…`) and account secret keys (`A3-XXXXXX-…`)"#,
        patterns: &[
            r#"(?:^|[^0-9A-Za-z])(?P<secret>ops_eyJ[A-Za-z0-9+/]{250,}={0,3})"#,
            r#"\b(?P<secret>A3-[A-Z0-9]{6}-(?:[A-Z0-9]{11}|[A-Z0-9]{6}-[A-Z0-9]{5})-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5})\b"#,
        ],
        keywords: &["ops_eyj", "a3-"],
        check: Check::None,
        tp: &[
            r#"ops_eyJock7L2lua530DtAMq94F8epRyRTLoAtz4TFbY3pflkwyla4szJxhvI3yvzPe9hB06wJpymDswpBcrQbvZjpTifmrI1YiJCD1YZpkxwnUzyO9Lnt8EGno2CRi8TqM5CLxIpzMGni3WhRGfI2rVXWybQTKjtayTfSlX2oumQ5geJ6xZGWtmeTtfosi0Tzswz26DXO4O33i7rlbxRZQSw5AbQTSDp2zw5Oglshr6MUoTRczcMkBmWtjyVcJtOO8lK1oKFTH"#,
            r#"A3-Q1WAHS-CDPHCUNWF0Z-OR7FW-12V62-6DN16"#,
        ],
        fp: &[r#"ops_eyJshort"#, r#"A3-paper size"#],
    },
    Kind {
        id: "alibaba-key-id",
        description: r#"Alibaba Cloud AccessKey ids: `LTAI` and 20 alphanumerics"#,
        patterns: &[r#"(?:^|[^0-9A-Za-z])(?P<secret>LTAI[A-Za-z0-9]{20})(?:$|[^0-9A-Za-z])"#],
        keywords: &["ltai"],
        check: Check::None,
        tp: &[r#"LTAI27XiFWmc8S0ZJqlIkXOp"#],
        fp: &[r#"LTAIIqp9dkww"#],
    },
    Kind {
        id: "artifactory-token",
        description: r#"JFrog Artifactory API keys (`AKCp` and 69 alphanumerics) and reference tokens (`cmVmd` and 59)"#,
        patterns: &[
            r#"(?:^|[^0-9A-Za-z])(?P<secret>AKCp[A-Za-z0-9]{69}|cmVmd[A-Za-z0-9]{59})(?:$|[^0-9A-Za-z])"#,
        ],
        keywords: &["akcp", "cmvmd"],
        check: Check::None,
        tp: &[
            r#"AKCpAfmOtiiRTFQEpTpaGSCi7PwSti4TjLKpvO0hJBW8kRQjMD1Xz1nhSsaxFncd5rtmhStC9"#,
            r#"cmVmdhkuCDKxskJecaDWFfVTvVKqgPF9BFmYIuaw6fPsON7UPSqPpfiVbbXz1jsx"#,
        ],
        fp: &[r#"AKCpl9OH257RkgYU1tVNuylP"#],
    },
    Kind {
        id: "atlassian-token",
        description: r#"Atlassian API tokens: `ATATT3` and 186 of [A-Za-z0-9_=-]"#,
        patterns: &[r#"\b(?P<secret>ATATT3[A-Za-z0-9_=-]{186})"#],
        keywords: &["atatt3"],
        check: Check::None,
        tp: &[
            r#"ATATT30wuoxiJ6x11qpdcgKZO60Tz5d8nFBFUktMLOfjSokiCOzfc2CEmnUxac1N21YGBjseQdGTA4veCaQ90l5UkysaCZKRwKmEfIuHDBI6O3jz9MNfZZdURvMQtKKA8xEQPit3vH4Ob2moRVCSfjQLxJL8AxHpKCzqhol94mJVho31qPgmHQqTFoJDoIKS"#,
        ],
        fp: &[r#"ATATT3hVG6LKf2AReZCi3GJGT1"#],
    },
    Kind {
        id: "azure-ad-client-secret",
        description: r#"Microsoft Entra ID (Azure AD) client secrets: 3 characters, a digit, `Q~` and 31 to 34 of [A-Za-z0-9_~.-]"#,
        patterns: &[
            r#"(?:^|[^0-9A-Za-z])(?P<secret>[A-Za-z0-9_~.]{3}\dQ~[A-Za-z0-9_~.-]{31,34})(?:$|[^0-9A-Za-z])"#,
        ],
        keywords: &["q~"],
        check: Check::None,
        tp: &[r#"abc8Q~W8hO9UGgD1RzIk99mKEXfixXNdzpdxcaSM"#],
        fp: &[r#"path 8Q~ short"#],
    },
    Kind {
        id: "clojars-token",
        description: r#"Clojars deploy tokens: `CLOJARS_` and 60 of [a-z0-9]"#,
        patterns: &[r#"(?P<secret>CLOJARS_[a-z0-9]{60})"#],
        keywords: &["clojars_"],
        check: Check::None,
        tp: &[r#"CLOJARS_n3thi1fmhwkxvaqhpx67w5cwgw9uhcpqwm2b2hb5heqlj9syjq8r2abvj564"#],
        fp: &[r#"CLOJARS_USERNAME"#],
    },
    Kind {
        id: "cloudflare-origin-ca-key",
        description: r#"Cloudflare Origin CA keys: `v1.0-`, 24 hex, `-`, 146 hex"#,
        patterns: &[r#"\b(?P<secret>v1\.0-[a-f0-9]{24}-[a-f0-9]{146})\b"#],
        keywords: &["v1.0-"],
        check: Check::None,
        tp: &[
            r#"v1.0-1125cf5ec72ba694165beaec-ba0afa707e1448c828b4136d3b97429ab7bca1aafb77b4460ecec9524998a26259bebd2fa5880587061ce6936714122a40680a06aa0fca51d12afc8e00aa1da5204642bbdb4a78f19e"#,
        ],
        fp: &[r#"v1.0-beta"#],
    },
    Kind {
        id: "defined-networking-token",
        description: r#"Defined Networking API tokens: `dnkey-`, 26, `-`, 52 of [a-z0-9=_-]"#,
        patterns: &[r#"(?P<secret>dnkey-[a-z0-9=_-]{26}-[a-z0-9=_-]{52})"#],
        keywords: &["dnkey-"],
        check: Check::None,
        tp: &[
            r#"dnkey-9rx77riqa94gxjozfbihd86n9l-qxjlk7bwp25nwy3nubgaezwdoy0yobqbq1pownu1rt5nk4ritsfv"#,
        ],
        fp: &[r#"dnkey-short"#],
    },
    Kind {
        id: "duffel-token",
        description: r#"Duffel API tokens: `duffel_test_` or `duffel_live_` and 43 of [A-Za-z0-9_=-]"#,
        patterns: &[r#"(?P<secret>duffel_(?:test|live)_[A-Za-z0-9_=-]{43})"#],
        keywords: &["duffel_"],
        check: Check::None,
        tp: &[r#"duffel_live_aF35pkuRNM9CnLd4Yn24VxcXX3ClB3i7tRbZhj6ai6t"#],
        fp: &[r#"duffel_test_short"#],
    },
    Kind {
        id: "flutterwave-key",
        description: r#"Flutterwave public, secret and encryption keys: `FLWPUBK_TEST-`, `FLWSECK_TEST-`, `FLWSECK_TEST` and hex"#,
        patterns: &[r#"\b(?P<secret>FLW(?:PUBK|SECK)_TEST-?[a-hA-H0-9]{12,32}(?:-X)?)"#],
        keywords: &["flwpubk_", "flwseck_"],
        check: Check::None,
        tp: &[
            r#"FLWSECK_TEST-4b35ec2daca1760147d301a233f4d057-X"#,
            r#"FLWSECK_TEST43bf2b672850"#,
        ],
        fp: &[r#"FLWSECK_TEST"#],
    },
    Kind {
        id: "flyio-token",
        description: r#"Fly.io access tokens: `fo1_` and 43 characters; `fm1…_`/`fm2_` macaroons"#,
        patterns: &[
            r#"(?:^|[^0-9A-Za-z])(?P<secret>fo1_[A-Za-z0-9_-]{43}|fm[12][ar]?_[A-Za-z0-9+/]{100,}={0,3})"#,
        ],
        keywords: &["fo1_", "fm1", "fm2"],
        check: Check::None,
        tp: &[
            r#"fo1_qre9cmGdAYJ8xrauScPDIsJvSA3VTrzBuIAyjyWy4AZ"#,
            r#"fm2_j5OapMG7qSNUyp0mQhf1NYc6TdzSJuRPCJQuDKaEVP2EGvLIyp0OYV3ywTezHrNQR0ueOZIQo7NWqq61E2UwHLEKoje7WHxHnHk0xpRlj0QDlO8025P36cuy"#,
        ],
        fp: &[r#"fm2_x130BhAjSq"#],
    },
    Kind {
        id: "frameio-token",
        description: r#"Frame.io API tokens: `fio-u-` and 64 of [A-Za-z0-9_=-]"#,
        patterns: &[r#"(?P<secret>fio-u-[A-Za-z0-9_=-]{64})"#],
        keywords: &["fio-u-"],
        check: Check::None,
        tp: &[r#"fio-u-ygxwQZHHtCQfrzsCShCOEUZlWHjaRixFHQpNxHvZyqbJmaKqdLltTIr6uqpq1CfH"#],
        fp: &[r#"fio-u-short"#],
    },
    Kind {
        id: "grafana-token",
        description: r#"Grafana API keys (`eyJrIjoi…`), cloud tokens (`glc_`) and service-account tokens (`glsa_`)"#,
        patterns: &[
            r#"(?:^|[^0-9A-Za-z])(?P<secret>eyJrIjoi[A-Za-z0-9]{70,400}={0,2}|glc_[A-Za-z0-9+/]{32,400}={0,2}|glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8})"#,
        ],
        keywords: &["eyjrijoi", "glc_", "glsa_"],
        check: Check::None,
        tp: &[
            r#"eyJrIjoiOF2fmiB9YsNXx6cTCyxcTWsABPMZqwpy2Li7Nm2TLxeQnv3efWCyzHAF75PWYbgLKD7DS1BAEl4eCzFi"#,
            r#"glc_GW0aQoVmzIc7RsJvXyXDhfo2eK0agFf2WnKDd0Rm"#,
            r#"glsa_TvE3dJSVA1LiA0d3OjuvmHalIrHqfuyq_9cd1997c"#,
        ],
        fp: &[r#"glc_short"#],
    },
    Kind {
        id: "groq-key",
        description: r#"Groq API keys: `gsk_` and 52 alphanumerics"#,
        patterns: &[r#"(?:^|[^0-9A-Za-z])(?P<secret>gsk_[A-Za-z0-9]{52})(?:$|[^0-9A-Za-z])"#],
        keywords: &["gsk_"],
        check: Check::None,
        tp: &[r#"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"#],
        fp: &[r#"gsk_NDz7UCn4nd"#],
    },
    Kind {
        id: "harness-token",
        description: r#"Harness personal and service-account tokens: `pat.` or `sat.` and three dot-separated parts"#,
        patterns: &[
            r#"\b(?P<secret>(?:pat|sat)\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9]{24}\.[A-Za-z0-9]{20})"#,
        ],
        keywords: &["pat.", "sat."],
        check: Check::None,
        tp: &[r#"pat.lB2Ohdi34e0MFla7UJVZkF.oRURVsZnI1kjX6TnHgDgmYf8.dAoQ1qT5CRBj3d7Sick1"#],
        fp: &[r#"sat.example.com"#],
    },
    Kind {
        id: "terraform-token",
        description: r#"HashiCorp Terraform Cloud tokens: 14 characters, `.atlasv1.` and 60 to 70 more"#,
        patterns: &[r#"(?P<secret>[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9=_-]{60,70})"#],
        keywords: &["atlasv1"],
        check: Check::None,
        tp: &[
            r#"CsWo3LZuTJUjt6.atlasv1.quJ1nj8ZQozcuyjPsoPISfmDjUlBvRzhc1whQ7nP8HHesFwbWYF476fmFr3tMLIWfmi"#,
        ],
        fp: &[r#"atlasv1 tokens"#],
    },
    Kind {
        id: "vault-token",
        description: r#"HashiCorp Vault service and batch tokens: `hvs.` or `hvb.` and 24 or more of [A-Za-z0-9_-]"#,
        patterns: &[r#"\b(?P<secret>hv[sb]\.[A-Za-z0-9_-]{24,})"#],
        keywords: &["hvs.", "hvb."],
        check: Check::None,
        tp: &[
            r#"hvs.ErX5W25oL7tcLMg9awm8jQtdlvwCEpvVxlhY1tZeUJDgVJhYkMzDcccGLgAPSiAK1wexUQUkxkQ8fva1P31Etjqgg4"#,
            r#"hvb.phjFrIIhuDpkKIcGqx8mszJni6pU3IGp4gag8dFYYSKnSVofWkj1qbBzNHhsK4hfQLnopMXYGT0d0peMvgcnNXSl0tvfZWDL6lau87AYAcfYpjUGRkjZwXinm7oRvTeaY4"#,
        ],
        fp: &[r#"hvs.short"#],
    },
    Kind {
        id: "heroku-key",
        description: r#"Heroku API keys: `HRKU-AA` and 58 of [A-Za-z0-9_-]"#,
        patterns: &[r#"\b(?P<secret>HRKU-AA[A-Za-z0-9_-]{58})"#],
        keywords: &["hrku-"],
        check: Check::None,
        tp: &[r#"HRKU-AAEcFHXv6eWMOem3Od2xYAfPTwLkZ9FRXVFiq1S7t5dVD1YZRLkBy0OY83Gt"#],
        fp: &[r#"HRKU-short"#],
    },
    Kind {
        id: "infracost-key",
        description: r#"Infracost API tokens: `ico-` and 32 alphanumerics"#,
        patterns: &[r#"(?:^|[^0-9A-Za-z])(?P<secret>ico-[A-Za-z0-9]{32})(?:$|[^0-9A-Za-z])"#],
        keywords: &["ico-"],
        check: Check::None,
        tp: &[r#"ico-V9LIP8Ohe9YYZqW12opmLDJp4FK67R4T"#],
        fp: &[r#"favicon-dzQYzYORX8v0yz8foPR1YvQM51BYtatF"#],
    },
    Kind {
        id: "intra42-secret",
        description: r#"42 Intra client secrets: `s-s4t2ud-` or `s-s4t2af-` and 64 hex digits"#,
        patterns: &[r#"\b(?P<secret>s-s4t2(?:ud|af)-[a-f0-9]{64})\b"#],
        keywords: &["s-s4t2"],
        check: Check::None,
        tp: &[r#"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"#],
        fp: &[r#"s-s4t2ud-short"#],
    },
    Kind {
        id: "langsmith-key",
        description: r#"LangSmith personal and service keys: `lsv2_pt_` or `lsv2_sk_`, 32 hex, `_`, 10 hex"#,
        patterns: &[r#"\b(?P<secret>lsv2_(?:pt|sk)_[a-f0-9]{32}_[a-f0-9]{10})\b"#],
        keywords: &["lsv2_"],
        check: Check::None,
        tp: &[r#"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"#],
        fp: &[r#"lsv2_pt_short"#],
    },
    Kind {
        id: "mapbox-secret-token",
        description: r#"Mapbox secret tokens: `sk.eyJ…` (public `pk.` tokens are left alone)"#,
        patterns: &[r#"\b(?P<secret>sk\.eyJ[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{20,})"#],
        keywords: &["sk.eyj"],
        check: Check::None,
        tp: &[r#"sk.eyJ1IjoiktVHkRt6dLtyX9x9Slrt58EmNu7CzgRqxzuyY9Er.hn76NCG1AOkX5ucjrWIEQJ"#],
        fp: &[r#"pk.eyJ1Ijoi2QAWerzxT6zHZs2OhqCXacI0SKtwM8xqp4e4JgWM.R1A1ZTh7tkPl9UOVShXzz1"#],
    },
    Kind {
        id: "maxmind-key",
        description: r#"MaxMind license keys: 6, `_`, 29 alphanumerics and `_mmk`"#,
        patterns: &[r#"\b(?P<secret>[A-Za-z0-9]{6}_[A-Za-z0-9]{29}_mmk)\b"#],
        keywords: &["_mmk"],
        check: Check::None,
        tp: &[r#"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"#],
        fp: &[r#"abc_mmk"#],
    },
    Kind {
        id: "octopus-deploy-key",
        description: r#"Octopus Deploy API keys: `API-` and 26 of [A-Z0-9]"#,
        patterns: &[r#"\b(?P<secret>API-[A-Z0-9]{26})\b"#],
        keywords: &["api-"],
        check: Check::None,
        tp: &[r#"API-P1ZNRIJOP6HSCYSIYRE6RNOTGX"#],
        fp: &[r#"API-GATEWAY"#, r#"x-api-key"#],
    },
    Kind {
        id: "openshift-token",
        description: r#"OpenShift user tokens: `sha256~` and 43 of [A-Za-z0-9_-]"#,
        patterns: &[r#"(?P<secret>sha256~[A-Za-z0-9_-]{43})"#],
        keywords: &["sha256~"],
        check: Check::None,
        tp: &[r#"sha256~RK4ZfxbSHeh19unaDOWiCrGdCLJMZccI0DhEosO7v9v"#],
        fp: &[r#"sha256:766907508db2823ccd71ba82f4dee6a63c59620e66869002b6d08b5ab9315bd0"#],
    },
    Kind {
        id: "perplexity-key",
        description: r#"Perplexity API keys: `pplx-` and 48 alphanumerics"#,
        patterns: &[r#"\b(?P<secret>pplx-[A-Za-z0-9]{48})\b"#],
        keywords: &["pplx-"],
        check: Check::None,
        tp: &[r#"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"#],
        fp: &[r#"pplx-short"#],
    },
    Kind {
        id: "plaid-token",
        description: r#"Plaid access tokens: `access-sandbox-`, `access-development-`, `access-production-` and a UUID"#,
        patterns: &[
            r#"\b(?P<secret>access-(?:sandbox|development|production)-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b"#,
        ],
        keywords: &[
            "access-sandbox-",
            "access-development-",
            "access-production-",
        ],
        check: Check::None,
        tp: &[r#"access-sandbox-5d44036c-002e-162a-aef6-076bc3346eee"#],
        fp: &[r#"access-production-ready"#],
    },
    Kind {
        id: "prefect-key",
        description: r#"Prefect API keys: `pnu_` and 36 alphanumerics"#,
        patterns: &[r#"(?:^|[^0-9A-Za-z])(?P<secret>pnu_[A-Za-z0-9]{36})(?:$|[^0-9A-Za-z])"#],
        keywords: &["pnu_"],
        check: Check::None,
        tp: &[r#"pnu_WeKUUd3EkzPR3TpTPES4EMjh6FMyeSpZ4oaz"#],
        fp: &[r#"pnu_short"#],
    },
    Kind {
        id: "readme-key",
        description: r#"ReadMe API keys: `rdme_` and 70 of [a-z0-9]"#,
        patterns: &[r#"\b(?P<secret>rdme_[a-z0-9]{70})\b"#],
        keywords: &["rdme_"],
        check: Check::None,
        tp: &[r#"rdme_ocpgmac3dzpoc90qcj3b4gglj7k6ug6yaeb9f698ed8s3za9nbl63nhn1hf87wgfpgfxrt"#],
        fp: &[r#"rdme_sync"#],
    },
    Kind {
        id: "scalingo-token",
        description: r#"Scalingo API tokens: `tk-us-` and 48 of [A-Za-z0-9_-]"#,
        patterns: &[r#"\b(?P<secret>tk-us-[A-Za-z0-9_-]{48})"#],
        keywords: &["tk-us-"],
        check: Check::None,
        tp: &[r#"tk-us-tWsjFMKvXmafechRSXMnHyDA7NKPn6WUWYf6b1dTUbQRi26B"#],
        fp: &[r#"tk-us-east"#],
    },
    Kind {
        id: "sentry-token",
        description: r#"Sentry organization and user auth tokens: `sntrys_` or `sntryu_` and 40 or more characters"#,
        patterns: &[r#"\b(?P<secret>sntry[su]_[A-Za-z0-9+/=_-]{40,})"#],
        keywords: &["sntrys_", "sntryu_"],
        check: Check::None,
        tp: &[
            r#"sntrys_eyJZ4dlN8sCqTiqYt2wbuygkCk8PP7EWN1WWWurZpaAIbvoI4w60vaXXXp4vYfI"#,
            r#"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"#,
        ],
        fp: &[r#"sntrys_short"#],
    },
    Kind {
        id: "settlemint-token",
        description: r#"SettleMint personal, application and service tokens: `sm_pat_`, `sm_aat_`, `sm_sat_` and 16 alphanumerics"#,
        patterns: &[
            r#"(?:^|[^0-9A-Za-z])(?P<secret>sm_(?:pat|aat|sat)_[A-Za-z0-9]{16})(?:$|[^0-9A-Za-z])"#,
        ],
        keywords: &["sm_pat_", "sm_aat_", "sm_sat_"],
        check: Check::None,
        tp: &[r#"sm_pat_1nby1Yog2nZwQvrN"#],
        fp: &[r#"sm_pat_x"#],
    },
    Kind {
        id: "shippo-token",
        description: r#"Shippo API tokens: `shippo_live_` or `shippo_test_` and 40 hex digits"#,
        patterns: &[r#"\b(?P<secret>shippo_(?:live|test)_[a-fA-F0-9]{40})\b"#],
        keywords: &["shippo_"],
        check: Check::None,
        tp: &[r#"shippo_live_0622598514f31c827129084bb54b8bb53759c076"#],
        fp: &[r#"shippo_live_mode"#],
    },
    Kind {
        id: "sonar-token",
        description: r#"SonarQube user, project and analysis tokens: `squ_`, `sqp_`, `sqa_` and 40 hex digits"#,
        patterns: &[r#"(?:^|[^0-9A-Za-z])(?P<secret>sq[upa]_[a-f0-9]{40})(?:$|[^0-9A-Za-z])"#],
        keywords: &["squ_", "sqp_", "sqa_"],
        check: Check::None,
        tp: &[
            r#"squ_7cb7f8013cb790fef33ef2c3ff57de13628bef7a"#,
            r#"sqp_127f6c31d175a632f8ee42ea368b23ff8500f17f"#,
        ],
        fp: &[r#"squ_short"#],
    },
    Kind {
        id: "sourcegraph-token",
        description: r#"Sourcegraph access tokens: `sgp_`, an optional 16-hex instance part, and 40 hex digits"#,
        patterns: &[
            r#"(?:^|[^0-9A-Za-z])(?P<secret>sgp_(?:[a-fA-F0-9]{16}_)?[a-fA-F0-9]{40})(?:$|[^0-9A-Za-z])"#,
        ],
        keywords: &["sgp_"],
        check: Check::None,
        tp: &[
            r#"sgp_4b4ca1b570e2e619e469a62c050bf72fbf666f69"#,
            r#"sgp_e87a1d5ad0b57048_efc48738d444a157d52ed8748d31d3092954d2c9"#,
        ],
        fp: &[r#"sgp_short"#],
    },
    Kind {
        id: "square-token",
        description: r#"Square access tokens and OAuth secrets: `EAAA`/`sq0atp-` and 22 to 60 characters; `sq0csp-` and 43"#,
        patterns: &[
            r#"(?:^|[^0-9A-Za-z])(?P<secret>(?:EAAA|sq0atp-)[A-Za-z0-9_-]{22,60}|sq0csp-[A-Za-z0-9_-]{43})(?:$|[^0-9A-Za-z])"#,
        ],
        keywords: &["eaaa", "sq0atp-", "sq0csp-"],
        check: Check::None,
        tp: &[
            r#"EAAAZQPTGLhCpFQHLRZx5H9JmBeL5qKyl3S9qPpAx9HqR0eSVdNREnRuZ6aCEvRW"#,
            r#"sq0csp-T9P4lD9uYoBf9nIAz9i5VoxVTxyQFXxioOn4rhcGi4z"#,
        ],
        fp: &[r#"EAAANAPeE"#],
    },
    Kind {
        id: "facebook-token",
        description: r#"Facebook (Meta) page and user access tokens: `EAAM` or `EAAC` and 100 or more alphanumerics"#,
        patterns: &[r#"(?:^|[^0-9A-Za-z])(?P<secret>EAA[MC][A-Za-z0-9]{100,})(?:$|[^0-9A-Za-z])"#],
        keywords: &["eaam", "eaac"],
        check: Check::None,
        tp: &[
            r#"EAACLD8vKIwwTWBulZESbRRXkzxh9OXs1JPnOpTL9XmxX2tPqk0eMD2Q4XLcm5aMIAUJrbeZa1lfSpalolq5TYpbbhf7fmjEveHwusAVE3qvd7fqkqfeNdSqiY3U"#,
        ],
        fp: &[r#"EAACvvGFjmM7JZdWj1SBysTb"#],
    },
    Kind {
        id: "telegram-bot-token",
        description: r#"Telegram bot tokens: 8 to 10 digits, `:AA` and 33 of [A-Za-z0-9_-]"#,
        patterns: &[
            r#"(?:^|[^0-9A-Za-z])(?P<secret>\d{8,10}:AA[A-Za-z0-9_-]{33})(?:$|[^0-9A-Za-z])"#,
        ],
        keywords: &[":aa"],
        check: Check::None,
        tp: &[r#"123456789:AAotZeZEgeLjmYTCZDY0oNf0QEKBiam7Lng"#],
        fp: &[r#"12:AAA"#],
    },
    Kind {
        id: "typeform-token",
        description: r#"Typeform personal access tokens: `tfp_` and 59 of [A-Za-z0-9_.=-]"#,
        patterns: &[r#"(?:^|[^0-9A-Za-z])(?P<secret>tfp_[A-Za-z0-9_.=-]{59})"#],
        keywords: &["tfp_"],
        check: Check::None,
        tp: &[r#"tfp_1ODpWqGBHIvUdboUboGsnOTSDNm5lntQ5qikdoDXv0TTR9SYZtzuHUtdXMu"#],
        fp: &[r#"tfp_short"#],
    },
    Kind {
        id: "yandex-token",
        description: r#"Yandex Cloud IAM tokens (`t1.…`) and API keys (`AQVN…`)"#,
        patterns: &[
            r#"\b(?P<secret>t1\.[A-Za-z0-9_-]+={0,2}\.[A-Za-z0-9_-]{86}={0,2}|AQVN[A-Za-z0-9_-]{35,38})(?:$|[^0-9A-Za-z])"#,
        ],
        keywords: &["t1.", "aqvn"],
        check: Check::None,
        tp: &[
            r#"t1.fsduGpjl7O4pDbmuhYGT.H3xRTEHtXegQeNyBEeqZQGoCu2E8TAXTxICX7U7uNdgXDfO7ric286JieDRNctQe2WQXvBHfjzSgT9Vdcs6XQi"#,
            r#"AQVNHgSeuk0IM1AkplyWZBTvxh5pDJhfq8V85U5y"#,
        ],
        fp: &[r#"t1.small"#],
    },
    Kind {
        id: "adobe-secret",
        description: r#"Adobe client secrets: `p8e-` and 32 alphanumerics"#,
        patterns: &[r#"(?:^|[^0-9A-Za-z])(?P<secret>p8e-[A-Za-z0-9]{32})(?:$|[^0-9A-Za-z])"#],
        keywords: &["p8e-"],
        check: Check::None,
        tp: &[r#"p8e-Eo9lMZsWDzTmUYiVm69Fg30GvZpbqGE0"#],
        fp: &[r#"p8e-short"#],
    },
    Kind {
        id: "authress-key",
        description: r#"Authress service-client access keys: `sc_`/`ext_`/`scauth_`/`authress_`, `.`, an `acc_` or `acc-` account and the key"#,
        patterns: &[
            r#"\b(?P<secret>(?:sc|ext|scauth|authress)_[a-z0-9]{5,30}\.[a-z0-9]{4,6}\.acc[_-][a-z0-9-]{10,32}\.[A-Za-z0-9+/_=-]{30,120})"#,
        ],
        keywords: &[".acc_", ".acc-"],
        check: Check::None,
        tp: &[
            r#"sc_juulvm0dao.waqcc.acc_uourxtxwzyshoa0pdkjt.qGPuyB1tipITvQ0dw52l2u4Xi289V3RIP6dY31JD"#,
        ],
        fp: &[r#"sc_app.acc_ounting"#],
    },
    Kind {
        id: "braintree-token",
        description: r#"Braintree access tokens: `access_token$production$`, 16 and 32 characters"#,
        patterns: &[
            r#"(?P<secret>access_token\$(?:production|sandbox)\$[0-9a-z]{16}\$[0-9a-f]{32})"#,
        ],
        keywords: &["access_token$"],
        check: Check::None,
        tp: &[r#"access_token$production$v43nvxpeghubboxe$2f16ec9fc9fab9b32fed0766bb31ed04"#],
        fp: &[r#"access_token$x"#],
    },
    Kind {
        id: "clickhouse-key",
        description: r#"ClickHouse Cloud key secrets: `4b1d` and 38 alphanumerics"#,
        patterns: &[r#"(?:^|[^0-9A-Za-z])(?P<secret>4b1d[A-Za-z0-9]{38})(?:$|[^0-9A-Za-z])"#],
        keywords: &["4b1d"],
        check: Check::None,
        tp: &[r#"4b1dBflHs0GYVwgoYVMZdox48VBkyOTe7AmutvGUlF"#],
        fp: &[r#"4b1d04c5503b11606e4644e0d4887d6e120a578757563e68d1f0e22d4ae56ad7"#],
    },
    Kind {
        id: "sidekiq-secret",
        description: r#"Sidekiq Enterprise credentials: `BUNDLE_ENTERPRISE__CONTRIBSYS__COM` / `BUNDLE_GEMS__CONTRIBSYS__COM` values"#,
        patterns: &[
            r#"(?i)BUNDLE_(?:ENTERPRISE|GEMS)__CONTRIBSYS__COM\s*[:=]\s*["\']?(?P<secret>[a-f0-9]{8}:[a-f0-9]{8})"#,
        ],
        keywords: &["contribsys"],
        check: Check::None,
        tp: &[r#"BUNDLE_ENTERPRISE__CONTRIBSYS__COM=«675dbd99:56e246a3»"#],
        fp: &[r#"BUNDLE_ENTERPRISE__CONTRIBSYS__COM is set"#],
    },
    Kind {
        id: "discord-webhook",
        description: r#"Discord webhook URLs: `discord.com/api/webhooks/ID/TOKEN` (also `discordapp.com`, `\/` escapes)"#,
        patterns: &[
            r#"(?P<secret>(?:https?:(?:\\?/){2})?discord(?:app)?\.com(?:\\?/)api(?:\\?/)webhooks(?:\\?/)\d+(?:\\?/)[A-Za-z0-9_-]{20,})"#,
        ],
        keywords: &["discord"],
        check: Check::None,
        tp: &[
            r#"https://discord.com/api/webhooks/123456789012345678/GslAE1CXLFE8rEHmELGjGkoewSy9ezgwUBvwTS1zPjD31KJac2YUEwGOT6Rz8BNtkJPQ"#,
        ],
        fp: &[r#"https://discord.com/developers/docs"#],
    },
    Kind {
        id: "teams-webhook",
        description: r#"Microsoft Teams incoming-webhook URLs: `….webhook.office.com/webhookb2/…/IncomingWebhook/…`"#,
        patterns: &[
            r#"(?P<secret>(?:https?:(?:\\?/){2})?[a-z0-9-]+\.webhook\.office\.com(?:\\?/)webhookb2(?:\\?/)[A-Za-z0-9@/\\-]{40,}?(?:\\?/)IncomingWebhook(?:\\?/)[a-z0-9]{32}(?:\\?/)[A-Za-z0-9-]{20,})"#,
        ],
        keywords: &["webhook.office.com"],
        check: Check::None,
        tp: &[
            r#"https://acme.webhook.office.com/webhookb2/04bca7a5-c593-40af-ef8b-0baf3a8c80bc@2b08a9f5-c026-6144-9771-d833424d61fc/IncomingWebhook/1flitcfdkhcbukh3kglmwmxh1uz0q2o4/05554b1e-1e0e-e0ac-414f-5c500bd6cdaf"#,
        ],
        fp: &[r#"see webhook.office.com docs"#],
    },
    Kind {
        id: "curl-user",
        description: r#"The password of `curl -u user:password` / `--user user:password`"#,
        patterns: &[
            r#"\bcurl\b[^\n]*?\s(?:-u|--user)\s*["\']?[^\s:"\']+:(?P<secret>[^\s"\']{3,})"#,
        ],
        keywords: &["curl"],
        check: Check::None,
        tp: &[r#"curl -s -u admin:«s3cr3tPa55» https://x.example.com"#],
        fp: &[r#"curl -u admin https://x.example.com"#],
    },
    Kind {
        id: "url-credentials",
        description: r#"The password in a URL: `scheme://user:password@host` (https, postgres, mysql, redis, amqp, mongodb, …), with `\/` escapes too"#,
        patterns: &[
            r#"\b[A-Za-z][A-Za-z0-9+.-]{1,20}:(?:\\?/){2}[^\s:/@"\'\\<>]{0,128}:(?P<secret>[^\s/@"\'\\<>]{1,256})@[A-Za-z0-9\[]"#,
        ],
        keywords: &["://", r#":\/\/"#, r#":\//"#, r#":/\/"#],
        check: Check::NotPlaceholder,
        tp: &[
            r#"https://user:«hunter2»@example.com/x"#,
            r#"postgres://u:«p4ss»@db.internal:5432/app"#,
            r#"https:\/\/deploy:«s3cret»@git.example.com\/r.git"#,
            r#"redis://:«pw»@cache:6379"#,
        ],
        fp: &[
            r#"https://example.com:8443/path@v2"#,
            r#"git@github.com:org/repo.git"#,
            r#"postgres://user@host/db"#,
        ],
    },
    Kind {
        id: "bearer",
        description: r#"The credential after `Bearer ` (with a digit, or 24 characters or more); the value after `Authorization:` / `Authorization=` in text (after its `Bearer`/`Basic`/`Token`/`Digest` word)"#,
        patterns: &[
            r#"(?i)\bbearer\s+(?P<secret>[A-Za-z0-9._~+/=-]{8,})"#,
            r#"(?i)\b(?:proxy-)?authorization(?:\\?["'])?\s*[:=]\s*(?:\\?["'])?(?:(?:bearer|basic|token|digest)\s+)?(?P<secret>[^\s"'\\<>&,;\[\]{}]{6,})"#,
        ],
        keywords: &["bearer", "authorization"],
        check: Check::Token,
        tp: &[
            r#"Authorization: Bearer «tok9Zq8Yx7Wv6Ut5Sr4»"#,
            r#"Authorization: Basic «dXNlcjpwYXNz»"#,
        ],
        fp: &[
            r#"the bearer of bad news"#,
            r#"Authorization header missing"#,
        ],
    },
    Kind {
        id: "password-in-prose",
        description: r#"A password, passphrase or secret told in prose: `password is …`, `the passphrase was …`, `secret: …` (a value that is not a plain lowercase word)"#,
        patterns: &[
            r#"(?i)\b(?:password|passphrase|passcode|passwd|secret|pin code)\s+(?:is|was|will be|=|:)\s+(?:now\s+)?["'`]?(?P<secret>[^\s"'`]{3,}[^\s"'`.,;:!?)])"#,
        ],
        keywords: &["pass", "secret", "pin code"],
        check: Check::Prose,
        tp: &[
            r#"the password is «hunter2hunter2»."#,
            r#"My passphrase was "«Tr0ub4dor&3»""#,
            r#"password is now «Summer2024»"#,
        ],
        fp: &[
            r#"the password is required"#,
            r#"password is incorrect, try again"#,
            r#"the secret is out"#,
            r#"password is ${DB_PASSWORD}"#,
        ],
    },
    Kind {
        id: "secret-assignment",
        description: r#"The value of a secret-named variable or header in text: `DB_PASSWORD=…`, `GITHUB_TOKEN: …`, `export STRIPE_SECRET=…`, `X-Api-Key: …`, `"password": "…"` (names with password, passwd, secret, token, credential, auth or ending in `_key`; see docs/redaction.md)"#,
        patterns: &[
            r#"(?P<name>[A-Za-z][A-Za-z0-9_.-]{0,63})(?:\\?["'])?\s*(?::=|=>|[:=])\s*(?:\\?["'])?(?:(?i:bearer|basic|token|digest)\s+)?(?P<secret>[^\s"'\\<>&,;\[\]{}()`]{4,})"#,
            r#"(?P<name>[A-Za-z][A-Za-z0-9_.-]{0,63})\\?"\s*:\s*\\?"(?:(?i:bearer|basic|token|digest)\s+)?(?P<secret>[^"\\]{1,512})\\?""#,
        ],
        keywords: &[
            "pass",
            "pwd",
            "secret",
            "token",
            "key",
            "auth",
            "credential",
            "cookie",
        ],
        check: Check::Assignment,
        tp: &[
            r#"DB_PASSWORD=«s3cr3t-value»"#,
            r#"GITHUB_TOKEN: «gh-abc-123456»"#,
            r#"{"password": "«my pass phrase»"}"#,
            r#"export ADAFRUIT_IO_KEY=«ada-io-1234abcd»"#,
            r#"TWITTER_API_SECRET = "«tw1tt3rS3cr3t»""#,
            r#"X-Api-Key: «abcd1234efgh»"#,
            r#"Password=«p4ssw0rd»;Host=db"#,
            r#"asanaAccessToken=«asana-tok-0001»"#,
            r#"SECRET_KEY = '«django-insecure-x9»'"#,
        ],
        fp: &[
            r#"max_tokens=4096"#,
            r#"input_tokens: 1234"#,
            r#"secret_name: prod-db"#,
            r#"token_type: bearer"#,
            r#"password_hint: pet"#,
            r#"sort_key=created_at"#,
            r#"DB_PASSWORD=${DB_PASSWORD}"#,
            r#"keyboard: qwerty"#,
            r#"tokenizer=cl100k_base"#,
            r#"public_key: ssh-ed25519"#,
            r#"primary_key = id"#,
        ],
    },
];

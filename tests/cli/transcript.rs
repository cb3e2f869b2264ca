//! `flightrec export --format md|html`: markdown snapshots and facts for the samples, and the
//! HTML page opened in a real headless Chromium: it renders, its script runs, hostile event text
//! runs nothing, and it makes no network request.

mod cdp;
mod chromium;

use serde_json::{Value, json};
use std::path::{Path, PathBuf};

use chromium::{assert_page_made_no_request, body_tag, dump_dom, trap};

use crate::explain::{HAPPY, NOW, STUCK, samples_db};
use crate::util::*;

const MULTI: &str = "sesn_011CZmultiAgent000000010";
const HOSTILE: &str = "sesn_011CZhostilePayload00001";

/// Payloads that would each set `data-pwned` on the body if any of them ran.
const PAYLOADS: [&str; 4] = [
    "<script>document.body.setAttribute('data-pwned','1')</script>",
    "<img src=x onerror=\"document.body.setAttribute('data-pwned','2')\">",
    "\"><svg onload=\"document.body.setAttribute('data-pwned','3')\">",
    "</script><script>document.body.setAttribute('data-pwned','4')</script>",
];

/// Payloads that would each fetch from the network if any of them were markup.
const NET_PAYLOADS: [&str; 3] = [
    "<img src=\"http://pwned.example.invalid/img.png\">",
    "<link rel=\"stylesheet\" href=\"https://pwned.example.invalid/s.css\">",
    "<style>@import url(http://pwned.example.invalid/i.css);</style>",
];

/// `export SESSION --format FORMAT --now NOW`, the output as text.
fn export(db: &Path, session: &str, format: &str) -> String {
    let o = run(db, &["export", session, "--format", format, "--now", NOW]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    stdout(&o)
}

/// What markdown's escaping makes of literal text.
fn md_escaped(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[test]
fn md_snapshots() {
    let db = samples_db();
    for (name, session) in [("stuck-custom-tool", STUCK), ("multi-agent", MULTI)] {
        insta::assert_snapshot!(format!("transcript-md-{name}"), export(db, session, "md"));
    }
}

#[test]
fn md_stuck_sample_names_the_pending_custom_tool() {
    let md = export(samples_db(), STUCK, "md");
    let top = md.split("## Transcript").next().unwrap();
    assert!(
        top.contains("## Verdict: `requires_action` — needs attention"),
        "{top}"
    );
    assert!(top.contains("custom tool get\\_weather"), "{top}");
    assert!(top.contains("`sevt_011CZkSdM9xUzC45mZmCzS1G`"), "{top}");
    let flow = md.split("## Transcript").nth(1).unwrap();
    assert!(flow.contains("🔧 get_weather · custom tool use · +3m44s · ⏳ no result"));
    // Each idle carries the verdict at that point: the first answered turn ended normally.
    assert!(flow.contains("**Verdict `end_turn`**"), "{flow}");
    assert_eq!(flow.matches("**⏸ Idle**").count(), 3, "{flow}");
}

#[test]
fn md_shows_every_message_text_of_every_sample() {
    let db = samples_db();
    for (scenario, session) in sample_scenarios() {
        let md = export(db, &session, "md");
        let texts: Vec<String> = sample_files()
            .iter()
            .filter(|p| session_of(p) == session)
            .flat_map(|p| oracle_texts(p))
            .collect();
        for e in expected_session(&texts) {
            let ty = e["type"].as_str().unwrap_or("");
            if !(ty.ends_with(".message") || ty.starts_with("agent.thread_message")) {
                continue;
            }
            for block in e["content"].as_array().into_iter().flatten() {
                for line in block["text"].as_str().unwrap_or("").lines() {
                    let line = md_escaped(line.trim());
                    assert!(
                        md.contains(&line),
                        "{scenario}: {ty} line missing from the transcript: {line}"
                    );
                }
            }
        }
    }
}

/// A session whose message text, tool name, tool input, tool result and even event type carry
/// script payloads; imported into a fresh database in `dir`.
fn hostile_db(dir: &Path) -> PathBuf {
    let all = [PAYLOADS.join(" "), NET_PAYLOADS.join(" ")].join(" ");
    let at = |s: u32| format!("2026-08-07T10:00:{s:02}.000Z");
    let events = [
        json!({"type":"user.message","id":"sevt_h01","processed_at":at(0),
               "content":[{"type":"text","text":format!("please echo {all} ````` and `")}]}),
        json!({"type":"session.status_running","id":"sevt_h02","processed_at":at(1)}),
        json!({"type":"agent.custom_tool_use","id":"sevt_h03","processed_at":at(2),
               "name":PAYLOADS[1],"input":{"q":all,"'><svg onload=alert(1)>":PAYLOADS[3]}}),
        json!({"type":"session.status_idle","id":"sevt_h04","processed_at":at(3),
               "stop_reason":{"type":"requires_action","event_ids":["sevt_h03"]}}),
        json!({"type":"user.custom_tool_result","id":"sevt_h05","processed_at":at(4),
               "custom_tool_use_id":"sevt_h03","content":[{"type":"text","text":format!("{all} ````` end")}]}),
        json!({"type":"session.status_running","id":"sevt_h06","processed_at":at(5)}),
        json!({"type":PAYLOADS[2],"id":"sevt_h07","processed_at":at(6),"note":PAYLOADS[0]}),
        json!({"type":"session.error","id":"sevt_h08","processed_at":at(7),
               "error":{"type":"unknown_error","message":all,"retry_status":{"type":"retrying"}}}),
        json!({"type":"agent.message","id":"sevt_h09","processed_at":at(8),
               "content":[{"type":"text","text":format!("done: {all}")}]}),
        json!({"type":"session.status_idle","id":"sevt_h10","processed_at":at(9),
               "stop_reason":{"type":"end_turn"}}),
    ];
    let lines: Vec<String> = events.iter().map(Value::to_string).collect();
    let file = dir.join(format!("hostile.{HOSTILE}.jsonl"));
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    let db = dir.join("hostile.db");
    let o = run(&db, &["import", file.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    db
}

#[test]
fn md_keeps_hostile_payloads_escaped() {
    let dir = tempdir();
    let md = export(&hostile_db(dir.path()), HOSTILE, "md");
    let prose = outside_fences(&md);
    for tag in ["<script", "<img", "<svg", "</script", "<link", "<style"] {
        assert!(!prose.contains(tag), "raw {tag} outside code:\n{prose}");
    }
    assert!(md.contains(&md_escaped(PAYLOADS[0])), "{md}");
    // The result holds a run of five backticks: its fence is longer.
    assert!(md.contains("``````text\n"), "{md}");
}

/// A line without its code spans (a run of N backticks up to the next run of exactly N).
fn without_code_spans(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(at) = rest.find('`') {
        out.push_str(&rest[..at]);
        let n = rest[at..].len() - rest[at..].trim_start_matches('`').len();
        let after = &rest[at + n..];
        let mut close = None;
        let mut from = 0;
        while let Some(k) = after[from..].find('`') {
            let k = from + k;
            let m = after[k..].len() - after[k..].trim_start_matches('`').len();
            if m == n {
                close = Some(k);
                break;
            }
            from = k + m;
        }
        match close {
            Some(k) => rest = &after[k + n..],
            None => {
                out.push_str(&rest[at..at + n]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The markdown outside code blocks and code spans (where CommonMark shows text literally). A
/// fence closes only on a line of at least as many backticks, so this fails if content closed one.
fn outside_fences(md: &str) -> String {
    let mut out = String::new();
    let mut open: Option<usize> = None;
    for line in md.lines() {
        let ticks = line.len() - line.trim_start_matches('`').len();
        match open {
            None if ticks >= 3 => open = Some(ticks),
            None => {
                out.push_str(&without_code_spans(line));
                out.push('\n');
            }
            Some(n) if ticks >= n && line.trim_start_matches('`').trim().is_empty() => open = None,
            Some(_) => {}
        }
    }
    assert_eq!(open, None, "a fence left open");
    out
}

/// Writes `export --format html` of `session` to `dir/NAME.html`; returns its path and text.
fn html_file(db: &Path, session: &str, dir: &Path, name: &str) -> (PathBuf, String) {
    let html = export(db, session, "html");
    let path = dir.join(format!("{name}.html"));
    std::fs::write(&path, &html).unwrap();
    (path, html)
}

fn file_url(p: &Path) -> String {
    format!("file://{}", p.display())
}

#[test]
fn html_renders_in_chromium_and_runs_its_script() {
    if !tier_takes("Debian's Chromium") {
        return;
    }
    let dir = tempdir();
    let (path, _) = html_file(samples_db(), STUCK, dir.path(), "stuck");
    let net = trap();
    let dom = dump_dom(&file_url(&path), &net);
    assert!(
        body_tag(&dom).contains("data-ready=\"1\""),
        "{}",
        body_tag(&dom)
    );
    assert!(dom.contains(STUCK));
    assert!(dom.contains("Verdict: <span class=\"code mono\">requires_action</span>"));
    assert!(dom.contains("custom tool get_weather sevt_011CZkSdM9xUzC45mZmCzS1G"));
    assert_eq!(dom.matches("<li id=\"e").count(), 20, "one row per event");
    assert!(
        dom.contains("<span id=\"count\">20 of 20 events</span>"),
        "the script counted the rows"
    );
    assert!(dom.contains("<svg"), "the timeline");
    assert_page_made_no_request(&net);
}

#[test]
fn html_search_from_the_address_hides_what_does_not_match() {
    if !tier_takes("Debian's Chromium") {
        return;
    }
    let dir = tempdir();
    let (path, _) = html_file(samples_db(), STUCK, dir.path(), "stuck");
    let dom = dump_dom(&format!("{}#q=voss", file_url(&path)), &trap());
    let rows: Vec<&str> = dom.split("<li id=\"e").skip(1).collect();
    assert_eq!(rows.len(), 20);
    let mut shown = 0;
    for r in &rows {
        let r = &r[..r.find("</li>").unwrap()];
        let hidden = r[..r.find('>').unwrap()].contains("hidden");
        assert_eq!(hidden, !r.to_lowercase().contains("voss"), "{r}");
        shown += usize::from(!hidden);
    }
    assert!(shown > 0 && shown < 20, "{shown} rows shown");
    assert!(dom.contains(&format!("{shown} of 20 events")));
}

#[test]
fn html_runs_no_hostile_payload_and_shows_it_as_text() {
    if !tier_takes("Debian's Chromium") {
        return;
    }
    let dir = tempdir();
    let db = hostile_db(dir.path());
    let (path, html) = html_file(&db, HOSTILE, dir.path(), "hostile");
    let net = trap();
    let dom = dump_dom(&file_url(&path), &net);
    let body = body_tag(&dom);
    assert!(
        body.contains("data-ready=\"1\""),
        "the page's own script ran: {body}"
    );
    assert!(!dom.contains("data-pwned="), "a payload ran: {body}");
    // Shown as text: serialized text escapes < and >, not quotes.
    let as_text = |p: &str| {
        p.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    for p in PAYLOADS {
        assert!(
            dom.contains(&as_text(p)),
            "payload not visible as text: {p}"
        );
    }
    assert_page_made_no_request(&net);
    assert_no_external_reference(&html);
}

#[test]
fn html_of_every_sample_references_nothing_outside_the_page() {
    let db = samples_db();
    for session in [HAPPY, STUCK, MULTI] {
        assert_no_external_reference(&export(db, session, "html"));
    }
}

/// No tag of the page (outside its script and style text) names a URL or loads anything, and
/// the policy forbids every fetch.
fn assert_no_external_reference(html: &str) {
    assert!(html.contains(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src &#39;none&#39;;"
    ));
    let mut rest = html;
    let mut tags = 0;
    while let Some(at) = rest.find('<') {
        let end = at + rest[at..].find('>').unwrap();
        let tag = &rest[at..=end];
        tags += 1;
        for bad in ["http:", "https:", "//", " src=", "url(", "@import"] {
            assert!(!tag.contains(bad), "{bad} in a tag: {tag}");
        }
        if tag.contains("href=") {
            assert!(tag.contains("href=\"data:,\""), "a link: {tag}");
        }
        rest = &rest[end + 1..];
        for raw in ["<script>", "<style>"] {
            if tag == raw {
                let close = raw.replace('<', "</");
                let text = &rest[..rest.find(&close).unwrap()];
                assert!(!text.contains("http"), "{raw} text names a URL");
                rest = &rest[rest.find(&close).unwrap()..];
            }
        }
    }
    assert!(tags > 50, "{tags} tags");
    assert_eq!(
        html.matches("<script").count(),
        1,
        "one script, the page's own"
    );
}

/// Every request a page makes, as Chromium's DevTools protocol reports them: a sample's page and
/// the hostile one request nothing but themselves, while their scripts run. The control page,
/// an image from the network, shows the check sees such a request.
#[test]
fn html_pages_request_nothing_but_themselves() {
    if !tier_takes("Debian's Chromium") {
        return;
    }
    let dir = tempdir();
    let control = dir.path().join("control.html");
    std::fs::write(
        &control,
        "<!doctype html><body><img src=\"http://pwned.example.invalid/x.png\"></body>",
    )
    .unwrap();
    let url = file_url(&control);
    let seen = cdp::load(&url);
    assert_eq!(
        cdp::outside(&seen, &url),
        vec!["http://pwned.example.invalid/x.png".to_string()],
        "the control page's image request was not seen"
    );
    let samples = samples_db().to_path_buf();
    let hostile = hostile_db(dir.path());
    for (db, session, name) in [
        (&samples, STUCK, "stuck"),
        (&samples, MULTI, "multi"),
        (&hostile, HOSTILE, "hostile"),
    ] {
        let (path, _) = html_file(db, session, dir.path(), name);
        let url = file_url(&path);
        let seen = cdp::load(&url);
        assert_eq!(seen.ready, "1", "{name}: the page's own script did not run");
        assert!(
            seen.requests.iter().any(|u| u.starts_with("file://")),
            "{name}: the page itself was not seen loading: {:?}",
            seen.requests
        );
        assert_eq!(cdp::outside(&seen, &url), Vec::<String>::new(), "{name}");
    }
}

//! List prices of Claude models, for cost *estimates*: the one place they are kept.
//!
//! The Managed Agents reference defines no prices. The figures below are Anthropic's public list
//! prices in USD per million tokens, from the pricing page
//! (<https://platform.claude.com/docs/en/about-claude/pricing>) and the model pages it links to,
//! as of [`AS_OF`]. Some figures were taken from restatements of that page rather than read on it
//! directly: Fable 5.2's cache rates, Haiku 5.5's cache rates and long-prompt tier, the cut of
//! Sonnet 5.5's cache reads to $0.10 on 2026-10-07, and the fast-mode multipliers (Opus 5.5 and
//! Opus 5: 2×, Opus 4.6: 6×). Re-check the whole table against the page when updating [`AS_OF`].
//!
//! What an estimate leaves out: batch discounts (sessions are not batched), the 1.1× of US-only
//! inference (`inference_geo`), server tools (web search is billed per request), and sessions'
//! active-time charges. `model_usage` does not split cache writes by lifetime, so they are priced
//! at the 5-minute rate. The server's own figure is `session.usage.list_cost`; this is only an
//! estimate beside it. A model missing here has **no price** (never zero).

use serde::Serialize;

/// The date the table was last checked against the pricing page.
pub const AS_OF: &str = "2026-11-10";

/// USD per million tokens.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Rates {
    pub input: f64,
    pub output: f64,
    /// Cache writes with the default 5-minute lifetime.
    pub cache_write_5m: f64,
    /// Cache writes with the 1-hour lifetime.
    pub cache_write_1h: f64,
    /// Cache hits and refreshes.
    pub cache_read: f64,
}

impl Rates {
    fn scaled(&self, k: f64) -> Rates {
        Rates {
            input: self.input * k,
            output: self.output * k,
            cache_write_5m: self.cache_write_5m * k,
            cache_write_1h: self.cache_write_1h * k,
            cache_read: self.cache_read * k,
        }
    }
}

/// Rates that apply to every token of a request whose prompt (input + cache reads + cache
/// writes) exceeds `above_tokens`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LongPrompt {
    pub above_tokens: u64,
    pub rates: Rates,
}

/// The price of one model (and its dated snapshots).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Price {
    /// The model id as the API names it, without a snapshot date: `claude-sonnet-4-6`.
    pub model: &'static str,
    pub rates: Rates,
    pub long_prompt: Option<LongPrompt>,
    /// Fast mode (`model_usage.speed: "fast"`): the factor on every rate, where the page gives
    /// one. Fast requests of a model without it have no price.
    pub fast_multiplier: Option<f64>,
}

const fn rates(
    input: f64,
    output: f64,
    cache_write_5m: f64,
    cache_write_1h: f64,
    cache_read: f64,
) -> Rates {
    Rates {
        input,
        output,
        cache_write_5m,
        cache_write_1h,
        cache_read,
    }
}

const fn price(model: &'static str, rates: Rates) -> Price {
    Price {
        model,
        rates,
        long_prompt: None,
        fast_multiplier: None,
    }
}

const fn fast(model: &'static str, rates: Rates, multiplier: f64) -> Price {
    Price {
        model,
        rates,
        long_prompt: None,
        fast_multiplier: Some(multiplier),
    }
}

const FABLE_5_1: Rates = rates(10.0, 50.0, 12.5, 20.0, 0.25);
const FABLE_5: Rates = rates(10.0, 50.0, 12.5, 20.0, 1.0);
const OPUS_4_5_TO_5: Rates = rates(5.0, 25.0, 6.25, 10.0, 0.5);
const OPUS_4: Rates = rates(15.0, 75.0, 18.75, 30.0, 1.5);
const SONNET_5: Rates = rates(2.0, 10.0, 2.5, 4.0, 0.2);
const SONNET_3_7_TO_4_6: Rates = rates(3.0, 15.0, 3.75, 6.0, 0.3);

/// The table, USD per million tokens: input, output, 5-minute cache write, 1-hour cache write,
/// cache read.
pub const PRICES: &[Price] = &[
    price("claude-fable-5-2", rates(8.0, 40.0, 10.0, 16.0, 0.2)),
    price("claude-fable-5-1", FABLE_5_1),
    price("claude-mythos-5-1", FABLE_5_1),
    price("claude-fable-5", FABLE_5),
    price("claude-mythos-5", FABLE_5),
    fast("claude-opus-5-5", rates(4.0, 20.0, 5.0, 8.0, 0.2), 2.0),
    fast("claude-opus-5", OPUS_4_5_TO_5, 2.0),
    price("claude-opus-4-8", OPUS_4_5_TO_5),
    price("claude-opus-4-7", OPUS_4_5_TO_5),
    fast("claude-opus-4-6", OPUS_4_5_TO_5, 6.0),
    price("claude-opus-4-5", OPUS_4_5_TO_5),
    price("claude-opus-4-1", OPUS_4),
    price("claude-opus-4-0", OPUS_4),
    price("claude-opus-4", OPUS_4),
    price("claude-sonnet-5-5", rates(2.0, 10.0, 2.5, 4.0, 0.1)),
    price("claude-sonnet-5", SONNET_5),
    price("claude-sonnet-4-6", SONNET_3_7_TO_4_6),
    price("claude-sonnet-4-5", SONNET_3_7_TO_4_6),
    price("claude-sonnet-4-0", SONNET_3_7_TO_4_6),
    price("claude-sonnet-4", SONNET_3_7_TO_4_6),
    price("claude-3-7-sonnet", SONNET_3_7_TO_4_6),
    Price {
        model: "claude-haiku-5-5",
        rates: rates(0.1, 0.5, 0.125, 0.2, 0.01),
        long_prompt: Some(LongPrompt {
            above_tokens: 100_000,
            rates: rates(0.5, 2.5, 0.625, 1.0, 0.05),
        }),
        fast_multiplier: None,
    },
    price("claude-haiku-4-5", rates(1.0, 5.0, 1.25, 2.0, 0.1)),
    price("claude-3-5-haiku", rates(0.8, 4.0, 1.0, 1.6, 0.08)),
    price("claude-3-haiku", rates(0.25, 1.25, 0.3, 0.5, 0.03)),
];

/// The tokens of one request, as they are priced.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RequestTokens {
    pub input: u64,
    pub output: u64,
    pub cache_read: u64,
    pub cache_write_5m: u64,
    pub cache_write_1h: u64,
    /// `model_usage.speed == "fast"`.
    pub fast: bool,
}

impl RequestTokens {
    /// Everything the model read: what long-prompt tiers are judged on.
    pub fn prompt(&self) -> u64 {
        self.input + self.cache_read + self.cache_write_5m + self.cache_write_1h
    }
}

/// The price of `model`: an entry whose id is the model id, or the model id with a snapshot
/// date (`claude-sonnet-4-5-20250929`, `…@20250929`). `claude-opus-4-7` does not fall back on
/// `claude-opus-4`: an unlisted version has no price.
pub fn lookup(model: &str) -> Option<&'static Price> {
    PRICES.iter().find(|p| {
        model.strip_prefix(p.model).is_some_and(|rest| {
            rest.is_empty()
                || rest
                    .strip_prefix(['-', '@'])
                    .is_some_and(|d| d.len() >= 8 && d.bytes().all(|b| b.is_ascii_digit()))
        })
    })
}

impl Price {
    /// The list cost of one request in USD; `None` for a fast request of a model whose fast
    /// price is unknown.
    pub fn cost(&self, t: &RequestTokens) -> Option<f64> {
        let mut r = match self.long_prompt {
            Some(l) if t.prompt() > l.above_tokens => l.rates,
            _ => self.rates,
        };
        if t.fast {
            r = r.scaled(self.fast_multiplier?);
        }
        let usd = t.input as f64 * r.input
            + t.output as f64 * r.output
            + t.cache_read as f64 * r.cache_read
            + t.cache_write_5m as f64 * r.cache_write_5m
            + t.cache_write_1h as f64 * r.cache_write_1h;
        Some(usd / 1_000_000.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn prices_match_ids_and_dated_snapshots_only() {
        assert_eq!(
            lookup("claude-sonnet-4-6").map(|p| p.model),
            Some("claude-sonnet-4-6")
        );
        assert_eq!(
            lookup("claude-sonnet-4-5-20250929").map(|p| p.model),
            Some("claude-sonnet-4-5")
        );
        assert_eq!(
            lookup("claude-opus-4-20250514").map(|p| p.model),
            Some("claude-opus-4")
        );
        assert_eq!(
            lookup("claude-opus-4-1").map(|p| p.model),
            Some("claude-opus-4-1")
        );
        assert_eq!(
            lookup("claude-opus-5-5").map(|p| p.model),
            Some("claude-opus-5-5")
        );
        assert_eq!(
            lookup("claude-opus-5").map(|p| p.model),
            Some("claude-opus-5")
        );
        // Not a snapshot of claude-opus-4 nor of claude-opus-5.
        assert_eq!(lookup("claude-opus-4-9"), None);
        assert_eq!(lookup("claude-opus-5-7"), None);
        assert_eq!(lookup("claude-imaginary-9"), None);
        assert_eq!(lookup(""), None);
    }

    #[test]
    fn every_entry_is_reachable_and_sane() {
        for p in PRICES {
            assert_eq!(lookup(p.model).map(|q| q.model), Some(p.model));
            let r = p.rates;
            assert!(r.input > 0.0 && r.output > r.input, "{}", p.model);
            assert!(
                r.cache_read < r.input && r.cache_write_5m > r.input,
                "{}",
                p.model
            );
            assert!(r.cache_write_1h > r.cache_write_5m, "{}", p.model);
        }
    }

    #[test]
    fn a_request_is_priced_per_token_kind() {
        let p = lookup("claude-sonnet-4-6").unwrap();
        let t = RequestTokens {
            input: 1_000_000,
            output: 100_000,
            cache_read: 2_000_000,
            cache_write_5m: 400_000,
            cache_write_1h: 0,
            fast: false,
        };
        // 3 + 1.5 + 0.6 + 1.5
        assert!(close(p.cost(&t).unwrap(), 6.6));
    }

    #[test]
    fn fast_mode_uses_the_multiplier_or_has_no_price() {
        let t = RequestTokens {
            input: 1_000_000,
            fast: true,
            ..Default::default()
        };
        assert!(close(
            lookup("claude-opus-5-5").unwrap().cost(&t).unwrap(),
            8.0
        ));
        assert_eq!(lookup("claude-sonnet-5-5").unwrap().cost(&t), None);
    }

    #[test]
    fn long_prompts_switch_tier_for_the_whole_request() {
        let p = lookup("claude-haiku-5-5").unwrap();
        let short = RequestTokens {
            input: 100_000,
            output: 1_000_000,
            ..Default::default()
        };
        assert!(close(p.cost(&short).unwrap(), 0.01 + 0.5));
        let long = RequestTokens {
            cache_read: 1,
            ..short
        };
        assert!(close(p.cost(&long).unwrap(), 0.05 + 2.5 + 0.000_000_05));
    }
}

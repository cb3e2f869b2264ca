//! The serialized form of a fold in progress (a checkpoint, see `inspect::checkpoints`): the
//! builders' state as JSON, so a read at a point can go on from the newest checkpoint before it
//! instead of folding the session from its start.
//!
//! The builders hold the same types the reports print (`Mark`, `Span`, …), whose JSON leaves out
//! what the reports do not show (times in µs, …). A checkpoint needs everything, so those fields
//! are written only while [`to_json`] runs (`skip_serializing_if = "checkpoint::outside"`): the
//! reports' JSON is unchanged. Floats are written as their bits, so they come back exactly.

use std::cell::Cell;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hash};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

thread_local! {
    static WRITING: Cell<bool> = const { Cell::new(false) };
}

/// `&'static str` by another name: serde borrows a field spelled `&str` from its input, which
/// a checkpoint's fields (names from a fixed set, read back through `deserialize_with`) must not.
pub type StaticStr = &'static str;

/// `value` as a checkpoint's JSON: every field, floats exact.
pub fn to_json<T: Serialize>(value: &T) -> serde_json::Result<Vec<u8>> {
    struct Reset(bool);
    impl Drop for Reset {
        fn drop(&mut self) {
            WRITING.set(self.0);
        }
    }
    let _reset = Reset(WRITING.replace(true));
    serde_json::to_vec(value)
}

/// A value back from [`to_json`]'s text.
pub fn from_json<T: DeserializeOwned>(json: &[u8]) -> serde_json::Result<T> {
    serde_json::from_slice(json)
}

/// Whether a checkpoint is being written ([`to_json`]) on this thread.
pub fn writing() -> bool {
    WRITING.get()
}

/// For `skip_serializing_if`: true (leave the field out) unless a checkpoint is being written.
pub fn outside<T>(_: &T) -> bool {
    !WRITING.get()
}

/// The fixed words the folds keep as `&'static str` (statuses, call kinds), back from a
/// checkpoint; a word not among them reads as `unknown`.
pub mod known {
    use super::*;

    const WORDS: &[&str] = &[
        "unknown",
        "created",
        "running",
        "idle",
        "rescheduling",
        "terminated",
        "deleted",
        "tool",
        "MCP tool",
        "custom tool",
    ];

    pub fn serialize<S: Serializer>(v: &StaticStr, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(v)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<StaticStr, D::Error> {
        let s = String::deserialize(d)?;
        Ok(WORDS
            .iter()
            .find(|w| **w == s)
            .copied()
            .unwrap_or("unknown"))
    }
}

/// `Option<f64>` as the reports print it, or as its bits in a checkpoint.
pub mod opt_f64 {
    use super::*;

    pub fn serialize<S: Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(f) if WRITING.get() => s.serialize_some(&f.to_bits()),
            Some(f) => s.serialize_some(f),
            None => s.serialize_none(),
        }
    }

    /// Checkpoints only: the bits.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
        Ok(Option::<u64>::deserialize(d)?.map(f64::from_bits))
    }
}

/// `f64` as the reports print it, or as its bits in a checkpoint.
pub mod f64_bits {
    use super::*;

    pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        match WRITING.get() {
            true => s.serialize_u64(v.to_bits()),
            false => s.serialize_f64(*v),
        }
    }

    /// Checkpoints only: the bits.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        Ok(f64::from_bits(u64::deserialize(d)?))
    }
}

/// A set of ids written in order, so the same set always writes the same bytes (a `HashSet`
/// iterates in an order of its own): checkpoints folded twice compare equal.
pub mod sorted_set {
    use super::*;

    pub fn serialize<S: Serializer>(
        v: &std::collections::HashSet<String>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        let mut ids: Vec<&String> = v.iter().collect();
        ids.sort_unstable();
        s.collect_seq(ids)
    }
}

/// A map whose keys are not strings (JSON's only keys), as a list of pairs.
pub mod pairs {
    use super::*;

    pub fn serialize<K, V, H, S>(m: &HashMap<K, V, H>, s: S) -> Result<S::Ok, S::Error>
    where
        K: Serialize,
        V: Serialize,
        S: Serializer,
    {
        s.collect_seq(m.iter())
    }

    pub fn deserialize<'de, K, V, H, D>(d: D) -> Result<HashMap<K, V, H>, D::Error>
    where
        K: Deserialize<'de> + Eq + Hash,
        V: Deserialize<'de>,
        H: BuildHasher + Default,
        D: Deserializer<'de>,
    {
        Ok(Vec::<(K, V)>::deserialize(d)?.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    // Test code: a failed unwrap is a failed test.
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[derive(Serialize, Deserialize, PartialEq, Debug)]
    struct T {
        #[serde(default, skip_serializing_if = "outside")]
        hidden: Option<i64>,
        #[serde(with = "opt_f64")]
        f: Option<f64>,
    }

    #[test]
    fn hidden_fields_and_exact_floats_are_written_only_in_a_checkpoint() {
        let t = T {
            hidden: Some(7),
            f: Some(0.1 + 0.2),
        };
        assert_eq!(
            serde_json::to_string(&t).unwrap(),
            r#"{"f":0.30000000000000004}"#
        );
        let back: T = from_json(&to_json(&t).unwrap()).unwrap();
        assert_eq!(back, t);
        assert_eq!(
            serde_json::to_string(&t).unwrap(),
            r#"{"f":0.30000000000000004}"#
        );
    }
}

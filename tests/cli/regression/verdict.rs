//! Regressions: verdict.

#[allow(unused_imports)]
use crate::util::*;

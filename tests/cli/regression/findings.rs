//! Regressions: findings.

#[allow(unused_imports)]
use crate::util::*;

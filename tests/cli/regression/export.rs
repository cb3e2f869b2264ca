//! Regressions: export.

#[allow(unused_imports)]
use crate::util::*;

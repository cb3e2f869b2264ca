//! Regressions: import.

#[allow(unused_imports)]
use crate::util::*;

//! Regressions: terminal output.

#[allow(unused_imports)]
use crate::util::*;

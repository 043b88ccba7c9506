//! Signed list cursors and pages live in the record layer (`crate::paging`).

pub use crate::paging::*;

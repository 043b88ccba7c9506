//! The core of the CRM library: what knows no business rule. The domain's error type, ids,
//! validation, money, search terms, If-Match and the write loop, languages, settings, and
//! the ports (`Table`, `Blobs`, `Keys`, `Mailer`, `Clock`) with their AWS and embedded
//! twins. The record engine (`crm-engine`) and the business areas (`shared`) build on it;
//! as a crate of its own, it cannot import them.

pub mod blobs;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod data_keys;
pub mod error;
pub mod i18n;
pub mod ids;
pub mod keys;
pub mod mail;
pub mod money;
pub mod paging;
pub mod private_files;
pub mod spreadsheet;
pub mod table;
pub mod telemetry;
pub mod terms;
pub mod tokens;
pub mod validation;
pub mod versioned;
pub mod wire;

#[cfg(test)]
mod source_files;

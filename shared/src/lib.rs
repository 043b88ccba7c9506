//! The library every CRM function links: domain types and rules, the services that apply
//! them, the ports they talk to (`Table`, `Blobs`, `Keys`, `Mailer`, `Clock`) with their AWS and
//! embedded twins, and the HTTP edge (problem+json errors, extractors, route table).
//!
//! Features never touch an adapter directly: they receive an [`AppState`] whose ports were
//! chosen once, from configuration, at start-up.

pub mod audit;
pub mod auth;
pub mod blobs;
pub mod clock;
pub mod companies;
pub mod config;
pub mod contacts;
pub mod crypto;
pub mod data_keys;
pub mod deals;
pub mod directory;
pub mod error;
pub mod events;
pub mod exports;
pub mod external;
pub mod feedback;
pub mod fields;
pub mod global_search;
pub mod http;
pub mod i18n;
pub mod ids;
pub mod imports;
pub mod jobs;
pub mod keys;
pub mod lambda;
#[cfg(test)]
mod layering_tests;
pub mod mail;
pub mod money;
pub mod notifications;
pub mod objects;
pub mod orders;
pub mod paging;
pub mod policy;
pub mod principal;
pub mod private_files;
pub mod products;
pub mod queue;
pub mod rate_limit;
pub mod records;
pub mod reminders;
pub mod search;
pub mod spreadsheet;
pub mod state;
pub mod surveys;
pub mod table;
pub mod tasks;
pub mod telemetry;
pub mod tenancy;
pub mod terms;
pub mod tickets;
pub mod timeline;
pub mod tokens;
pub mod validation;
pub mod versioned;
pub mod webhooks;
pub mod wire;
pub mod wiring;

pub use state::AppState;

//! The library every CRM function links: the business areas (contacts, companies, deals,
//! tasks, tickets, orders, custom objects, imports, exports, webhooks, ...), the
//! composition root that wires them (`wiring`) and the HTTP edge (problem+json errors,
//! extractors, route table, the Lambda adapter). It stands on two crates it re-exports
//! under the same names: `crm-core` (errors, ids, validation, money, the ports and their
//! AWS and embedded twins) and `crm-engine` (policy and the caller, the state, the
//! directory, auth, audit and events, records, fields, search, timelines, jobs).
//!
//! Features never touch an adapter directly: they receive an [`AppState`] whose ports were
//! chosen once, from configuration, at start-up.

pub mod companies;
pub mod contacts;
pub mod deals;
pub mod exports;
pub mod external;
pub mod feedback;
pub mod global_search;
pub mod imports;
pub mod lambda;
#[cfg(test)]
mod layering_tests;
pub mod objects;
pub mod orders;
pub mod products;
pub mod reminders;
pub mod surveys;
pub mod tasks;
pub mod tenancy;
pub mod tickets;
pub mod webhooks;
pub mod wiring;

pub use crm_core::object_only;
pub use crm_core::{
    blobs, clock, config, crypto, data_keys, error, i18n, ids, keys, mail, money, paging,
    private_files, spreadsheet, table, telemetry, terms, tokens, validation, versioned, wire,
};
pub use crm_engine::AppState;
pub use crm_engine::{
    audit, auth, directory, engine, events, fields, http, jobs, notifications, policy, principal,
    queue, rate_limit, records, search, state, timeline,
};

//! The record engine of the CRM library: the caller and their permissions (policy,
//! principal, the reader's view), the state that carries the ports, the tenant directory,
//! authentication, audit entries and events with their outbox, owned records (scope,
//! owner index, links), custom field and object definitions, search, timelines,
//! notifications, due-marker queues and background jobs. The business areas (`shared`)
//! build on it; as a crate of its own, it cannot import them.

pub mod audit;
pub mod auth;
pub mod directory;
pub mod engine;
pub mod events;
pub mod fields;
pub mod http;
pub mod jobs;
pub mod notifications;
pub mod policy;
pub mod principal;
pub mod queue;
pub mod rate_limit;
pub mod records;
pub mod search;
pub mod state;
pub mod timeline;

pub use state::AppState;

// The core's modules, under the names the engine's code uses (`crate::error`, ...).
use crm_core::{
    blobs, clock, config, crypto, data_keys, error, i18n, ids, keys, mail, money, paging, table,
    terms, tokens, validation, versioned, wire,
};

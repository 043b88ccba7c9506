//! The HTTP edge shared by every function: problem+json errors, request extractors that
//! turn bad input into clear errors, the authenticated `Principal`, signed list cursors,
//! the route table and the layers every app gets.

pub mod app;
pub mod browser;
pub mod cursor;
pub mod extract;
pub mod files;
pub mod idempotency;
pub mod principal;
pub mod problem;
pub mod rate_limit;
pub mod routes;
pub mod versions;

pub use extract::{FilterQuery, Json, MapQuery, OptionalJson, Path, Query};
pub use principal::Principal;
pub use problem::ApiError;
pub use routes::Routes;

//! The HTTP edge shared by every function: problem+json rendering of the domain's errors,
//! request extractors that turn bad input into clear errors, the `Principal` extractor,
//! the route table and the layers every app gets. Nothing below it imports it.

pub mod app;
pub mod browser;
pub mod extract;
pub mod files;
pub mod idempotency;
pub mod principal;
pub mod problem;
pub mod rate_limit;
pub mod records;
pub mod routes;
pub mod versions;

pub use extract::{FilterQuery, Json, MapQuery, OptionalJson, Path, Query};
pub use principal::Principal;
pub use problem::ApiError;
pub use routes::Routes;

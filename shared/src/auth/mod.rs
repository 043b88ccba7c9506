//! Identity: password hashing, access tokens (JWT), refresh-token sessions, login
//! throttling, and the sign-in flows that use them.

pub mod passwords;
pub mod service;
pub mod sessions;
pub mod throttle;
pub mod tokens;

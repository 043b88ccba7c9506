//! Identity: password hashing, access tokens (JWT), refresh-token sessions, login
//! throttling, the sign-in flows that use them, and what users manage themselves
//! (their sessions and password).

pub mod account;
pub mod api_keys;
pub mod key_makers;
pub mod mfa;
pub mod notices;
pub mod passwords;
pub mod reset;
pub mod secrets;
pub mod service;
pub mod sessions;
pub mod throttle;

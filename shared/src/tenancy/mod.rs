//! The services that run a company: sign-up (a tenant with its admin and built-in roles
//! in one transaction), users, roles, teams and settings. The records they write are in
//! [`crate::directory`].

pub mod roles;
pub mod settings;
pub mod signup;
pub mod teams;
pub mod users;

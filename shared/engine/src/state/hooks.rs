//! Where one business area reacts to another without importing it: each hook is a
//! function an area offers, and the composition root above the areas
//! ([`crate::wiring`]) lists them. The state carries the list ([`crate::AppState::hooks`]), so the area that
//! triggers a hook (a contact merge) knows only the hook's signature.

use std::future::Future;
use std::pin::Pin;

use crate::AppState;
use crate::error::Error;
use crate::principal::Principal;

/// A future a hook returns.
pub type HookFuture<'a> = Pin<Box<dyn Future<Output = Result<usize, Error>> + Send + 'a>>;

/// Moves what an area links to record `from` of a resource (`contacts`) over to `to`, as a
/// merge of two records does; repeatable. Returns how many records moved.
pub type Relink =
    for<'a> fn(&'a AppState, &'a Principal, &'a str, &'a str, &'a str) -> HookFuture<'a>;

/// Whether the caller may read record `id` (the last argument) of the area's resource
/// (the one before: `deals`, `objects/project`), that is, it exists in their tenant and
/// scope: what linking a record to it needs.
pub type Reader = for<'a> fn(&'a AppState, &'a Principal, &'a str, &'a str) -> ReadFuture<'a>;

/// A future a [`Reader`] returns.
pub type ReadFuture<'a> = Pin<Box<dyn Future<Output = Result<bool, Error>> + Send + 'a>>;

/// Every hook of the product.
#[derive(Clone)]
pub struct Hooks {
    /// What follows a merged contact: deals, orders, tasks, tickets, surveys, custom
    /// records.
    pub relinks: Vec<Relink>,
    /// Per resource (`deals`; `objects/` for every custom object), whether the caller
    /// may read one of its records.
    pub readers: Vec<(&'static str, Reader)>,
}

impl Hooks {
    /// Whether the caller may read record `id` of `resource`; false for a resource no
    /// area registered. Failures other than "not found" and "forbidden" are errors.
    pub async fn can_read(
        &self,
        state: &AppState,
        principal: &Principal,
        resource: &str,
        id: &str,
    ) -> Result<bool, Error> {
        let registered = |r: &str| r == resource || (r.ends_with('/') && resource.starts_with(r));
        match self.readers.iter().find(|(r, _)| registered(r)) {
            Some((_, read)) => read(state, principal, resource, id).await,
            None => Ok(false),
        }
    }
}

/// What a reader answers for the result of loading the record.
pub fn seen<T>(loaded: Result<T, Error>) -> Result<bool, Error> {
    match loaded {
        Ok(_) => Ok(true),
        Err(Error::NotFound(_) | Error::Forbidden(_)) => Ok(false),
        Err(e) => Err(e),
    }
}

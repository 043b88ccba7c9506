//! Where one business area reacts to another without importing it: each hook is a
//! function an area offers, and this module, the composition root above the areas,
//! lists them. The state carries the list ([`crate::AppState::hooks`]), so the area that
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

/// Every hook of the product.
#[derive(Clone)]
pub struct Hooks {
    /// What follows a merged contact: deals, orders, tasks, tickets, surveys, custom
    /// records.
    pub relinks: Vec<Relink>,
}

impl Hooks {
    /// The areas' hooks.
    pub fn all() -> Self {
        Self {
            relinks: vec![
                |s, p, r, f, t| Box::pin(crate::deals::service::relink(s, p, r, f, t)),
                |s, p, r, f, t| Box::pin(crate::orders::service::relink(s, p, r, f, t)),
                |s, p, r, f, t| Box::pin(crate::tasks::service::relink(s, p, r, f, t)),
                |s, p, r, f, t| Box::pin(crate::tickets::service::relink(s, p, r, f, t)),
                |s, p, _, f, t| Box::pin(crate::feedback::relink(s, p, f, t)),
                |s, p, r, f, t| Box::pin(crate::objects::relink(s, p, r, f, t)),
            ],
        }
    }
}

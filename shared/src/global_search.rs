//! `GET /v1/search`: one query across contacts and companies, for a search box.

use serde::Serialize;

use crate::AppState;
use crate::companies::service::{self as companies, CompanyQuery};
use crate::contacts::service::{self as contacts, ContactQuery};
use crate::error::Error;
use crate::paging::ListPage;
use crate::policy::View;
use crate::principal::Principal;

/// `GET /v1/search` parameters.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    /// Required; optional here so that its absence is reported by name.
    pub q: Option<String>,
    /// Most results per kind of record.
    pub limit: Option<u32>,
}

/// The first matches of each kind the caller may read; each page's cursor goes on in
/// that kind's own list with the same `q` (`/v1/contacts?q=...&cursor=...`).
#[derive(Debug, Serialize)]
pub struct Results {
    pub contacts: ListPage<View>,
    pub companies: ListPage<View>,
}

pub async fn search(
    state: &AppState,
    principal: &Principal,
    query: SearchQuery,
) -> Result<Results, Error> {
    let Some(q) = query.q else {
        return Err(Error::validation("q", "is required"));
    };
    let empty = || ListPage {
        data: Vec::new(),
        next_cursor: None,
    };
    let contacts = contacts::list(
        state,
        principal,
        ContactQuery {
            q: Some(q.clone()),
            limit: query.limit,
            ..ContactQuery::default()
        },
        Default::default(),
    )
    .await;
    let companies = companies::list(
        state,
        principal,
        CompanyQuery {
            q: Some(q),
            limit: query.limit,
            ..CompanyQuery::default()
        },
        Default::default(),
    )
    .await;
    // A kind the caller may not read is left out; reading neither is refused.
    match (contacts, companies) {
        (Err(Error::Forbidden(e)), Err(Error::Forbidden(_))) => Err(Error::Forbidden(e)),
        (Err(Error::Forbidden(_)), Ok(companies)) => Ok(Results {
            contacts: empty(),
            companies,
        }),
        (Ok(contacts), Err(Error::Forbidden(_))) => Ok(Results {
            contacts,
            companies: empty(),
        }),
        (contacts, companies) => Ok(Results {
            contacts: contacts?,
            companies: companies?,
        }),
    }
}

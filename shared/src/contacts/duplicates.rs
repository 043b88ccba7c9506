//! Likely duplicate contacts: the same email or phone number, or a very similar name
//! within the same company. Used on demand (`GET /v1/contacts/duplicates`) and by imports.

use std::collections::BTreeSet;

use serde::Serialize;

use super::Contact;
use crate::AppState;
use crate::error::Error;
use crate::ids::TenantId;
use crate::search;
use crate::table::{Index, Query};
use crate::terms;
use serde_json::Value;

/// Most candidates one contact is compared with.
const MAX_CANDIDATES: usize = 200;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    Email,
    Phone,
    Name,
}

/// A name as compared: folded and run together, its words as they come and sorted (so
/// `Lovelace Ada` is `Ada Lovelace`, and `王 小明` is `王小明`).
fn compact(name: &str) -> (String, String) {
    let folded = terms::fold(name);
    let mut words: Vec<&str> = folded
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let together = words.concat();
    words.sort_unstable();
    (together, words.concat())
}

/// Whether two names are the same but for order, case, spacing or a typo or two.
pub fn similar_names(a: &str, b: &str) -> bool {
    let ((a, a_sorted), (b, b_sorted)) = (compact(a), compact(b));
    if a.is_empty() || b.is_empty() {
        return false;
    }
    if a == b || a_sorted == b_sorted {
        return true;
    }
    let shorter = a.chars().count().min(b.chars().count());
    let distance = strsim::levenshtein(&a, &b);
    (shorter >= 5 && distance <= 1) || (shorter >= 10 && distance <= 2)
}

/// Whether both contacts belong to the same company (by link, or else by name).
fn same_company(a: &Contact, b: &Contact) -> bool {
    match (&a.company_id, &b.company_id) {
        (Some(x), Some(y)) => x == y,
        _ => match (&a.company_name, &b.company_name) {
            (Some(x), Some(y)) => terms::fold(x.trim()) == terms::fold(y.trim()),
            _ => false,
        },
    }
}

/// Why `a` and `b` look like the same person, judged only on fields outside `hidden`.
pub fn reasons(a: &Contact, b: &Contact, hidden: &BTreeSet<String>) -> Vec<Reason> {
    let mut out = Vec::new();
    if !hidden.contains("emails")
        && a.emails
            .iter()
            .any(|e| b.emails.iter().any(|f| f.address == e.address))
    {
        out.push(Reason::Email);
    }
    if !hidden.contains("phones")
        && a.phones
            .iter()
            .any(|p| b.phones.iter().any(|q| q.number == p.number))
    {
        out.push(Reason::Phone);
    }
    if !hidden.contains("name") && same_company(a, b) && similar_names(&a.name, &b.name) {
        out.push(Reason::Name);
    }
    out
}

/// The ids of the contacts that might duplicate `contact` (itself excluded): those that
/// share an email or phone, those of its company, and those sharing a word of its name.
pub async fn candidates(
    state: &AppState,
    tenant: &TenantId,
    contact: &Contact,
) -> Result<BTreeSet<String>, Error> {
    let mut ids = BTreeSet::new();
    let mut exact = Vec::new();
    for email in &contact.emails {
        exact.push(terms::exact_term(&email.address));
    }
    for phone in &contact.phones {
        exact.push(terms::phone_term(&phone.number));
    }
    // A name word, so that contacts named alike in the same company name are compared.
    let mut name_terms = crate::search::Terms::new();
    name_terms.text("name", &contact.name);
    if let Some(longest) = name_terms
        .all()
        .into_iter()
        .max_by_key(|t| t.chars().count())
    {
        exact.push(longest);
    }
    for term in exact {
        ids.extend(
            search::exact(
                state,
                tenant,
                crate::contacts::RESOURCE,
                &term,
                MAX_CANDIDATES,
            )
            .await?,
        );
    }
    if let Some(company) = &contact.company_id {
        let page = state
            .table
            .query(
                &Query::partition(super::company_pk(tenant, company))
                    .on(Index::Gsi2)
                    .limit(MAX_CANDIDATES),
            )
            .await?;
        ids.extend(
            page.items
                .iter()
                .filter_map(|i| i.get("id").and_then(Value::as_str).map(str::to_owned)),
        );
    }
    ids.remove(&contact.id);
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_across_order_case_spacing_and_a_typo() {
        assert!(similar_names("Ada Lovelace", "lovelace  ADA"));
        assert!(similar_names("Ada Lovelace", "Ada Lovelase"));
        assert!(similar_names("王小明", "王 小明"));
        assert!(
            !similar_names("王小明", "王晓明"),
            "short CJK names differ by one character"
        );
        assert!(!similar_names("Ann", "Ian"));
        assert!(!similar_names("Ada Lovelace", "Grace Hopper"));
    }
}

//! Cleaning the customer base: the report of likely duplicates, and merging two contacts
//! into one.

use std::collections::{BTreeSet, HashSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::duplicates::{self, Reason};
use super::service::{
    RESOURCE, audited, from_stored, in_reach, key_for, load, lookup_writes, show, to_stored,
};
use super::{Contact, FIELDS, PREFIX, key, normalize_and_check};
use crate::AppState;
use crate::audit::Entry;
use crate::clock::rfc3339;
use crate::fields;
use crate::http::cursor::{ListPage, ListParams};
use crate::http::versions::Precondition;
use crate::http::{ApiError, Principal};
use crate::ids::is_id;
use crate::policy::{Action, View};
use crate::records::{phone_region, write_on_version};
use crate::table::{Condition, Query, StartKey, Write};
use crate::timeline;
use crate::validation::Errors;

/// A contact and the contacts that look like it.
#[derive(Debug, Serialize)]
pub struct DuplicateGroup {
    pub contact: View,
    pub matches: Vec<Match>,
}

#[derive(Debug, Serialize)]
pub struct Match {
    pub contact: View,
    pub reasons: Vec<Reason>,
}

/// One page of the duplicate report: `limit` contacts (in creation order) are examined
/// per page, and each likely duplicate pair is reported once, with the older contact.
pub async fn duplicates(
    state: &AppState,
    principal: &Principal,
    params: ListParams,
) -> Result<ListPage<DuplicateGroup>, ApiError> {
    let scope = principal.require(RESOURCE, Action::Read)?;
    let limit = params.limit()?;
    let list_id = format!("{}/contacts/duplicates", principal.tenant);
    let start = params
        .cursor
        .as_deref()
        .map(|c| state.cursors.decode(&list_id, c))
        .transpose()?;
    let page = state
        .table
        .query(
            &Query::partition(principal.tenant.pk(RESOURCE))
                .limit(limit)
                .start(start),
        )
        .await?;
    let defs =
        fields::service::definitions(state.table.as_ref(), &principal.tenant, RESOURCE).await?;
    let hidden = principal.permissions.unsearchable_fields(RESOURCE);
    let mut data = Vec::new();
    for item in page.items {
        let contact = from_stored(state, principal, item).await?;
        if !principal.reaches(scope, &contact.owner_id) {
            continue;
        }
        let mut matches = Vec::new();
        for id in duplicates::candidates(state, &principal.tenant, &contact).await? {
            // Each pair once: with the older contact (ids sort by creation).
            if id <= contact.id {
                continue;
            }
            let Some(other) = in_reach(state, principal, scope, &id).await? else {
                continue;
            };
            let reasons = duplicates::reasons(&contact, &other, &hidden);
            if !reasons.is_empty() {
                matches.push(Match {
                    contact: show(principal, &defs, other, false)?,
                    reasons,
                });
            }
        }
        if !matches.is_empty() {
            data.push(DuplicateGroup {
                contact: show(principal, &defs, contact, false)?,
                matches,
            });
        }
    }
    Ok(ListPage {
        data,
        next_cursor: page
            .next
            .map(|n: StartKey| state.cursors.encode(&list_id, &n)),
    })
}

/// The body of `POST /v1/contacts/{id}/merge`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MergeRequest {
    /// The contact merged into this one (and then deleted).
    pub other_id: String,
    /// Fields whose value comes from the other contact (`custom.<key>` for a custom
    /// field). Every other field keeps this contact's value, filled from the other's
    /// where empty; emails, phones and tags are combined.
    #[serde(default)]
    pub take: Vec<String>,
}

/// Keeps `survivor`'s values unless `take` names the field, fills its empty fields from
/// `other`, and combines emails, phones and tags.
fn merged(survivor: &Contact, other: &Contact, take: &BTreeSet<String>) -> Contact {
    let mut m = survivor.clone();
    let taken = |f: &str| take.contains(f);
    macro_rules! pick {
        ($($field:ident),*) => {$(
            if taken(stringify!($field)) || m.$field.is_none() {
                m.$field = other.$field.clone();
            }
        )*};
    }
    pick!(
        company_name,
        company_id,
        title,
        address,
        source,
        notes,
        national_id,
        card_number,
        bank_account,
        date_of_birth
    );
    if taken("name") {
        m.name = other.name.clone();
    }
    if taken("owner_id") {
        m.owner_id = other.owner_id.clone();
    }
    if taken("lifecycle_stage") {
        m.lifecycle_stage = other.lifecycle_stage;
    }
    if taken("preferences") || m.preferences == Default::default() {
        m.preferences = other.preferences.clone();
    }
    if taken("emails") {
        m.emails = other.emails.clone();
    } else {
        for e in &other.emails {
            if !m.emails.iter().any(|x| x.address == e.address) {
                m.emails.push(e.clone());
            }
        }
    }
    if taken("phones") {
        m.phones = other.phones.clone();
    } else {
        for p in &other.phones {
            if !m.phones.iter().any(|x| x.number == p.number) {
                m.phones.push(p.clone());
            }
        }
    }
    if taken("tags") {
        m.tags = other.tags.clone();
    } else {
        for t in &other.tags {
            if !m.tags.iter().any(|x| x.to_lowercase() == t.to_lowercase()) {
                m.tags.push(t.clone());
            }
        }
    }
    if taken("consent") {
        m.consent = other.consent.clone();
    } else {
        // The more recent decision per channel stands.
        for (channel, consent) in &other.consent {
            let newer = m
                .consent
                .get(channel)
                .is_none_or(|c| c.updated_at < consent.updated_at);
            if newer {
                m.consent.insert(*channel, consent.clone());
            }
        }
    }
    for (k, v) in &other.custom {
        if taken(&format!("custom.{k}")) || !m.custom.contains_key(k) {
            m.custom.insert(k.clone(), v.clone());
        }
    }
    m
}

/// The top-level fields whose values differ between `a` and `b`.
fn changed_fields(a: &Contact, b: &Contact) -> Vec<&'static str> {
    let (a, b) = (
        serde_json::to_value(a).unwrap_or(Value::Null),
        serde_json::to_value(b).unwrap_or(Value::Null),
    );
    FIELDS
        .iter()
        .map(|f| f.name)
        .filter(|f| a.get(f) != b.get(f))
        .collect()
}

/// Merges contact `other_id` into contact `id`: `id` keeps the chosen values and gains
/// the other's timeline, deals, orders, tasks, tickets and surveys (and, as they
/// arrive, its documents);
/// the other is deleted. Needs `update` on `id` and `delete` on the other; both steps are
/// audited (`contact.merged`, `contact.deleted` with `merged_into`).
pub async fn merge(
    state: &AppState,
    principal: &Principal,
    id: &str,
    precondition: Precondition,
    input: MergeRequest,
) -> Result<View, ApiError> {
    let update_scope = principal.require(RESOURCE, Action::Update)?;
    let delete_scope = principal.require(RESOURCE, Action::Delete)?;
    let mut errors = Errors::new();
    if !is_id(PREFIX, &input.other_id) || input.other_id == id {
        errors.add("other_id", "must be the id of another contact");
    }
    if input.take.len() > 100 {
        errors.add("take", "at most 100 fields");
    }
    let field_names: BTreeSet<&str> = FIELDS.iter().map(|f| f.name).collect();
    for (i, field) in input.take.iter().enumerate() {
        let custom = field.strip_prefix("custom.").is_some_and(fields::is_key);
        let plain = field_names.contains(field.as_str()) && field != "custom";
        if !(plain || custom) {
            errors.add(format!("take[{i}]"), "is not a field of contacts");
        }
    }
    errors.finish().map_err(ApiError::Validation)?;
    let take: BTreeSet<String> = input.take.into_iter().collect();
    let region = phone_region(state, principal).await?;
    let tenant = &principal.tenant;
    let (result, other) = write_on_version(&precondition, "contact", || async {
        let survivor = load(state, principal, update_scope, id).await?;
        let other = match load(state, principal, delete_scope, &input.other_id).await {
            Err(ApiError::NotFound(_)) => {
                return Err(ApiError::validation(
                    "other_id",
                    "is not a contact you may merge",
                ));
            }
            other => other?,
        };
        let mut next = merged(&survivor, &other, &take);
        principal.check_writable(RESOURCE, &changed_fields(&survivor, &next))?;
        let mut errors = Errors::new();
        normalize_and_check(&mut next, state.clock.now().date(), &region, &mut errors);
        let defs = fields::prepare(
            state,
            tenant,
            RESOURCE,
            &[id, &other.id],
            Some(&survivor.custom),
            &mut next.custom,
            &mut errors,
        )
        .await?;
        errors.finish().map_err(ApiError::Validation)?;
        precondition.check(survivor.version)?;

        // The other's timeline, deals, orders (with its purchase history), tasks, tickets
        // and surveys first: moving is repeatable, so a merge cut short can be run again.
        // Documents will move here too once they exist.
        timeline::move_all(state.table.as_ref(), tenant, &other.id, id).await?;
        crate::deals::service::relink(state, principal, RESOURCE, &other.id, id).await?;
        crate::orders::service::relink(state, principal, RESOURCE, &other.id, id).await?;
        crate::tasks::service::relink(state, principal, RESOURCE, &other.id, id).await?;
        crate::tickets::service::relink(state, principal, RESOURCE, &other.id, id).await?;
        crate::feedback::relink(state, principal, &other.id, id).await?;

        let now = state.clock.now();
        next.version = survivor.version + 1;
        next.updated_at = rfc3339(now);
        let data_key = key_for(state, principal, &[&survivor, &other, &next]).await?;
        let mut after = audited(data_key.as_ref(), &next);
        after["merged_id"] = Value::String(other.id.clone());
        let entry = Entry::by(principal, now, "contact.merged", RESOURCE, Some(id))
            .with_changes(Some(&audited(data_key.as_ref(), &survivor)), Some(&after));
        let mut writes = vec![Write::Put {
            item: to_stored(principal, &next, data_key.as_ref())?,
            condition: Condition::VersionIs(survivor.version),
        }];
        writes.extend(lookup_writes(
            principal,
            data_key.as_ref(),
            Some(&survivor),
            Some(&next),
        )?);
        writes.extend(fields::unique_writes(
            tenant,
            RESOURCE,
            &defs,
            id,
            Some(&survivor.custom),
            Some(&next.custom),
            Some(&other.custom),
        )?);
        writes.push(timeline::change(tenant, id, now, &entry)?);
        writes.extend(entry.writes(tenant)?);
        let kept: HashSet<_> = writes.iter().filter_map(|w| w.key().ok()).collect();
        let done = state.table.transact(writes).await;
        Ok(done.map(|()| ((next, defs, data_key, kept), other)))
    })
    .await?;
    let (next, defs, data_key, kept) = result;

    // Then the other goes, with what finds it; markers the survivor now holds stay.
    let entry = Entry::by(
        principal,
        state.clock.now(),
        "contact.deleted",
        RESOURCE,
        Some(&other.id),
    )
    .with_changes(
        Some(&audited(data_key.as_ref(), &other)),
        Some(&serde_json::json!({ "merged_into": id })),
    );
    let mut writes = vec![Write::Delete {
        key: key(tenant, &other.id),
        condition: Condition::VersionIs(other.version),
    }];
    writes.extend(lookup_writes(
        principal,
        data_key.as_ref(),
        Some(&other),
        None,
    )?);
    writes.extend(fields::unique_writes(
        tenant,
        RESOURCE,
        &defs,
        &other.id,
        Some(&other.custom),
        None,
        None,
    )?);
    writes.retain(|w| w.key().is_ok_and(|k| !kept.contains(&k)));
    writes.extend(entry.writes(tenant)?);
    match state.table.transact(writes).await {
        Err(crate::table::TableError::ConditionFailed { .. }) => {
            return Err(ApiError::conflict(
                "merge-interrupted",
                "The other contact changed while it was merged; merge again to finish.",
            ));
        }
        other => other?,
    }
    show(principal, &defs, next, false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contacts::{Email, LifecycleStage};
    use std::collections::BTreeMap;

    fn contact(id: &str, name: &str, email: &str) -> Contact {
        Contact {
            id: id.into(),
            name: name.into(),
            emails: vec![Email {
                address: email.into(),
                label: None,
            }],
            phones: vec![],
            company_name: None,
            company_id: None,
            title: None,
            address: None,
            tags: vec!["a".into()],
            owner_id: "usr_1".into(),
            lifecycle_stage: LifecycleStage::Lead,
            source: None,
            notes: None,
            national_id: None,
            card_number: None,
            bank_account: None,
            date_of_birth: None,
            preferences: Default::default(),
            consent: BTreeMap::new(),
            custom: Default::default(),
            created_by: "usr_1".into(),
            created_at: String::new(),
            updated_at: String::new(),
            version: 1,
        }
    }

    #[test]
    fn a_merge_keeps_chosen_values_fills_gaps_and_combines_lists() {
        let mut keep = contact("con_1", "Ada", "ada@x.io");
        let mut other = contact("con_2", "Ada Lovelace", "ada@y.io");
        other.title = Some("CTO".into());
        other.tags = vec!["A".into(), "b".into()];
        keep.notes = Some("mine".into());
        other.notes = Some("theirs".into());
        let m = merged(&keep, &other, &BTreeSet::from(["name".to_owned()]));
        assert_eq!(m.name, "Ada Lovelace");
        assert_eq!(m.title.as_deref(), Some("CTO"));
        assert_eq!(m.notes.as_deref(), Some("mine"));
        assert_eq!(m.emails.len(), 2);
        assert_eq!(m.tags, ["a", "b"]);
        assert_eq!(m.id, "con_1");
    }
}

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
use crate::error::Error;
use crate::fields;
use crate::ids::is_id;
use crate::paging::{ListPage, ListParams};
use crate::policy::{Action, View};
use crate::principal::Principal;
use crate::records::phone_region;
use crate::table::{Condition, Query, StartKey, Write};
use crate::timeline;
use crate::validation::Errors;
use crate::versioned::Precondition;
use crate::versioned::write_on_version;

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
) -> Result<ListPage<DuplicateGroup>, Error> {
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

/// The marker a merge writes on each of its two contacts before it moves anything: it
/// names the merge, so a merge of either contact in another pairing or direction is
/// refused (409) until this one ends, and a repeat of the same merge takes it over and
/// finishes what a crash left half done. Deleting a marked contact is refused too.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MergeMarker {
    pub survivor_id: String,
    pub other_id: String,
    pub started_at: String,
    #[serde(default)]
    pub version: u64,
}

impl MergeMarker {
    fn is_merge(&self, survivor_id: &str, other_id: &str) -> bool {
        self.survivor_id == survivor_id && self.other_id == other_id
    }
}

/// Where the merge marker of contact `id` is stored (apart from the contacts, so lists
/// never read it).
pub fn marker_key(tenant: &crate::ids::TenantId, id: &str) -> crate::table::Key {
    crate::table::Key::new(tenant.pk("contacts#merging"), id)
}

async fn read_marker(
    state: &AppState,
    tenant: &crate::ids::TenantId,
    id: &str,
) -> Result<Option<MergeMarker>, Error> {
    match state.table.get(&marker_key(tenant, id)).await? {
        Some(item) => Ok(Some(crate::table::from_item(item)?)),
        None => Ok(None),
    }
}

/// The answer while contact `id` is part of another merge.
fn in_progress(id: &str, marker: &MergeMarker) -> Error {
    Error::conflict(
        "merge-in-progress",
        format!(
            "Contact {id} is part of another merge ({} into {}), started at {}; nothing was \
             moved. Try again once it ends, or repeat that merge to finish it if it was \
             interrupted.",
            marker.other_id, marker.survivor_id, marker.started_at
        ),
    )
}

/// The answer to deleting a contact a merge holds.
pub(super) fn held() -> Error {
    Error::conflict(
        "merge-in-progress",
        "The contact is being merged; delete it once the merge ends.",
    )
}

/// The write that refuses to delete contact `id` while a merge holds it.
pub(super) fn not_merging(tenant: &crate::ids::TenantId, id: &str) -> Write {
    Write::Check {
        key: marker_key(tenant, id),
        condition: Condition::NotExists,
    }
}

/// The survivor as the merge leaves it, checked (the caller may write the fields that
/// change, and the result is a valid contact), with the custom field definitions.
async fn combine(
    state: &AppState,
    principal: &Principal,
    (survivor, other): (&Contact, &Contact),
    take: &BTreeSet<String>,
    region: &str,
) -> Result<(Contact, fields::Definitions), Error> {
    let mut next = merged(survivor, other, take);
    principal.check_writable(RESOURCE, &changed_fields(survivor, &next))?;
    let mut errors = Errors::new();
    normalize_and_check(&mut next, state.clock.now().date(), region, &mut errors);
    // The company taken from the other contact must be one the caller can see too.
    super::service::check_company(state, principal, Some(survivor), &next, &mut errors).await?;
    let defs = fields::prepare(
        state,
        &principal.tenant,
        RESOURCE,
        &[&survivor.id, &other.id],
        Some(&survivor.custom),
        &mut next.custom,
        &mut errors,
    )
    .await?;
    errors.finish().map_err(Error::Validation)?;
    Ok((next, defs))
}

/// The check that makes a record's new link to contact `after` (from `before`) hold only
/// while the contact exists, for the record's transaction. A merge deletes the other
/// contact and only then moves what still links to it, so a link committed before the
/// deletion is moved and one after it fails (then re-read: no such contact): no record
/// is left naming a merged-away contact.
pub fn link_holds(
    tenant: &crate::ids::TenantId,
    before: Option<&str>,
    after: Option<&str>,
) -> Option<Write> {
    after.filter(|a| before != Some(*a)).map(|id| Write::Check {
        key: key(tenant, id),
        condition: Condition::Exists,
    })
}

/// How far a merge had come when it took its contacts.
enum Taken {
    /// Both contacts are held by this merge; the other still exists.
    Held,
    /// An earlier run of this merge already deleted the other: what remains is the last
    /// moves and releasing the survivor.
    OtherGone,
}

/// Takes both contacts for the merge of `other_id` into `id`, on the versions read
/// (`precondition` on the survivor): a marker on each, written in one transaction with
/// checks of both contacts' versions. Before anything moves, so of two concurrent merges
/// of the same contacts one takes both and the other is refused with nothing moved.
async fn take_both(
    state: &AppState,
    principal: &Principal,
    (update_scope, delete_scope): (crate::policy::Scope, crate::policy::Scope),
    precondition: &Precondition,
    (id, other_id): (&str, &str),
    (take, region): (&BTreeSet<String>, &str),
) -> Result<Taken, Error> {
    let tenant = &principal.tenant;
    write_on_version(precondition, "contact", || async {
        let survivor = load(state, principal, update_scope, id).await?;
        precondition.check(survivor.version)?;
        let mut markers = Vec::new();
        for contact in [id, other_id] {
            let marker = read_marker(state, tenant, contact).await?;
            if let Some(m) = &marker
                && !m.is_merge(id, other_id)
            {
                return Err(in_progress(contact, m));
            }
            markers.push(marker);
        }
        let other = match load(state, principal, delete_scope, other_id).await {
            // Deleted by an earlier run of this very merge, which still holds the survivor.
            Err(Error::NotFound(_)) if markers[0].is_some() => {
                return Ok(Ok(Taken::OtherGone));
            }
            Err(Error::NotFound(_)) => {
                return Err(Error::validation(
                    "other_id",
                    "is not a contact you may merge",
                ));
            }
            other => other?,
        };
        // A merge that cannot end is refused before it takes anything; a repeat of a merge
        // cut short that can no longer end (other values or rules since) lets go.
        if let Err(e) = combine(state, principal, (&survivor, &other), take, region).await {
            if markers.iter().any(Option::is_some) {
                unmark(state, tenant, id, other_id).await?;
            }
            return Err(e);
        }
        let mut writes = vec![
            Write::Check {
                key: key(tenant, id),
                condition: Condition::VersionIs(survivor.version),
            },
            Write::Check {
                key: key(tenant, other_id),
                condition: Condition::VersionIs(other.version),
            },
        ];
        let started_at = rfc3339(state.clock.now());
        for (contact, marker) in [id, other_id].into_iter().zip(markers) {
            let version = marker.as_ref().map_or(0, |m| m.version);
            let next = MergeMarker {
                survivor_id: id.to_owned(),
                other_id: other_id.to_owned(),
                started_at: marker.map_or_else(|| started_at.clone(), |m| m.started_at),
                version: version + 1,
            };
            writes.push(Write::Put {
                item: crate::table::to_item(&marker_key(tenant, contact), &next)?,
                condition: Condition::at_version(version),
            });
        }
        Ok(state.table.transact(writes).await.map(|()| Taken::Held))
    })
    .await
}

/// Moves what names contact `from` (timeline, deals, orders with the purchase history,
/// tasks, tickets, surveys, custom records that relate to it) over to `to`. Repeatable: a merge cut short runs it again.
/// Documents will move here too once they exist.
async fn move_linked(
    state: &AppState,
    principal: &Principal,
    from: &str,
    to: &str,
) -> Result<(), Error> {
    timeline::move_all(state.table.as_ref(), &principal.tenant, from, to).await?;
    // Each area that links to contacts moves its records (see `crate::hooks`).
    for relink in &state.hooks.relinks {
        relink(state, principal, RESOURCE, from, to).await?;
    }
    Ok(())
}

/// Ends a merge: what was linked to the deleted contact while it was deleted moves too
/// (a record created during the merge), then both markers go.
async fn release(
    state: &AppState,
    principal: &Principal,
    id: &str,
    other_id: &str,
) -> Result<(), Error> {
    move_linked(state, principal, other_id, id).await?;
    unmark(state, &principal.tenant, id, other_id).await
}

/// Removes the markers of the merge of `other_id` into `id`.
async fn unmark(
    state: &AppState,
    tenant: &crate::ids::TenantId,
    id: &str,
    other_id: &str,
) -> Result<(), Error> {
    let writes = [id, other_id]
        .into_iter()
        .map(|c| Write::Delete {
            key: marker_key(tenant, c),
            condition: Condition::None,
        })
        .collect();
    state.table.transact(writes).await?;
    Ok(())
}

/// Merges contact `other_id` into contact `id`: `id` keeps the chosen values and gains
/// the other's timeline, deals, orders, tasks, tickets and surveys (and, as they
/// arrive, its documents);
/// the other is deleted. Needs `update` on `id` and `delete` on the other; both steps are
/// audited (`contact.merged`, `contact.deleted` with `merged_into`). Both contacts are
/// taken (see [`MergeMarker`]) before anything moves, and released at the end.
pub async fn merge(
    state: &AppState,
    principal: &Principal,
    id: &str,
    precondition: Precondition,
    input: MergeRequest,
) -> Result<View, Error> {
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
    errors.finish().map_err(Error::Validation)?;
    let take: BTreeSet<String> = input.take.into_iter().collect();
    let region = phone_region(state, principal).await?;
    let tenant = &principal.tenant;
    let other_id = input.other_id.as_str();
    let scopes = (update_scope, delete_scope);
    if let Taken::OtherGone = take_both(
        state,
        principal,
        scopes,
        &precondition,
        (id, other_id),
        (&take, &region),
    )
    .await?
    {
        release(state, principal, id, other_id).await?;
        let survivor = load(state, principal, update_scope, id).await?;
        let defs = fields::service::definitions(state.table.as_ref(), tenant, RESOURCE).await?;
        return show(principal, &defs, survivor, false);
    }
    // Both contacts are ours: what names the other moves first, then the survivor takes
    // the merged values and the other goes; each step repeatable.
    move_linked(state, principal, other_id, id).await?;
    let (result, other) = write_on_version(&Precondition::Any, "contact", || async {
        let survivor = load(state, principal, update_scope, id).await?;
        let other = match load(state, principal, delete_scope, other_id).await {
            Err(Error::NotFound(_)) => {
                return Err(Error::validation(
                    "other_id",
                    "is not a contact you may merge",
                ));
            }
            other => other?,
        };
        let (mut next, defs) =
            combine(state, principal, (&survivor, &other), &take, &region).await?;

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
            return Err(Error::conflict(
                "merge-interrupted",
                "The other contact changed while it was merged; merge again to finish.",
            ));
        }
        other => other?,
    }
    release(state, principal, id, other_id).await?;
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

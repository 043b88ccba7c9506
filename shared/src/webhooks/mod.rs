//! Webhook subscriptions: a company's endpoints that receive its events, signed by the
//! Standard Webhooks scheme. Each has a target URL (checked against SSRF, see
//! [`target`]), the event types it wants (`deal.*`, `contact.created`, `*`), and one or
//! two signing secrets: the current one and, for an overlap after a rotation, the
//! previous one (both sign meanwhile). Secrets are shown once and stored sealed under a
//! key derived from the deployment secret.
//!
//! A subscription acts with the read permissions of who made it (a user or an API key,
//! as they are at delivery time): the events it gets carry the records as they may see
//! them, and records they may not read are not sent at all. Its secret and its URL
//! (who can verify its events, where they go) are changed only by its owner or by
//! someone who holds everything the owner may do.

pub mod deliver;
pub mod target;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::AppState;
use crate::audit::{Actor, Entry};
use crate::clock::rfc3339;
use crate::error::Error;
use crate::ids::{TenantId, is_id, new_id};
use crate::paging::ListPage;
use crate::policy::Action;
use crate::principal::Principal;
use crate::table::{Condition, Key, Query, Write, from_item, to_item};
use crate::validation::Errors;
use crate::versioned::Precondition;
use crate::versioned::write_on_version;
use crate::wire::present;

pub const PREFIX: &str = crate::ids::WebhookId::PREFIX;
const RESOURCE: &str = "webhooks";
/// Subscriptions per company.
pub const MAX_WEBHOOKS: usize = 20;
const MAX_TYPES: usize = 50;
const MAX_DESCRIPTION: usize = 500;
/// The longest overlap of an old secret after a rotation.
const MAX_OVERLAP_HOURS: u32 = 7 * 24;
const DEFAULT_OVERLAP_HOURS: u32 = 24;
const SECRET_BYTES: usize = 32;
pub const SECRET_PREFIX: &str = "whsec_";

/// A signing secret as stored: sealed, and for a rotated-out one, when it stops signing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredSecret {
    sealed: String,
    #[serde(default)]
    expires_at: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Webhook {
    pub id: String,
    pub url: String,
    pub event_types: Vec<String>,
    pub description: Option<String>,
    pub enabled: bool,
    /// Why the product turned it off: `gone` (the receiver answered 410) or `failing`
    /// (every delivery failed for five days). Cleared when it is enabled again.
    pub disabled_reason: Option<String>,
    /// Since when every delivery has failed (none succeeded since).
    pub failing_since: Option<String>,
    /// Whose read permissions shape what it receives.
    pub owner: Actor,
    pub secret_rotated_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub version: u64,
    #[serde(default)]
    secrets: Vec<StoredSecret>,
}

impl Webhook {
    /// The record as the API shows it: never its secrets.
    pub fn shown(&self) -> Value {
        let mut value = serde_json::to_value(self).unwrap_or(Value::Null);
        if let Some(map) = value.as_object_mut() {
            map.remove("secrets");
        }
        value
    }

    pub fn wants(&self, kind: &str) -> bool {
        self.event_types
            .iter()
            .any(|p| crate::events::matches(p, kind))
    }

    /// The secrets that sign now (the current one first), opened.
    pub fn signing_keys(&self, state: &AppState, tenant: &TenantId) -> Vec<Vec<u8>> {
        let now = state.clock.now();
        self.secrets
            .iter()
            .filter(|s| {
                s.expires_at.as_deref().is_none_or(|at| {
                    time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339)
                        .is_ok_and(|at| at > now)
                })
            })
            .filter_map(|s| crate::crypto::open(&state.webhook_key, tenant, &s.sealed).ok())
            .filter_map(|text| {
                text.strip_prefix(SECRET_PREFIX)
                    .and_then(|b| STANDARD.decode(b).ok())
            })
            .collect()
    }
}

pub fn partition(tenant: &TenantId) -> String {
    tenant.pk("webhooks")
}

pub fn key(tenant: &TenantId, id: &str) -> Key {
    Key::new(partition(tenant), id)
}

fn not_found() -> Error {
    Error::NotFound("No such webhook.".into())
}

/// A new secret in the Standard Webhooks form, and its sealed form.
fn new_secret(state: &AppState, tenant: &TenantId) -> (String, String) {
    let mut bytes = [0u8; SECRET_BYTES];
    rand::rng().fill_bytes(&mut bytes);
    let secret = format!("{SECRET_PREFIX}{}", STANDARD.encode(bytes));
    let sealed = crate::crypto::seal(&state.webhook_key, tenant, &secret);
    (secret, sealed)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    pub url: String,
    pub event_types: Vec<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
}

fn enabled_by_default() -> bool {
    true
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookPatch {
    #[serde(default, deserialize_with = "present")]
    pub url: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub event_types: Option<Option<Vec<String>>>,
    #[serde(default, deserialize_with = "present")]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub enabled: Option<Option<bool>>,
}

/// Refuses (403) a change to who can sign a webhook's events or where they go (a new
/// secret, a new URL) unless the caller is its owner or holds everything the owner may
/// do: otherwise whoever holds `webhooks:update` could take the secret and forge events to
/// the owner's receiver, or divert them.
async fn require_owner_or_cover(
    state: &AppState,
    principal: &Principal,
    webhook: &Webhook,
) -> Result<(), Error> {
    if Actor::of(principal) == webhook.owner {
        return Ok(());
    }
    let grants = crate::auth::service::grants_of(state, &principal.tenant, &webhook.owner).await?;
    principal.permissions.covers_user(&grants).map_err(|_| {
        Error::Forbidden(
            "Only the webhook's owner (who made it or last set its URL), or someone who holds \
             everything its owner may do, may rotate its secret or change its URL."
                .into(),
        )
    })
}

/// A webhook with its secret, as its creation and a rotation answer (the only time the
/// secret is shown).
#[derive(Debug, Serialize)]
pub struct WithSecret {
    #[serde(flatten)]
    pub webhook: Value,
    pub secret: String,
}

/// The keys of the tenant's custom objects, whose record changes are events too.
async fn custom_objects(
    state: &AppState,
    tenant: &crate::ids::TenantId,
) -> Result<Vec<String>, Error> {
    Ok(crate::fields::objects::all(state.table.as_ref(), tenant)
        .await?
        .objects
        .into_iter()
        .map(|o| o.key)
        .collect())
}

fn check_types(types: &[String], custom: &[String], errors: &mut Errors) {
    if types.is_empty() || types.len() > MAX_TYPES {
        errors.add(
            "event_types",
            format!("must name 1 to {MAX_TYPES} event types"),
        );
    }
    for (i, t) in types.iter().enumerate() {
        if !crate::events::is_pattern(t) {
            errors.add(
                format!("event_types[{i}]"),
                "must be an event type like `deal.created`, a pattern like `deal.*`, or `*`",
            );
        } else if !crate::events::is_known_pattern(t, custom) {
            errors.add(
                format!("event_types[{i}]"),
                format!("is not an event type the product sends: {t}"),
            );
        }
    }
}

fn check_description(description: Option<&str>, errors: &mut Errors) {
    if description.is_some_and(|d| d.chars().count() > MAX_DESCRIPTION) {
        errors.add(
            "description",
            format!("must be at most {MAX_DESCRIPTION} characters"),
        );
    }
}

/// Checks a target URL: statically, then by resolving it.
async fn check_url(state: &AppState, url: &str, errors: &mut Errors) {
    let allow = state.config.webhooks_allow_loopback;
    match target::parse(url, allow) {
        Err(refusal) => errors.add("url", refusal),
        Ok(t) => {
            if let Err(refusal) = target::resolve(&t, allow).await {
                errors.add("url", refusal);
            }
        }
    }
}

pub async fn create(
    state: &AppState,
    principal: &Principal,
    input: NewWebhook,
) -> Result<WithSecret, Error> {
    principal.require(RESOURCE, Action::Create)?;
    let mut errors = Errors::new();
    let custom = custom_objects(state, &principal.tenant).await?;
    check_types(&input.event_types, &custom, &mut errors);
    check_description(input.description.as_deref(), &mut errors);
    check_url(state, &input.url, &mut errors).await;
    errors.finish().map_err(Error::Validation)?;
    let tenant = &principal.tenant;
    if all(state, tenant).await?.len() >= MAX_WEBHOOKS {
        return Err(Error::conflict(
            "webhook-limit",
            format!("A company has at most {MAX_WEBHOOKS} webhooks; delete one first."),
        ));
    }
    let now = rfc3339(state.clock.now());
    let (secret, sealed) = new_secret(state, tenant);
    let mut types = input.event_types;
    types.sort();
    types.dedup();
    let webhook = Webhook {
        id: new_id(PREFIX),
        url: input.url,
        event_types: types,
        description: input.description.filter(|d| !d.trim().is_empty()),
        enabled: input.enabled,
        disabled_reason: None,
        failing_since: None,
        owner: Actor::of(principal),
        secret_rotated_at: None,
        created_at: now.clone(),
        updated_at: now,
        version: 1,
        secrets: vec![StoredSecret {
            sealed,
            expires_at: None,
        }],
    };
    let entry = Entry::by(
        principal,
        state.clock.now(),
        "webhook.created",
        RESOURCE,
        Some(&webhook.id),
    )
    .with_changes(None, Some(&webhook.shown()));
    let mut writes = vec![Write::Put {
        item: to_item(&key(tenant, &webhook.id), &webhook)?,
        condition: Condition::NotExists,
    }];
    writes.extend(entry.writes(tenant)?);
    state.table.transact(writes).await?;
    Ok(WithSecret {
        webhook: webhook.shown(),
        secret,
    })
}

/// Every subscription of `tenant` (at most [`MAX_WEBHOOKS`]).
pub async fn all(state: &AppState, tenant: &TenantId) -> Result<Vec<Webhook>, Error> {
    let page = state
        .table
        .query(&Query::partition(partition(tenant)).limit(MAX_WEBHOOKS * 2))
        .await?;
    page.items
        .into_iter()
        .map(|item| from_item(item).map_err(Error::from))
        .collect()
}

pub async fn list(state: &AppState, principal: &Principal) -> Result<ListPage<Value>, Error> {
    principal.require(RESOURCE, Action::Read)?;
    Ok(ListPage {
        data: all(state, &principal.tenant)
            .await?
            .iter()
            .map(Webhook::shown)
            .collect(),
        next_cursor: None,
    })
}

/// The subscription `id` of `tenant`, if it exists.
pub async fn load(state: &AppState, tenant: &TenantId, id: &str) -> Result<Webhook, Error> {
    if !is_id(PREFIX, id) {
        return Err(not_found());
    }
    let item = state
        .table
        .get(&key(tenant, id))
        .await?
        .ok_or_else(not_found)?;
    Ok(from_item(item)?)
}

pub async fn get(state: &AppState, principal: &Principal, id: &str) -> Result<Webhook, Error> {
    principal.require(RESOURCE, Action::Read)?;
    load(state, &principal.tenant, id).await
}

pub async fn update(
    state: &AppState,
    principal: &Principal,
    id: &str,
    precondition: Precondition,
    patch: WebhookPatch,
) -> Result<Webhook, Error> {
    principal.require(RESOURCE, Action::Update)?;
    let mut errors = Errors::new();
    for (field, null) in [
        ("url", patch.url == Some(None)),
        ("event_types", patch.event_types == Some(None)),
        ("enabled", patch.enabled == Some(None)),
    ] {
        if null {
            errors.add(field, "cannot be null");
        }
    }
    if let Some(Some(types)) = &patch.event_types {
        let custom = custom_objects(state, &principal.tenant).await?;
        check_types(types, &custom, &mut errors);
    }
    if let Some(description) = &patch.description {
        check_description(description.as_deref(), &mut errors);
    }
    if let Some(Some(url)) = &patch.url {
        check_url(state, url, &mut errors).await;
    }
    errors.finish().map_err(Error::Validation)?;
    let tenant = &principal.tenant;
    write_on_version(&precondition, "webhook", || async {
        let current = load(state, tenant, id).await?;
        precondition.check(current.version)?;
        let mut next = current.clone();
        if let Some(Some(url)) = &patch.url
            && *url != current.url
        {
            require_owner_or_cover(state, principal, &current).await?;
            // Whoever points a webhook somewhere else receives with their own rights,
            // never with those of who made it.
            next.url = url.clone();
            next.owner = Actor::of(principal);
        }
        if let Some(Some(types)) = &patch.event_types {
            let mut types = types.clone();
            types.sort();
            types.dedup();
            next.event_types = types;
        }
        if let Some(description) = &patch.description {
            next.description = description.clone().filter(|d| !d.trim().is_empty());
        }
        if let Some(Some(enabled)) = patch.enabled {
            if enabled && !current.enabled {
                // Enabled again: a fresh start.
                next.disabled_reason = None;
                next.failing_since = None;
            }
            next.enabled = enabled;
        }
        if next == current {
            return Ok(Ok(current));
        }
        let now = state.clock.now();
        next.version = current.version + 1;
        next.updated_at = rfc3339(now);
        Ok(save(state, principal, "webhook.updated", &current, &next)
            .await
            .map(|()| next))
    })
    .await
}

/// Stores `next` over `current` (on its version) with its audit entry.
async fn save(
    state: &AppState,
    principal: &Principal,
    action: &str,
    current: &Webhook,
    next: &Webhook,
) -> Result<(), crate::table::TableError> {
    let tenant = &principal.tenant;
    let entry = Entry::by(
        principal,
        state.clock.now(),
        action,
        RESOURCE,
        Some(&next.id),
    )
    .with_changes(Some(&current.shown()), Some(&next.shown()));
    let mut writes = vec![Write::Put {
        item: to_item(&key(tenant, &next.id), next)?,
        condition: Condition::VersionIs(current.version),
    }];
    writes.extend(entry.writes(tenant)?);
    state.table.transact(writes).await
}

pub async fn delete(
    state: &AppState,
    principal: &Principal,
    id: &str,
    precondition: Precondition,
) -> Result<(), Error> {
    principal.require(RESOURCE, Action::Delete)?;
    let tenant = &principal.tenant;
    write_on_version(&precondition, "webhook", || async {
        let current = load(state, tenant, id).await?;
        precondition.check(current.version)?;
        let entry = Entry::by(
            principal,
            state.clock.now(),
            "webhook.deleted",
            RESOURCE,
            Some(id),
        )
        .with_changes(Some(&current.shown()), None);
        let mut writes = vec![Write::Delete {
            key: key(tenant, id),
            condition: Condition::VersionIs(current.version),
        }];
        writes.extend(entry.writes(tenant)?);
        Ok(state.table.transact(writes).await)
    })
    .await
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rotation {
    /// How long the old secret keeps signing beside the new one (0 to 168 hours;
    /// 24 by default).
    pub overlap_hours: Option<u32>,
}

/// Gives the webhook a new secret (shown once); the old one keeps signing for the
/// overlap, so receivers can switch without missing a delivery.
pub async fn rotate_secret(
    state: &AppState,
    principal: &Principal,
    id: &str,
    rotation: Rotation,
) -> Result<WithSecret, Error> {
    principal.require(RESOURCE, Action::Update)?;
    let overlap = rotation.overlap_hours.unwrap_or(DEFAULT_OVERLAP_HOURS);
    if overlap > MAX_OVERLAP_HOURS {
        return Err(Error::validation(
            "overlap_hours",
            format!("must be from 0 to {MAX_OVERLAP_HOURS}"),
        ));
    }
    let tenant = &principal.tenant;
    write_on_version(&Precondition::Any, "webhook", || async {
        let current = load(state, tenant, id).await?;
        require_owner_or_cover(state, principal, &current).await?;
        let now = state.clock.now();
        let (secret, sealed) = new_secret(state, tenant);
        let mut next = current.clone();
        let until = rfc3339(now + time::Duration::hours(i64::from(overlap)));
        // Only the newest old secret overlaps; older ones stop now.
        next.secrets = vec![StoredSecret {
            sealed,
            expires_at: None,
        }];
        if overlap > 0
            && let Some(old) = current.secrets.iter().find(|s| s.expires_at.is_none())
        {
            next.secrets.push(StoredSecret {
                sealed: old.sealed.clone(),
                expires_at: Some(until),
            });
        }
        next.secret_rotated_at = Some(rfc3339(now));
        next.version = current.version + 1;
        next.updated_at = rfc3339(now);
        Ok(
            save(state, principal, "webhook.secret_rotated", &current, &next)
                .await
                .map(|()| WithSecret {
                    webhook: next.shown(),
                    secret: secret.clone(),
                }),
        )
    })
    .await
}

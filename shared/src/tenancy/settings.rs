//! Company-wide settings the admin changes: general ones (name, locale, the region phone
//! numbers are read in) and security (whether every user must sign in with a second
//! factor). Both live on the tenant record and change on its version.

use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::audit::Entry;
use crate::directory::{Tenant, get_tenant, tenant_key};
use crate::error::Error;
use crate::i18n::valid_locale;
use crate::policy::Action;
use crate::principal::Principal;
use crate::table::{Condition, TableError, Write, to_item};
use crate::validation::{Errors, is_region};

const RESOURCE: &str = "settings";

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct General {
    pub company_name: String,
    pub locale: String,
    /// Phone numbers without a country code are read as numbers of this region.
    pub default_region: String,
    pub version: u64,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GeneralPatch {
    pub company_name: Option<String>,
    pub locale: Option<String>,
    pub default_region: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Security {
    /// Users without a second factor must enrol before anything else.
    pub require_mfa: bool,
    pub version: u64,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecurityPatch {
    pub require_mfa: Option<bool>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Sales {
    /// An open deal without activity (a change of the deal) for this many days gets a
    /// follow-up task for its owner; `null` turns the rule off.
    pub deal_follow_up_days: Option<u32>,
    pub version: u64,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SalesPatch {
    #[serde(default, deserialize_with = "crate::wire::present")]
    pub deal_follow_up_days: Option<Option<u32>>,
}

fn sales_of(tenant: &Tenant) -> Sales {
    Sales {
        deal_follow_up_days: tenant.deal_follow_up_days,
        version: tenant.version,
    }
}

pub async fn sales(state: &AppState, principal: &Principal) -> Result<Sales, Error> {
    principal.require(RESOURCE, Action::Read)?;
    Ok(sales_of(&load(state, principal).await?))
}

/// Changes the sales settings; the follow-up rule's global marker (which the worker
/// reads instead of scanning tenants) is written or removed in the same transaction.
pub async fn update_sales(
    state: &AppState,
    principal: &Principal,
    patch: SalesPatch,
) -> Result<Sales, Error> {
    principal.require(RESOURCE, Action::Update)?;
    if let Some(Some(days)) = patch.deal_follow_up_days
        && !(1..=365).contains(&days)
    {
        return Err(Error::validation(
            "deal_follow_up_days",
            "must be 1 to 365 days (or null for no rule)",
        ));
    }
    for _ in 0..5 {
        let current = load(state, principal).await?;
        let mut next = current.clone();
        if let Some(days) = patch.deal_follow_up_days {
            next.deal_follow_up_days = days;
        }
        if sales_of(&next) == sales_of(&current) {
            return Ok(sales_of(&current));
        }
        next.version = current.version + 1;
        let entry = Entry::by(
            principal,
            state.clock.now(),
            "settings.sales_updated",
            RESOURCE,
            Some(&principal.tenant.to_string()),
        )
        .with_changes(Some(&sales_of(&current)), Some(&sales_of(&next)));
        let marker = crate::deals::follow_ups::marker_write(
            &principal.tenant,
            next.deal_follow_up_days.is_some(),
        )?;
        let writes = [
            vec![
                Write::Put {
                    item: to_item(&tenant_key(&principal.tenant), &next)?,
                    condition: Condition::VersionIs(current.version),
                },
                marker,
            ],
            entry.writes(&principal.tenant)?,
        ]
        .concat();
        match state.table.transact(writes).await {
            Ok(()) => return Ok(sales_of(&next)),
            Err(TableError::ConditionFailed { .. }) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(Error::conflict(
        "concurrent-modification",
        "The settings are being changed by many requests at once; please retry.",
    ))
}

fn general_of(tenant: &Tenant) -> General {
    General {
        company_name: tenant.company_name.clone(),
        locale: tenant.locale.clone(),
        default_region: tenant.default_region.clone(),
        version: tenant.version,
    }
}

fn security_of(tenant: &Tenant) -> Security {
    Security {
        require_mfa: tenant.require_mfa,
        version: tenant.version,
    }
}

async fn load(state: &AppState, principal: &Principal) -> Result<Tenant, Error> {
    get_tenant(state.table.as_ref(), &principal.tenant)
        .await?
        .ok_or_else(|| Error::Unauthenticated("The company no longer exists.".into()))
}

pub async fn general(state: &AppState, principal: &Principal) -> Result<General, Error> {
    principal.require(RESOURCE, Action::Read)?;
    Ok(general_of(&load(state, principal).await?))
}

pub async fn security(state: &AppState, principal: &Principal) -> Result<Security, Error> {
    principal.require(RESOURCE, Action::Read)?;
    Ok(security_of(&load(state, principal).await?))
}

pub async fn update_general(
    state: &AppState,
    principal: &Principal,
    patch: GeneralPatch,
) -> Result<General, Error> {
    principal.require(RESOURCE, Action::Update)?;
    let mut errors = Errors::new();
    if let Some(name) = &patch.company_name {
        errors.text("company_name", name, 1, 200);
    }
    if let Some(locale) = &patch.locale
        && !valid_locale(locale)
    {
        errors.add("locale", "must be a language tag like `en` or `zh-CN`");
    }
    if let Some(region) = &patch.default_region
        && !is_region(region)
    {
        errors.add(
            "default_region",
            "must be an ISO 3166-1 alpha-2 code, like CN",
        );
    }
    errors.finish().map_err(Error::Validation)?;
    let changed = change(
        state,
        principal,
        "settings.general_updated",
        general_of,
        |t| {
            if let Some(name) = &patch.company_name {
                t.company_name = name.trim().to_owned();
            }
            if let Some(locale) = &patch.locale {
                t.locale = locale.clone();
            }
            if let Some(region) = &patch.default_region {
                t.default_region = region.clone();
            }
            Ok(())
        },
    )
    .await?;
    Ok(general_of(&changed))
}

pub async fn update_security(
    state: &AppState,
    principal: &Principal,
    patch: SecurityPatch,
) -> Result<Security, Error> {
    principal.require(RESOURCE, Action::Update)?;
    if let Some(required) = patch.require_mfa {
        // How every user signs in: for a person, and turning it off for one who holds
        // everything each user may do (as resetting one user's second factor is).
        principal.session()?;
        if !required {
            let table = state.table.as_ref();
            let (users, roles) = tokio::try_join!(
                crate::directory::list_users(table, &principal.tenant),
                crate::directory::list_roles(table, &principal.tenant),
            )?;
            principal.permissions.covers_user(
                roles
                    .iter()
                    .filter(|r| users.iter().any(|u| u.role_ids.contains(&r.id)))
                    .map(|r| &r.permissions),
            )?;
        }
    }
    let turning_on = patch.require_mfa == Some(true);
    if turning_on && !caller_has_mfa(state, principal).await? {
        let current = load(state, principal).await?;
        if !current.require_mfa {
            return Err(Error::conflict(
                "mfa-not-enabled",
                "Set up two-factor sign-in for yourself first, so the requirement does not \
                 lock you out.",
            ));
        }
    }
    let changed = change(
        state,
        principal,
        "settings.security_updated",
        security_of,
        |t| {
            if let Some(required) = patch.require_mfa {
                t.require_mfa = required;
            }
            Ok(())
        },
    )
    .await?;
    Ok(security_of(&changed))
}

async fn caller_has_mfa(state: &AppState, principal: &Principal) -> Result<bool, Error> {
    Ok(
        crate::directory::get_user(state.table.as_ref(), &principal.tenant, &principal.user_id)
            .await?
            .is_some_and(|u| u.has_mfa()),
    )
}

/// Applies `edit` to a fresh read of the tenant and stores it on the version read (with
/// an audit entry of what `view` shows), retrying when another change got in first.
async fn change<T: Serialize + PartialEq>(
    state: &AppState,
    principal: &Principal,
    action: &str,
    view: fn(&Tenant) -> T,
    edit: impl Fn(&mut Tenant) -> Result<(), Error>,
) -> Result<Tenant, Error> {
    for _ in 0..5 {
        let current = load(state, principal).await?;
        let mut next = current.clone();
        edit(&mut next)?;
        if view(&next) == view(&current) {
            return Ok(current);
        }
        next.version = current.version + 1;
        let entry = Entry::by(
            principal,
            state.clock.now(),
            action,
            RESOURCE,
            Some(&principal.tenant.to_string()),
        )
        .with_changes(Some(&view(&current)), Some(&view(&next)));
        match entry
            .commit(
                state.table.as_ref(),
                &principal.tenant,
                Write::Put {
                    item: to_item(&tenant_key(&principal.tenant), &next)?,
                    condition: Condition::VersionIs(current.version),
                },
            )
            .await
        {
            Ok(()) => return Ok(next),
            Err(TableError::ConditionFailed { .. }) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(Error::conflict(
        "concurrent-modification",
        "The settings are being changed by other requests; please retry.",
    ))
}

//! Company-wide settings the admin changes. For now: security (whether every user must
//! sign in with a second factor).

use serde::{Deserialize, Serialize};

use super::{Tenant, get_tenant, tenant_key};
use crate::AppState;
use crate::audit::Entry;
use crate::http::{ApiError, Principal};
use crate::policy::Action;
use crate::table::{Condition, TableError, Write, to_item};

const RESOURCE: &str = "settings";

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

fn of(tenant: &Tenant) -> Security {
    Security {
        require_mfa: tenant.require_mfa,
        version: tenant.version,
    }
}

async fn caller_has_mfa(state: &AppState, principal: &Principal) -> Result<bool, ApiError> {
    Ok(
        super::get_user(state.table.as_ref(), &principal.tenant, &principal.user_id)
            .await?
            .is_some_and(|u| u.has_mfa()),
    )
}

async fn load(state: &AppState, principal: &Principal) -> Result<Tenant, ApiError> {
    get_tenant(state.table.as_ref(), &principal.tenant)
        .await?
        .ok_or_else(|| ApiError::Unauthenticated("The company no longer exists.".into()))
}

pub async fn security(state: &AppState, principal: &Principal) -> Result<Security, ApiError> {
    principal.require(RESOURCE, Action::Read)?;
    Ok(of(&load(state, principal).await?))
}

pub async fn update_security(
    state: &AppState,
    principal: &Principal,
    patch: SecurityPatch,
) -> Result<Security, ApiError> {
    principal.require(RESOURCE, Action::Update)?;
    for _ in 0..5 {
        let current = load(state, principal).await?;
        let mut next = current.clone();
        if let Some(required) = patch.require_mfa {
            next.require_mfa = required;
        }
        if next.require_mfa == current.require_mfa {
            return Ok(of(&current));
        }
        if next.require_mfa && !caller_has_mfa(state, principal).await? {
            return Err(ApiError::conflict(
                "mfa-not-enabled",
                "Set up two-factor sign-in for yourself first, so the requirement does not \
                 lock you out.",
            ));
        }
        next.version += 1;
        let entry = Entry::by(
            principal,
            state.clock.now(),
            "settings.security_updated",
            RESOURCE,
            Some("security"),
        )
        .with_changes(Some(&of(&current)), Some(&of(&next)));
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
            Ok(()) => return Ok(of(&next)),
            Err(TableError::ConditionFailed { .. }) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::conflict(
        "concurrent-modification",
        "The settings are being changed by other requests; please retry.",
    ))
}

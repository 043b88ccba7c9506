//! Sign-up: a new tenant, its admin user, its built-in roles, its data key and the admin's
//! first session, written in one transaction so a half-created tenant never exists.
//!
//! An email may hold accounts in several tenants (a bookkeeper working for several
//! businesses): sign-up never refuses an email for being known elsewhere, which also keeps
//! it from revealing which emails have accounts. Login then asks which tenant is meant.

use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::audit::{Actor, Entry};
use crate::auth::passwords;
use crate::auth::service::{TokenPair, start_session};
use crate::auth::throttle::{self, SIGN_UPS_PER_ADDRESS};
use crate::clock::rfc3339;
use crate::directory::{
    DirectoryEntry, Role, Status, Tenant, User, directory_key, role_key, tenant_key,
    user_email_key, user_key,
};
use crate::error::Error;
use crate::ids::{TenantId, new_id};
use crate::policy::templates;
use crate::principal::RequestMeta;
use crate::table::{Condition, Write, to_item};
use crate::validation::{Errors, normalize_email};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignUp {
    pub company_name: String,
    pub email: String,
    pub password: String,
    pub name: Option<String>,
    pub locale: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct SignedUp {
    pub tenant_id: TenantId,
    pub user_id: String,
    #[serde(flatten)]
    pub tokens: TokenPair,
}

pub async fn sign_up(
    state: &AppState,
    input: SignUp,
    request: &RequestMeta,
) -> Result<SignedUp, Error> {
    let email = normalize_email(&input.email);
    let mut errors = Errors::new();
    errors.text("company_name", &input.company_name, 1, 200);
    errors.email("email", &input.email);
    errors.opt_text("name", input.name.as_deref(), 200);
    if let Err(rule) = passwords::check_strength(&input.password, &email) {
        errors.add("password", rule);
    }
    let locale = input.locale.clone().unwrap_or_else(|| "en".into());
    if !crate::i18n::valid_locale(&locale) {
        errors.add("locale", "must be a language tag like `en` or `zh-CN`");
    }
    errors.finish().map_err(Error::Validation)?;

    let now = state.clock.now();
    throttle::attempt(
        state.table.as_ref(),
        &format!("signup-ip:{}", request.ip),
        SIGN_UPS_PER_ADDRESS,
        now.unix_timestamp(),
        "Too many sign-ups from your address; try again later.",
    )
    .await?;
    let created_at = rfc3339(now);
    let tenant_id = TenantId::generate();
    let user_id = new_id(crate::ids::UserId::PREFIX);
    let data_key = state.keys.generate_data_key(&tenant_id).await?;
    let password_hash = passwords::hash(&input.password).await?;

    let tenant = Tenant {
        id: tenant_id.clone(),
        company_name: input.company_name.trim().to_owned(),
        status: Status::Active,
        locale: locale.clone(),
        data_key: base64::engine::general_purpose::STANDARD.encode(&data_key.wrapped),
        require_mfa: false,
        default_region: crate::directory::region_of_locale(&locale)
            .unwrap_or_else(crate::directory::default_region),
        deal_follow_up_days: None,
        created_at: created_at.clone(),
        version: 1,
    };
    let user = User {
        id: user_id.clone(),
        name: input
            .name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| email.split('@').next().unwrap_or_default())
            .to_owned(),
        email: email.clone(),
        password_hash,
        status: Status::Active,
        role_ids: vec!["admin".into()],
        locale,
        mfa: None,
        created_at: created_at.clone(),
        updated_at: created_at.clone(),
        version: 1,
    };

    let new = |item| Write::Put {
        item,
        condition: Condition::NotExists,
    };
    let mut writes = vec![
        new(to_item(&tenant_key(&tenant_id), &tenant)?),
        new(to_item(&user_key(&tenant_id, &user_id), &user)?),
        new(to_item(
            &user_email_key(&tenant_id, &email),
            &serde_json::json!({ "user_id": user_id }),
        )?),
        new(to_item(
            &directory_key(&email, &tenant_id),
            &DirectoryEntry {
                tenant_id: tenant_id.clone(),
                user_id: user_id.clone(),
            },
        )?),
    ];
    writes.push(super::users::first_admin_write(&tenant_id, &user_id)?);
    for template in templates() {
        let role = Role {
            id: template.id.into(),
            name: template.name.into(),
            description: template.description.into(),
            builtin: true,
            permissions: template.permissions,
            created_at: created_at.clone(),
            updated_at: created_at.clone(),
            version: 1,
        };
        writes.push(new(to_item(&role_key(&tenant_id, template.id), &role)?));
    }
    writes.push(crate::deals::pipelines::service::default_pipeline_write(
        &tenant_id,
        &tenant.locale,
        &created_at,
    )?);
    let (session_write, tokens) = start_session(state, &tenant_id, &user_id, now)?;
    writes.push(session_write);
    let entry = Entry::new(
        now,
        Actor::user(&user_id),
        "tenant.created",
        "tenant",
        Some(tenant_id.as_str()),
        request,
    )
    .with_changes(
        None,
        Some(&serde_json::json!({
            "company_name": tenant.company_name, "locale": tenant.locale,
            "admin_email": user.email,
        })),
    );
    writes.extend(entry.writes(&tenant_id)?);
    state.table.transact(writes).await?;
    tracing::info!(tenant_id = %tenant_id, user_id = %user_id, "tenant signed up");
    Ok(SignedUp {
        tenant_id,
        user_id,
        tokens,
    })
}

#[cfg(test)]
mod tests {
    use crate::i18n::valid_locale;

    #[test]
    fn locales() {
        for ok in ["en", "zh-CN", "zh-Hans-CN", "fil"] {
            assert!(valid_locale(ok), "{ok}");
        }
        for bad in ["", "EN", "english", "zh_CN", "zh-", "en-x"] {
            assert!(!valid_locale(bad), "{bad}");
        }
    }
}

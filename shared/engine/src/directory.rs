//! The tenant directory: tenants, their users and roles as stored records, where they live
//! in the table, and how to read them. Everything that must know who a user is or what a
//! company is set to reads it here; the services that change them are in `tenancy` and
//! `auth`, above the record engine.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::ids::TenantId;

/// The id prefix of users.
pub const USER_PREFIX: &str = crate::ids::UserId::PREFIX;
use crate::policy::{ADMIN_ROLE, Permissions, templates};
use crate::table::{Key, Query, SortKey, Table, TableError, from_item};

/// A user's second factor, kept on the user record (never in the audit log).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MfaState {
    /// The TOTP secret, sealed under the tenant's data key.
    pub sealed_secret: String,
    /// Whether enrolment was confirmed with a first code (only then does login ask).
    pub confirmed: bool,
    /// SHA-256 of each unused recovery code.
    pub recovery_hashes: Vec<String>,
    /// The last time step a code was accepted for (codes are single-use).
    pub last_step: u64,
    pub enabled_at: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Invited, not yet joined (users only).
    Invited,
    Active,
    Suspended,
    Deactivated,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Tenant {
    pub id: TenantId,
    pub company_name: String,
    pub status: Status,
    pub locale: String,
    /// The tenant's data key, wrapped by the key service (base64).
    pub data_key: String,
    /// Whether every user must sign in with a second factor.
    #[serde(default)]
    pub require_mfa: bool,
    /// The region phone numbers without a country code are read in (ISO 3166-1 alpha-2).
    #[serde(default = "default_region")]
    pub default_region: String,
    /// An open deal without activity for this many days gets a follow-up task.
    #[serde(default)]
    pub deal_follow_up_days: Option<u32>,
    pub created_at: String,
    pub version: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: String,
    pub email: String,
    pub name: String,
    pub password_hash: String,
    pub status: Status,
    pub role_ids: Vec<String>,
    pub locale: String,
    /// The user's second factor, once they start enrolling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mfa: Option<MfaState>,
    pub created_at: String,
    pub updated_at: String,
    pub version: u64,
}

impl User {
    /// Whether sign-in asks this user for a second factor.
    pub fn has_mfa(&self) -> bool {
        self.mfa.as_ref().is_some_and(|m| m.confirmed)
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Role {
    pub id: String,
    pub name: String,
    pub description: String,
    pub builtin: bool,
    pub permissions: Permissions,
    #[serde(default)]
    pub created_at: String,
    #[serde(default)]
    pub updated_at: String,
    pub version: u64,
}

/// A sign-in directory entry: which tenants an email has an account in. Logins name no
/// tenant yet, so this is the one record outside a tenant partition (`G#`); it holds only
/// ids, and every read after it is tenant-scoped. See `docs/data-model.md`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DirectoryEntry {
    pub tenant_id: TenantId,
    pub user_id: String,
}

/// The region of tenants that never chose one.
pub fn default_region() -> String {
    "CN".into()
}

/// The region a locale names (`zh-CN` → `CN`), if it names a known one.
pub fn region_of_locale(locale: &str) -> Option<String> {
    locale
        .split('-')
        .skip(1)
        .find(|part| crate::validation::is_region(part))
        .map(str::to_owned)
}

pub fn tenant_key(tenant: &TenantId) -> Key {
    Key::new(tenant.pk("tenant"), "profile")
}

pub fn user_key(tenant: &TenantId, user_id: &str) -> Key {
    Key::new(tenant.pk("users"), user_id)
}

/// Marker that keeps emails unique within a tenant.
pub fn user_email_key(tenant: &TenantId, email: &str) -> Key {
    Key::new(tenant.pk("user-emails"), email)
}

/// The marker listing the tenant's active admins. Every change that makes or unmakes an
/// admin rewrites it on its version, so two concurrent demotions cannot both pass the
/// "not the last admin" check.
pub fn admins_key(tenant: &TenantId) -> Key {
    Key::new(tenant.pk("tenant"), "admins")
}

pub fn role_key(tenant: &TenantId, role_id: &str) -> Key {
    Key::new(tenant.pk("roles"), role_id)
}

pub fn directory_pk(email: &str) -> String {
    format!("G#login#{email}")
}

pub fn directory_key(email: &str, tenant: &TenantId) -> Key {
    Key::new(directory_pk(email), tenant.as_str())
}

async fn get_record<T: serde::de::DeserializeOwned>(
    table: &dyn Table,
    key: &Key,
) -> Result<Option<T>, TableError> {
    table.get(key).await?.map(from_item).transpose()
}

pub async fn get_tenant(
    table: &dyn Table,
    tenant: &TenantId,
) -> Result<Option<Tenant>, TableError> {
    get_record(table, &tenant_key(tenant)).await
}

pub async fn get_user(
    table: &dyn Table,
    tenant: &TenantId,
    user_id: &str,
) -> Result<Option<User>, TableError> {
    get_record(table, &user_key(tenant, user_id)).await
}

/// The user with `email` (normalized) in `tenant`.
pub async fn find_user_by_email(
    table: &dyn Table,
    tenant: &TenantId,
    email: &str,
) -> Result<Option<User>, TableError> {
    let Some(marker) = table.get(&user_email_key(tenant, email)).await? else {
        return Ok(None);
    };
    match marker.get("user_id").and_then(|v| v.as_str()) {
        Some(user_id) => get_user(table, tenant, user_id).await,
        None => Ok(None),
    }
}

/// Every record of a small partition (roles, teams, users: bounded per tenant).
pub async fn read_partition<T: serde::de::DeserializeOwned>(
    table: &dyn Table,
    pk: String,
) -> Result<Vec<T>, TableError> {
    let mut records = Vec::new();
    let mut start = None;
    loop {
        let page = table
            .query(&Query::partition(pk.clone()).limit(200).start(start))
            .await?;
        for item in page.items {
            records.push(from_item(item)?);
        }
        match page.next {
            Some(next) => start = Some(next),
            None => return Ok(records),
        }
    }
}

/// Every role of the tenant (at most [`roles::MAX_ROLES`]).
pub async fn list_roles(table: &dyn Table, tenant: &TenantId) -> Result<Vec<Role>, TableError> {
    let roles: Vec<Role> = read_partition(table, tenant.pk("roles")).await?;
    Ok(roles.into_iter().map(Role::in_force).collect())
}

impl Role {
    /// The role as it applies now. The locked `admin` role always grants everything the
    /// product has, including resources added after the tenant signed up.
    pub fn in_force(mut self) -> Self {
        if self.id == ADMIN_ROLE
            && let Some(admin) = templates().into_iter().find(|t| t.id == ADMIN_ROLE)
        {
            self.permissions = admin.permissions;
        }
        self
    }
}

/// Every user of the tenant (at most [`users::MAX_USERS`]).
pub async fn list_users(table: &dyn Table, tenant: &TenantId) -> Result<Vec<User>, TableError> {
    read_partition(table, tenant.pk("users")).await
}

/// The tenants in which `email` has an account (at most `limit`).
pub async fn directory_lookup(
    table: &dyn Table,
    email: &str,
    limit: usize,
) -> Result<Vec<DirectoryEntry>, TableError> {
    let page = table
        .query(
            &Query::partition(directory_pk(email))
                .sort_key(SortKey::BeginsWith("ten_".into()))
                .limit(limit),
        )
        .await?;
    page.items
        .into_iter()
        .map(from_item::<DirectoryEntry>)
        .collect()
}

/// Refuses (403) unless the caller holds everything `user`'s roles allow: what changing
/// someone's sign-in, roles, status or teams needs (see `Effective::covers_user`).
pub async fn require_covers_user(
    table: &dyn Table,
    principal: &crate::principal::Principal,
    user: &User,
) -> Result<(), crate::error::Error> {
    let roles = list_roles(table, &principal.tenant).await?;
    principal.permissions.covers_user(
        roles
            .iter()
            .filter(|r| user.role_ids.contains(&r.id))
            .map(|r| &r.permissions),
    )
}

/// The id prefix of teams.
pub const TEAM_PREFIX: &str = crate::ids::TeamId::PREFIX;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Team {
    pub id: String,
    pub name: String,
    pub member_ids: Vec<String>,
    /// The member told of the team's breached tickets (service level agreements).
    #[serde(default)]
    pub lead_id: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub version: u64,
}

/// Where team `id` is stored.
pub fn team_key(tenant: &TenantId, id: &str) -> Key {
    Key::new(tenant.pk("teams"), id)
}

/// Every team of the tenant.
pub async fn teams(table: &dyn Table, tenant: &TenantId) -> Result<Vec<Team>, TableError> {
    read_partition(table, tenant.pk("teams")).await
}

/// The users who share at least one team with `user_id` (`user_id` included).
pub fn teammates(teams: &[Team], user_id: &str) -> BTreeSet<String> {
    let mut out: BTreeSet<String> = teams
        .iter()
        .filter(|t| t.member_ids.iter().any(|m| m == user_id))
        .flat_map(|t| t.member_ids.iter().cloned())
        .collect();
    out.insert(user_id.to_owned());
    out
}

/// A user as the API shows them (never their password hash).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UserView {
    pub id: String,
    pub email: String,
    pub name: String,
    pub status: Status,
    pub role_ids: Vec<String>,
    pub locale: String,
    /// Whether the user signs in with a second factor.
    pub mfa_enabled: bool,
    pub created_at: String,
    pub updated_at: String,
    pub version: u64,
}

impl From<&User> for UserView {
    fn from(u: &User) -> Self {
        Self {
            id: u.id.clone(),
            email: u.email.clone(),
            name: u.name.clone(),
            status: u.status.clone(),
            role_ids: u.role_ids.clone(),
            locale: u.locale.clone(),
            mfa_enabled: u.has_mfa(),
            created_at: u.created_at.clone(),
            updated_at: u.updated_at.clone(),
            version: u.version,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{Action, Effective, Scope};

    #[test]
    fn the_admin_role_grants_resources_added_after_sign_up() {
        // An admin role stored before `teams` existed.
        let mut stored = templates()
            .into_iter()
            .find(|t| t.id == ADMIN_ROLE)
            .unwrap();
        stored.permissions.0.remove("teams");
        let role = Role {
            id: ADMIN_ROLE.into(),
            name: stored.name.into(),
            description: String::new(),
            builtin: true,
            permissions: stored.permissions,
            created_at: String::new(),
            updated_at: String::new(),
            version: 1,
        };
        let effective = Effective::union([&role.in_force().permissions]);
        assert_eq!(effective.allows("teams", Action::Create), Some(Scope::All));
    }
}

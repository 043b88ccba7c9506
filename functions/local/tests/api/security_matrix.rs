//! The access matrix: every route the server serves, called by a user of each built-in
//! role in two companies, on records of their own company (in and out of their scope) and
//! on records of the other company. Each cell's status is asserted. A route missing from
//! the matrix, or a matrix row for a route that is not served, fails the test.
//!
//! Cells: the status for the caller's own company. On the other company's records every
//! route answers 404 to a role that may do the action at all (the record does not exist
//! for them), and the same 403 as at home to a role that may not (which says nothing
//! about the record either).

use std::collections::{BTreeSet, HashMap};

use crate::support::{Member, Tenant, TestApp, unique_email};
use reqwest::Method;
use serde_json::{Value, json};

const ROLES: [&str; 6] = [
    "admin",
    "manager",
    "sales",
    "support",
    "finance",
    "read_only",
];

/// What a route answers.
#[derive(Clone, Copy, Debug)]
enum Access {
    /// Needs no credentials: the status for the probe request, whoever calls.
    Public(u16),
    /// Per role, in the order of [`ROLES`].
    Roles([u16; 6]),
}
use Access::*;

/// A webhook target on this machine that refuses connections at once (the matrix app
/// runs in development mode, where loopback targets are allowed).
const MATRIX_HOOK: &str = "http://127.0.0.1:9/matrix";

const ADMIN_ONLY: [u16; 6] = [200, 403, 403, 403, 403, 403];
const ADMIN_AND_MANAGER: [u16; 6] = [200, 200, 403, 403, 403, 403];
const EVERYONE: [u16; 6] = [200; 6];
const DEAL_READERS: [u16; 6] = [200, 200, 200, 403, 403, 200];
const TICKET_READERS: [u16; 6] = [200, 200, 403, 200, 403, 200];
const TICKET_RECORD_READERS: [u16; 6] = [200, 404, 403, 200, 403, 200];
const OBJECT_READERS: [u16; 6] = [200, 200, 200, 403, 403, 200];

/// The matrix: every route with what each role gets. Keep it in route-table order.
fn matrix() -> Vec<(&'static str, &'static str, Access)> {
    vec![
        ("POST", "/v1/signup", Public(422)),
        ("POST", "/v1/auth/login", Public(422)),
        // `{}` names no token, so the browser's cookie would be used: not without this
        // site's Origin.
        ("POST", "/v1/auth/refresh", Public(403)),
        ("POST", "/v1/auth/logout", Public(403)),
        ("POST", "/v1/auth/mfa", Public(422)),
        ("POST", "/v1/auth/password-reset", Public(422)),
        ("POST", "/v1/auth/password-reset/confirm", Public(422)),
        ("POST", "/v1/invitations/accept", Public(422)),
        ("GET", "/v1/me", Roles(EVERYONE)),
        ("PATCH", "/v1/me", Roles(EVERYONE)),
        ("POST", "/v1/me/password", Roles([422; 6])),
        ("POST", "/v1/me/mfa/totp", Roles(EVERYONE)),
        ("POST", "/v1/me/mfa/totp/confirm", Roles([422; 6])),
        ("POST", "/v1/me/mfa/disable", Roles([409; 6])),
        ("GET", "/v1/sessions", Roles(EVERYONE)),
        ("DELETE", "/v1/sessions/{id}", Roles([204; 6])),
        ("GET", "/v1/users", Roles(ADMIN_AND_MANAGER)),
        ("POST", "/v1/users", Roles([201, 403, 403, 403, 403, 403])),
        ("GET", "/v1/users/{id}", Roles(ADMIN_AND_MANAGER)),
        ("PATCH", "/v1/users/{id}", Roles(ADMIN_ONLY)),
        (
            "POST",
            "/v1/users/{id}/invitation",
            Roles([202, 403, 403, 403, 403, 403]),
        ),
        (
            "DELETE",
            "/v1/users/{id}/mfa",
            Roles([204, 403, 403, 403, 403, 403]),
        ),
        ("GET", "/v1/settings/general", Roles(ADMIN_ONLY)),
        ("PATCH", "/v1/settings/general", Roles(ADMIN_ONLY)),
        ("GET", "/v1/settings/security", Roles(ADMIN_ONLY)),
        ("PATCH", "/v1/settings/security", Roles(ADMIN_ONLY)),
        ("GET", "/v1/settings/sales", Roles(ADMIN_ONLY)),
        ("PATCH", "/v1/settings/sales", Roles(ADMIN_ONLY)),
        ("GET", "/v1/settings/service", Roles(ADMIN_ONLY)),
        ("PATCH", "/v1/settings/service", Roles(ADMIN_ONLY)),
        ("GET", "/v1/settings/fields", Roles(EVERYONE)),
        (
            "POST",
            "/v1/settings/fields",
            Roles([201, 403, 403, 403, 403, 403]),
        ),
        (
            "PATCH",
            "/v1/settings/fields/{id}",
            Roles([200, 403, 403, 403, 403, 403]),
        ),
        (
            "DELETE",
            "/v1/settings/fields/{id}",
            Roles([204, 403, 403, 403, 403, 403]),
        ),
        ("GET", "/v1/roles", Roles(ADMIN_AND_MANAGER)),
        ("POST", "/v1/roles", Roles([201, 403, 403, 403, 403, 403])),
        ("GET", "/v1/roles/{id}", Roles(ADMIN_AND_MANAGER)),
        ("PATCH", "/v1/roles/{id}", Roles(ADMIN_ONLY)),
        (
            "DELETE",
            "/v1/roles/{id}",
            Roles([204, 403, 403, 403, 403, 403]),
        ),
        ("GET", "/v1/teams", Roles(ADMIN_AND_MANAGER)),
        ("POST", "/v1/teams", Roles([201, 403, 403, 403, 403, 403])),
        ("GET", "/v1/teams/{id}", Roles(ADMIN_AND_MANAGER)),
        ("PATCH", "/v1/teams/{id}", Roles(ADMIN_ONLY)),
        (
            "DELETE",
            "/v1/teams/{id}",
            Roles([204, 403, 403, 403, 403, 403]),
        ),
        ("PUT", "/v1/teams/{id}/members/{user_id}", Roles(ADMIN_ONLY)),
        (
            "DELETE",
            "/v1/teams/{id}/members/{user_id}",
            Roles(ADMIN_ONLY),
        ),
        ("GET", "/v1/api-keys", Roles(ADMIN_ONLY)),
        (
            "POST",
            "/v1/api-keys",
            Roles([201, 403, 403, 403, 403, 403]),
        ),
        ("GET", "/v1/api-keys/{id}", Roles(ADMIN_ONLY)),
        (
            "DELETE",
            "/v1/api-keys/{id}",
            Roles([204, 403, 403, 403, 403, 403]),
        ),
        ("POST", "/v1/api-keys/{id}/reassign", Roles(ADMIN_ONLY)),
        // Webhooks are the admin's (no other built-in role has them). A replayed ping
        // has no stored event to send again: 409.
        ("GET", "/v1/webhooks", Roles(ADMIN_ONLY)),
        (
            "POST",
            "/v1/webhooks",
            Roles([201, 403, 403, 403, 403, 403]),
        ),
        ("GET", "/v1/webhooks/{id}", Roles(ADMIN_ONLY)),
        ("PATCH", "/v1/webhooks/{id}", Roles(ADMIN_ONLY)),
        (
            "DELETE",
            "/v1/webhooks/{id}",
            Roles([204, 403, 403, 403, 403, 403]),
        ),
        ("POST", "/v1/webhooks/{id}/rotate-secret", Roles(ADMIN_ONLY)),
        ("POST", "/v1/webhooks/{id}/ping", Roles(ADMIN_ONLY)),
        ("GET", "/v1/webhooks/{id}/deliveries", Roles(ADMIN_ONLY)),
        (
            "POST",
            "/v1/webhooks/{id}/deliveries/{delivery_id}/replay",
            Roles([409, 403, 403, 403, 403, 403]),
        ),
        (
            "POST",
            "/v1/webhooks/{id}/replay",
            Roles([202, 403, 403, 403, 403, 403]),
        ),
        ("GET", "/v1/events", Roles(ADMIN_ONLY)),
        // Contacts owned by the admin: out of scope for manager (not in a team with the
        // admin) and sales (own records), hence 404 for them.
        (
            "POST",
            "/v1/contacts",
            Roles([201, 201, 201, 403, 403, 403]),
        ),
        // Partners' upserts: each item reported inside a 200.
        (
            "POST",
            "/v1/contacts/bulk",
            Roles([200, 200, 200, 403, 403, 403]),
        ),
        ("GET", "/v1/contacts", Roles(EVERYONE)),
        ("GET", "/v1/contacts/duplicates", Roles(EVERYONE)),
        (
            "GET",
            "/v1/contacts/{id}",
            Roles([200, 404, 404, 200, 200, 200]),
        ),
        (
            "PATCH",
            "/v1/contacts/{id}",
            Roles([200, 404, 404, 200, 403, 403]),
        ),
        (
            "DELETE",
            "/v1/contacts/{id}",
            Roles([204, 404, 404, 403, 403, 403]),
        ),
        // Merging needs update on the contact kept and delete on the other.
        (
            "POST",
            "/v1/contacts/{id}/merge",
            Roles([200, 404, 404, 403, 403, 403]),
        ),
        // Companies owned by the admin: as contacts, but support and finance only read.
        (
            "POST",
            "/v1/companies",
            Roles([201, 201, 201, 403, 403, 403]),
        ),
        (
            "POST",
            "/v1/companies/bulk",
            Roles([200, 200, 200, 403, 403, 403]),
        ),
        ("GET", "/v1/companies", Roles(EVERYONE)),
        (
            "GET",
            "/v1/companies/{id}",
            Roles([200, 404, 404, 200, 200, 200]),
        ),
        (
            "PATCH",
            "/v1/companies/{id}",
            Roles([200, 404, 404, 403, 403, 403]),
        ),
        (
            "DELETE",
            "/v1/companies/{id}",
            Roles([204, 404, 404, 403, 403, 403]),
        ),
        (
            "GET",
            "/v1/companies/{id}/contacts",
            Roles([200, 404, 404, 200, 200, 200]),
        ),
        // Logging an activity needs `update` on the record; reading the timeline, `read`.
        (
            "POST",
            "/v1/contacts/{id}/activities",
            Roles([201, 404, 404, 201, 403, 403]),
        ),
        (
            "GET",
            "/v1/contacts/{id}/timeline",
            Roles([200, 404, 404, 200, 200, 200]),
        ),
        (
            "POST",
            "/v1/companies/{id}/activities",
            Roles([201, 404, 404, 403, 403, 403]),
        ),
        (
            "GET",
            "/v1/companies/{id}/timeline",
            Roles([200, 404, 404, 200, 200, 200]),
        ),
        ("GET", "/v1/search", Roles(EVERYONE)),
        // Imports need create on the object; an import is seen by who started it and
        // by those who may create for everyone.
        ("POST", "/v1/imports", Roles([202, 202, 202, 403, 403, 403])),
        ("GET", "/v1/imports", Roles(EVERYONE)),
        (
            "GET",
            "/v1/imports/{id}",
            Roles([200, 404, 404, 404, 404, 404]),
        ),
        (
            "GET",
            "/v1/imports/{id}/rows",
            Roles([200, 404, 404, 404, 404, 404]),
        ),
        // Exports need export on the object; each is its asker's own.
        ("POST", "/v1/exports", Roles([202, 202, 403, 403, 403, 403])),
        ("GET", "/v1/exports", Roles(EVERYONE)),
        (
            "GET",
            "/v1/exports/{id}",
            Roles([200, 404, 404, 404, 404, 404]),
        ),
        // Pipelines are read by whoever reads deals (or settings), shaped by settings
        // managers; their boards and deals follow deal permissions and scope. Deals
        // owned by the admin: out of the manager's and seller's scope, hence 404.
        ("GET", "/v1/pipelines", Roles(DEAL_READERS)),
        (
            "POST",
            "/v1/pipelines",
            Roles([201, 403, 403, 403, 403, 403]),
        ),
        ("GET", "/v1/pipelines/{id}", Roles(DEAL_READERS)),
        ("PATCH", "/v1/pipelines/{id}", Roles(ADMIN_ONLY)),
        (
            "DELETE",
            "/v1/pipelines/{id}",
            Roles([204, 403, 403, 403, 403, 403]),
        ),
        ("GET", "/v1/pipelines/{id}/board", Roles(DEAL_READERS)),
        (
            "POST",
            "/v1/pipelines/{id}/stages/{stage_id}/move-deals",
            Roles([200, 200, 200, 403, 403, 403]),
        ),
        ("POST", "/v1/deals", Roles([201, 201, 201, 403, 403, 403])),
        ("GET", "/v1/deals", Roles(DEAL_READERS)),
        (
            "GET",
            "/v1/deals/{id}",
            Roles([200, 404, 404, 403, 403, 200]),
        ),
        (
            "PATCH",
            "/v1/deals/{id}",
            Roles([200, 404, 404, 403, 403, 403]),
        ),
        (
            "DELETE",
            "/v1/deals/{id}",
            Roles([204, 404, 404, 403, 403, 403]),
        ),
        (
            "GET",
            "/v1/deals/{id}/stage-history",
            Roles([200, 404, 404, 403, 403, 200]),
        ),
        // The catalogue: read with deals or orders, kept with update on all orders.
        (
            "POST",
            "/v1/products",
            Roles([201, 403, 403, 403, 201, 403]),
        ),
        ("GET", "/v1/products", Roles([200, 200, 200, 403, 200, 200])),
        (
            "GET",
            "/v1/products/{id}",
            Roles([200, 200, 200, 403, 200, 200]),
        ),
        (
            "PATCH",
            "/v1/products/{id}",
            Roles([200, 403, 403, 403, 200, 403]),
        ),
        (
            "DELETE",
            "/v1/products/{id}",
            Roles([204, 403, 403, 403, 204, 403]),
        ),
        // Orders owned by the admin: sellers have their own, managers their team's;
        // finance works on all orders. Only a draft is deleted.
        ("POST", "/v1/orders", Roles([201, 201, 201, 403, 201, 403])),
        ("GET", "/v1/orders", Roles([200, 200, 200, 403, 200, 200])),
        (
            "GET",
            "/v1/orders/{id}",
            Roles([200, 404, 404, 403, 200, 200]),
        ),
        (
            "PATCH",
            "/v1/orders/{id}",
            Roles([200, 404, 404, 403, 200, 403]),
        ),
        (
            "DELETE",
            "/v1/orders/{id}",
            Roles([204, 404, 403, 403, 403, 403]),
        ),
        // A partner's id names an order in the caller's own company: no other
        // company's record is reached (see `names_a_record`).
        (
            "PUT",
            "/v1/orders/external/{source}/{external_id}",
            Roles([201, 201, 201, 403, 201, 403]),
        ),
        // Partner orders by their own ids, in the caller's own company.
        (
            "POST",
            "/v1/orders/bulk",
            Roles([200, 200, 200, 403, 200, 403]),
        ),
        (
            "GET",
            "/v1/contacts/{id}/purchases",
            Roles([200, 404, 404, 403, 200, 200]),
        ),
        (
            "GET",
            "/v1/companies/{id}/purchases",
            Roles([200, 404, 404, 403, 200, 200]),
        ),
        // Tasks owned (assigned to) the admin: sales, support (own scope) and the
        // manager (team scope, not the admin's team) do not find them.
        ("POST", "/v1/tasks", Roles([201, 201, 201, 201, 403, 403])),
        ("GET", "/v1/tasks", Roles([200, 200, 200, 200, 403, 200])),
        (
            "GET",
            "/v1/tasks/{id}",
            Roles([200, 404, 404, 404, 403, 200]),
        ),
        (
            "PATCH",
            "/v1/tasks/{id}",
            Roles([200, 404, 404, 404, 403, 403]),
        ),
        (
            "DELETE",
            "/v1/tasks/{id}",
            Roles([204, 404, 404, 404, 403, 403]),
        ),
        // Notifications are each user's own: nobody reaches another's.
        ("GET", "/v1/notifications", Roles(EVERYONE)),
        ("POST", "/v1/notifications/{id}/read", Roles([404; 6])),
        ("POST", "/v1/notifications/read-all", Roles(EVERYONE)),
        // Tickets made by the admin (unassigned: the admin owns them). Support works on
        // all tickets; the manager's team scope does not reach the admin; sales and
        // finance have none; read-only reads.
        ("POST", "/v1/tickets", Roles([201, 201, 403, 201, 403, 403])),
        ("GET", "/v1/tickets", Roles(TICKET_READERS)),
        ("GET", "/v1/tickets/{id}", Roles(TICKET_RECORD_READERS)),
        (
            "PATCH",
            "/v1/tickets/{id}",
            Roles([200, 404, 403, 200, 403, 403]),
        ),
        (
            "DELETE",
            "/v1/tickets/{id}",
            Roles([204, 404, 403, 204, 403, 403]),
        ),
        (
            "GET",
            "/v1/tickets/{id}/history",
            Roles(TICKET_RECORD_READERS),
        ),
        (
            "GET",
            "/v1/tickets/{id}/comments",
            Roles(TICKET_RECORD_READERS),
        ),
        (
            "POST",
            "/v1/tickets/{id}/comments",
            Roles([201, 404, 403, 201, 403, 403]),
        ),
        // A survey about the admin's ticket: the manager cannot see the ticket (422
        // naming `ticket_id`).
        ("POST", "/v1/surveys", Roles([201, 422, 403, 201, 403, 403])),
        ("GET", "/v1/surveys", Roles(TICKET_READERS)),
        ("GET", "/v1/surveys/{id}", Roles(TICKET_RECORD_READERS)),
        ("GET", "/v1/feedback/summary", Roles(TICKET_READERS)),
        // The public doors: a body without its required members is refused before
        // anything else; an unknown survey link is not found.
        ("POST", "/v1/public/{slug}/tickets", Public(422)),
        ("GET", "/v1/public/surveys/{token}", Public(404)),
        ("POST", "/v1/public/surveys/{token}", Public(422)),
        ("GET", "/v1/audit", Roles(ADMIN_ONLY)),
        // Custom objects: definitions are settings; records follow the roles' grants on
        // every custom object (`objects/*`): manager team, sales own, read-only all.
        ("GET", "/v1/objects", Roles(EVERYONE)),
        ("POST", "/v1/objects", Roles([201, 403, 403, 403, 403, 403])),
        ("GET", "/v1/objects/{key}", Roles(OBJECT_READERS)),
        ("PATCH", "/v1/objects/{key}", Roles(ADMIN_ONLY)),
        (
            "DELETE",
            "/v1/objects/{key}",
            Roles([204, 403, 403, 403, 403, 403]),
        ),
        ("GET", "/v1/objects/{key}/schema", Roles(OBJECT_READERS)),
        ("GET", "/v1/objects/{key}/records", Roles(OBJECT_READERS)),
        (
            "POST",
            "/v1/objects/{key}/records",
            Roles([201, 201, 201, 403, 403, 403]),
        ),
        (
            "POST",
            "/v1/objects/{key}/records/bulk",
            Roles([200, 200, 200, 403, 403, 403]),
        ),
        (
            "GET",
            "/v1/objects/{key}/records/{id}",
            Roles([200, 404, 404, 403, 403, 200]),
        ),
        (
            "PATCH",
            "/v1/objects/{key}/records/{id}",
            Roles([200, 404, 404, 403, 403, 403]),
        ),
        (
            "DELETE",
            "/v1/objects/{key}/records/{id}",
            Roles([204, 404, 404, 403, 403, 403]),
        ),
        (
            "POST",
            "/v1/objects/{key}/records/{id}/activities",
            Roles([201, 404, 404, 403, 403, 403]),
        ),
        (
            "GET",
            "/v1/objects/{key}/records/{id}/timeline",
            Roles([200, 404, 404, 403, 403, 200]),
        ),
        // Local file links are signed; an unsigned one is refused.
        ("GET", "/files/{*key}", Public(403)),
    ]
}

/// A company with a user of every built-in role, and a custom object of its own.
struct Company {
    admin: Tenant,
    members: Vec<Member>,
    object: String,
}

/// A custom object key no other test uses.
fn object_key() -> String {
    format!("p{}", ulid::Ulid::new().to_string().to_ascii_lowercase())
}

impl Company {
    async fn new(app: &TestApp, name: &str) -> Self {
        let admin = app.sign_up(name).await;
        let mut members = Vec::new();
        for role in &ROLES[1..] {
            members.push(app.add_user(&admin.access_token, &[role]).await);
        }
        let object = object_key();
        let defined = app
            .post(
                "/v1/objects",
                Some(&admin.access_token),
                json!({"key": object, "label": {"en": "Project", "zh-CN": "项目"}}),
            )
            .await;
        assert_eq!(defined.status, 201, "{}", defined.body);
        Self {
            admin,
            members,
            object,
        }
    }

    /// The access token of the user with `ROLES[i]`.
    fn token(&self, i: usize) -> &str {
        if i == 0 {
            &self.admin.access_token
        } else {
            &self.members[i - 1].access_token
        }
    }

    fn admin_token(&self) -> &str {
        &self.admin.access_token
    }

    /// New tokens for everyone: a run on the AWS twins (moto) can outlast an access
    /// token's fifteen minutes.
    async fn renew(&mut self, app: &TestApp) {
        let renewed = |reply: crate::support::Reply| {
            let token = |name: &str| reply.body[name].as_str().map(str::to_owned);
            token("access_token").zip(token("refresh_token"))
        };
        let mut users: Vec<(&str, &str, &mut String, &mut String)> = vec![(
            &self.admin.email,
            &self.admin.password,
            &mut self.admin.access_token,
            &mut self.admin.refresh_token,
        )];
        for m in &mut self.members {
            users.push((
                &m.email,
                &m.password,
                &mut m.access_token,
                &mut m.refresh_token,
            ));
        }
        for (email, password, access, refresh) in users {
            let mut fresh = renewed(app.refresh(refresh).await);
            if fresh.is_none() {
                fresh = renewed(app.login(email, password).await);
            }
            let (a, r) = fresh.unwrap_or_else(|| panic!("{email} could not sign in again"));
            *access = a;
            *refresh = r;
        }
    }
}

fn id_of(reply: &crate::support::Reply) -> String {
    assert!(reply.status.is_success(), "fixture: {}", reply.body);
    reply.body["id"].as_str().unwrap().to_owned()
}

/// Fresh records of `owner` for the path's ids (made by its admin), and the body to send.
/// `caller` is the user (in `ROLES` order) the request will be sent as; for routes about
/// the caller's own things (sessions), the thing is theirs when `owner` is their company.
async fn request(
    app: &TestApp,
    owner: &Company,
    caller: Option<&Member>,
    method: &str,
    path: &str,
) -> (String, Option<Value>) {
    let admin = owner.admin_token();
    let unique = ulid::Ulid::new().to_string().to_ascii_lowercase();
    let new_user = || async {
        let reply = app
            .post(
                "/v1/users",
                Some(admin),
                json!({"email": unique_email("fixture"), "role_ids": ["read_only"]}),
            )
            .await;
        id_of(&reply)
    };
    let new_role = || async {
        let reply = app
            .post(
                "/v1/roles",
                Some(admin),
                json!({"name": format!("Role {}", ulid::Ulid::new()), "copy_from": "read_only"}),
            )
            .await;
        id_of(&reply)
    };
    let new_team = || async {
        id_of(
            &app.post("/v1/teams", Some(admin), json!({"name": "Fixture"}))
                .await,
        )
    };
    let new_ticket = || async {
        id_of(
            &app.post(
                "/v1/tickets",
                Some(admin),
                json!({"subject": "Owned by admin"}),
            )
            .await,
        )
    };
    let body = |v: Value| Some(v);
    match (method, path) {
        ("DELETE", "/v1/sessions/{id}") => {
            // A second session of the caller (or of the other company's admin).
            let (email, password) = match caller {
                Some(m) => (m.email.clone(), m.password.clone()),
                None => (owner.admin.email.clone(), owner.admin.password.clone()),
            };
            let login = app.login(&email, &password).await;
            let refresh = login.ok(200)["refresh_token"].as_str().unwrap().to_owned();
            let session = refresh.split('.').nth(2).unwrap().to_owned();
            (format!("/v1/sessions/{session}"), None)
        }
        ("POST", "/v1/me/password") => (
            path.into(),
            body(
                json!({"current_password": "not the password 1", "new_password": "a brand new tune 9"}),
            ),
        ),
        ("POST", "/v1/me/mfa/totp/confirm") | ("POST", "/v1/me/mfa/disable") => (
            path.into(),
            body(json!({"code": "000000", "password": crate::support::PASSWORD})),
        ),
        ("PATCH", "/v1/me") => (path.into(), body(json!({"name": "Matrix"}))),
        ("POST", "/v1/users") => (
            path.into(),
            body(json!({"email": unique_email("matrix"), "role_ids": ["read_only"]})),
        ),
        ("PATCH", "/v1/users/{id}") => (
            format!("/v1/users/{}", new_user().await),
            body(json!({"name": "Renamed"})),
        ),
        (_, "/v1/users/{id}") => (format!("/v1/users/{}", new_user().await), None),
        (_, "/v1/users/{id}/invitation") => (
            format!("/v1/users/{}/invitation", new_user().await),
            body(json!({})),
        ),
        (_, "/v1/users/{id}/mfa") => (format!("/v1/users/{}/mfa", new_user().await), None),
        ("PATCH", "/v1/settings/security") => (path.into(), body(json!({"require_mfa": false}))),
        ("PATCH", "/v1/settings/general") => (path.into(), body(json!({"default_region": "CN"}))),
        ("PATCH", "/v1/settings/sales") => (path.into(), body(json!({"deal_follow_up_days": 14}))),
        ("POST", "/v1/settings/fields") => (
            path.into(),
            body(
                json!({"object": "contacts", "key": format!("k{unique}"), "label": "K", "type": "text"}),
            ),
        ),
        (_, "/v1/settings/fields/{id}") => {
            let field = app
                .post(
                    "/v1/settings/fields",
                    Some(admin),
                    json!({"object": "contacts", "key": format!("k{unique}"), "label": "K", "type": "text"}),
                )
                .await;
            let body = (method == "PATCH").then(|| json!({"label": "Renamed"}));
            (path.replace("{id}", &id_of(&field)), body)
        }
        ("POST", "/v1/roles") => (
            path.into(),
            body(json!({"name": format!("Matrix {unique}"), "copy_from": "read_only"})),
        ),
        ("PATCH", "/v1/roles/{id}") => (
            format!("/v1/roles/{}", new_role().await),
            body(json!({"description": "changed"})),
        ),
        (_, "/v1/roles/{id}") => (format!("/v1/roles/{}", new_role().await), None),
        ("POST", "/v1/teams") => (path.into(), body(json!({"name": "Matrix"}))),
        ("PATCH", "/v1/teams/{id}") => (
            format!("/v1/teams/{}", new_team().await),
            body(json!({"name": "Renamed"})),
        ),
        (_, "/v1/teams/{id}") => (format!("/v1/teams/{}", new_team().await), None),
        (_, "/v1/teams/{id}/members/{user_id}") => (
            format!(
                "/v1/teams/{}/members/{}",
                new_team().await,
                new_user().await
            ),
            None,
        ),
        ("POST", "/v1/api-keys") => (
            path.into(),
            body(json!({"name": "Matrix", "role_id": "read_only"})),
        ),
        (_, "/v1/api-keys/{id}") | (_, "/v1/api-keys/{id}/reassign") => {
            let key = app
                .post(
                    "/v1/api-keys",
                    Some(admin),
                    json!({"name": "Fixture", "role_id": "read_only"}),
                )
                .await;
            let body = path
                .ends_with("/reassign")
                .then(|| json!({"user_id": owner.admin.user_id}));
            (path.replace("{id}", &id_of(&key)), body)
        }
        ("POST", "/v1/webhooks") => (
            path.into(),
            body(json!({"url": MATRIX_HOOK, "event_types": ["webhook.ping"]})),
        ),
        (_, p) if p.starts_with("/v1/webhooks/{id}") => {
            let webhook = id_of(
                &app.post(
                    "/v1/webhooks",
                    Some(admin),
                    json!({"url": MATRIX_HOOK, "event_types": ["webhook.ping"]}),
                )
                .await,
            );
            let mut path = path.replace("{id}", &webhook);
            if path.contains("{delivery_id}") {
                let ping = app
                    .post(
                        &format!("/v1/webhooks/{webhook}/ping"),
                        Some(admin),
                        json!({}),
                    )
                    .await;
                path = path.replace("{delivery_id}", &id_of(&ping));
            }
            let body = match method {
                "PATCH" => Some(json!({"description": "changed"})),
                _ if path.ends_with("/rotate-secret") => Some(json!({})),
                _ if path.ends_with("/replay") && !path.contains("/deliveries/") => {
                    Some(json!({"since": "2026-01-01T00:00:00Z"}))
                }
                _ => None,
            };
            (path, body)
        }
        ("POST", "/v1/contacts") => (path.into(), body(json!({"name": "Matrix"}))),
        ("POST", "/v1/contacts/bulk") | ("POST", "/v1/companies/bulk") => (
            path.into(),
            body(json!({"system": "matrix", "items": [{"external_id": unique, "name": "Matrix"}]})),
        ),
        ("POST", "/v1/contacts/{id}/merge") => {
            let keep = app
                .create_contact(admin, json!({"name": "Kept by admin"}))
                .await;
            let other = app
                .create_contact(admin, json!({"name": "Merged by admin"}))
                .await;
            let path = path.replace("{id}", keep["id"].as_str().unwrap());
            (path, Some(json!({"other_id": other["id"]})))
        }
        (_, "/v1/contacts/{id}")
        | (_, "/v1/contacts/{id}/activities")
        | (_, "/v1/contacts/{id}/timeline") => {
            let contact = app
                .create_contact(admin, json!({"name": "Owned by admin"}))
                .await;
            let path = path.replace("{id}", contact["id"].as_str().unwrap());
            let body = match method {
                "PATCH" => Some(json!({"title": "Changed"})),
                "POST" => Some(json!({"kind": "call", "subject": "Matrix", "duration_minutes": 5})),
                _ => None,
            };
            (path, body)
        }
        ("POST", "/v1/companies") => (path.into(), body(json!({"name": "Matrix Ltd"}))),
        ("GET", "/v1/search") => ("/v1/search?q=owned".into(), None),
        ("POST", "/v1/imports") => (path.into(), Some(Value::String("name\nMatrix\n".into()))),
        (_, "/v1/imports/{id}") | (_, "/v1/imports/{id}/rows") => {
            let import = app
                .upload(
                    "/v1/imports",
                    admin,
                    "text/csv",
                    b"name\nImported\n".to_vec(),
                )
                .await;
            (path.replace("{id}", &id_of(&import)), None)
        }
        ("POST", "/v1/exports") => (
            path.into(),
            Some(json!({"object": "contacts", "format": "csv"})),
        ),
        ("GET", "/v1/exports/{id}") => {
            let export = app
                .post(
                    "/v1/exports",
                    Some(admin),
                    json!({"object": "contacts", "format": "json"}),
                )
                .await;
            (path.replace("{id}", &id_of(&export)), None)
        }
        (_, "/v1/companies/{id}")
        | (_, "/v1/companies/{id}/contacts")
        | (_, "/v1/companies/{id}/activities")
        | (_, "/v1/companies/{id}/timeline") => {
            let company = app
                .post(
                    "/v1/companies",
                    Some(admin),
                    json!({"name": "Owned by admin"}),
                )
                .await;
            let path = path.replace("{id}", &id_of(&company));
            let body = match method {
                "PATCH" => Some(json!({"industry": "Retail"})),
                "POST" => Some(json!({"kind": "note", "body": "Matrix"})),
                _ => None,
            };
            (path, body)
        }
        ("POST", "/v1/pipelines") => (path.into(), body(json!({"name": "Matrix"}))),
        (_, "/v1/pipelines/{id}")
        | (_, "/v1/pipelines/{id}/board")
        | (_, "/v1/pipelines/{id}/stages/{stage_id}/move-deals") => {
            let pipeline = app
                .post("/v1/pipelines", Some(admin), json!({"name": "Fixture"}))
                .await;
            let stages = &pipeline.body["stages"];
            let path = path
                .replace("{id}", &id_of(&pipeline))
                .replace("{stage_id}", stages[0]["id"].as_str().unwrap());
            let body = match method {
                "PATCH" => Some(json!({"name": "Renamed"})),
                "POST" => Some(json!({"to_stage_id": stages[1]["id"]})),
                _ => None,
            };
            (path, body)
        }
        ("POST", "/v1/deals") => (path.into(), body(json!({"title": "Matrix"}))),
        (_, "/v1/deals/{id}") | (_, "/v1/deals/{id}/stage-history") => {
            let deal = app
                .post("/v1/deals", Some(admin), json!({"title": "Owned by admin"}))
                .await;
            let body = (method == "PATCH").then(|| json!({"title": "Changed"}));
            (path.replace("{id}", &id_of(&deal)), body)
        }
        ("POST", "/v1/products") => (
            path.into(),
            body(
                json!({"sku": format!("M-{unique}"), "name": "Matrix", "unit_price": {"amount_minor": 100, "currency": "CNY"}}),
            ),
        ),
        (_, "/v1/products/{id}") => {
            let product = app
                .post(
                    "/v1/products",
                    Some(admin),
                    json!({"sku": format!("F-{unique}"), "name": "Fixture", "unit_price": {"amount_minor": 100, "currency": "CNY"}}),
                )
                .await;
            let body = (method == "PATCH").then(|| json!({"name": "Renamed"}));
            (path.replace("{id}", &id_of(&product)), body)
        }
        ("POST", "/v1/orders") => (path.into(), body(order_body())),
        (_, "/v1/orders/{id}") => {
            let order = app.post("/v1/orders", Some(admin), order_body()).await;
            let body = (method == "PATCH").then(|| json!({"status": "confirmed"}));
            (path.replace("{id}", &id_of(&order)), body)
        }
        (_, "/v1/orders/external/{source}/{external_id}") => (
            format!("/v1/orders/external/matrix/{unique}"),
            body(order_body()),
        ),
        ("POST", "/v1/orders/bulk") => {
            let mut order = order_body();
            order["source"] = json!("matrix");
            order["external_id"] = json!(format!("bulk-{unique}"));
            (path.into(), body(json!({ "orders": [order] })))
        }
        ("GET", "/v1/contacts/{id}/purchases") => {
            let contact = app
                .create_contact(admin, json!({"name": "Owned by admin"}))
                .await;
            (path.replace("{id}", contact["id"].as_str().unwrap()), None)
        }
        ("GET", "/v1/companies/{id}/purchases") => {
            let company = app
                .post(
                    "/v1/companies",
                    Some(admin),
                    json!({"name": "Owned by admin"}),
                )
                .await;
            (path.replace("{id}", &id_of(&company)), None)
        }
        ("POST", "/v1/tasks") => (path.into(), body(json!({"title": "Matrix"}))),
        (_, "/v1/tasks/{id}") => {
            let task = app
                .post("/v1/tasks", Some(admin), json!({"title": "Owned by admin"}))
                .await;
            let body = (method == "PATCH").then(|| json!({"status": "done"}));
            (path.replace("{id}", &id_of(&task)), body)
        }
        ("PATCH", "/v1/settings/service") => {
            (path.into(), body(json!({"survey_after_resolve": false})))
        }
        ("POST", "/v1/tickets") => (path.into(), body(json!({"subject": "Matrix"}))),
        (_, p) if p.starts_with("/v1/tickets/{id}") => {
            let ticket = new_ticket().await;
            let body = match (method, p) {
                ("PATCH", _) => body(json!({"status": "open"})),
                ("POST", _) => body(json!({"body": "Matrix"})),
                _ => None,
            };
            (path.replace("{id}", &ticket), body)
        }
        ("POST", "/v1/surveys") => (path.into(), body(json!({"ticket_id": new_ticket().await}))),
        ("GET", "/v1/surveys") => (
            format!("/v1/surveys?ticket_id={}", new_ticket().await),
            None,
        ),
        ("GET", "/v1/surveys/{id}") => {
            let survey = app
                .post(
                    "/v1/surveys",
                    Some(admin),
                    json!({"ticket_id": new_ticket().await}),
                )
                .await;
            (path.replace("{id}", &id_of(&survey)), None)
        }
        ("GET", "/v1/public/surveys/{token}") => ("/v1/public/surveys/nonsense".into(), None),
        ("POST", "/v1/public/surveys/{token}") => {
            ("/v1/public/surveys/nonsense".into(), body(json!({})))
        }
        ("POST", "/v1/public/{slug}/tickets") => {
            ("/v1/public/no-such-form/tickets".into(), body(json!({})))
        }
        ("POST", "/v1/notifications/{id}/read") => (
            "/v1/notifications/ntf_00000000000000000000000000/read".into(),
            body(json!({})),
        ),
        ("GET", "/files/{*key}") => (format!("/files/{unique}/x.pdf"), None),
        ("POST", "/v1/objects") => (
            path.into(),
            body(json!({"key": object_key(), "label": {"en": "Matrix"}})),
        ),
        ("DELETE", "/v1/objects/{key}") => {
            let key = object_key();
            let made = app
                .post(
                    "/v1/objects",
                    Some(admin),
                    json!({"key": key, "label": {"en": "Fixture"}}),
                )
                .await;
            assert_eq!(made.status, 201, "fixture: {}", made.body);
            (format!("/v1/objects/{key}"), None)
        }
        ("POST", "/v1/objects/{key}/records") => (
            path.replace("{key}", &owner.object),
            body(json!({"name": "Matrix"})),
        ),
        ("POST", "/v1/objects/{key}/records/bulk") => (
            path.replace("{key}", &owner.object),
            body(json!({"system": "matrix", "items": [{"external_id": unique, "name": "Matrix"}]})),
        ),
        (_, p) if p.starts_with("/v1/objects/{key}/records/{id}") => {
            let made = app
                .post(
                    &format!("/v1/objects/{}/records", owner.object),
                    Some(admin),
                    json!({"name": "Owned by admin"}),
                )
                .await;
            let path = path
                .replace("{key}", &owner.object)
                .replace("{id}", &id_of(&made));
            let body = match method {
                "PATCH" => Some(json!({"name": "Changed"})),
                "POST" => Some(json!({"kind": "note", "body": "Matrix"})),
                _ => None,
            };
            (path, body)
        }
        (_, p) if p.starts_with("/v1/objects/{key}") => {
            let body = (method == "PATCH").then(|| json!({"description": "changed"}));
            (path.replace("{key}", &owner.object), body)
        }
        ("POST", _) => (path.into(), body(json!({}))),
        _ => (path.into(), None),
    }
}

/// A small order in yuan.
fn order_body() -> Value {
    json!({"currency": "CNY", "lines": [{"description": "Matrix", "quantity": 1, "unit_price_minor": 100}]})
}

/// Whether a route's path names a record that could be another company's (an upsert by a
/// partner's id names one in the caller's own company).
fn names_a_record(path: &str) -> bool {
    path.contains('{') && !path.starts_with("/v1/orders/external/")
}

/// Fixtures made once per company and route (and per caller for their own sessions),
/// and made anew only after a request deleted them: records are cheap to read, not to
/// make (on moto, every write is a table-wide transaction).
#[derive(Default)]
struct Fixtures {
    made: HashMap<FixtureKey, (String, Option<Value>)>,
}

/// Company index, method, route, and the caller for per-caller fixtures.
type FixtureKey = (usize, &'static str, &'static str, String);

impl Fixtures {
    fn key(at: (usize, &'static str, &'static str), caller: Option<&Member>) -> FixtureKey {
        // Sessions belong to the caller, and a new product's sku must be new for each
        // caller who may create one; every other fixture serves all callers.
        let per_caller = at.2.starts_with("/v1/sessions/")
            || at.2 == "/v1/products"
            || at.2.starts_with("/v1/orders/external/")
            || at.2 == "/v1/orders/bulk";
        let who = match caller {
            Some(m) if per_caller => m.email.clone(),
            _ => String::new(),
        };
        (at.0, at.1, at.2, who)
    }

    async fn get(
        &mut self,
        app: &TestApp,
        (companies, index): (&[Company], usize),
        caller: Option<&Member>,
        method: &'static str,
        path: &'static str,
    ) -> (String, Option<Value>) {
        let key = Self::key((index, method, path), caller);
        if let Some(made) = self.made.get(&key) {
            return made.clone();
        }
        let made = request(app, &companies[index], caller, method, path).await;
        self.made.insert(key, made.clone());
        made
    }

    fn used_up(&mut self, at: (usize, &'static str, &'static str), caller: Option<&Member>) {
        self.made.remove(&Self::key(at, caller));
    }
}

async fn send(
    app: &TestApp,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> crate::support::Reply {
    // A CSV upload: the body is the file (an import), sent as text/csv.
    if let (Some(Value::String(csv)), Some(token)) = (&body, token) {
        return app
            .upload(path, token, "text/csv", csv.clone().into_bytes())
            .await;
    }
    let method = Method::from_bytes(method.as_bytes()).unwrap();
    app.call(method, path, token, body).await
}

#[tokio::test]
async fn every_route_answers_each_role_as_the_matrix_says() {
    let app = TestApp::spawn_with(&[("CRM_WEBHOOKS_ALLOW_LOOPBACK", "true")]).await;
    let served: BTreeSet<(String, String)> = crm::routes(&app.state)
        .table()
        .iter()
        .map(|(m, p)| (m.to_string(), (*p).to_owned()))
        .collect();
    let matrix = matrix();
    let listed: BTreeSet<(String, String)> = matrix
        .iter()
        .map(|(m, p, _)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    let missing: Vec<_> = served.difference(&listed).collect();
    assert!(
        missing.is_empty(),
        "routes without a row in the security matrix: {missing:?}"
    );
    // The file route exists on the embedded twins only.
    let stale: Vec<_> = listed
        .difference(&served)
        .filter(|(_, p)| !p.starts_with("/files/"))
        .collect();
    assert!(
        stale.is_empty(),
        "matrix rows for routes not served: {stale:?}"
    );

    let mut companies = [
        Company::new(&app, "Acme").await,
        Company::new(&app, "Globex").await,
    ];
    let mut signed_in = std::time::Instant::now();
    let mut failures = Vec::new();
    let mut fixtures = Fixtures::default();
    for (method, path, access) in matrix {
        if signed_in.elapsed() > std::time::Duration::from_secs(600) {
            for company in &mut companies {
                company.renew(&app).await;
            }
            signed_in = std::time::Instant::now();
        }
        if !served.contains(&(method.to_owned(), path.to_owned())) {
            continue;
        }
        match access {
            Public(expected) => {
                let (target, body) = request(&app, &companies[0], None, method, path).await;
                let reply = send(&app, method, &target, None, body).await;
                if reply.status.as_u16() != expected {
                    failures.push(format!(
                        "{method} {path} (public): {} {}",
                        reply.status, reply.body
                    ));
                }
            }
            Roles(expected) => {
                for (home, away) in [(0, 1), (1, 0)] {
                    let company = &companies[home];
                    for (i, role) in ROLES.iter().enumerate() {
                        let caller = (i > 0).then(|| &company.members[i - 1]);
                        let token = company.token(i);
                        // At home.
                        let (target, body) = fixtures
                            .get(&app, (&companies, home), caller, method, path)
                            .await;
                        let reply = send(&app, method, &target, Some(token), body).await;
                        if reply.status.as_u16() != expected[i] {
                            failures.push(format!(
                                "{method} {path} as {role} of company {home}: expected {}, got {} {}",
                                expected[i], reply.status, reply.body
                            ));
                        }
                        if method == "DELETE" && reply.status.is_success() {
                            fixtures.used_up((home, method, path), caller);
                        }
                        // On the other company's records (only routes that name one).
                        if names_a_record(path) {
                            let other = if expected[i] == 403 { 403 } else { 404 };
                            let (target, body) = fixtures
                                .get(&app, (&companies, away), None, method, path)
                                .await;
                            let reply = send(&app, method, &target, Some(token), body).await;
                            if reply.status.as_u16() != other {
                                failures.push(format!(
                                    "{method} {path} as {role} of company {home} on the other company's record: expected {other}, got {} {}",
                                    reply.status, reply.body
                                ));
                            }
                        }
                    }
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} cells differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

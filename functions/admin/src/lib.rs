//! The `admin` function: what tenant admins manage (users and their invitations, settings,
//! custom fields, roles, teams, API keys, webhooks and the event list). Handlers only
//! translate HTTP to calls of the services in `shared`. One module per resource holds its
//! handlers; [`routes`] lists every route in one place.

use axum::Json as JsonResponse;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use shared::http::Routes;
use shared::http::versions::etag;

mod api_keys;
mod fields;
mod roles;
mod settings;
mod teams;
mod users;
mod webhooks;

pub fn routes() -> Routes {
    Routes::new()
        .get("/v1/users", users::list_users)
        .post("/v1/users", users::invite_user)
        .get("/v1/users/{id}", users::get_user)
        .patch("/v1/users/{id}", users::update_user)
        .post("/v1/users/{id}/invitation", users::resend_invitation)
        .delete("/v1/users/{id}/mfa", users::reset_mfa)
        .get("/v1/settings/general", settings::general)
        .patch("/v1/settings/general", settings::update_general)
        .get("/v1/settings/security", settings::security)
        .patch("/v1/settings/security", settings::update_security)
        .get("/v1/settings/sales", settings::sales)
        .patch("/v1/settings/sales", settings::update_sales)
        .get("/v1/settings/service", settings::service)
        .patch("/v1/settings/service", settings::update_service)
        .get("/v1/settings/fields", fields::list_fields)
        .post("/v1/settings/fields", fields::create_field)
        .patch("/v1/settings/fields/{id}", fields::update_field)
        .delete("/v1/settings/fields/{id}", fields::remove_field)
        .get("/v1/roles", roles::list_roles)
        .post("/v1/roles", roles::create_role)
        .get("/v1/roles/{id}", roles::get_role)
        .patch("/v1/roles/{id}", roles::update_role)
        .delete("/v1/roles/{id}", roles::delete_role)
        .get("/v1/teams", teams::list_teams)
        .post("/v1/teams", teams::create_team)
        .get("/v1/teams/{id}", teams::get_team)
        .patch("/v1/teams/{id}", teams::rename_team)
        .delete("/v1/teams/{id}", teams::delete_team)
        .put("/v1/teams/{id}/members/{user_id}", teams::add_member)
        .delete("/v1/teams/{id}/members/{user_id}", teams::remove_member)
        .get("/v1/api-keys", api_keys::list_keys)
        .post("/v1/api-keys", api_keys::create_key)
        .get("/v1/api-keys/{id}", api_keys::get_key)
        .delete("/v1/api-keys/{id}", api_keys::revoke_key)
        .post("/v1/api-keys/{id}/reassign", api_keys::reassign_key)
        .merge(webhooks::routes())
}

/// A record with its `ETag` (and `Location` when just created under `collection`).
pub(crate) fn record<T: Serialize>(
    status: StatusCode,
    version: u64,
    collection: &str,
    id: &str,
    body: &T,
) -> Response {
    let mut response =
        (status, [(header::ETAG, etag(version))], JsonResponse(body)).into_response();
    if status == StatusCode::CREATED
        && let Ok(location) = HeaderValue::from_str(&format!("{collection}/{id}"))
    {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

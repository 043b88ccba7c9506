//! Browser sessions. A partner's system gets its refresh token in the JSON answer; a
//! browser asks for it in a cookie scripts cannot read (`"refresh_token_delivery":
//! "cookie"`): HttpOnly, SameSite=Strict, limited to `/v1/auth`, Secure outside loopback.
//! Whatever uses that cookie, or asks for it, must carry this site's `Origin`, so another
//! site cannot make a browser spend it (CSRF). Also the security policy the console is
//! served with, here and (the same text) in CloudFront.

use std::net::IpAddr;
use std::time::Duration;

use axum::extract::{FromRequest, Request};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::uri::{Authority, Uri};
use axum::response::{IntoResponse, Response};
use cookie::{Cookie, SameSite};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::extract::{Json, parse_object};
use super::problem::ApiError;
use crate::AppState;
use crate::config::Config;
use crate::error::Error;

/// The cookie that carries a browser's refresh token.
pub const REFRESH_COOKIE: &str = "crm_refresh";
/// The routes the cookie is sent to: refresh and logout (and the other sign-in routes,
/// which ignore it).
pub const COOKIE_PATH: &str = "/v1/auth";
/// The body member that asks for the cookie.
pub const DELIVERY_FIELD: &str = "refresh_token_delivery";

/// The Content-Security-Policy of the web console, locally and in CloudFront's response
/// headers policy (`template.yaml`; a test holds the two together). Scripts come only
/// from the site; inline styles are allowed because Ant Design writes its CSS at run time.
pub const CONSOLE_CSP: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; \
     connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
     frame-ancestors 'none'";

/// How an answer hands over its refresh token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// In the JSON body (`refresh_token`), for partners' systems.
    Body,
    /// In the `crm_refresh` cookie, for browsers: `secure` unless the site is on this
    /// machine's loopback (browsers keep no Secure cookie from plain `http://`).
    Cookie { secure: bool, max_age: Duration },
}

impl Delivery {
    /// The JSON answer `body` (tokens), with its `refresh_token` moved into the cookie
    /// in cookie mode. An answer without a refresh token (an MFA challenge) sets none.
    pub fn answer(self, body: &impl Serialize) -> Result<Response, ApiError> {
        let mut value =
            serde_json::to_value(body).map_err(|e| Error::Internal(format!("answer: {e}")))?;
        let Delivery::Cookie { secure, max_age } = self else {
            return Ok(axum::Json(value).into_response());
        };
        let token = value
            .as_object_mut()
            .and_then(|o| o.remove("refresh_token"));
        let mut response = axum::Json(value).into_response();
        if let Some(Value::String(token)) = token {
            set_cookie(&mut response, token, secure, max_age);
        }
        Ok(response)
    }

    /// `response` ending the cookie (in cookie mode): after logout, or when the cookie
    /// names no live session.
    pub fn clearing(self, response: impl IntoResponse) -> Response {
        let mut response = response.into_response();
        if let Delivery::Cookie { secure, .. } = self {
            set_cookie(&mut response, String::new(), secure, Duration::ZERO);
        }
        response
    }
}

fn set_cookie(response: &mut Response, value: String, secure: bool, max_age: Duration) {
    let cookie = Cookie::build((REFRESH_COOKIE, value))
        .http_only(true)
        .same_site(SameSite::Strict)
        .path(COOKIE_PATH)
        .secure(secure)
        .max_age(cookie::time::Duration::seconds(max_age.as_secs() as i64))
        .build();
    if let Ok(value) = HeaderValue::from_str(&cookie.to_string()) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

/// A sign-in body `T` (sign-up, login, MFA, invitation) with `refresh_token_delivery`
/// taken out of it; asking for the cookie needs this site's `Origin`.
pub struct SignIn<T> {
    pub input: T,
    pub delivery: Delivery,
}

impl<T: DeserializeOwned> FromRequest<AppState> for SignIn<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let headers = req.headers().clone();
        let Json(mut body) = Json::<Map<String, Value>>::from_request(req, state).await?;
        let delivery = match body.remove(DELIVERY_FIELD) {
            None => Delivery::Body,
            Some(Value::String(s)) if s == "body" => Delivery::Body,
            Some(Value::String(s)) if s == "cookie" => cookie_delivery(&headers, &state.config)?,
            Some(_) => {
                return Err(ApiError(Error::validation(
                    DELIVERY_FIELD,
                    "must be `body` or `cookie`",
                )));
            }
        };
        Ok(Self {
            input: parse_object(body)?,
            delivery,
        })
    }
}

/// The refresh token a refresh or logout presents: the body's, or else the cookie's,
/// which needs this site's `Origin`. `None` when the cookie is missing or cannot be a
/// token.
pub fn presented(
    body_token: Option<String>,
    headers: &HeaderMap,
    config: &Config,
) -> Result<(Option<String>, Delivery), ApiError> {
    if let Some(token) = body_token {
        return Ok((Some(token), Delivery::Body));
    }
    let delivery = cookie_delivery(headers, config)?;
    let token = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == REFRESH_COOKIE)
        .map(|c| c.value().to_owned())
        // Real tokens are about 100 characters; anything else names no session.
        .filter(|t| (1..=512).contains(&t.len()));
    Ok((token, delivery))
}

/// Cookie mode for a request from this site (see [`same_site`]).
fn cookie_delivery(headers: &HeaderMap, config: &Config) -> Result<Delivery, ApiError> {
    let secure = same_site(headers, config)?;
    Ok(Delivery::Cookie {
        secure,
        max_age: config.refresh_token_ttl,
    })
}

/// Checks that the request's `Origin` is this site: `CRM_PUBLIC_ORIGIN` when set, else
/// the host the request was sent to (`X-Forwarded-Host`, which the CloudFront function
/// sets from the viewer's `Host`, else `Host`). Answers whether the cookie must be
/// Secure: always, unless the site is on loopback (`localhost`, `127.0.0.1`, `::1`).
pub fn same_site(headers: &HeaderMap, config: &Config) -> Result<bool, ApiError> {
    let refused = || {
        Error::CrossSiteRequest(
            "A request that uses or asks for the session cookie must come from this site \
             (its `Origin` header naming this site)."
                .into(),
        )
    };
    let origin = headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(refused)?;
    let uri: Uri = origin.parse().map_err(|_| refused())?;
    let authority = match (uri.scheme_str(), uri.authority()) {
        (Some("http" | "https"), Some(a)) if origin.matches('/').count() == 2 => a.clone(),
        _ => return Err(ApiError(refused())),
    };
    let matches = match &config.public_origin {
        Some(own) => origin.eq_ignore_ascii_case(own),
        None => headers
            .get("x-forwarded-host")
            .or_else(|| headers.get(header::HOST))
            .and_then(|v| v.to_str().ok())
            // A chain of proxies lists hosts; the first is what the browser asked for.
            .and_then(|v| v.split(',').next())
            .is_some_and(|host| host.trim().eq_ignore_ascii_case(authority.as_str())),
    };
    if !matches {
        return Err(ApiError(refused()));
    }
    Ok(!is_loopback(&authority))
}

fn is_loopback(authority: &Authority) -> bool {
    let host = authority.host();
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(public_origin: Option<&str>) -> Config {
        let mut vars = std::collections::HashMap::new();
        if let Some(o) = public_origin {
            vars.insert("CRM_PUBLIC_ORIGIN".to_owned(), o.to_owned());
        }
        Config::from_vars(&vars).unwrap()
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        map
    }

    #[test]
    fn the_origin_must_name_the_host_the_request_was_sent_to() {
        let c = config(None);
        let ok = |h: &[(&'static str, &str)]| same_site(&headers(h), &c);
        // On loopback the cookie cannot be Secure (plain http); elsewhere it must be.
        assert!(
            ok(&[
                ("host", "127.0.0.1:3000"),
                ("origin", "http://127.0.0.1:3000")
            ])
            .is_ok_and(|secure| !secure)
        );
        assert!(ok(&[("host", "[::1]:80"), ("origin", "http://[::1]:80")]).is_ok_and(|s| !s));
        assert!(ok(&[("host", "LocalHost"), ("origin", "http://localhost")]).is_ok_and(|s| !s));
        assert!(
            ok(&[
                ("host", "crm.example.com"),
                ("origin", "https://crm.example.com")
            ])
            .is_ok_and(|secure| secure)
        );
        // CloudFront passes the viewer's host on in X-Forwarded-Host.
        assert!(
            ok(&[
                ("host", "abc.execute-api.aws"),
                ("x-forwarded-host", "crm.example.com"),
                ("origin", "https://crm.example.com")
            ])
            .is_ok()
        );
        for refused in [
            &[("host", "crm.example.com")][..],
            &[
                ("host", "crm.example.com"),
                ("origin", "https://evil.example"),
            ],
            &[("host", "crm.example.com"), ("origin", "null")],
            &[
                ("host", "crm.example.com"),
                ("origin", "https://crm.example.com/x"),
            ],
            &[
                ("host", "crm.example.com"),
                ("origin", "https://crm.example.com:8443"),
            ],
            &[
                ("host", "crm.example.com"),
                ("x-forwarded-host", "evil.example"),
                ("origin", "https://crm.example.com"),
            ],
        ] {
            assert!(
                matches!(ok(refused), Err(ApiError(Error::CrossSiteRequest(_)))),
                "{refused:?}"
            );
        }
    }

    #[test]
    fn a_configured_public_origin_is_the_only_site() {
        let c = config(Some("https://crm.example.com/"));
        let h = |origin: &str| headers(&[("host", "abc.execute-api.aws"), ("origin", origin)]);
        assert!(same_site(&h("https://crm.example.com"), &c).is_ok_and(|s| s));
        assert!(same_site(&h("http://crm.example.com"), &c).is_err());
        assert!(same_site(&h("https://abc.execute-api.aws"), &c).is_err());
    }
}

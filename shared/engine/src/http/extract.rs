//! Extractors that answer bad input with problem+json instead of axum's plain-text
//! rejections: wrong content type -> 415, body too large -> 413, malformed JSON -> 400,
//! well-formed JSON of the wrong shape (unknown or missing fields, wrong types) -> 422
//! naming the field.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{header, request::Parts};
use serde::de::DeserializeOwned;

use super::problem::ApiError;
use crate::AppState;
use crate::error::Error;

/// A JSON request body of type `T`, bounded by the configured body limit.
pub struct Json<T>(pub T);

fn is_json(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

pub use crate::wire::{from_object, parse_json, parse_object, present};

impl<T: DeserializeOwned> FromRequest<AppState> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        if !is_json(content_type(&req)) {
            return Err(not_json());
        }
        let bytes = read_body(req, state.config.max_body_bytes).await?;
        Ok(parse_json(&bytes).map(Json)?)
    }
}

/// A JSON body of type `T` that may be left out: no body at all (`None`), or JSON as
/// for [`Json`].
pub struct OptionalJson<T>(pub Option<T>);

impl<T: DeserializeOwned> FromRequest<AppState> for OptionalJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let is_json = is_json(content_type(&req));
        let bytes = read_body(req, state.config.max_body_bytes).await?;
        if bytes.is_empty() {
            return Ok(OptionalJson(None));
        }
        if !is_json {
            return Err(not_json());
        }
        Ok(parse_json(&bytes).map(|v| OptionalJson(Some(v)))?)
    }
}

fn content_type(req: &Request) -> &str {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

fn not_json() -> ApiError {
    ApiError(Error::UnsupportedMediaType(
        "Send the body as JSON with `Content-Type: application/json`.".into(),
    ))
}

/// The request's body, at most `limit` bytes (413 beyond).
async fn read_body(req: Request, limit: usize) -> Result<axum::body::Bytes, ApiError> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(ApiError(Error::PayloadTooLarge { limit }));
    }
    axum::body::to_bytes(req.into_body(), limit)
        .await
        .map_err(|e| {
            if is_length_limit(&e) {
                ApiError(Error::PayloadTooLarge { limit })
            } else {
                ApiError(Error::BadRequest(
                    "The request body could not be read.".into(),
                ))
            }
        })
}

/// Whether reading a body failed because it was larger than the limit.
fn is_length_limit(err: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = source {
        if e.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = e.source();
    }
    false
}

/// Query parameters of type `T`; a bad parameter is a 422 naming it.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        let de = serde_urlencoded_deserializer(query);
        de.map(Query)
    }
}

/// Query parameters of type `T` plus custom-field filters `cf[<key>]=<condition>`
/// (OpenAPI's `deepObject` style), which name fields only the tenant knows.
pub struct FilterQuery<T>(pub T, pub std::collections::BTreeMap<String, String>);

/// Query parameters of type `T` plus a column mapping `map[<column>]=<field>`.
pub struct MapQuery<T>(pub T, pub std::collections::BTreeMap<String, String>);

/// Most `name[key]` entries one request may carry.
pub const MAX_DEEP_ENTRIES: usize = 200;

/// Splits the `name[<key>]=<value>` pairs off `query`; the rest is decoded as `T`.
fn deep_query<T: DeserializeOwned>(
    query: &str,
    name: &str,
    max: usize,
) -> Result<(T, std::collections::BTreeMap<String, String>), ApiError> {
    let mut deep = std::collections::BTreeMap::new();
    let mut rest = form_urlencoded::Serializer::new(String::new());
    for (param, value) in form_urlencoded::parse(query.as_bytes()) {
        let key = param
            .strip_prefix(name)
            .and_then(|p| p.strip_prefix('['))
            .and_then(|k| k.strip_suffix(']'));
        match key {
            Some(key) => {
                if deep.insert(key.to_owned(), value.into_owned()).is_some() {
                    return Err(ApiError(Error::validation(
                        format!("{name}[{key}]"),
                        "appears twice; give it once",
                    )));
                }
            }
            None => {
                rest.append_pair(&param, &value);
            }
        }
    }
    if deep.len() > max {
        return Err(ApiError(Error::validation(
            name,
            format!("at most {max} entries"),
        )));
    }
    Ok((serde_urlencoded_deserializer(&rest.finish())?, deep))
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for FilterQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let (params, custom) = deep_query(
            parts.uri.query().unwrap_or_default(),
            "cf",
            crate::search::filter::MAX_CUSTOM_FILTERS,
        )?;
        Ok(FilterQuery(params, custom))
    }
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for MapQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let (params, map) = deep_query(
            parts.uri.query().unwrap_or_default(),
            "map",
            MAX_DEEP_ENTRIES,
        )?;
        Ok(MapQuery(params, map))
    }
}

/// A raw request body of one of `types` (e.g. `text/csv`), at most `limit` bytes.
pub async fn raw_body(
    req: Request,
    types: &[&str],
    limit: usize,
) -> Result<axum::body::Bytes, ApiError> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if !types.contains(&essence.as_str()) {
        return Err(ApiError(Error::UnsupportedMediaType(format!(
            "Send the body as {}.",
            types.join(" or ")
        ))));
    }
    axum::body::to_bytes(req.into_body(), limit)
        .await
        .map_err(|e| {
            if is_length_limit(&e) {
                ApiError(Error::PayloadTooLarge { limit })
            } else {
                ApiError(Error::BadRequest(
                    "The request body could not be read.".into(),
                ))
            }
        })
}

fn serde_urlencoded_deserializer<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    // axum's own Query extractor does the decoding; only its rejection is replaced.
    let uri: axum::http::Uri = format!("/?{query}")
        .parse()
        .map_err(|_| Error::BadRequest("The query string is malformed.".into()))?;
    axum::extract::Query::<T>::try_from_uri(&uri)
        .map(|q| q.0)
        .map_err(|e| {
            let text = e.body_text();
            let text = text
                .strip_prefix("Failed to deserialize query string: ")
                .unwrap_or(&text);
            let field = text
                .split(':')
                .next()
                .filter(|f| !f.contains(' ') && !f.is_empty());
            match field {
                Some(field) => ApiError(Error::validation(
                    field,
                    text.split_once(": ").map_or(text, |(_, m)| m),
                )),
                None => ApiError(Error::validation("query", text)),
            }
        })
}

/// A path parameter; a missing or undecodable one is a 404 (the route does not exist).
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| Path(p.0))
            .map_err(|_| ApiError(Error::NotFound("No such resource.".into())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        inner: Option<Inner>,
    }

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        n: u32,
    }

    fn fields(err: Error) -> Vec<String> {
        match err {
            Error::Validation(errors) => errors.into_iter().map(|e| e.field).collect(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn syntax_errors_are_bad_requests() {
        assert!(matches!(
            parse_json::<Body>(b"{\"name\": "),
            Err(Error::BadRequest(_))
        ));
        assert!(matches!(
            parse_json::<Body>(b"not json"),
            Err(Error::BadRequest(_))
        ));
    }

    #[test]
    fn shape_errors_name_the_field() {
        assert_eq!(fields(parse_json::<Body>(b"{}").unwrap_err()), ["name"]);
        assert_eq!(
            fields(parse_json::<Body>(br#"{"name":"a","colour":1}"#).unwrap_err()),
            ["colour"]
        );
        assert_eq!(
            fields(parse_json::<Body>(br#"{"name":"a","inner":{"n":-1}}"#).unwrap_err()),
            ["inner.n"]
        );
        assert_eq!(
            fields(parse_json::<Body>(br#"{"name":"a","inner":{}}"#).unwrap_err()),
            ["inner.n"]
        );
        assert_eq!(fields(parse_json::<Body>(b"[]").unwrap_err()), ["body"]);
        assert_eq!(
            fields(parse_json::<Body>(br#"["a", null]"#).unwrap_err()),
            ["body"]
        );
    }

    #[test]
    fn json_content_types() {
        assert!(is_json("application/json"));
        assert!(is_json("application/json; charset=utf-8"));
        assert!(is_json("application/merge-patch+json"));
        assert!(!is_json("text/plain"));
        assert!(!is_json(""));
    }
}

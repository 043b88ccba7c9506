//! Optimistic concurrency on the wire: records carry a `version`, answered as a strong
//! `ETag`; `If-Match` makes a write conditional on it (412 when it no longer matches).
//! The precondition itself is the record engine's (`crate::versioned::Precondition`).

use axum::http::HeaderValue;

pub use crate::versioned::Precondition;

/// A record answered with its `ETag` (and, when created, its `Location` in `collection`).
pub fn record_response(
    status: axum::http::StatusCode,
    collection: &str,
    id: &str,
    version: u64,
    body: &impl serde::Serialize,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let mut response = (
        status,
        [(axum::http::header::ETAG, etag(version))],
        axum::Json(body),
    )
        .into_response();
    if status == axum::http::StatusCode::CREATED
        && let Ok(location) = HeaderValue::from_str(&format!("{collection}/{id}"))
    {
        response
            .headers_mut()
            .insert(axum::http::header::LOCATION, location);
    }
    response
}

/// The `ETag` of a record version.
pub fn etag(version: u64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{version}\"")).expect("digits and quotes are valid")
}

#[cfg(test)]
mod tests {
    use axum::http::{HeaderMap, HeaderValue, header};

    use crate::versioned::Precondition;

    fn with(value: &str) -> Precondition {
        let mut h = HeaderMap::new();
        h.insert(header::IF_MATCH, HeaderValue::from_str(value).unwrap());
        Precondition::from_headers(&h)
    }

    #[test]
    fn if_match_forms() {
        assert_eq!(
            Precondition::from_headers(&HeaderMap::new()),
            Precondition::Any
        );
        assert_eq!(with("*"), Precondition::Any);
        assert_eq!(with("\"3\""), Precondition::OneOf(vec![3]));
        assert_eq!(with("W/\"3\", \"4\""), Precondition::OneOf(vec![4]));
        assert!(with("W/\"3\"").check(3).is_err());
        assert!(with("garbage").check(1).is_err());
        assert!(with("\"2\"").check(3).is_err());
        assert!(with("\"3\"").check(3).is_ok());
    }
}

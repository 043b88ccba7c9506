//! How records look on the wire, for serde: JSON documents read into records with each
//! failure naming its field (a 422) or saying the text is not JSON (a 400), merge-patch
//! fields that tell `null` from absent, and structs that deserialize from objects only.

use serde::de::DeserializeOwned;

use crate::error::Error;
use crate::validation::FieldError;

/// Tells a field sent as `null` (`Some(None)`) from one not sent (`None`, by default),
/// for JSON merge patches: `#[serde(default, deserialize_with = "present")]`.
pub fn present<'de, D: serde::Deserializer<'de>, T: serde::Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    <Option<T> as serde::Deserialize>::deserialize(d).map(Some)
}

/// Implements `Serialize` and an object-only `Deserialize` (see [`from_object`]) for
/// types declared with `#[serde(remote = "Self")]`: nested records are objects on the
/// wire, never arrays of their fields.
#[macro_export]
macro_rules! object_only {
    ($($ty:ident),*) => {$(
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                $ty::serialize(self, s)
            }
        }
        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                $crate::wire::from_object(d, $ty::deserialize)
            }
        }
    )*};
}

/// Deserializes a struct from a JSON object only: serde's derive would also accept an
/// array of field values. Types opt in with `#[serde(remote = "Self")]` and a
/// `Deserialize` impl that calls this with their generated inherent `deserialize`.
pub fn from_object<'de, D, T>(
    deserializer: D,
    deserialize: impl FnOnce(serde_json::Value) -> Result<T, serde_json::Error>,
) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
{
    use serde::Deserialize;
    let map = serde_json::Map::<String, serde_json::Value>::deserialize(deserializer)?;
    deserialize(serde_json::Value::Object(map)).map_err(serde::de::Error::custom)
}

/// Parses JSON text into `T`, classifying failures as 400 (not JSON) or 422 (wrong shape).
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    // Every body is an object. serde would also build a struct from an array of its field
    // values, which the API does not offer.
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first != Some(&b'{') {
        return match serde_json::from_slice::<serde::de::IgnoredAny>(bytes) {
            Ok(_) => Err(Error::validation("body", "must be a JSON object")),
            Err(e) => Err(Error::BadRequest(format!(
                "The body is not valid JSON: {e}."
            ))),
        };
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(shape_error)
}

/// Builds `T` from a JSON object already parsed (a body with some members taken out),
/// with the errors of [`parse_json`].
pub fn parse_object<T: DeserializeOwned>(
    object: serde_json::Map<String, serde_json::Value>,
) -> Result<T, Error> {
    serde_path_to_error::deserialize(serde_json::Value::Object(object)).map_err(shape_error)
}

/// A deserialisation failure as 422 naming the field (wrong shape) or 400 (not JSON).
fn shape_error(err: serde_path_to_error::Error<serde_json::Error>) -> Error {
    let path = err.path().to_string();
    let inner = err.into_inner();
    match inner.classify() {
        serde_json::error::Category::Data => {
            Error::Validation(vec![field_error(&path, &inner.to_string())])
        }
        _ => Error::BadRequest(format!("The body is not valid JSON: {inner}.")),
    }
}

/// Turns serde's message into a field error that names the field itself.
fn field_error(path: &str, message: &str) -> FieldError {
    // serde's text ends with " at line L column C", which means nothing to an API client.
    let message = message
        .rsplit_once(" at line ")
        .map_or(message, |(m, _)| m)
        .to_owned();
    let parent = if path == "." { "" } else { path };
    let named = |label: &str| {
        message
            .strip_prefix(label)
            .and_then(|rest| rest.split('`').next())
            .map(str::to_owned)
    };
    let join = |name: String| {
        if parent.is_empty() {
            name
        } else {
            format!("{parent}.{name}")
        }
    };
    if let Some(name) = named("missing field `") {
        return FieldError {
            field: join(name),
            message: "is required".into(),
        };
    }
    if let Some(name) = named("unknown field `") {
        // serde_path_to_error already put the unknown key at the end of the path.
        let field = if parent.ends_with(&name) {
            parent.to_owned()
        } else {
            join(name)
        };
        return FieldError {
            field,
            message: "is not a known field".into(),
        };
    }
    FieldError {
        field: if parent.is_empty() {
            "body".into()
        } else {
            parent.to_owned()
        },
        message,
    }
}

//! `openapi.yaml` describes exactly the routes served: every served route is described and
//! every described route is served.

use std::collections::BTreeSet;

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

fn spec() -> serde_norway::Value {
    let path = crate::support::repo_root().join("openapi.yaml");
    let text = std::fs::read_to_string(path).expect("openapi.yaml at the repository root");
    serde_norway::from_str(&text).expect("openapi.yaml is valid YAML")
}

/// `(METHOD, /path/{param})` of every operation in the spec.
fn described() -> BTreeSet<(String, String)> {
    let spec = spec();
    let paths = spec["paths"].as_mapping().expect("paths");
    let mut out = BTreeSet::new();
    for (path, item) in paths {
        let path = path.as_str().unwrap();
        for method in METHODS {
            if item.get(method).is_some() {
                out.insert((method.to_uppercase(), path.to_owned()));
            }
        }
    }
    out
}

/// `(METHOD, /path/{param})` of every route the local server serves (on the embedded
/// twins, whose file links it serves itself).
async fn served() -> BTreeSet<(String, String)> {
    let dir = tempfile::tempdir().unwrap();
    let state = shared::wiring::from_config(crate::support::test_config(dir.path(), &[]))
        .await
        .unwrap();
    crm::routes(&state)
        .table()
        .iter()
        // axum's catch-all `{*key}` is an ordinary `{key}` parameter in OpenAPI.
        .map(|(m, p)| (m.to_string(), p.replace("{*", "{")))
        .collect()
}

#[tokio::test]
async fn every_served_route_is_described_and_every_described_route_served() {
    let described = described();
    let served = served().await;
    let undocumented: Vec<_> = served.difference(&described).collect();
    let phantom: Vec<_> = described.difference(&served).collect();
    assert!(
        undocumented.is_empty(),
        "served but missing from openapi.yaml: {undocumented:?}"
    );
    assert!(
        phantom.is_empty(),
        "described in openapi.yaml but not served: {phantom:?}"
    );
}

#[test]
fn every_operation_has_an_id_a_summary_and_documented_errors() {
    let spec = spec();
    assert_eq!(spec["openapi"].as_str(), Some("3.1.0"));
    let mut ids = BTreeSet::new();
    for (path, item) in spec["paths"].as_mapping().unwrap() {
        for method in METHODS {
            let Some(op) = item.get(method) else { continue };
            let name = format!("{method} {}", path.as_str().unwrap());
            let id = op["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{name}: operationId"));
            assert!(
                ids.insert(id.to_owned()),
                "{name}: duplicate operationId {id}"
            );
            assert!(op["summary"].as_str().is_some(), "{name}: summary");
            let responses = op["responses"].as_mapping().unwrap();
            assert!(
                responses
                    .keys()
                    .any(|k| k.as_str().is_some_and(|s| s.starts_with('2'))),
                "{name}: a success response"
            );
            assert!(
                responses
                    .keys()
                    .any(|k| k.as_str().is_some_and(|s| s.starts_with('4'))),
                "{name}: its client errors"
            );
        }
    }
}

#[test]
fn the_event_types_described_are_those_the_product_sends() {
    let spec = spec();
    let described: Vec<&str> = spec["components"]["schemas"]["EventType"]["enum"]
        .as_sequence()
        .expect("EventType lists the types")
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert_eq!(described, shared::events::TYPES);
}

//! `template.yaml` deploys exactly what the code serves: every Lambda function's HTTP API
//! events are the routes of the function crate it builds, no more and no fewer.

use std::collections::BTreeSet;

use shared::http::Routes;

fn template() -> serde_norway::Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../template.yaml");
    let text = std::fs::read_to_string(path).expect("template.yaml at the repository root");
    serde_norway::from_str(&text).expect("template.yaml is valid YAML")
}

fn table(routes: Routes) -> BTreeSet<(String, String)> {
    routes
        .table()
        .iter()
        .map(|(m, p)| (m.to_string(), (*p).to_owned()))
        .collect()
}

/// Every function crate, by the binary name `template.yaml` builds.
fn crates() -> Vec<(&'static str, Routes)> {
    vec![
        ("crm-auth", crm_auth::routes()),
        ("crm-admin", crm_admin::routes()),
        ("crm-contacts", crm_contacts::routes()),
        ("crm-sales", crm_sales::routes()),
        ("crm-service", crm_service::routes()),
        ("crm-audit", crm_audit::routes()),
        // Scheduled, not behind the API.
        ("crm-jobs", Routes::new()),
        ("crm-reminders", Routes::new()),
        // Woken by the table's stream and a schedule.
        ("crm-dispatcher", Routes::new()),
    ]
}

#[test]
fn each_function_deploys_exactly_its_crates_routes() {
    let template = template();
    let resources = template["Resources"].as_mapping().expect("Resources");
    let mut deployed = Vec::new();
    for (name, resource) in resources {
        if resource["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        let binary = resource["Metadata"]["BuildProperties"]["Binary"]
            .as_str()
            .unwrap_or_else(|| panic!("{name:?} names no binary"))
            .to_owned();
        let events: BTreeSet<(String, String)> = resource["Properties"]["Events"]
            .as_mapping()
            .map(|events| {
                events
                    .values()
                    .filter(|e| e["Type"].as_str() == Some("HttpApi"))
                    .map(|e| {
                        (
                            e["Properties"]["Method"].as_str().unwrap().to_owned(),
                            e["Properties"]["Path"].as_str().unwrap().to_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        deployed.push((binary, events));
    }
    for (binary, routes) in crates() {
        let served = table(routes);
        let (_, events) = deployed
            .iter()
            .find(|(b, _)| b == binary)
            .unwrap_or_else(|| panic!("template.yaml deploys no function for {binary}"));
        assert_eq!(
            events, &served,
            "{binary}: template.yaml events differ from the crate's routes"
        );
    }
    let known: Vec<&str> = crates().iter().map(|(b, _)| *b).collect();
    for (binary, _) in &deployed {
        assert!(
            known.contains(&binary.as_str()),
            "template.yaml deploys {binary}, which this test does not know"
        );
    }
}

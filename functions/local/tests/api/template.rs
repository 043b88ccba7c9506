//! `template.yaml` deploys exactly what the code serves: every Lambda function's HTTP API
//! events are the routes of the function crate it builds, no more and no fewer; and
//! CloudFront serves the console with the local server's security policy, routing `/v1/*`
//! to the API with the viewer's host passed on for the Origin check.

use std::collections::BTreeSet;

use shared::http::Routes;

fn template() -> serde_norway::Value {
    let path = crate::support::repo_root().join("template.yaml");
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
        ("crm-objects", crm_objects::routes()),
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

/// The resources of `kind`, by name.
fn resources_of(template: &serde_norway::Value, kind: &str) -> Vec<(String, serde_norway::Value)> {
    template["Resources"]
        .as_mapping()
        .unwrap()
        .iter()
        .filter(|(_, r)| r["Type"].as_str() == Some(kind))
        .map(|(name, r)| (name.as_str().unwrap().to_owned(), r.clone()))
        .collect()
}

#[test]
fn cloudfront_sends_the_consoles_security_policy() {
    let template = template();
    let policies = resources_of(&template, "AWS::CloudFront::ResponseHeadersPolicy");
    assert!(!policies.is_empty(), "no response headers policy");
    for (name, policy) in policies {
        let security =
            &policy["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"];
        assert_eq!(
            security["ContentSecurityPolicy"]["ContentSecurityPolicy"].as_str(),
            Some(shared::http::browser::CONSOLE_CSP),
            "{name}: the CSP differs from the local server's"
        );
        assert_eq!(
            security["FrameOptions"]["FrameOption"].as_str(),
            Some("DENY")
        );
        assert!(
            security["ContentTypeOptions"]["Override"]
                .as_bool()
                .unwrap()
        );
        assert!(security["ReferrerPolicy"]["ReferrerPolicy"].is_string());
        assert!(security["StrictTransportSecurity"]["AccessControlMaxAgeSec"].is_u64());
    }
}

#[test]
fn cloudfront_routes_the_api_with_the_viewers_host_and_functions_never_name_it() {
    let template = template();
    let (_, distribution) = resources_of(&template, "AWS::CloudFront::Distribution")
        .pop()
        .expect("a distribution");
    let config = &distribution["Properties"]["DistributionConfig"];
    let api = config["CacheBehaviors"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|b| b["PathPattern"].as_str() == Some("/v1/*"))
        .expect("a /v1/* behaviour");
    assert_eq!(api["TargetOriginId"].as_str(), Some("api"));
    let methods = api["AllowedMethods"].as_sequence().unwrap();
    assert_eq!(methods.len(), 7, "every method reaches the API");
    // `!GetAtt <Function>.FunctionMetadata.FunctionARN`: find the function it names.
    let associations = serde_norway::to_string(&api["FunctionAssociations"]).unwrap();
    let (_, function) = resources_of(&template, "AWS::CloudFront::Function")
        .into_iter()
        .find(|(name, _)| associations.contains(&format!("{name}.FunctionMetadata")))
        .expect("a viewer-request function on /v1/*");
    let code = function["Properties"]["FunctionCode"].as_str().unwrap();
    assert!(
        code.contains("x-forwarded-host") && code.contains("headers.host"),
        "{code}"
    );
    // The distribution names the API; a function naming the distribution would be a cycle.
    for (name, function) in resources_of(&template, "AWS::Serverless::Function") {
        let text = serde_norway::to_string(&function).unwrap();
        assert!(
            !text.contains("ConsoleDistribution"),
            "{name} names the distribution"
        );
    }
}

//! Teams: membership, and the `team` record scope it gives managers.

use crate::support::TestApp;
use serde_json::{Value, json};

fn names(page: &Value) -> Vec<String> {
    let mut names: Vec<String> = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn managers_reach_their_teams_records_and_no_others() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let manager = app.add_user(&acme.access_token, &["manager"]).await;
    let ann = app.add_user(&acme.access_token, &["sales"]).await;
    let ben = app.add_user(&acme.access_token, &["sales"]).await;
    let team = app
        .post(
            "/v1/teams",
            Some(&acme.access_token),
            json!({"name": "North", "member_ids": [manager.user_id, ann.user_id]}),
        )
        .await;
    let team_id = team.ok(201)["id"].as_str().unwrap().to_owned();
    app.create_contact(&ann.access_token, json!({"name": "Ann's client"}))
        .await;
    let bens = app
        .create_contact(&ben.access_token, json!({"name": "Ben's client"}))
        .await;
    app.create_contact(&manager.access_token, json!({"name": "Manager's client"}))
        .await;

    let seen = app.get("/v1/contacts", &manager.access_token).await;
    assert_eq!(names(seen.ok(200)), ["Ann's client", "Manager's client"]);
    let bens_path = format!("/v1/contacts/{}", bens["id"].as_str().unwrap());
    app.get(&bens_path, &manager.access_token)
        .await
        .problem(404, "not-found");
    // Sales still see only their own.
    let anns_view = app.get("/v1/contacts", &ann.access_token).await;
    assert_eq!(names(anns_view.ok(200)), ["Ann's client"]);

    // Ben joins the team: his records come into reach on the next request.
    app.put(
        &format!("/v1/teams/{team_id}/members/{}", ben.user_id),
        &acme.access_token,
    )
    .await
    .ok(200);
    app.get(&bens_path, &manager.access_token).await.ok(200);
    app.patch(&bens_path, &manager.access_token, json!({"title": "Buyer"}))
        .await
        .ok(200);
    // And leaves again.
    app.delete(
        &format!("/v1/teams/{team_id}/members/{}", ben.user_id),
        &acme.access_token,
    )
    .await
    .ok(200);
    app.get(&bens_path, &manager.access_token)
        .await
        .problem(404, "not-found");
}

#[tokio::test]
async fn teams_are_created_renamed_and_deleted_and_users_may_be_in_several() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let ann = app.add_user(&acme.access_token, &["sales"]).await;
    let mut ids = Vec::new();
    for name in ["North", "Key accounts"] {
        let team = app
            .post(
                "/v1/teams",
                Some(&acme.access_token),
                json!({"name": name, "member_ids": [ann.user_id]}),
            )
            .await;
        ids.push(team.ok(201)["id"].as_str().unwrap().to_owned());
    }
    let listed = app.get("/v1/teams", &acme.access_token).await;
    assert_eq!(names(listed.ok(200)), ["Key accounts", "North"]);

    let path = format!("/v1/teams/{}", ids[0]);
    let etag = app.get(&path, &acme.access_token).await.etag();
    let renamed = app
        .call_with(
            reqwest::Method::PATCH,
            &path,
            Some(&acme.access_token),
            Some(json!({"name": "North & East"})),
            &[("if-match", &etag)],
        )
        .await;
    assert_eq!(renamed.ok(200)["name"], "North & East");
    app.call_with(
        reqwest::Method::PATCH,
        &path,
        Some(&acme.access_token),
        Some(json!({"name": "Late"})),
        &[("if-match", &etag)],
    )
    .await
    .problem(412, "version-mismatch");
    // Adding a member twice is a no-op.
    let member = format!("{path}/members/{}", ann.user_id);
    let once = app.put(&member, &acme.access_token).await;
    assert_eq!(once.ok(200)["member_ids"], json!([ann.user_id]));

    app.delete(&path, &acme.access_token).await.ok(204);
    app.get(&path, &acme.access_token)
        .await
        .problem(404, "not-found");
    // Sales may not manage teams.
    app.post(
        "/v1/teams",
        Some(&ann.access_token),
        json!({"name": "Mine"}),
    )
    .await
    .problem(403, "forbidden");
}

#[tokio::test]
async fn only_users_of_the_same_company_can_join_a_team() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let globex = app.sign_up("Globex").await;
    let bad = app
        .post(
            "/v1/teams",
            Some(&acme.access_token),
            json!({"name": "Mixed", "member_ids": [globex.user_id, "usr_nope"]}),
        )
        .await;
    assert_eq!(bad.invalid_fields(), ["member_ids[0]", "member_ids[1]"]);
    let team = app
        .post("/v1/teams", Some(&acme.access_token), json!({"name": "A"}))
        .await;
    let id = team.ok(201)["id"].as_str().unwrap().to_owned();
    app.put(
        &format!("/v1/teams/{id}/members/{}", globex.user_id),
        &acme.access_token,
    )
    .await
    .problem(404, "not-found");
    // Another company's team is not found either.
    app.get(&format!("/v1/teams/{id}"), &globex.access_token)
        .await
        .problem(404, "not-found");
}

/// A role that may make and change teams and works on contacts with `team` scope.
async fn team_builder(app: &TestApp, admin: &str) -> crate::support::Member {
    let role = app
        .create_role(
            admin,
            "Team builder",
            json!({
                "teams": {"actions": ["read", "create", "update", "delete"], "scope": "all"},
                "contacts": {"actions": ["read", "create"], "scope": "team"},
            }),
        )
        .await;
    app.add_user(admin, &[&role]).await
}

#[tokio::test]
async fn a_user_cannot_widen_their_own_team_scope_by_making_or_joining_teams() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let builder = team_builder(&app, &acme.access_token).await;
    let secret = app
        .create_contact(&acme.access_token, json!({"name": "The admin's client"}))
        .await;
    let secret_path = format!("/v1/contacts/{}", secret["id"].as_str().unwrap());
    let me = &builder.access_token;

    // A team holding themselves and the admin would let them read the admin's contacts.
    app.post(
        "/v1/teams",
        Some(me),
        json!({"name": "Backdoor", "member_ids": [builder.user_id, acme.user_id]}),
    )
    .await
    .problem(403, "forbidden");
    // Nor may they join an admin's team, or add the admin to a team of theirs.
    let admins_team = app
        .post(
            "/v1/teams",
            Some(&acme.access_token),
            json!({"name": "Board", "member_ids": [acme.user_id]}),
        )
        .await
        .ok(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.put(
        &format!("/v1/teams/{admins_team}/members/{}", builder.user_id),
        me,
    )
    .await
    .problem(403, "forbidden");
    let own_team = app
        .post("/v1/teams", Some(me), json!({"name": "Empty"}))
        .await
        .ok(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.put(
        &format!("/v1/teams/{own_team}/members/{}", acme.user_id),
        me,
    )
    .await
    .problem(403, "forbidden");
    // Even a team of themselves and a peer they cover would widen `team` scope, which
    // they do not hold with `all`.
    let peer = app.add_user(&acme.access_token, &["read_only"]).await;
    let peer_role = json!({"teams": {"actions": ["read"], "scope": "all"},
                           "contacts": {"actions": ["read"], "scope": "team"}});
    let narrow = app
        .create_role(&acme.access_token, "Team reader", peer_role)
        .await;
    app.patch(
        &format!("/v1/users/{}", peer.user_id),
        &acme.access_token,
        json!({"role_ids": [narrow]}),
    )
    .await
    .ok(200);
    app.post(
        "/v1/teams",
        Some(me),
        json!({"name": "Pair", "member_ids": [builder.user_id, peer.user_id]}),
    )
    .await
    .problem(403, "forbidden");
    app.get(&secret_path, me).await.problem(404, "not-found");

    // The admin, who reaches every record, may make any team; the lead, too, is named
    // only by someone who covers them.
    let team = app
        .post(
            "/v1/teams",
            Some(&acme.access_token),
            json!({"name": "North", "member_ids": [builder.user_id, peer.user_id]}),
        )
        .await
        .ok(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.patch(
        &format!("/v1/teams/{admins_team}"),
        me,
        json!({"lead_id": acme.user_id}),
    )
    .await
    .problem(403, "forbidden");
    app.delete(&format!("/v1/teams/{admins_team}"), me)
        .await
        .problem(403, "forbidden");
    app.patch(
        &format!("/v1/teams/{team}"),
        &acme.access_token,
        json!({"lead_id": peer.user_id}),
    )
    .await
    .ok(200);
    let log = app
        .get("/v1/audit?resource=teams", &acme.access_token)
        .await;
    let actions: Vec<&str> = log.ok(200)["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(!actions.contains(&"team.member_added"), "{actions:?}");
}

//! Tickets: numbering, assignment by rule in turn, the recorded history, comments and
//! the first response, service level targets that breach once and tell the assignee
//! and the team lead, the public web form (contacts deduplicated, spam and floods
//! refused), what support staff see, tasks on tickets and merges that move them.

use std::time::Duration;

use crate::support::{Member, TestApp, unique_email};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

fn data(page: &Value) -> Vec<Value> {
    page["data"].as_array().unwrap().clone()
}

/// A team of two support agents (the first its lead) that takes billing tickets.
async fn billing_team(app: &TestApp, admin: &str) -> (String, Member, Member) {
    let first = app.add_user(admin, &["support"]).await;
    let second = app.add_user(admin, &["support"]).await;
    let team = app
        .post(
            "/v1/teams",
            Some(admin),
            json!({"name": "Billing", "member_ids": [first.user_id, second.user_id],
                   "lead_id": first.user_id}),
        )
        .await;
    let team = id(team.ok(201));
    let rules = app
        .patch(
            "/v1/settings/service",
            admin,
            json!({"assignment_rules": [{"category": "billing", "team_id": team}]}),
        )
        .await;
    assert_eq!(rules.ok(200)["assignment_rules"][0]["team_id"], team);
    (team, first, second)
}

#[tokio::test]
async fn tickets_are_numbered_assigned_in_turn_and_every_change_recorded() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let admin = &acme.access_token;
    let (team, first, second) = billing_team(&app, admin).await;

    let mut made = Vec::new();
    for n in 0..3 {
        let ticket = app
            .post(
                "/v1/tickets",
                Some(admin),
                json!({"subject": format!("Invoice {n} wrong"), "category": "Billing",
                       "priority": "high", "tags": ["invoice"]}),
            )
            .await;
        made.push(ticket.ok(201).clone());
    }
    let numbers: Vec<_> = made.iter().map(|t| t["number"].clone()).collect();
    assert_eq!(numbers, ["TK-000001", "TK-000002", "TK-000003"]);
    let assignees: Vec<_> = made.iter().map(|t| t["assignee_id"].clone()).collect();
    assert_eq!(
        assignees,
        [
            json!(first.user_id),
            json!(second.user_id),
            json!(first.user_id)
        ],
        "the team's members take billing tickets in turn"
    );
    assert!(made.iter().all(|t| t["team_id"] == team.as_str()));
    assert_eq!(made[0]["status"], "new");
    assert_eq!(made[0]["channel"], "phone");
    // An unmatched ticket stays unassigned.
    let other = app
        .post("/v1/tickets", Some(admin), json!({"subject": "Hello"}))
        .await;
    assert!(other.ok(201)["assignee_id"].is_null());
    assert!(other.ok(201)["team_id"].is_null());

    // The assignee hears of it.
    let told = app.get("/v1/notifications", &second.access_token).await;
    let told = data(told.ok(200));
    assert_eq!(told.len(), 1);
    assert_eq!(told[0]["kind"], "ticket_assigned");
    assert_eq!(told[0]["record_id"], made[1]["id"]);

    // Status and assignee changes, each recorded.
    let path = format!("/v1/tickets/{}", id(&made[0]));
    for (body, status) in [
        (json!({"status": "open"}), "open"),
        (
            json!({"status": "pending", "assignee_id": second.user_id}),
            "pending",
        ),
        (json!({"status": "resolved", "priority": "low"}), "resolved"),
    ] {
        let changed = app.patch(&path, admin, body).await;
        assert_eq!(changed.ok(200)["status"], status);
    }
    let resolved = app.get(&path, admin).await;
    assert!(resolved.ok(200)["resolved_at"].is_string());
    let history = app.get(&format!("{path}/history"), admin).await;
    let changes: Vec<(String, Value, Value)> = data(history.ok(200))
        .iter()
        .map(|c| {
            (
                c["field"].as_str().unwrap().to_owned(),
                c["from"].clone(),
                c["to"].clone(),
            )
        })
        .collect();
    let statuses: Vec<_> = changes
        .iter()
        .filter(|c| c.0 == "status")
        .map(|c| c.2.clone())
        .collect();
    assert_eq!(statuses, ["new", "open", "pending", "resolved"]);
    assert!(changes.contains(&(
        "assignee_id".into(),
        json!(first.user_id),
        json!(second.user_id)
    )));
    assert!(changes.contains(&("priority".into(), json!("high"), json!("low"))));
    assert!(changes.contains(&("team_id".into(), Value::Null, json!(team))));
    let by = &data(history.ok(200))[1]["by"];
    assert_eq!(by["type"], "user");
    assert_eq!(by["id"], acme.user_id.as_str());

    // Reopening clears the resolution; a closed ticket is done; new is only a start.
    let reopened = app.patch(&path, admin, json!({"status": "open"})).await;
    assert!(reopened.ok(200)["resolved_at"].is_null());
    let back = app.patch(&path, admin, json!({"status": "new"})).await;
    assert_eq!(back.invalid_fields(), ["status"]);
    let closed = app.patch(&path, admin, json!({"status": "closed"})).await;
    assert!(closed.ok(200)["closed_at"].is_string());
    let again = app.patch(&path, admin, json!({"status": "open"})).await;
    assert_eq!(again.invalid_fields(), ["status"]);

    // Lists: by status, by team, by assignee, by tag.
    let list = |query: &str| {
        let app = &app;
        let query = query.to_owned();
        async move {
            let page = app.get(&format!("/v1/tickets?{query}"), admin).await;
            data(page.ok(200)).iter().map(id).collect::<Vec<_>>()
        }
    };
    assert_eq!(list("status=closed").await, [id(&made[0])]);
    assert_eq!(list(&format!("team_id={team}")).await.len(), 3);
    assert_eq!(
        list(&format!("assignee_id={}", first.user_id)).await,
        [id(&made[2])]
    );
    assert_eq!(list("tag=INVOICE").await.len(), 3);
    assert_eq!(list("category=billing&status=new").await.len(), 2);
}

#[tokio::test]
async fn bad_tickets_and_changes_name_their_fields() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let admin = &acme.access_token;
    let bad = app
        .post(
            "/v1/tickets",
            Some(admin),
            json!({"subject": " ", "region": "China", "tags": ["a", "A"],
                   "assignee_id": "usr_nobody", "team_id": "tea_00000000000000000000000000",
                   "contact_id": "con_00000000000000000000000000", "status": "closed"}),
        )
        .await;
    let mut fields = bad.invalid_fields();
    fields.sort();
    assert_eq!(
        fields,
        [
            "assignee_id",
            "contact_id",
            "region",
            "status",
            "subject",
            "tags[1]",
            "team_id"
        ]
    );
    let unknown = app
        .post(
            "/v1/tickets",
            Some(admin),
            json!({"subject": "x", "priority": "whenever"}),
        )
        .await;
    assert_eq!(unknown.status, 422, "{:?}", unknown.body);

    let settings = app
        .patch(
            "/v1/settings/service",
            admin,
            json!({"assignment_rules": [{"team_id": "tea_00000000000000000000000000"}],
                   "sla_policies": {"urgent": {"first_response_minutes": 0}},
                   "business_hours": {"utc_offset": "8", "days": [0], "start": "18:00", "end": "09:00"},
                   "survey": {"kind": "csat", "questions": [{"id": "Bad Id", "text": ""}]},
                   "web_form_slug": "-no-"}),
        )
        .await;
    let mut fields = settings.invalid_fields();
    fields.sort();
    assert_eq!(
        fields,
        [
            "assignment_rules[0].team_id",
            "business_hours.days",
            "business_hours.utc_offset",
            "sla_policies.urgent.first_response_minutes",
            "survey.questions[0].id",
            "survey.questions[0].text",
            "web_form_slug"
        ]
    );
    for member in [
        "assignment_rules",
        "sla_policies",
        "survey_after_resolve",
        "survey",
    ] {
        let null = app
            .patch("/v1/settings/service", admin, json!({ member: null }))
            .await;
        assert_eq!(null.status, 422, "{member}: null is refused");
    }
    let reserved = app
        .patch(
            "/v1/settings/service",
            admin,
            json!({"web_form_slug": "surveys"}),
        )
        .await;
    assert_eq!(reserved.invalid_fields(), ["web_form_slug"]);
}

#[tokio::test]
async fn the_first_public_reply_is_the_first_response_and_reaches_the_customer() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let admin = &acme.access_token;
    let email = unique_email("ada");
    let contact = app
        .create_contact(
            admin,
            json!({"name": "Ada", "emails": [{"address": email}]}),
        )
        .await;
    let ticket = app
        .post(
            "/v1/tickets",
            Some(admin),
            json!({"subject": "Broken", "contact_id": contact["id"]}),
        )
        .await;
    let path = format!("/v1/tickets/{}", id(ticket.ok(201)));

    let note = app
        .post(
            &format!("{path}/comments"),
            Some(admin),
            json!({"body": "Customer sounds upset"}),
        )
        .await;
    assert_eq!(note.ok(201)["public"], false);
    let after_note = app.get(&path, admin).await;
    assert!(after_note.ok(200)["first_responded_at"].is_null());
    assert!(app.mail_to(&email).await.is_empty(), "notes stay inside");

    let reply = app
        .post(
            &format!("{path}/comments"),
            Some(admin),
            json!({"body": "We are on it.", "public": true}),
        )
        .await;
    assert_eq!(reply.ok(201)["public"], true);
    let answered = app.get(&path, admin).await;
    let answered = answered.ok(200);
    assert_eq!(answered["first_responded_at"], reply.ok(201)["created_at"]);
    assert_eq!(answered["status"], "open", "a reply opens a new ticket");
    let history = app.get(&format!("{path}/history"), admin).await;
    let statuses: Vec<_> = data(history.ok(200))
        .into_iter()
        .filter(|c| c["field"] == "status")
        .map(|c| c["to"].clone())
        .collect();
    assert_eq!(
        statuses,
        ["new", "open"],
        "the reply's status change is recorded"
    );
    let mail = app.mail_to(&email).await;
    assert_eq!(mail.len(), 1);
    assert!(mail[0].subject.starts_with("[TK-000001]"));
    assert!(mail[0].text.contains("We are on it."));

    let second = app
        .post(
            &format!("{path}/comments"),
            Some(admin),
            json!({"body": "Fixed now.", "public": true}),
        )
        .await;
    second.ok(201);
    let still = app.get(&path, admin).await;
    assert_eq!(
        still.ok(200)["first_responded_at"],
        answered["first_responded_at"]
    );
    let comments = app.get(&format!("{path}/comments"), admin).await;
    let bodies: Vec<_> = data(comments.ok(200))
        .iter()
        .map(|c| c["body"].clone())
        .collect();
    assert_eq!(
        bodies,
        ["Customer sounds upset", "We are on it.", "Fixed now."]
    );
    let empty = app
        .post(
            &format!("{path}/comments"),
            Some(admin),
            json!({"body": ""}),
        )
        .await;
    assert_eq!(empty.invalid_fields(), ["body"]);
}

/// The real clock moved `minutes` ahead: the worker as it would run then.
struct Later(i64);

impl shared::clock::Clock for Later {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc() + time::Duration::minutes(self.0)
    }
}

#[tokio::test]
async fn missed_targets_are_flagged_once_and_told_to_the_assignee_and_team_lead() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let admin = &acme.access_token;
    let (_team, lead, agent) = billing_team(&app, admin).await;
    let set = app
        .patch(
            "/v1/settings/service",
            admin,
            json!({"sla_policies": {"urgent": {"first_response_minutes": 30,
                                               "resolution_minutes": 240}}}),
        )
        .await;
    set.ok(200);
    // The lead takes the first billing ticket, the agent the second.
    let mut made = Vec::new();
    for subject in ["Charged twice", "Refund"] {
        let t = app
            .post(
                "/v1/tickets",
                Some(admin),
                json!({"subject": subject, "category": "billing", "priority": "urgent"}),
            )
            .await;
        made.push(t.ok(201).clone());
    }
    let ticket = &made[1];
    assert_eq!(ticket["assignee_id"], agent.user_id.as_str());
    let created = OffsetDateTime::parse(ticket["created_at"].as_str().unwrap(), &Rfc3339).unwrap();
    let due =
        OffsetDateTime::parse(ticket["first_response_due_at"].as_str().unwrap(), &Rfc3339).unwrap();
    assert_eq!(due - created, time::Duration::minutes(30));
    // The first ticket is answered in time.
    app.post(
        &format!("/v1/tickets/{}/comments", id(&made[0])),
        Some(&lead.access_token),
        json!({"body": "Looking into it", "public": true}),
    )
    .await
    .ok(201);

    let run = |minutes: i64| {
        let mut state = app.state.clone();
        state.clock = std::sync::Arc::new(Later(minutes));
        async move {
            shared::tickets::sla::run_due(&state, Duration::from_secs(10))
                .await
                .unwrap()
        }
    };
    assert_eq!(run(10).await, 0, "nothing due yet");
    // Five workers at once, an hour later: the one missed first response, once.
    let racing: Vec<_> = (0..5).map(|_| tokio::spawn(run(60))).collect();
    let mut fired = 0;
    for r in racing {
        fired += r.await.unwrap();
    }
    assert_eq!(fired, 1);
    assert_eq!(run(60).await, 0);
    let flagged = app.get(&format!("/v1/tickets/{}", id(ticket)), admin).await;
    assert_eq!(flagged.ok(200)["first_response_breached"], true);
    assert_eq!(flagged.ok(200)["resolution_breached"], false);
    let breached = app.get("/v1/tickets?breached=true", admin).await;
    assert_eq!(
        data(breached.ok(200)).iter().map(id).collect::<Vec<_>>(),
        [id(ticket)]
    );

    for member in [&agent, &lead] {
        let told = app.get("/v1/notifications", &member.access_token).await;
        let breaches: Vec<_> = data(told.ok(200))
            .into_iter()
            .filter(|n| n["kind"] == "sla_breached")
            .collect();
        assert_eq!(breaches.len(), 1, "one notice each");
        assert_eq!(breaches[0]["record_id"], ticket["id"]);
    }

    // Five hours on: both tickets missed their resolution.
    assert_eq!(run(300).await, 2);
    // A resolved ticket's clock stops; one resolved late is flagged by its resolution.
    let late = app
        .post(
            "/v1/tickets",
            Some(admin),
            json!({"subject": "Late", "priority": "urgent"}),
        )
        .await;
    let late = id(late.ok(201));
    let resolved = app
        .patch(
            &format!("/v1/tickets/{late}"),
            admin,
            json!({"status": "resolved"}),
        )
        .await;
    assert_eq!(resolved.ok(200)["resolution_breached"], false);
    assert_eq!(run(600).await, 0, "resolved tickets are not checked");
    // A new priority retimes only the targets still running.
    let due = resolved.ok(200)["resolution_due_at"].clone();
    let lowered = app
        .patch(
            &format!("/v1/tickets/{late}"),
            admin,
            json!({"priority": "low"}),
        )
        .await;
    assert_eq!(lowered.ok(200)["resolution_due_at"], due);
    let retimed = app
        .patch(
            &format!("/v1/tickets/{}", id(ticket)),
            admin,
            json!({"priority": "low"}),
        )
        .await;
    let retimed = retimed.ok(200);
    assert!(retimed["resolution_due_at"].is_null(), "low has no targets");
    assert_eq!(retimed["resolution_breached"], false);
    assert_eq!(retimed["first_response_breached"], false);
}

#[tokio::test]
async fn the_web_form_opens_tickets_for_deduplicated_contacts_and_refuses_abuse() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let admin = &acme.access_token;
    let form = "/v1/public/acme-support/tickets";
    let sender = unique_email("visitor");
    let body = |subject: &str| {
        json!({"name": "Vera", "email": sender.to_uppercase(), "subject": subject,
               "description": "My order never arrived.", "category": "shipping"})
    };
    let off = app.post(form, None, body("Where is it?")).await;
    off.problem(404, "not-found");

    let on = app
        .patch(
            "/v1/settings/service",
            admin,
            json!({"web_form_slug": "acme-support"}),
        )
        .await;
    assert_eq!(on.ok(200)["web_form_slug"], "acme-support");
    // Another company cannot take the address.
    let globex = app.sign_up("Globex").await;
    let taken = app
        .patch(
            "/v1/settings/service",
            &globex.access_token,
            json!({"web_form_slug": "acme-support"}),
        )
        .await;
    taken.problem(409, "web-form-slug-taken");

    // Fields the company requires of its staff do not bind the public.
    for object in ["contacts", "tickets"] {
        app.post(
            "/v1/settings/fields",
            Some(admin),
            json!({"object": object, "key": "account_no", "label": "Account", "type": "text",
                   "required": true}),
        )
        .await
        .ok(201);
    }
    let first = app.post(form, None, body("Where is it?")).await;
    assert_eq!(first.status, 202, "{:?}", first.body);
    let second = app.post(form, None, body("Still waiting")).await;
    assert_eq!(second.status, 202);
    let tickets = app.get("/v1/tickets?channel=web_form", admin).await;
    let tickets = data(tickets.ok(200));
    assert_eq!(tickets.len(), 2);
    assert_eq!(
        tickets[0]["contact_id"], tickets[1]["contact_id"],
        "one contact per email"
    );
    assert_eq!(tickets[0]["category"], "shipping");
    let contact = app
        .get(
            &format!(
                "/v1/contacts/{}",
                tickets[0]["contact_id"].as_str().unwrap()
            ),
            admin,
        )
        .await;
    assert_eq!(contact.ok(200)["name"], "Vera");
    assert_eq!(contact.ok(200)["emails"][0]["address"], sender.as_str());
    let receipts = app.mail_to(&sender).await;
    assert_eq!(receipts.len(), 2);
    assert!(receipts[0].text.contains("TK-00000"));
    assert!(
        !receipts[0].subject.contains("Where is it?") && !receipts[0].text.contains("Where is it?"),
        "the receipt repeats nothing the sender wrote"
    );
    // A known customer is found, not copied.
    let known = unique_email("known");
    let existing = app
        .create_contact(
            admin,
            json!({"name": "Kim", "emails": [{"address": known}],
                   "custom": {"account_no": "A-1"}}),
        )
        .await;
    let mut from_known = body("Hi");
    from_known["email"] = json!(known);
    assert_eq!(app.post(form, None, from_known).await.status, 202);
    let of_known = app
        .get(&format!("/v1/tickets?contact_id={}", id(&existing)), admin)
        .await;
    assert_eq!(data(of_known.ok(200)).len(), 1);

    // Spam: the honeypot is answered like anything else, and dropped.
    let mut bot = body("Cheap watches");
    bot["website"] = json!("http://spam.example");
    assert_eq!(app.post(form, None, bot).await.status, 202);
    let mut links = body("Links");
    links["description"] = json!("https://a https://b https://c https://d https://e https://f");
    assert_eq!(
        app.post(form, None, links).await.invalid_fields(),
        ["description"]
    );
    let mut bad = body("x");
    bad["email"] = json!("not-an-email");
    bad["subject"] = json!("");
    let mut fields = app.post(form, None, bad).await.invalid_fields();
    fields.sort();
    assert_eq!(fields, ["email", "subject"]);
    let unknown = app
        .post(
            form,
            None,
            json!({"email": sender, "subject": "x", "description": "y", "admin": true}),
        )
        .await;
    assert_eq!(unknown.status, 422);
    let all = app.get("/v1/tickets", admin).await;
    assert_eq!(
        data(all.ok(200)).len(),
        3,
        "spam and bad requests make no ticket"
    );

    // Turned off, the form is gone.
    let turn = |slug: Value| {
        let app = &app;
        async move {
            app.patch(
                "/v1/settings/service",
                admin,
                json!({"web_form_slug": slug}),
            )
            .await
            .ok(200)
            .clone()
        }
    };
    turn(Value::Null).await;
    app.post(form, None, body("x"))
        .await
        .problem(404, "not-found");
    turn(json!("acme-support")).await;

    // A flood from one address is cut off at 10 an hour, with Retry-After: eight
    // submissions so far reached the form's address (the one with an unknown member
    // did not).
    let mut statuses = Vec::new();
    for n in 0..5 {
        statuses.push(app.post(form, None, body(&format!("flood {n}"))).await);
    }
    let refused = statuses.last().unwrap();
    refused.problem(429, "rate-limited");
    assert!(refused.headers.contains_key("retry-after"));
    assert_eq!(
        statuses.iter().filter(|r| r.status == 202).count(),
        2,
        "the 10th submission was the last one taken"
    );
}

#[tokio::test]
async fn support_staff_see_tickets_and_contact_basics_and_others_do_not() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let admin = &acme.access_token;
    let support = app.add_user(admin, &["support"]).await;
    let seller = app.add_user(admin, &["sales"]).await;
    let contact = app
        .create_contact(
            admin,
            json!({"name": "Ada", "notes": "Prefers the premium plan", "source": "fair"}),
        )
        .await;
    let ticket = app
        .post(
            "/v1/tickets",
            Some(admin),
            json!({"subject": "Help", "contact_id": contact["id"]}),
        )
        .await;
    let path = format!("/v1/tickets/{}", id(ticket.ok(201)));
    // Support sees every ticket, and the contact's basics only.
    app.get(&path, &support.access_token).await.ok(200);
    let seen = app
        .get(
            &format!("/v1/contacts/{}", id(&contact)),
            &support.access_token,
        )
        .await;
    assert_eq!(seen.ok(200)["name"], "Ada");
    assert!(seen.ok(200).get("notes").is_none());
    let took = app
        .patch(
            &path,
            &support.access_token,
            json!({"assignee_id": support.user_id}),
        )
        .await;
    assert_eq!(took.ok(200)["assignee_id"], support.user_id.as_str());
    // Sales staff have no tickets.
    app.get(&path, &seller.access_token)
        .await
        .problem(403, "forbidden");
    app.get("/v1/tickets", &seller.access_token)
        .await
        .problem(403, "forbidden");
    // Another company's ticket does not exist for us.
    let globex = app.sign_up("Globex").await;
    app.get(&path, &globex.access_token)
        .await
        .problem(404, "not-found");
}

#[tokio::test]
async fn tasks_link_to_tickets_and_a_merge_moves_tickets() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let admin = &acme.access_token;
    let keep = app.create_contact(admin, json!({"name": "Ada"})).await;
    let dup = app.create_contact(admin, json!({"name": "Ada L."})).await;
    let ticket = app
        .post(
            "/v1/tickets",
            Some(admin),
            json!({"subject": "Help", "contact_id": dup["id"]}),
        )
        .await;
    let ticket = id(ticket.ok(201));
    let task = app
        .post(
            "/v1/tasks",
            Some(admin),
            json!({"title": "Call back", "kind": "call", "ticket_id": ticket}),
        )
        .await;
    assert_eq!(task.ok(201)["ticket_id"], ticket.as_str());
    let of_ticket = app
        .get(&format!("/v1/tasks?ticket_id={ticket}"), admin)
        .await;
    assert_eq!(
        data(of_ticket.ok(200)).iter().map(id).collect::<Vec<_>>(),
        [id(task.ok(201))]
    );
    let globex = app.sign_up("Globex").await;
    let foreign = app
        .post(
            "/v1/tasks",
            Some(&globex.access_token),
            json!({"title": "x", "ticket_id": ticket}),
        )
        .await;
    assert_eq!(foreign.invalid_fields(), ["ticket_id"]);

    // The ticket shows on the contact's timeline, and moves with a merge.
    let timeline = app
        .get(&format!("/v1/contacts/{}/timeline", id(&dup)), admin)
        .await;
    assert!(
        data(timeline.ok(200))
            .iter()
            .any(|e| e["action"] == "ticket.created")
    );
    let merged = app
        .post(
            &format!("/v1/contacts/{}/merge", id(&keep)),
            Some(admin),
            json!({"other_id": dup["id"]}),
        )
        .await;
    merged.ok(200);
    let moved = app.get(&format!("/v1/tickets/{ticket}"), admin).await;
    assert_eq!(moved.ok(200)["contact_id"], keep["id"]);
    let of_keep = app
        .get(&format!("/v1/tickets?contact_id={}", id(&keep)), admin)
        .await;
    assert_eq!(
        data(of_keep.ok(200)).iter().map(id).collect::<Vec<_>>(),
        [ticket]
    );
}

#[tokio::test]
async fn a_rule_whose_team_is_gone_is_passed_over() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let admin = &acme.access_token;
    let (team, first, _) = billing_team(&app, admin).await;
    let gone = app
        .post("/v1/teams", Some(admin), json!({"name": "Gone"}))
        .await;
    let gone = id(gone.ok(201));
    app.patch(
        "/v1/settings/service",
        admin,
        json!({"assignment_rules": [{"category": "billing", "team_id": gone},
                                    {"category": "billing", "team_id": team}]}),
    )
    .await
    .ok(200);
    assert_eq!(
        app.delete(&format!("/v1/teams/{gone}"), admin).await.status,
        204
    );
    let ticket = app
        .post(
            "/v1/tickets",
            Some(admin),
            json!({"subject": "Refund", "category": "billing"}),
        )
        .await;
    assert_eq!(ticket.ok(201)["team_id"], team.as_str());
    assert_eq!(ticket.ok(201)["assignee_id"], first.user_id.as_str());
}

#[tokio::test]
async fn sending_a_ticket_to_a_team_is_assigning_it() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let admin = &acme.access_token;
    let (team, first, _) = billing_team(&app, admin).await;
    let role = app
        .create_role(
            admin,
            "Helpdesk",
            json!({"tickets": {"actions": ["read", "create", "update"], "scope": "all"}}),
        )
        .await;
    let helper = app.add_user(admin, &[&role]).await;
    let ticket = app
        .post(
            "/v1/tickets",
            Some(&helper.access_token),
            json!({"subject": "Help"}),
        )
        .await;
    let path = format!("/v1/tickets/{}", id(ticket.ok(201)));
    app.patch(&path, &helper.access_token, json!({"team_id": team}))
        .await
        .problem(403, "forbidden");
    app.post(
        "/v1/tickets",
        Some(&helper.access_token),
        json!({"subject": "Help", "team_id": team}),
    )
    .await
    .problem(403, "forbidden");
    // Routing by the company's rules is not the caller's choice.
    let routed = app
        .post(
            "/v1/tickets",
            Some(&helper.access_token),
            json!({"subject": "Refund", "category": "billing"}),
        )
        .await;
    assert_eq!(routed.ok(201)["assignee_id"], first.user_id.as_str());
}

#[tokio::test]
async fn a_role_that_hides_or_masks_ticket_fields_cannot_filter_by_them_nor_see_them_in_the_history()
 {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let admin = &acme.access_token;
    let ticket = app
        .post(
            "/v1/tickets",
            Some(admin),
            json!({"subject": "Refund", "priority": "high", "category": "billing",
                   "tags": ["vip"]}),
        )
        .await
        .ok(201)
        .clone();
    let path = format!("/v1/tickets/{}", id(&ticket));
    app.patch(&path, admin, json!({"priority": "low", "status": "open"}))
        .await
        .ok(200);
    let role = app
        .create_role(
            admin,
            "Ticket glance",
            json!({"tickets": {"actions": ["read"], "scope": "all",
                               "fields": {"priority": "hidden", "category": "masked",
                                          "tags": "hidden"}}}),
        )
        .await;
    let viewer = app.add_user(admin, &[&role]).await;
    let v = &viewer.access_token;
    for (query, param) in [
        ("priority=low", "priority"),
        ("category=billing", "category"),
        ("tag=vip", "tag"),
    ] {
        let refused = app.get(&format!("/v1/tickets?{query}"), v).await;
        refused.problem(403, "hidden-field");
        assert_eq!(
            refused.body["errors"][0]["field"], param,
            "{:?}",
            refused.body
        );
        assert_eq!(
            data(
                app.get(&format!("/v1/tickets?{query}"), admin)
                    .await
                    .ok(200)
            )
            .len(),
            1
        );
    }
    assert_eq!(
        data(app.get("/v1/tickets?status=open", v).await.ok(200)).len(),
        1
    );

    // The history leaves out changes of the hidden priority, not the others.
    let fields = |page: &Value| -> Vec<String> {
        data(page)
            .iter()
            .map(|c| c["field"].as_str().unwrap().to_owned())
            .collect()
    };
    let seen = fields(app.get(&format!("{path}/history"), v).await.ok(200));
    assert!(!seen.contains(&"priority".to_owned()), "{seen:?}");
    assert!(seen.contains(&"status".to_owned()), "{seen:?}");
    let all = fields(app.get(&format!("{path}/history"), admin).await.ok(200));
    assert!(all.contains(&"priority".to_owned()), "{all:?}");
}

#[tokio::test]
async fn notifications_and_feedback_groups_follow_the_readers_ticket_field_rules() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let admin = &acme.access_token;
    let role = app
        .create_role(
            admin,
            "Blind agent",
            json!({"tickets": {"actions": ["read", "update"], "scope": "own",
                               "fields": {"subject": "hidden", "category": "hidden"}}}),
        )
        .await;
    let blind = app.add_user(admin, &[&role]).await;
    let seeing = app.add_user(admin, &["support"]).await;
    for agent in [&blind, &seeing] {
        app.post(
            "/v1/tickets",
            Some(admin),
            json!({"subject": "Salary dispute of Kim", "assignee_id": agent.user_id}),
        )
        .await
        .ok(201);
    }
    let title = |token: &str| {
        let app = &app;
        let token = token.to_owned();
        async move {
            let told = app.get("/v1/notifications", &token).await;
            let told = data(told.ok(200));
            assert_eq!(told.len(), 1, "{told:?}");
            told[0]["title"].as_str().unwrap().to_owned()
        }
    };
    assert_eq!(
        title(&blind.access_token).await,
        "A ticket was given to you"
    );
    assert!(
        title(&seeing.access_token)
            .await
            .ends_with("Salary dispute of Kim")
    );

    // Grouping the feedback summary by a hidden field would tell it.
    let refused = app
        .get(
            "/v1/feedback/summary?group_by=category",
            &blind.access_token,
        )
        .await;
    refused.problem(403, "hidden-field");
    assert_eq!(refused.body["errors"][0]["field"], "group_by");
    app.get("/v1/feedback/summary?group_by=period", &blind.access_token)
        .await
        .ok(200);
    app.get("/v1/feedback/summary?group_by=category", admin)
        .await
        .ok(200);
}

//! Feedback: the survey a resolved ticket mails, answered once through its signed link
//! (bad, reused, expired and raced links refused, floods cut off), surveys by link, low
//! scores that open a follow-up task, and the summary's NPS, CSAT and response rate by
//! agent, category and period.

use crate::support::{TestApp, unique_email};
use serde_json::{Value, json};
use time::OffsetDateTime;

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

fn data(page: &Value) -> Vec<Value> {
    page["data"].as_array().unwrap().clone()
}

/// The survey token in the last mail to `to`.
async fn survey_token(app: &TestApp, to: &str) -> String {
    let mail = app.mail_to(to).await;
    let text = &mail.last().expect("a survey mail").text;
    let at = text.find("/v1/public/surveys/").expect("a survey link") + 19;
    text[at..]
        .split(char::is_whitespace)
        .next()
        .unwrap()
        .to_owned()
}

/// The token of a survey link as `POST /v1/surveys` answers it.
fn token_of(made: &Value) -> String {
    let url = made["url"].as_str().unwrap();
    url[url.find("/v1/public/surveys/").unwrap() + 19..].to_owned()
}

#[tokio::test]
async fn a_resolved_ticket_mails_a_survey_that_is_answered_once() {
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
    let set = app
        .patch(
            "/v1/settings/service",
            admin,
            json!({"survey_after_resolve": true,
                   "survey": {"kind": "csat", "questions": [
                       {"id": "speed", "text": "Were we quick?", "kind": "scale"},
                       {"id": "again", "text": "Would you come back?", "kind": "yes_no"}]}}),
        )
        .await;
    assert_eq!(set.ok(200)["survey_after_resolve"], true);
    let ticket = app
        .post(
            "/v1/tickets",
            Some(admin),
            json!({"subject": "Broken", "contact_id": contact["id"]}),
        )
        .await;
    let ticket = id(ticket.ok(201));
    assert!(app.mail_to(&email).await.is_empty());
    app.patch(
        &format!("/v1/tickets/{ticket}"),
        admin,
        json!({"status": "resolved"}),
    )
    .await
    .ok(200);
    let token = survey_token(&app, &email).await;
    let link = format!("/v1/public/surveys/{token}");

    let shown = app.call(reqwest::Method::GET, &link, None, None).await;
    let shown = shown.ok(200);
    assert_eq!(shown["company_name"], "Acme");
    assert_eq!(shown["kind"], "csat");
    assert_eq!(
        (shown["min_score"].clone(), shown["max_score"].clone()),
        (json!(1), json!(5))
    );
    assert_eq!(shown["questions"][0]["id"], "speed");
    assert_eq!(shown["ticket_number"], "TK-000001");

    let bad = app
        .post(
            &link,
            None,
            json!({"score": 9, "answers": {"speed": 7, "again": "yes", "colour": "blue"}}),
        )
        .await;
    let mut fields = bad.invalid_fields();
    fields.sort();
    assert_eq!(
        fields,
        ["answers.again", "answers.colour", "answers.speed", "score"]
    );
    // Five answers at once: one is taken.
    let racing: Vec<_> = (0..5)
        .map(|n| {
            let client = app.client.clone();
            let url = app.url(&link);
            tokio::spawn(async move {
                client
                    .post(url)
                    .json(&json!({"score": 4 + n % 2, "comment": "Quick and kind",
                                  "answers": {"speed": 5, "again": true}}))
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for r in racing {
        statuses.push(r.await.unwrap());
    }
    statuses.sort();
    assert_eq!(statuses, [202, 409, 409, 409, 409]);
    let reused = app.post(&link, None, json!({"score": 1})).await;
    reused.problem(409, "survey-answered");
    app.call(reqwest::Method::GET, &link, None, None)
        .await
        .problem(409, "survey-answered");

    // The answer sits with the ticket and the contact.
    let surveys = app
        .get(&format!("/v1/surveys?ticket_id={ticket}"), admin)
        .await;
    let surveys = data(surveys.ok(200));
    assert_eq!(surveys.len(), 1);
    let answer = &surveys[0];
    assert!([4, 5].contains(&answer["score"].as_u64().unwrap()));
    assert_eq!(answer["comment"], "Quick and kind");
    assert_eq!(answer["answers"]["again"], true);
    assert_eq!(answer["contact_id"], contact["id"]);
    assert!(
        answer["follow_up_task_id"].is_null(),
        "a good score needs none"
    );
    let of_contact = app
        .get(&format!("/v1/surveys?contact_id={}", id(&contact)), admin)
        .await;
    assert_eq!(data(of_contact.ok(200)).len(), 1);
    let timeline = app
        .get(&format!("/v1/contacts/{}/timeline", id(&contact)), admin)
        .await;
    assert!(
        data(timeline.ok(200))
            .iter()
            .any(|e| e["action"] == "survey.answered"
                && e["subject"].as_str().unwrap().starts_with("Feedback: CSAT"))
    );

    // Reopened and resolved again: no second survey.
    for status in ["open", "resolved"] {
        app.patch(
            &format!("/v1/tickets/{ticket}"),
            admin,
            json!({"status": status}),
        )
        .await
        .ok(200);
    }
    assert_eq!(app.mail_to(&email).await.len(), 1);
}

#[tokio::test]
async fn bad_and_expired_links_are_refused_and_floods_cut_off() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let admin = &acme.access_token;
    let contact = app.create_contact(admin, json!({"name": "Ada"})).await;
    let made = app
        .post(
            "/v1/surveys",
            Some(admin),
            json!({"contact_id": contact["id"], "kind": "nps"}),
        )
        .await;
    let made = made.ok(201).clone();
    assert_eq!(made["kind"], "nps");
    let token = token_of(&made);
    let (text, tag) = token.rsplit_once('.').unwrap();
    let globex = app.sign_up("Globex").await;
    let other_tenant = text.replacen(&acme.tenant_id, &globex.tenant_id, 1);
    let mut flipped = tag.to_owned().into_bytes();
    flipped[0] = if flipped[0] == b'A' { b'B' } else { b'A' };
    let flipped = String::from_utf8(flipped).unwrap();
    for bad in [
        "nonsense".to_owned(),
        format!("{text}.{flipped}"),
        format!("{other_tenant}.{tag}"),
        format!("{text}."),
        "a.b.c".to_owned(),
        "x".repeat(300),
    ] {
        let reply = app
            .post(
                &format!("/v1/public/surveys/{bad}"),
                None,
                json!({"score": 10}),
            )
            .await;
        reply.problem(404, "not-found");
    }
    // The survey was not touched.
    let survey = app.get(&format!("/v1/surveys/{}", id(&made)), admin).await;
    assert!(survey.ok(200)["responded_at"].is_null());

    // Thirty days on, the link has expired (the worker's view of time, through the
    // same service code the endpoint runs).
    let mut later = app.state.clone();
    later.clock = std::sync::Arc::new(Later(31));
    let expired = shared::feedback::respond(
        &later,
        &token,
        shared::principal::RequestMeta {
            ip: "192.0.2.1".into(),
            ..Default::default()
        },
        serde_json::from_value(json!({"score": 10})).unwrap(),
    )
    .await;
    assert!(
        matches!(
            &expired,
            Err(shared::error::Error::Conflict {
                kind: "survey-expired",
                ..
            })
        ),
        "{expired:?}"
    );

    // Guessing is slow: an address gets 60 tries in 10 minutes (six were spent above).
    let mut replies = Vec::new();
    for _ in 0..60 {
        replies.push(
            app.call(reqwest::Method::GET, "/v1/public/surveys/guess", None, None)
                .await,
        );
    }
    assert_eq!(replies.iter().filter(|r| r.status == 404).count(), 54);
    let last = replies.last().unwrap();
    last.problem(429, "rate-limited");
    assert!(last.headers.contains_key("retry-after"));
}

/// The real clock moved `days` ahead.
struct Later(i64);

impl shared::clock::Clock for Later {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc() + time::Duration::days(self.0)
    }
}

#[tokio::test]
async fn low_scores_open_follow_ups_and_the_summary_adds_up() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let admin = &acme.access_token;
    let agent = app.add_user(admin, &["support"]).await;
    let other = app.add_user(admin, &["support"]).await;
    let contact = app.create_contact(admin, json!({"name": "Ada"})).await;
    // NPS surveys on tickets of two agents and two categories.
    let mut made = Vec::new();
    for (assignee, category) in [
        (&agent, "billing"),
        (&agent, "billing"),
        (&agent, "shipping"),
        (&other, "shipping"),
        (&other, "shipping"),
    ] {
        let ticket = app
            .post(
                "/v1/tickets",
                Some(admin),
                json!({"subject": "Q", "category": category, "contact_id": contact["id"],
                       "assignee_id": assignee.user_id}),
            )
            .await;
        let survey = app
            .post(
                "/v1/surveys",
                Some(admin),
                json!({"ticket_id": ticket.ok(201)["id"], "kind": "nps"}),
            )
            .await;
        made.push((ticket.ok(201).clone(), survey.ok(201).clone()));
    }
    // Scores 10, 9 and 3 for the agent; 8 for the other; one never answered.
    for (i, score) in [(0, 10), (1, 9), (2, 3), (3, 8)] {
        let answered = app
            .post(
                &format!("/v1/public/surveys/{}", token_of(&made[i].1)),
                None,
                json!({"score": score}),
            )
            .await;
        assert_eq!(answered.status, 202, "{:?}", answered.body);
    }
    // Two CSAT answers: 5 and 2.
    for score in [5, 2] {
        let survey = app
            .post(
                "/v1/surveys",
                Some(admin),
                json!({"contact_id": contact["id"], "kind": "csat"}),
            )
            .await;
        app.post(
            &format!("/v1/public/surveys/{}", token_of(survey.ok(201))),
            None,
            json!({"score": score}),
        )
        .await;
    }

    // The low NPS score (3) opened a task for the ticket's agent, on the ticket.
    let low_ticket = id(&made[2].0);
    let tasks = app
        .get(&format!("/v1/tasks?ticket_id={low_ticket}"), admin)
        .await;
    let tasks = data(tasks.ok(200));
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0]["owner_id"], agent.user_id.as_str());
    assert!(tasks[0]["title"].as_str().unwrap().contains("low feedback"));
    let told = app.get("/v1/notifications", &agent.access_token).await;
    assert!(
        data(told.ok(200))
            .iter()
            .any(|n| n["kind"] == "follow_up_task" && n["record_id"] == tasks[0]["id"])
    );
    let survey = app
        .get(&format!("/v1/surveys/{}", id(&made[2].1)), admin)
        .await;
    assert_eq!(survey.ok(200)["follow_up_task_id"], tasks[0]["id"]);
    // The CSAT 2 came by a link the admin made without a ticket: the task is theirs.
    let admin_tasks = app
        .get(&format!("/v1/tasks?owner_id={}", acme.user_id), admin)
        .await;
    assert_eq!(data(admin_tasks.ok(200)).len(), 1);

    let summary = app.get("/v1/feedback/summary", admin).await;
    let summary = summary.ok(200);
    assert_eq!(summary["sent"], 7);
    assert_eq!(summary["responded"], 6);
    assert_eq!(summary["response_rate_percent"], 85.7);
    // NPS: 2 promoters, 1 passive, 1 detractor of 4: 25.
    assert_eq!(summary["nps"]["score"], 25.0);
    assert_eq!(summary["nps"]["promoters"], 2);
    assert_eq!(summary["csat"]["average"], 3.5);
    assert_eq!(summary["csat"]["satisfied_percent"], 50.0);
    assert_eq!(summary["csat"]["distribution"]["2"], 1);
    assert_eq!(summary["csat"]["distribution"]["5"], 1);
    assert_eq!(summary["truncated"], false);

    let by_agent = app.get("/v1/feedback/summary?group_by=agent", admin).await;
    let groups = data(&json!({"data": by_agent.ok(200)["groups"]}));
    let of = |key: &str| groups.iter().find(|g| g["key"] == key).unwrap().clone();
    // The agent: 10, 9, 3: two promoters and a detractor of three.
    assert_eq!(of(&agent.user_id)["nps"]["score"], 33.3);
    assert_eq!(of(&other.user_id)["sent"], 2);
    assert_eq!(of(&other.user_id)["response_rate_percent"], 50.0);
    assert_eq!(of("none")["csat"]["responses"], 2);
    let by_category = app
        .get("/v1/feedback/summary?group_by=category", admin)
        .await;
    let keys: Vec<_> = by_category.ok(200)["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["key"].clone())
        .collect();
    assert_eq!(keys, ["billing", "none", "shipping"]);
    let month = OffsetDateTime::now_utc().date();
    let by_month = app
        .get("/v1/feedback/summary?group_by=period&period=month", admin)
        .await;
    assert_eq!(
        by_month.ok(200)["groups"][0]["key"],
        format!("{:04}-{:02}", month.year(), u8::from(month.month()))
    );
    // An agent sees their own tickets' feedback (support reads all tickets: all of it).
    let seen = app.get("/v1/feedback/summary", &agent.access_token).await;
    assert_eq!(seen.ok(200)["sent"], 7);
    // A period before any survey is empty; bad periods are refused.
    let empty = app
        .get("/v1/feedback/summary?from=2020-01-01&to=2020-01-31", admin)
        .await;
    assert_eq!(empty.ok(200)["sent"], 0);
    assert!(empty.ok(200)["nps"]["score"].is_null());
    let backwards = app
        .get("/v1/feedback/summary?from=2026-02-01&to=2026-01-01", admin)
        .await;
    assert_eq!(backwards.invalid_fields(), ["from"]);
    let long = app
        .get("/v1/feedback/summary?from=2020-01-01&to=2026-01-01", admin)
        .await;
    assert_eq!(long.invalid_fields(), ["from"]);
    let end_of_time = app
        .get("/v1/feedback/summary?from=9999-12-31&to=9999-12-31", admin)
        .await;
    assert_eq!(end_of_time.invalid_fields(), ["to"]);
    let seller = app.add_user(admin, &["sales"]).await;
    app.get("/v1/feedback/summary", &seller.access_token)
        .await
        .problem(403, "forbidden");
}

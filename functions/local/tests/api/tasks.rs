//! Tasks and reminders: the record and its links, the "my tasks" views, reminders that
//! fire once (however many workers run, across a restart) into notifications and email,
//! scope and tenant isolation.

use std::time::Duration;

use crate::support::TestApp;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

fn at(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap()
}

fn ids(page: &Value) -> Vec<String> {
    page["data"].as_array().unwrap().iter().map(id).collect()
}

/// Polls the caller's notifications until one is there (or 10 s pass).
async fn wait_for_notifications(app: &TestApp, token: &str, count: usize) -> Vec<Value> {
    for _ in 0..200 {
        let page = app.get("/v1/notifications", token).await;
        let data = page.ok(200)["data"].as_array().unwrap().clone();
        if data.len() >= count {
            return data;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no notification came");
}

#[tokio::test]
async fn a_task_is_created_linked_completed_and_listed_in_the_my_tasks_views() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let token = &acme.access_token;
    let contact = app.create_contact(token, json!({"name": "Ada"})).await;
    let deal = app
        .post("/v1/deals", Some(token), json!({"title": "Fleet"}))
        .await
        .ok(201)
        .clone();
    // An offset that puts the caller at about noon, so "today" has room either side.
    let now = OffsetDateTime::now_utc();
    let hours = 12 - i8::try_from(now.hour()).unwrap();
    let utc_offset = format!("{}{:02}:00", if hours < 0 { '-' } else { '+' }, hours.abs());
    let hour = time::Duration::hours(1);
    let mut made = Vec::new();
    for (title, due) in [
        ("Overdue call", Some(now - 48 * hour)),
        ("Today's call", Some(now + 2 * hour)),
        ("Tomorrow's meeting", Some(now + 48 * hour)),
        ("Someday", None),
    ] {
        let created = app
            .post(
                "/v1/tasks",
                Some(token),
                json!({"title": title, "kind": "call", "priority": "high",
                       "due_at": due.map(at), "contact_id": contact["id"], "deal_id": deal["id"]}),
            )
            .await;
        made.push(id(created.ok(201)));
    }
    let first = app.get(&format!("/v1/tasks/{}", made[0]), token).await;
    let first = first.ok(200);
    assert_eq!(first["status"], "open");
    assert_eq!(first["owner_id"], acme.user_id);
    assert_eq!(first["priority"], "high");

    let view = |v: &str| {
        format!(
            "/v1/tasks?view={v}&utc_offset={}",
            utc_offset.replace('+', "%2B")
        )
    };
    assert_eq!(
        ids(app.get(&view("overdue"), token).await.ok(200)),
        [made[0].clone()]
    );
    assert_eq!(
        ids(app.get(&view("today"), token).await.ok(200)),
        [made[1].clone()]
    );
    assert_eq!(
        ids(app.get(&view("upcoming"), token).await.ok(200)),
        [made[2].clone(), made[3].clone()],
        "by due time, undated last"
    );

    // Done: it leaves the views, and says when it was done.
    let done = app
        .patch(
            &format!("/v1/tasks/{}", made[0]),
            token,
            json!({"status": "done"}),
        )
        .await;
    assert!(done.ok(200)["completed_at"].is_string());
    assert!(ids(app.get(&view("overdue"), token).await.ok(200)).is_empty());
    let finished = app.get("/v1/tasks?status=done", token).await;
    assert_eq!(ids(finished.ok(200)), [made[0].clone()]);

    // The contact's and the deal's tasks.
    let of_contact = app
        .get(&format!("/v1/tasks?contact_id={}", id(&contact)), token)
        .await;
    assert_eq!(ids(of_contact.ok(200)).len(), 4);
    let of_deal = app
        .get(&format!("/v1/tasks?deal_id={}", id(&deal)), token)
        .await;
    assert_eq!(ids(of_deal.ok(200)).len(), 4);

    app.delete(&format!("/v1/tasks/{}", made[3]), token)
        .await
        .ok(204);
    assert_eq!(
        ids(app.get(&view("upcoming"), token).await.ok(200)),
        [made[2].clone()]
    );

    let bad = app
        .post(
            "/v1/tasks",
            Some(token),
            json!({"title": "", "due_at": "tomorrow", "remind_by_email": true,
                   "contact_id": "con_00000000000000000000000000"}),
        )
        .await;
    assert_eq!(
        bad.invalid_fields(),
        ["title", "due_at", "remind_by_email", "contact_id"]
    );
    app.get("/v1/tasks?view=today&utc_offset=8", token)
        .await
        .problem(422, "validation-failed");
}

#[tokio::test]
async fn a_reminder_fires_once_into_a_notification_and_an_email() {
    let app = std::sync::Arc::new(TestApp::spawn().await);
    let acme = app.sign_up("Acme").await;
    let token = &acme.access_token;
    let past = at(OffsetDateTime::now_utc() - time::Duration::seconds(1));
    let task = app
        .post(
            "/v1/tasks",
            Some(token),
            json!({"title": "Call Ada back", "remind_at": past, "remind_by_email": true}),
        )
        .await
        .ok(201)
        .clone();
    // Extra workers racing the server's own: still one notification.
    let mut racers = Vec::new();
    for _ in 0..4 {
        let app = app.clone();
        racers.push(tokio::spawn(async move {
            shared::tasks::reminders::run_due(&app.state, Duration::from_secs(5))
                .await
                .unwrap()
        }));
    }
    let mut fired_by_racers = 0;
    for racer in racers {
        fired_by_racers += racer.await.unwrap();
    }
    assert!(fired_by_racers <= 1);
    let notifications = wait_for_notifications(&app, token, 1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let notifications_after = app.get("/v1/notifications", token).await;
    assert_eq!(
        notifications_after.ok(200)["data"]
            .as_array()
            .unwrap()
            .len(),
        1,
        "fired once"
    );
    let notification = &notifications[0];
    assert_eq!(notification["kind"], "task_reminder");
    assert_eq!(notification["title"], "Call Ada back");
    assert_eq!(notification["record_id"], task["id"]);
    assert!(notification["read_at"].is_null());
    let mail = app.mail_to(&acme.email).await;
    let reminders: Vec<_> = mail
        .iter()
        .filter(|m| m.subject == "Reminder: Call Ada back")
        .collect();
    assert_eq!(reminders.len(), 1, "one email");
    let read = app.get(&format!("/v1/tasks/{}", id(&task)), token).await;
    assert!(read.ok(200)["reminded_at"].is_string());

    // Read: gone from the unread list.
    let marked = app
        .post(
            &format!("/v1/notifications/{}/read", id(notification)),
            Some(token),
            json!({}),
        )
        .await;
    assert!(marked.ok(200)["read_at"].is_string());
    let unread = app.get("/v1/notifications?unread=true", token).await;
    assert!(ids(unread.ok(200)).is_empty());

    // A new reminder time fires anew; a completed task's reminder never fires.
    let again = at(OffsetDateTime::now_utc() - time::Duration::seconds(1));
    app.patch(
        &format!("/v1/tasks/{}", id(&task)),
        token,
        json!({"remind_at": again, "remind_by_email": false}),
    )
    .await
    .ok(200);
    wait_for_notifications(&app, token, 2).await;
    // Due tomorrow (so the server's own worker cannot fire it before the cancel lands,
    // however slow the table), and checked by the worker as it would run in two days.
    let soon = at(OffsetDateTime::now_utc() + time::Duration::days(1));
    let quiet = app
        .post(
            "/v1/tasks",
            Some(token),
            json!({"title": "Never mind", "remind_at": soon}),
        )
        .await;
    app.patch(
        &format!("/v1/tasks/{}", id(quiet.ok(201))),
        token,
        json!({"status": "cancelled"}),
    )
    .await
    .ok(200);
    let mut later = app.state.clone();
    later.clock = std::sync::Arc::new(Later(2));
    assert_eq!(
        shared::tasks::reminders::run_due(&later, Duration::from_secs(5))
            .await
            .unwrap(),
        0
    );
    let all = app.get("/v1/notifications", token).await;
    assert_eq!(all.ok(200)["data"].as_array().unwrap().len(), 2);
    let everything = app
        .post("/v1/notifications/read-all", Some(token), json!({}))
        .await;
    assert_eq!(everything.ok(200)["marked"], 1);
}

#[tokio::test]
async fn a_reminder_due_while_the_server_is_down_fires_once_after_restart() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let soon = at(OffsetDateTime::now_utc() + time::Duration::seconds(1));
    app.post(
        "/v1/tasks",
        Some(&acme.access_token),
        json!({"title": "While you were out", "remind_at": soon}),
    )
    .await
    .ok(201);
    let dir = app.stop().await;
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let app = TestApp::spawn_in(dir, &[]).await;
    let notifications = wait_for_notifications(&app, &acme.access_token, 1).await;
    assert_eq!(notifications[0]["title"], "While you were out");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let all = app.get("/v1/notifications", &acme.access_token).await;
    assert_eq!(all.ok(200)["data"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn tasks_keep_to_their_assignees_scope_and_tenant() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let admin = &acme.access_token;
    let seller = app.add_user(admin, &["sales"]).await;
    let assigned = app
        .post(
            "/v1/tasks",
            Some(admin),
            json!({"title": "For the seller", "owner_id": seller.user_id}),
        )
        .await;
    let assigned = assigned.ok(201).clone();
    let mine = app
        .post("/v1/tasks", Some(admin), json!({"title": "Admin's own"}))
        .await
        .ok(201)
        .clone();
    let listed = app.get("/v1/tasks", &seller.access_token).await;
    assert_eq!(ids(listed.ok(200)), [id(&assigned)]);
    let upcoming = app
        .get("/v1/tasks?view=upcoming", &seller.access_token)
        .await;
    assert_eq!(ids(upcoming.ok(200)), [id(&assigned)]);
    app.get(&format!("/v1/tasks/{}", id(&mine)), &seller.access_token)
        .await
        .problem(404, "not-found");
    // A seller may hand a task to someone else (sales may assign); it then leaves
    // their scope.
    let handed = app
        .post(
            "/v1/tasks",
            Some(&seller.access_token),
            json!({"title": "For the admin", "owner_id": acme.user_id}),
        )
        .await;
    let handed = handed.ok(201).clone();
    app.get(&format!("/v1/tasks/{}", id(&handed)), &seller.access_token)
        .await
        .problem(404, "not-found");
    app.patch(
        &format!("/v1/tasks/{}", id(&assigned)),
        &seller.access_token,
        json!({"status": "done"}),
    )
    .await
    .ok(200);

    let other = app.sign_up("Other").await;
    let path = format!("/v1/tasks/{}", id(&mine));
    app.get(&path, &other.access_token)
        .await
        .problem(404, "not-found");
    app.patch(&path, &other.access_token, json!({"title": "x"}))
        .await
        .problem(404, "not-found");
    app.delete(&path, &other.access_token)
        .await
        .problem(404, "not-found");
    assert!(ids(app.get("/v1/tasks", &other.access_token).await.ok(200)).is_empty());
    let foreign_link = app
        .post(
            "/v1/tasks",
            Some(&other.access_token),
            json!({"title": "x", "deal_id": "dea_00000000000000000000000000"}),
        )
        .await;
    assert_eq!(foreign_link.invalid_fields(), ["deal_id"]);
}

/// The real clock moved `days` ahead: the worker as it would run then.
struct Later(i64);

impl shared::clock::Clock for Later {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc() + time::Duration::days(self.0)
    }
}

#[tokio::test]
async fn an_idle_deal_gets_one_follow_up_task_per_idle_period() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let admin = &acme.access_token;
    let seller = app.add_user(admin, &["sales"]).await;
    let deal = app
        .post(
            "/v1/deals",
            Some(&seller.access_token),
            json!({"title": "Fleet"}),
        )
        .await
        .ok(201)
        .clone();
    let busy = app
        .post("/v1/deals", Some(admin), json!({"title": "Busy"}))
        .await
        .ok(201)
        .clone();
    let in_days = |days: i64| {
        let mut state = app.state.clone();
        state.clock = std::sync::Arc::new(Later(days));
        state
    };
    let run = |days: i64| {
        let state = in_days(days);
        async move {
            shared::deals::follow_ups::run_due(&state, Duration::from_secs(10))
                .await
                .unwrap()
        }
    };
    assert_eq!(run(10).await, 0, "no rule, no follow-ups");

    let set = app
        .patch(
            "/v1/settings/sales",
            admin,
            json!({"deal_follow_up_days": 3}),
        )
        .await;
    assert_eq!(set.ok(200)["deal_follow_up_days"], 3);
    assert_eq!(run(2).await, 0, "not idle long enough");
    assert_eq!(run(4).await, 2, "both idle for 3 days by day 4");
    assert_eq!(run(4).await, 0, "once per idle period");
    // A won deal is no longer followed up.
    let pipelines = app.get("/v1/pipelines", admin).await;
    let won = pipelines.ok(200)["data"][0]["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["kind"] == "won")
        .unwrap()["id"]
        .clone();
    app.patch(
        &format!("/v1/deals/{}", id(&busy)),
        admin,
        json!({"stage_id": won}),
    )
    .await
    .ok(200);
    assert_eq!(run(8).await, 1, "the open one, idle for another period");

    let tasks = app.get("/v1/tasks", &seller.access_token).await;
    let tasks = tasks.ok(200)["data"].as_array().unwrap().clone();
    assert_eq!(tasks.len(), 2);
    assert_eq!(tasks[0]["title"], "Follow up: Fleet");
    assert_eq!(tasks[0]["deal_id"], deal["id"]);
    assert_eq!(tasks[0]["owner_id"], seller.user_id);
    let notes = app.get("/v1/notifications", &seller.access_token).await;
    assert_eq!(notes.ok(200)["data"][0]["kind"], "follow_up_task");

    // Turning the rule off stops it all.
    app.patch(
        "/v1/settings/sales",
        admin,
        json!({"deal_follow_up_days": null}),
    )
    .await
    .ok(200);
    assert_eq!(run(30).await, 0);
    app.patch(
        "/v1/settings/sales",
        admin,
        json!({"deal_follow_up_days": 0}),
    )
    .await
    .problem(422, "validation-failed");
}

#[tokio::test]
async fn task_lists_refuse_views_and_filters_over_fields_the_role_hides() {
    let app = TestApp::spawn().await;
    let acme = app.sign_up("Acme").await;
    let admin = &acme.access_token;
    let role = app
        .create_role(
            admin,
            "No due times",
            json!({"tasks": {"actions": ["read"], "scope": "all",
                             "fields": {"due_at": "hidden", "owner_id": "hidden"}}}),
        )
        .await;
    let reader = app.add_user(admin, &[&role]).await;
    for (query, param) in [
        ("view=overdue".to_owned(), "view"),
        (format!("owner_id={}", acme.user_id), "owner_id"),
    ] {
        let refused = app
            .get(&format!("/v1/tasks?{query}"), &reader.access_token)
            .await;
        refused.problem(403, "hidden-field");
        assert_eq!(refused.body["errors"][0]["field"], param);
        app.get(&format!("/v1/tasks?{query}"), admin).await.ok(200);
    }
    app.get("/v1/tasks?status=open", &reader.access_token)
        .await
        .ok(200);
}

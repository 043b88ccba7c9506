//! Record scope and permissions of the contact service, for roles the HTTP API cannot
//! hand out yet (users and role assignment arrive with tenant administration).

use std::sync::Arc;

use serde_json::json;
use shared::AppState;
use shared::config::{Config, Secret};
use shared::contacts::service::{self, Contacts};
use shared::contacts::{ContactPatch, NewContact};
use shared::engine;
use shared::error::Error;
use shared::ids::{TenantId, new_id};
use shared::policy::{Effective, templates};
use shared::principal::Caller;
use shared::principal::Principal;
use shared::state::Ports;
use shared::versioned::Precondition;

struct World {
    state: AppState,
    tenant: TenantId,
    _dir: tempfile::TempDir,
}

fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let vars = [("CRM_DATA_DIR".to_owned(), dir.path().display().to_string())]
        .into_iter()
        .collect();
    let config = Config::from_vars(&vars).unwrap();
    let ports = Ports {
        table: Arc::new(shared::table::sqlite::SqliteTable::in_memory().unwrap()),
        blobs: Arc::new(
            shared::blobs::fs::FsBlobs::new(&dir.path().join("files"), "http://x", &[2; 32])
                .unwrap(),
        ),
        keys: Arc::new(shared::keys::local::LocalKeys::from_bytes(&[3; 32]).unwrap()),
        mailer: Arc::new(shared::mail::file::FileMailer::new(
            &dir.path().join("mail"),
            "no-reply@localhost",
        )),
        local_files: None,
    };
    let state = shared::wiring::state(config, &Secret::from_bytes(&[1; 32]), ports);
    World {
        state,
        tenant: TenantId::generate(),
        _dir: dir,
    }
}

fn as_role(world: &World, role: &str) -> Principal {
    let template = templates().into_iter().find(|t| t.id == role).unwrap();
    let user_id = new_id(shared::ids::UserId::PREFIX);
    Principal {
        tenant: world.tenant.clone(),
        team_members: [user_id.clone()].into_iter().collect(),
        user_id,
        caller: Caller::User,
        must_enrol_mfa: false,
        session_id: Some(new_id(shared::ids::SessionId::PREFIX)),
        role_ids: vec![role.to_owned()],
        permissions: Effective::union([&template.permissions]),
        request: Default::default(),
        stamp: None,
    }
}

fn new_contact(name: &str) -> NewContact {
    serde_json::from_value(json!({ "name": name })).unwrap()
}

fn patch(value: serde_json::Value) -> ContactPatch {
    serde_json::from_value(value).unwrap()
}

#[tokio::test]
async fn sales_see_only_their_own_contacts() {
    let w = world();
    let (alice, bob) = (as_role(&w, "sales"), as_role(&w, "sales"));
    let hers = service::create(&w.state, &alice, new_contact("Hers"))
        .await
        .unwrap();
    service::create(&w.state, &bob, new_contact("His"))
        .await
        .unwrap();
    assert!(matches!(
        service::get(&w.state, &bob, hers.id(), false).await,
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        service::update(
            &w.state,
            &bob,
            hers.id(),
            Precondition::Any,
            patch(json!({"title": "x"}))
        )
        .await,
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        engine::delete(&w.state, &bob, &Contacts, hers.id(), Precondition::Any).await,
        Err(Error::NotFound(_))
    ));
    let listed = service::list(&w.state, &bob, Default::default(), Default::default())
        .await
        .unwrap();
    let names: Vec<_> = listed
        .data
        .iter()
        .map(|c| c.body["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["His"]);
    let admin = as_role(&w, "admin");
    let all = service::list(&w.state, &admin, Default::default(), Default::default())
        .await
        .unwrap();
    assert_eq!(all.data.len(), 2);
}

#[tokio::test]
async fn taking_over_a_contact_needs_assign() {
    let w = world();
    let admin = as_role(&w, "admin");
    let contact = service::create(&w.state, &admin, new_contact("Ada"))
        .await
        .unwrap();
    // An editor may update every contact, but not make it theirs without `assign`.
    let mut support = as_role(&w, "support");
    let editor: shared::policy::Permissions = serde_json::from_value(
        json!({"contacts": {"actions": ["read", "update"], "scope": "all"}}),
    )
    .unwrap();
    support.permissions = Effective::union([&editor]);
    let taken = service::update(
        &w.state,
        &support,
        contact.id(),
        Precondition::Any,
        patch(json!({"owner_id": support.user_id})),
    )
    .await;
    assert!(matches!(taken, Err(Error::Forbidden(_))), "{taken:?}");
    service::update(
        &w.state,
        &support,
        contact.id(),
        Precondition::Any,
        patch(json!({"title": "CTO"})),
    )
    .await
    .unwrap();
    // Sales may hand their own contact to a colleague; it then leaves their scope.
    let sales = as_role(&w, "sales");
    let theirs = service::create(&w.state, &sales, new_contact("Lead"))
        .await
        .unwrap();
    let stranger = new_id(shared::ids::UserId::PREFIX);
    let handed = service::update(
        &w.state,
        &sales,
        theirs.id(),
        Precondition::Any,
        patch(json!({"owner_id": stranger})),
    )
    .await;
    let Err(Error::Validation(errors)) = handed else {
        panic!("an owner who is not a user must be refused: {handed:?}");
    };
    assert_eq!(errors[0].field, "owner_id");
    add_user(&w, &admin.user_id).await;
    let handed = service::update(
        &w.state,
        &sales,
        theirs.id(),
        Precondition::Any,
        patch(json!({"owner_id": admin.user_id})),
    )
    .await
    .unwrap();
    assert_eq!(handed.body["owner_id"], admin.user_id.as_str());
    assert!(matches!(
        service::get(&w.state, &sales, theirs.id(), false).await,
        Err(Error::NotFound(_))
    ));
    service::get(&w.state, &admin, theirs.id(), false)
        .await
        .unwrap();
}

/// Stores an active user record directly (this suite tests the service below HTTP; the
/// black-box suites invite users through the API).
async fn add_user(w: &World, user_id: &str) {
    let user = shared::directory::User {
        id: user_id.to_owned(),
        email: format!("{user_id}@example.com"),
        name: "Colleague".into(),
        password_hash: String::new(),
        status: shared::directory::Status::Active,
        role_ids: vec!["admin".into()],
        locale: "en".into(),
        mfa: None,
        created_at: String::new(),
        updated_at: String::new(),
        version: 1,
    };
    let item =
        shared::table::to_item(&shared::directory::user_key(&w.tenant, user_id), &user).unwrap();
    w.state
        .table
        .put(item, shared::table::Condition::NotExists)
        .await
        .unwrap();
}

#[tokio::test]
async fn read_only_users_change_nothing() {
    let w = world();
    let admin = as_role(&w, "admin");
    let contact = service::create(&w.state, &admin, new_contact("Ada"))
        .await
        .unwrap();
    let reader = as_role(&w, "read_only");
    service::get(&w.state, &reader, contact.id(), false)
        .await
        .unwrap();
    assert!(matches!(
        service::create(&w.state, &reader, new_contact("X")).await,
        Err(Error::Forbidden(_))
    ));
    assert!(matches!(
        service::update(
            &w.state,
            &reader,
            contact.id(),
            Precondition::Any,
            patch(json!({"title": "x"}))
        )
        .await,
        Err(Error::Forbidden(_))
    ));
    assert!(matches!(
        engine::delete(
            &w.state,
            &reader,
            &Contacts,
            contact.id(),
            Precondition::Any
        )
        .await,
        Err(Error::Forbidden(_))
    ));
}

#[tokio::test]
async fn only_roles_with_audit_read_see_the_log() {
    let w = world();
    for role in ["manager", "sales", "support", "finance", "read_only"] {
        let reader = as_role(&w, role);
        let reply = shared::audit::list(&w.state, &reader, Default::default()).await;
        assert!(
            matches!(reply, Err(Error::Forbidden(_))),
            "{role}: {reply:?}"
        );
    }
    let admin = as_role(&w, "admin");
    service::create(&w.state, &admin, new_contact("Ada"))
        .await
        .unwrap();
    let log = shared::audit::list(&w.state, &admin, Default::default())
        .await
        .unwrap();
    assert_eq!(log.data.len(), 1);
    assert_eq!(log.data[0].action, "contact.created");
}

//! Black-box test support: start the real app on a random port, sign up tenants, call the
//! API over HTTP. `CRM_TEST_BACKEND=aws` runs the same tests on the AWS twins (moto).

#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use base64::Engine;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use shared::AppState;
use shared::config::Config;

/// The sender of the test apps' mail (a verified identity on moto).
pub const MAIL_FROM: &str = "no-reply@example.com";

/// The deployment secret of test apps, so tests can forge tokens with it.
pub const SECRET: [u8; 32] = [42; 32];

pub struct TestApp {
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    pub state: AppState,
    pub data_dir: tempfile::TempDir,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
}

/// A clock that stands still.
pub struct StillClock(pub time::OffsetDateTime);

impl shared::clock::Clock for StillClock {
    fn now(&self) -> time::OffsetDateTime {
        self.0
    }
}

/// A tenant made by sign-up, with its admin's tokens.
#[derive(Clone, Debug)]
pub struct Tenant {
    pub tenant_id: String,
    pub user_id: String,
    pub email: String,
    pub password: String,
    pub access_token: String,
    pub refresh_token: String,
}

/// A user who joined a tenant by invitation, signed in.
#[derive(Clone, Debug)]
pub struct Member {
    pub user_id: String,
    pub email: String,
    pub password: String,
    pub access_token: String,
    pub refresh_token: String,
}

/// The password test users choose.
pub const PASSWORD: &str = "plum tree at dawn 42";

/// An email no other test uses.
/// The repository's root, as `cargo test` names the crate's directory at run time: a
/// build cache shared between checkouts may hold this binary compiled in another one,
/// whose compile-time path would be that checkout's.
pub fn repo_root() -> std::path::PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(
            || std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")),
            std::path::PathBuf::from,
        )
        .join("../..")
}

pub fn unique_email(who: &str) -> String {
    format!(
        "{who}-{}@example.com",
        ulid::Ulid::new().to_string().to_ascii_lowercase()
    )
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    /// Asserts the reply is an RFC 9457 problem of `status` and `type` suffix `kind`.
    pub fn problem(&self, status: u16, kind: &str) -> &Value {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.body);
        assert_eq!(
            self.headers["content-type"], "application/problem+json",
            "body: {}",
            self.body
        );
        assert_eq!(
            self.body["type"],
            format!("urn:crm:problem:{kind}"),
            "{}",
            self.body
        );
        assert_eq!(self.body["status"], status);
        assert!(self.body["title"].is_string());
        assert!(self.body["detail"].as_str().is_some_and(|d| !d.is_empty()));
        &self.body
    }

    /// The fields a 422 names.
    pub fn invalid_fields(&self) -> Vec<String> {
        self.problem(422, "validation-failed");
        self.body["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .map(|e| e["field"].as_str().unwrap().to_owned())
            .collect()
    }

    pub fn ok(&self, status: u16) -> &Value {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.body);
        &self.body
    }

    pub fn etag(&self) -> String {
        self.headers["etag"].to_str().unwrap().to_owned()
    }

    /// The `Set-Cookie` line of the `crm_refresh` cookie, if the reply sets it.
    pub fn refresh_cookie(&self) -> Option<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .find(|line| line.starts_with("crm_refresh="))
    }
}

/// The value of a `Set-Cookie` line (`name=value; attributes`).
pub fn cookie_value(line: &str) -> String {
    let pair = line.split(';').next().unwrap();
    pair.split_once('=').unwrap().1.to_owned()
}

/// The attributes of a `Set-Cookie` line, trimmed.
pub fn cookie_attributes(line: &str) -> Vec<String> {
    line.split(';')
        .skip(1)
        .map(|a| a.trim().to_owned())
        .collect()
}

pub fn test_config(data_dir: &std::path::Path, extra: &[(&str, &str)]) -> Config {
    let mut vars: HashMap<String, String> = HashMap::from([
        ("CRM_DATA_DIR".into(), data_dir.display().to_string()),
        (
            "CRM_SECRET".into(),
            base64::engine::general_purpose::STANDARD.encode(SECRET),
        ),
        // Failed logins answer at once in tests; the timing test sets the floor itself.
        ("CRM_AUTH_ANSWER_FLOOR_MS".into(), "0".into()),
        // Background jobs are picked up at once.
        ("CRM_WORKER_INTERVAL_MS".into(), "20".into()),
    ]);
    for (k, v) in extra {
        vars.insert((*k).into(), (*v).into());
    }
    Config::from_vars(&vars).expect("valid test configuration")
}

/// The state for a test app on the backend CRM_TEST_BACKEND names (embedded by default),
/// its table first passed through `wrap`. On AWS, the resources' name is kept in the data
/// directory, so a restarted app finds its data again.
async fn test_state(
    config: Config,
    data_dir: &std::path::Path,
    wrap: impl FnOnce(Arc<dyn shared::table::Table>) -> Arc<dyn shared::table::Table>,
) -> AppState {
    let (secret, mut ports) = match std::env::var("CRM_TEST_BACKEND").as_deref() {
        Ok("aws") => {
            let url = std::env::var("CRM_TEST_MOTO_URL")
                .expect("CRM_TEST_BACKEND=aws needs CRM_TEST_MOTO_URL (see infra/test.sh)");
            let clients = shared::state::AwsClients::for_emulator(&url).await;
            let marker = data_dir.join("aws-resources");
            let name = std::fs::read_to_string(&marker).unwrap_or_else(|_| {
                let name = format!("crm-{}", ulid::Ulid::new().to_string().to_ascii_lowercase());
                std::fs::write(&marker, &name).unwrap();
                name
            });
            let key_id = shared::state::bootstrap_aws(&clients, &name, &name, Some(MAIL_FROM))
                .await
                .unwrap();
            let ports = shared::state::Ports {
                table: Arc::new(shared::table::dynamo::DynamoTable::new(
                    clients.dynamodb,
                    name.clone(),
                )),
                blobs: Arc::new(shared::blobs::s3::S3Blobs::new(clients.s3, name)),
                keys: Arc::new(shared::keys::kms::KmsKeys::new(clients.kms, key_id)),
                mailer: Arc::new(shared::mail::ses::SesMailer::new(clients.ses, MAIL_FROM)),
                local_files: None,
            };
            (shared::config::Secret::from_bytes(&SECRET), ports)
        }
        _ => shared::wiring::ports(&config).await.unwrap(),
    };
    ports.table = wrap(ports.table);
    shared::wiring::state(config, &secret, ports)
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(&[]).await
    }

    /// An app with extra configuration variables.
    pub async fn spawn_with(extra: &[(&str, &str)]) -> Self {
        let data_dir = tempfile::tempdir().unwrap();
        Self::spawn_in(data_dir, extra).await
    }

    /// An app whose clock stands still at the moment it starts (a second instance of it
    /// shares that clock): for rules over time (rate limits) that a slow backend must not
    /// tip.
    pub async fn spawn_with_still_clock(extra: &[(&str, &str)]) -> Self {
        let still = StillClock(time::OffsetDateTime::now_utc());
        Self::start(tempfile::tempdir().unwrap(), extra, Some(Arc::new(still))).await
    }

    /// An app on an existing data directory (to test restarts).
    pub async fn spawn_in(data_dir: tempfile::TempDir, extra: &[(&str, &str)]) -> Self {
        Self::start(data_dir, extra, None).await
    }

    async fn start(
        data_dir: tempfile::TempDir,
        extra: &[(&str, &str)],
        clock: Option<Arc<dyn shared::clock::Clock>>,
    ) -> Self {
        Self::start_wrapped(data_dir, extra, clock, |table| table).await
    }

    async fn start_wrapped(
        data_dir: tempfile::TempDir,
        extra: &[(&str, &str)],
        clock: Option<Arc<dyn shared::clock::Clock>>,
        wrap: impl FnOnce(Arc<dyn shared::table::Table>) -> Arc<dyn shared::table::Table>,
    ) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let url = format!("http://{addr}");
        let mut extra = extra.to_vec();
        extra.push(("CRM_PUBLIC_URL", &url));
        let config = test_config(data_dir.path(), &extra);
        let mut state = test_state(config, data_dir.path(), wrap).await;
        if let Some(clock) = clock {
            state.clock = clock;
        }
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let server_state = state.clone();
        let server = tokio::spawn(async move {
            crm::serve(listener, server_state, async {
                let _ = rx.await;
            })
            .await
            .unwrap();
        });
        Self {
            addr,
            client: reqwest::Client::new(),
            state,
            data_dir,
            shutdown: Some(tx),
            server: Some(server),
        }
    }

    /// An app whose table counts what each call would cost in DynamoDB capacity units
    /// (`docs/capacity.md`), with the background workers idle, so that what the meter
    /// shows between two requests is what the second one cost.
    pub async fn spawn_metered() -> (Self, Arc<shared::table::metered::Metered>) {
        let mut meter = None;
        let app = Self::start_wrapped(
            tempfile::tempdir().unwrap(),
            &[("CRM_WORKER_INTERVAL_MS", "60000")],
            None,
            |table| {
                let metered = Arc::new(shared::table::metered::Metered::new(table));
                meter = Some(metered.clone());
                metered
            },
        )
        .await;
        (app, meter.expect("the table was wrapped"))
    }

    /// A second server on this app's table, blobs and keys, with its own process state
    /// (as a second Lambda instance has): returns its base URL. It stops with the test.
    pub async fn second_instance(&self, extra: &[(&str, &str)]) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let config = test_config(self.data_dir.path(), extra);
        let ports = shared::state::Ports {
            table: self.state.table.clone(),
            blobs: self.state.blobs.clone(),
            keys: self.state.keys.clone(),
            mailer: self.state.mailer.clone(),
            local_files: self.state.local_files.clone(),
        };
        let mut state =
            shared::wiring::state(config, &shared::config::Secret::from_bytes(&SECRET), ports);
        state.clock = self.state.clock.clone();
        tokio::spawn(async move {
            axum::serve(
                listener,
                crm::app(state).into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
            .unwrap();
        });
        url
    }

    /// Stops the server (finishing requests in flight) and hands back its data directory.
    pub async fn stop(mut self) -> tempfile::TempDir {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.unwrap();
        }
        let Self { data_dir, .. } = self;
        data_dir
    }

    /// The origin a browser on this app sends in `Origin`.
    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `POST path` as the console in a browser on this app sends it: `body` (if any)
    /// and the `crm_refresh` cookie (if any), with this site's `Origin`.
    pub async fn browser_post(
        &self,
        path: &str,
        body: Option<Value>,
        cookie: Option<&str>,
    ) -> Reply {
        let origin = self.origin();
        let cookie = cookie.map(|c| format!("crm_refresh={c}"));
        let mut headers = vec![("origin", origin.as_str())];
        if let Some(cookie) = &cookie {
            headers.push(("cookie", cookie.as_str()));
        }
        self.call_with(Method::POST, path, None, body, &headers)
            .await
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Sends a request; `body` is sent as JSON when given.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        self.call_with(method, path, token, body, &[]).await
    }

    pub async fn call_with(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut request = self.client.request(method, self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        into_reply(request.send().await.unwrap()).await
    }

    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.call(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.call(Method::POST, path, token, Some(body)).await
    }

    /// `POST` of a raw body with `content_type` (a CSV file to import).
    pub async fn upload(
        &self,
        path: &str,
        token: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Reply {
        let request = self
            .client
            .post(self.url(path))
            .bearer_auth(token)
            .header("content-type", content_type)
            .body(body);
        into_reply(request.send().await.unwrap()).await
    }

    /// Polls a job (`/v1/imports/{id}`, `/v1/exports/{id}`) until it ends.
    pub async fn wait_for_job(&self, path: &str, token: &str) -> Value {
        for _ in 0..1500 {
            let reply = self.get(path, token).await;
            let status = reply.ok(200)["status"].as_str().unwrap().to_owned();
            if status == "succeeded" || status == "failed" {
                return reply.body;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("job {path} did not end");
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value) -> Reply {
        self.call(Method::PATCH, path, Some(token), Some(body))
            .await
    }

    /// `POST /v1/auth/login`.
    pub async fn login(&self, email: &str, password: &str) -> Reply {
        self.post(
            "/v1/auth/login",
            None,
            json!({"email": email, "password": password}),
        )
        .await
    }

    /// `POST /v1/auth/refresh`.
    pub async fn refresh(&self, refresh_token: &str) -> Reply {
        self.post(
            "/v1/auth/refresh",
            None,
            json!({ "refresh_token": refresh_token }),
        )
        .await
    }

    /// `POST /v1/auth/logout`.
    pub async fn logout(&self, refresh_token: &str) -> Reply {
        self.post(
            "/v1/auth/logout",
            None,
            json!({ "refresh_token": refresh_token }),
        )
        .await
    }

    pub async fn delete(&self, path: &str, token: &str) -> Reply {
        self.call(Method::DELETE, path, Some(token), None).await
    }

    /// Signs up a new tenant with a unique admin email.
    pub async fn sign_up(&self, company: &str) -> Tenant {
        let email = format!(
            "admin-{}@example.com",
            ulid::Ulid::new().to_string().to_ascii_lowercase()
        );
        self.sign_up_as(company, &email).await
    }

    pub async fn sign_up_as(&self, company: &str, email: &str) -> Tenant {
        let password = PASSWORD;
        let reply = self
            .post(
                "/v1/signup",
                None,
                json!({"company_name": company, "email": email, "password": password}),
            )
            .await;
        let body = reply.ok(201);
        Tenant {
            tenant_id: body["tenant_id"].as_str().unwrap().to_owned(),
            user_id: body["user_id"].as_str().unwrap().to_owned(),
            email: email.to_owned(),
            password: password.to_owned(),
            access_token: body["access_token"].as_str().unwrap().to_owned(),
            refresh_token: body["refresh_token"].as_str().unwrap().to_owned(),
        }
    }

    /// The mail sent to `to` so far, oldest first: read from the drop directory when
    /// embedded, from moto's record of what SES sent on AWS.
    pub async fn mail_to(&self, to: &str) -> Vec<shared::mail::Mail> {
        let all: Vec<shared::mail::Mail> = match std::env::var("CRM_TEST_BACKEND").as_deref() {
            Ok("aws") => {
                let url = std::env::var("CRM_TEST_MOTO_URL").unwrap();
                // Our moto wrapper's record of what SES sent (see infra/moto_server.py).
                reqwest::get(format!("{url}/crm-test/ses-messages"))
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap()
            }
            _ => shared::mail::file::FileMailer::read_all(&self.data_dir.path().join("mail"))
                .unwrap()
                .into_iter()
                .map(|d| d.mail)
                .collect(),
        };
        all.into_iter().filter(|m| m.to == to).collect()
    }

    /// The last link in the latest mail to `to` that carries a `token=` parameter: the
    /// token itself.
    pub async fn token_mailed_to(&self, to: &str) -> String {
        let mail = self.mail_to(to).await;
        let last = mail.last().unwrap_or_else(|| panic!("no mail to {to}"));
        let at = last.text.rfind("token=").expect("a token link") + "token=".len();
        last.text[at..]
            .split(|c: char| c.is_whitespace())
            .next()
            .unwrap()
            .to_owned()
    }

    pub async fn put(&self, path: &str, token: &str) -> Reply {
        self.call(Method::PUT, path, Some(token), None).await
    }

    /// Invites a new user with `role_ids` (as `admin_token`), accepts the mailed
    /// invitation and returns the signed-in member.
    pub async fn add_user(&self, admin_token: &str, role_ids: &[&str]) -> Member {
        let email = unique_email(&role_ids.join("-").replace('_', "-"));
        let invited = self
            .post(
                "/v1/users",
                Some(admin_token),
                json!({ "email": email, "role_ids": role_ids }),
            )
            .await;
        invited.ok(201);
        let token = self.token_mailed_to(&email).await;
        let joined = self.accept_invitation(&token).await;
        let body = joined.ok(200);
        Member {
            user_id: invited.body["id"].as_str().unwrap().to_owned(),
            email,
            password: PASSWORD.to_owned(),
            access_token: body["access_token"].as_str().unwrap().to_owned(),
            refresh_token: body["refresh_token"].as_str().unwrap().to_owned(),
        }
    }

    /// `POST /v1/invitations/accept` with the test password.
    pub async fn accept_invitation(&self, token: &str) -> Reply {
        self.post(
            "/v1/invitations/accept",
            None,
            json!({ "token": token, "password": PASSWORD }),
        )
        .await
    }

    /// Creates a role (as `admin_token`) with `permissions` and returns its id.
    pub async fn create_role(&self, admin_token: &str, name: &str, permissions: Value) -> String {
        self.post(
            "/v1/roles",
            Some(admin_token),
            json!({ "name": name, "permissions": permissions }),
        )
        .await
        .ok(201)["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Creates a contact and returns its body.
    pub async fn create_contact(&self, token: &str, body: Value) -> Value {
        self.post("/v1/contacts", Some(token), body)
            .await
            .ok(201)
            .clone()
    }
}

pub async fn into_reply(response: reqwest::Response) -> Reply {
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.bytes().await.unwrap();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
    };
    Reply {
        status,
        headers,
        body,
    }
}

/// A token signed with the app's key but carrying `claims` (to test claim checks).
pub fn forge_token(claims: Value, alg: jsonwebtoken::Algorithm, key: &[u8]) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(alg),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(key),
    )
    .unwrap()
}

/// The key the app signs access tokens with (derived from the test secret).
pub fn signing_key() -> Vec<u8> {
    shared::config::Secret::from_bytes(&SECRET)
        .derive("access-tokens")
        .to_vec()
}

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

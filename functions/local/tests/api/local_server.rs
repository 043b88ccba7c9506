//! The local server as a deployment: data survives restarts, Ctrl-C stops it cleanly,
//! and it serves the built web console at `/` beside the API.

use std::process::{Command, Stdio};
use std::time::Duration;

use crate::support::TestApp;
use serde_json::json;

#[tokio::test]
async fn data_survives_a_restart() {
    let app = TestApp::spawn().await;
    let t = app.sign_up("Acme").await;
    let contact = app
        .create_contact(&t.access_token, json!({"name": "Ada"}))
        .await;
    let dir = app.stop().await;
    let again = TestApp::spawn_in(dir, &[]).await;
    let path = format!("/v1/contacts/{}", contact["id"].as_str().unwrap());
    // The same deployment secret and master key: old tokens and data keys still work.
    let read = again.get(&path, &t.access_token).await;
    assert_eq!(read.ok(200)["name"], "Ada");
    again
        .post(
            "/v1/auth/login",
            None,
            json!({"email": t.email, "password": t.password}),
        )
        .await
        .ok(200);
}

#[tokio::test]
async fn a_second_server_on_the_same_data_directory_is_refused() {
    if std::env::var("CRM_TEST_BACKEND").as_deref() == Ok("aws") {
        return; // the data directory holds no table on the AWS twins
    }
    let app = TestApp::spawn().await;
    let config = crate::support::test_config(app.data_dir.path(), &[]);
    let refused = shared::wiring::from_config(config).await.err().unwrap();
    assert!(
        refused.to_string().contains("in use by another server"),
        "{refused}"
    );
    // Once the first has stopped, the directory is free.
    let dir = app.stop().await;
    let again = TestApp::spawn_in(dir, &[]).await;
    again.sign_up("Acme").await;
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Every path under `root` (itself included) with its permission bits.
#[cfg(unix)]
fn modes_under(root: &std::path::Path) -> Vec<(std::path::PathBuf, u32)> {
    use std::os::unix::fs::PermissionsExt;
    let mut found = Vec::new();
    let mut pending = vec![root.to_owned()];
    while let Some(path) = pending.pop() {
        let meta = std::fs::symlink_metadata(&path).unwrap();
        if meta.is_dir() {
            for entry in std::fs::read_dir(&path).unwrap() {
                pending.push(entry.unwrap().path());
            }
        }
        found.push((path, meta.permissions().mode() & 0o777));
    }
    found
}

async fn wait_until_up(url: &str) {
    for _ in 0..100 {
        if reqwest::get(url).await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the server at {url} did not come up");
}

/// Signs up a company on the server at `base` and creates the contact "Ada"; returns the
/// admin's access token.
async fn sign_up_and_add_ada(client: &reqwest::Client, base: &str) -> String {
    let signup = client
        .post(format!("{base}/v1/signup"))
        .json(&json!({"company_name": "Acme", "email": "a@example.com", "password": "plum tree at dawn"}))
        .send()
        .await
        .unwrap();
    assert_eq!(signup.status(), 201);
    let token = signup.json::<serde_json::Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let created = client
        .post(format!("{base}/v1/contacts"))
        .bearer_auth(&token)
        .json(&json!({"name": "Ada"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    token
}

#[tokio::test]
async fn the_crm_binary_creates_its_data_dir_and_stops_cleanly_on_ctrl_c() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let port = free_port();
    let start = || {
        Command::new(env!("CARGO_BIN_EXE_crm"))
            .args(["--bind", &format!("127.0.0.1:{port}")])
            .args(["--data-dir", data.to_str().unwrap()])
            .env_remove("CRM_SECRET")
            .env_remove("CRM_BACKEND")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let base = format!("http://127.0.0.1:{port}");
    let mut child = start();
    wait_until_up(&format!("{base}/v1/me")).await;
    let client = reqwest::Client::new();
    let token = sign_up_and_add_ada(&client, &base).await;

    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    assert!(
        exit.success(),
        "Ctrl-C should stop the server cleanly: {exit:?}"
    );

    // Everything the server made holds customer data: owner-only, from the start.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let made = modes_under(&data);
        for name in ["secret.key", "master.key", "crm.sqlite3", "files"] {
            assert!(
                made.iter().any(|(p, _)| p.ends_with(name)),
                "{name} in {made:?}"
            );
        }
        for (path, mode) in &made {
            let private = if path.is_dir() { 0o700 } else { 0o600 };
            assert_eq!(*mode, private, "{}", path.display());
        }
        // A data directory left open to others (as earlier versions made it) is closed
        // at the next start.
        std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
        let db = data.join("crm.sqlite3");
        std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
    }

    let mut child = start();
    wait_until_up(&format!("{base}/v1/me")).await;
    #[cfg(unix)]
    for (path, mode) in modes_under(&data) {
        let private = if path.is_dir() { 0o700 } else { 0o600 };
        assert_eq!(mode, private, "{} after a restart", path.display());
    }
    let listed: serde_json::Value = client
        .get(format!("{base}/v1/contacts"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["data"][0]["name"], "Ada");
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    assert!(child.wait().unwrap().success());
}

#[tokio::test]
async fn the_crm_binary_runs_on_the_aws_twins_by_configuration() {
    let moto = std::env::var("CRM_TEST_MOTO_URL")
        .expect("CRM_TEST_MOTO_URL is not set: run the tests with infra/test.sh");
    let port = free_port();
    let name = format!("crm-{}", ulid::Ulid::new().to_string().to_ascii_lowercase());
    let mut child = Command::new(env!("CARGO_BIN_EXE_crm"))
        .args(["--bind", &format!("127.0.0.1:{port}"), "--bootstrap-aws"])
        .env("CRM_BACKEND", "aws")
        .env("CRM_AWS_ENDPOINT_URL", &moto)
        .env("CRM_TABLE_NAME", &name)
        .env("CRM_BUCKET_NAME", &name)
        .env("CRM_KMS_KEY_ID", format!("alias/{name}"))
        .env("CRM_SECRET", "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    wait_until_up(&format!("{base}/v1/me")).await;
    sign_up_and_add_ada(&reqwest::Client::new(), &base).await;
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    assert!(child.wait().unwrap().success());

    // The data is in DynamoDB: the table holds the tenant's items.
    let items = shared::state::AwsClients::for_emulator(&moto)
        .await
        .dynamodb
        .scan()
        .table_name(&name)
        .send()
        .await
        .unwrap();
    assert!(
        items.count() > 5,
        "sign-up and the contact were written to DynamoDB"
    );
}

const INDEX: &str =
    "<!doctype html><title>CRM console</title><script src=\"/assets/app-abc123.js\"></script>";
const SCRIPT: &str = "console.log('crm');";

/// A built console in a temporary directory (`index.html`, one hashed asset), with a
/// secret file beside it that must never be served.
fn built_console() -> (tempfile::TempDir, std::path::PathBuf) {
    let root = tempfile::tempdir().unwrap();
    let dist = root.path().join("dist");
    std::fs::create_dir_all(dist.join("assets")).unwrap();
    std::fs::write(dist.join("index.html"), INDEX).unwrap();
    std::fs::write(dist.join("assets/app-abc123.js"), SCRIPT).unwrap();
    std::fs::write(root.path().join("secret.txt"), "top secret").unwrap();
    (root, dist)
}

/// Asserts the console's security headers.
fn assert_console_headers(reply: &crate::support::Reply) {
    assert_eq!(
        reply.headers["content-security-policy"],
        shared::http::browser::CONSOLE_CSP
    );
    assert!(shared::http::browser::CONSOLE_CSP.contains("script-src 'self';"));
    assert_eq!(reply.headers["x-content-type-options"], "nosniff");
    assert_eq!(reply.headers["x-frame-options"], "DENY");
    assert_eq!(
        reply.headers["referrer-policy"],
        "strict-origin-when-cross-origin"
    );
}

async fn get_anonymous(app: &TestApp, path: &str) -> crate::support::Reply {
    app.call(reqwest::Method::GET, path, None, None).await
}

#[tokio::test]
async fn the_console_is_served_at_the_root_and_client_routes_fall_back_to_its_page() {
    let (_root, dist) = built_console();
    let app = TestApp::spawn_with(&[("CRM_CONSOLE_DIR", dist.to_str().unwrap())]).await;
    for path in [
        "/",
        "/contacts/123",
        "/deals/board?pipeline=x",
        "/zh-CN/settings",
    ] {
        let page = get_anonymous(&app, path).await;
        assert_eq!(page.status, 200, "{path}");
        assert_eq!(page.body, INDEX, "{path}");
        assert!(
            page.headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html"),
            "{path}"
        );
        assert_eq!(page.headers["cache-control"], "no-cache", "{path}");
        assert_console_headers(&page);
    }
    let script = get_anonymous(&app, "/assets/app-abc123.js").await;
    assert_eq!(script.status, 200);
    assert_eq!(script.body, SCRIPT);
    assert_eq!(
        script.headers["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert!(
        script.headers["content-type"]
            .to_str()
            .unwrap()
            .contains("javascript")
    );
    assert_console_headers(&script);

    // The API keeps its own answers.
    for path in ["/v1/nope", "/v1"] {
        get_anonymous(&app, path).await.problem(404, "not-found");
    }
    // File links (served here on the embedded twins, by S3 on AWS) are never the page.
    let file = get_anonymous(&app, "/files/nope").await;
    assert_eq!(file.headers["content-type"], "application/problem+json");
    app.call(reqwest::Method::POST, "/contacts", None, None)
        .await
        .problem(404, "not-found");
    get_anonymous(&app, "/v1/me")
        .await
        .problem(401, "unauthenticated");
}

/// Sends `GET <target>` exactly as written (an HTTP client would resolve `..` first).
async fn raw_get(app: &TestApp, target: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let request = format!(
        "GET {target} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        app.addr
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    answer
}

#[tokio::test]
async fn no_path_reaches_outside_the_console_directory() {
    let (_root, dist) = built_console();
    let app = TestApp::spawn_with(&[("CRM_CONSOLE_DIR", dist.to_str().unwrap())]).await;
    for target in [
        "/../secret.txt",
        "/assets/../../secret.txt",
        "/..%2fsecret.txt",
        "/assets/..%2f..%2fsecret.txt",
        "/%2e%2e/secret.txt",
        "/..%5csecret.txt",
        "/..%2f..%2fCargo.toml",
        "/assets/../../x",
    ] {
        let answer = raw_get(&app, target).await;
        assert!(!answer.contains("top secret"), "{target}: {answer}");
        assert!(!answer.contains("[package]"), "{target}: {answer}");
        let status = answer.split(' ').nth(1).unwrap();
        assert!(
            status == "200" && answer.ends_with(INDEX) || status.starts_with('4'),
            "{target}: {answer}"
        );
    }
}

#[tokio::test]
async fn without_a_built_console_the_root_says_how_to_build_it_and_the_api_works() {
    let missing = tempfile::tempdir().unwrap();
    let dir = missing.path().join("dist");
    let app = TestApp::spawn_with(&[("CRM_CONSOLE_DIR", dir.to_str().unwrap())]).await;
    let page = get_anonymous(&app, "/").await;
    assert_eq!(page.status, 503);
    assert!(
        page.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let text = page.body.as_str().unwrap();
    assert!(
        text.contains("npm --prefix web ci &amp;&amp; npm --prefix web run build"),
        "{text}"
    );
    assert_console_headers(&page);
    let t = app.sign_up("Acme").await;
    app.get("/v1/me", &t.access_token).await.ok(200);
}

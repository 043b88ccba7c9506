//! One suite, two twins: every case runs against the filesystem store and against S3 (on
//! moto server).

use std::time::Duration;

use shared::blobs::{BlobKey, Blobs};

fn key(k: &str) -> BlobKey {
    BlobKey::new(k).unwrap()
}

async fn a_blob_round_trips_with_its_type(blobs: &dyn Blobs) {
    let k = key("t/ten_a/docs/contract.pdf");
    let bytes: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    blobs
        .put(&k, bytes.clone(), "application/pdf")
        .await
        .unwrap();
    let blob = blobs.get(&k).await.unwrap().expect("stored");
    assert_eq!(blob.bytes, bytes);
    assert_eq!(blob.content_type, "application/pdf");
    assert_eq!(
        blobs.get(&key("t/ten_a/docs/other.pdf")).await.unwrap(),
        None
    );
    blobs.put(&k, b"v2".to_vec(), "text/plain").await.unwrap();
    let blob = blobs.get(&k).await.unwrap().unwrap();
    assert_eq!(
        (blob.bytes.as_slice(), blob.content_type.as_str()),
        (&b"v2"[..], "text/plain")
    );
}

async fn delete_is_idempotent(blobs: &dyn Blobs) {
    let k = key("t/ten_a/x.txt");
    blobs.put(&k, b"x".to_vec(), "text/plain").await.unwrap();
    blobs.delete(&k).await.unwrap();
    assert_eq!(blobs.get(&k).await.unwrap(), None);
    blobs.delete(&k).await.unwrap();
}

async fn listing_is_by_prefix_in_order_and_paged(blobs: &dyn Blobs) {
    for k in [
        "t/ten_a/e/3",
        "t/ten_a/e/1",
        "t/ten_a/e/2",
        "t/ten_a/f/1",
        "t/ten_ab/e/1",
        "t/ten_a/e/10",
    ] {
        blobs
            .put(&key(k), b"1".to_vec(), "text/plain")
            .await
            .unwrap();
    }
    let mut all = Vec::new();
    let mut after = None;
    loop {
        let page = blobs.list("t/ten_a/", after.as_ref(), 2).await.unwrap();
        assert!(page.keys.len() <= 2);
        all.extend(page.keys.iter().map(|k| k.to_string()));
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(
        all,
        [
            "t/ten_a/e/1",
            "t/ten_a/e/10",
            "t/ten_a/e/2",
            "t/ten_a/e/3",
            "t/ten_a/f/1"
        ],
        "another tenant's prefix (ten_ab) must not leak in"
    );
    let partial = blobs.list("t/ten_a/e/1", None, 10).await.unwrap();
    assert_eq!(partial.keys, [key("t/ten_a/e/1"), key("t/ten_a/e/10")]);
    assert!(
        blobs
            .list("t/none/", None, 10)
            .await
            .unwrap()
            .keys
            .is_empty()
    );
}

async fn a_signed_url_downloads_the_blob(blobs: &dyn Blobs) {
    let k = key("t/ten_a/exports/contacts.csv");
    blobs
        .put(&k, b"name\nAda\n".to_vec(), "text/csv")
        .await
        .unwrap();
    let url = blobs
        .signed_url(&k, Duration::from_secs(300))
        .await
        .unwrap();
    let response = reqwest::get(&url).await.unwrap();
    assert_eq!(response.status(), 200, "{url}");
    assert_eq!(response.bytes().await.unwrap().as_ref(), b"name\nAda\n");
    assert!(
        blobs
            .signed_url(&k, Duration::from_secs(8 * 24 * 3600))
            .await
            .is_err()
    );
}

#[test]
fn unsafe_keys_are_refused() {
    for bad in [
        "", "/abs", "a//b", "a/../b", "..", "a/./b", "a b", "a\\b", "ä", "a/",
    ] {
        assert!(BlobKey::new(bad).is_err(), "{bad:?}");
    }
    assert!(BlobKey::new("x".repeat(1025)).is_err());
    assert!(BlobKey::new("t/ten_a/file-1.v2=ok_.csv").is_ok());
}

macro_rules! conformance {
    ($($case:ident),*) => {
        mod filesystem {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let twin = crate::support::fs_blobs().await;
                super::$case(&*twin.blobs).await;
                twin.server.abort();
            })*
        }
        mod s3 {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() { super::$case(&*crate::support::s3_blobs().await).await })*
        }
    };
}

conformance!(
    a_blob_round_trips_with_its_type,
    delete_is_idempotent,
    listing_is_by_prefix_in_order_and_paged,
    a_signed_url_downloads_the_blob
);

#[tokio::test]
async fn a_local_link_that_is_tampered_or_expired_is_refused() {
    let twin = crate::support::fs_blobs().await;
    let k = key("t/ten_a/secret.txt");
    twin.blobs
        .put(&k, b"s".to_vec(), "text/plain")
        .await
        .unwrap();
    let url = twin
        .blobs
        .signed_url(&k, Duration::from_secs(60))
        .await
        .unwrap();
    let other = url.replace("secret.txt", "secret2.txt");
    assert_eq!(reqwest::get(&other).await.unwrap().status(), 403);
    let (base, _) = url.split_once('?').unwrap();
    let past = format!("{base}?expires=1&signature=AAAA");
    let response = reqwest::get(&past).await.unwrap();
    assert_eq!(response.status(), 403);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    assert_eq!(reqwest::get(base).await.unwrap().status(), 403);
    // A genuine signature on an expiry in the past is refused too.
    let parsed: Vec<(String, String)> = url
        .split_once('?')
        .unwrap()
        .1
        .split('&')
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap();
            (k.to_owned(), v.to_owned())
        })
        .collect();
    let signature = &parsed.iter().find(|(k, _)| k == "signature").unwrap().1;
    assert!(!twin.blobs.verify(&k, 1, signature));
    twin.server.abort();
}

//! One suite, two twins: every case runs against the local master-key file and against
//! KMS (on moto server).

use shared::crypto::{open, seal};
use shared::ids::TenantId;
use shared::keys::{KeyError, Keys};

async fn a_data_key_unwraps_for_its_tenant(keys: &dyn Keys) {
    let tenant = TenantId::generate();
    let made = keys.generate_data_key(&tenant).await.unwrap();
    let again = keys.unwrap_data_key(&tenant, &made.wrapped).await.unwrap();
    assert_eq!(*again, *made.plaintext);
    assert_ne!(made.wrapped.as_slice(), made.plaintext.as_slice());
    let second = keys.generate_data_key(&tenant).await.unwrap();
    assert_ne!(*second.plaintext, *made.plaintext, "each data key is new");
}

async fn another_tenants_context_is_rejected(keys: &dyn Keys) {
    let (a, b) = (TenantId::generate(), TenantId::generate());
    let made = keys.generate_data_key(&a).await.unwrap();
    assert!(matches!(
        keys.unwrap_data_key(&b, &made.wrapped).await,
        Err(KeyError::Rejected)
    ));
}

async fn a_damaged_wrapped_key_is_rejected(keys: &dyn Keys) {
    let tenant = TenantId::generate();
    let made = keys.generate_data_key(&tenant).await.unwrap();
    let mut damaged = made.wrapped.clone();
    let last = damaged.len() - 1;
    damaged[last] ^= 0x01;
    assert!(keys.unwrap_data_key(&tenant, &damaged).await.is_err());
    assert!(keys.unwrap_data_key(&tenant, &[]).await.is_err());
}

async fn fields_sealed_under_a_data_key_open_only_for_their_tenant(keys: &dyn Keys) {
    let (a, b) = (TenantId::generate(), TenantId::generate());
    let key_a = keys.generate_data_key(&a).await.unwrap();
    let sealed = seal(&key_a.plaintext, &a, "6222 0212 3456 7890");
    let unwrapped = keys.unwrap_data_key(&a, &key_a.wrapped).await.unwrap();
    assert_eq!(
        open(&unwrapped, &a, &sealed).unwrap(),
        "6222 0212 3456 7890"
    );
    assert!(open(&unwrapped, &b, &sealed).is_err());
    let key_b = keys.generate_data_key(&b).await.unwrap();
    assert!(open(&key_b.plaintext, &a, &sealed).is_err());
}

macro_rules! conformance {
    ($($case:ident),*) => {
        mod local {
            $(#[tokio::test]
            async fn $case() { super::$case(&*crate::support::local_keys()).await })*
        }
        mod kms {
            $(#[tokio::test]
            async fn $case() { super::$case(&*crate::support::kms_keys().await).await })*
        }
    };
}

conformance!(
    a_data_key_unwraps_for_its_tenant,
    another_tenants_context_is_rejected,
    a_damaged_wrapped_key_is_rejected,
    fields_sealed_under_a_data_key_open_only_for_their_tenant
);

#[test]
fn the_master_key_file_is_kept_private_and_reused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("master.key");
    let tenant = TenantId::generate();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let wrapped = runtime.block_on(async {
        let keys = shared::keys::local::LocalKeys::open(&path).unwrap();
        keys.generate_data_key(&tenant).await.unwrap()
    });
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // A restart reads the same master key and can still unwrap what it made.
    let unwrapped = runtime.block_on(async {
        let keys = shared::keys::local::LocalKeys::open(&path).unwrap();
        keys.unwrap_data_key(&tenant, &wrapped.wrapped)
            .await
            .unwrap()
    });
    assert_eq!(*unwrapped, *wrapped.plaintext);
}

//! Passwords: argon2id with OWASP's parameters (19 MiB, t=2, p=1), hashed off the async
//! runtime, plus the strength rule sign-up and password changes apply.

use std::sync::OnceLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::error::Error;

pub const MIN_LENGTH: usize = 10;

/// Hashes running at once. Each takes 19 MiB and a core for tens of milliseconds; bounding
/// them keeps a flood of logins from exhausting memory, it only makes them queue.
static HASHING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(4);
pub const MAX_LENGTH: usize = 128;

fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// A PHC string (`$argon2id$v=19$m=19456,t=2,p=1$...`) for `password`.
pub async fn hash(password: &str) -> Result<String, Error> {
    let password = zeroize::Zeroizing::new(password.to_owned());
    let _permit = HASHING
        .acquire()
        .await
        .map_err(|e| Error::Internal(e.to_string()))?;
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
        argon2()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| Error::Internal(format!("hashing failed: {e}")))
    })
    .await
    .map_err(|e| Error::Internal(e.to_string()))?
}

/// Whether `password` matches the PHC string `phc`. With `None` it checks against a dummy
/// hash and returns false, so an unknown account costs the same time as a wrong password.
pub async fn verify(password: &str, phc: Option<String>) -> bool {
    let password = zeroize::Zeroizing::new(password.to_owned());
    let Ok(_permit) = HASHING.acquire().await else {
        return false;
    };
    tokio::task::spawn_blocking(move || {
        let known = phc.is_some();
        let phc = phc.unwrap_or_else(|| dummy_hash().to_owned());
        let ok = PasswordHash::new(&phc)
            .map(|parsed| {
                argon2()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false);
        ok && known
    })
    .await
    .unwrap_or(false)
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
        argon2()
            .hash_password(b"not a real password", &salt)
            .map(|h| h.to_string())
            .unwrap_or_default()
    })
}

/// A few of the most used passwords; long enough to pass the length rule, so worth naming.
const COMMON: &[&str] = &[
    "1234567890",
    "12345678910",
    "123456789a",
    "qwertyuiop",
    "1q2w3e4r5t",
    "password1",
    "password12",
    "password123",
    "password1234",
    "passw0rd123",
    "iloveyou12",
    "qwerty1234",
    "qwerty12345",
    "abc1234567",
    "a123456789",
    "1qaz2wsx3edc",
    "zaq12wsxcde",
    "0987654321",
    "1111111111",
    "0000000000",
    "123123123123",
    "letmein123",
    "welcome123",
    "admin12345",
    "administrator",
    "changeme123",
    "football123",
    "baseball123",
    "sunshine123",
    "princess123",
];

/// The strength rule: 10 to 128 characters, not one character repeated, not a well-known
/// password, and not containing the account's email name.
pub fn check_strength(password: &str, email: &str) -> Result<(), String> {
    let len = password.chars().count();
    if len < MIN_LENGTH {
        return Err(format!("must be at least {MIN_LENGTH} characters"));
    }
    if len > MAX_LENGTH {
        return Err(format!("must be at most {MAX_LENGTH} characters"));
    }
    let lower = password.to_lowercase();
    let mut chars = lower.chars();
    let first = chars.next();
    if chars.all(|c| Some(c) == first) {
        return Err("must not be a single repeated character".into());
    }
    if COMMON.contains(&lower.as_str()) {
        return Err("is too common; choose a less guessable password".into());
    }
    let local = email.split('@').next().unwrap_or_default().to_lowercase();
    if local.chars().count() >= 4 && lower.contains(&local) {
        return Err("must not contain your email address".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_only_its_password() {
        let phc = hash("correct horse battery").await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify("correct horse battery", Some(phc.clone())).await);
        assert!(!verify("wrong horse battery", Some(phc)).await);
        assert!(!verify("anything", None).await);
    }

    #[test]
    fn weak_passwords_are_named() {
        assert!(check_strength("short", "a@b.co").is_err());
        assert!(check_strength("aaaaaaaaaaaa", "a@b.co").is_err());
        assert!(check_strength("Password123", "a@b.co").is_err());
        assert!(check_strength("alice-is-great", "alice@example.com").is_err());
        assert!(check_strength(&"x".repeat(129), "a@b.co").is_err());
        assert!(check_strength("plum tree at dawn", "alice@example.com").is_ok());
    }
}

//! Two-factor sign-in with TOTP (RFC 6238): enrolment (a secret shown as an otpauth URI
//! and a QR code, confirmed with a first code), ten single-use recovery codes shown once
//! and stored hashed, the second login step (a short-lived challenge that allows five
//! tries), and a company-wide requirement that makes users without it enrol first.
//!
//! The TOTP secret is sealed under the tenant's data key; a code is accepted once (the
//! last used time step is kept), within one step of clock drift.

use base64::Engine;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use totp_rs::{Algorithm, TOTP};
use zeroize::Zeroizing;

use super::secrets;
use super::service::{TokenPair, start_session};
use super::throttle::{self, PER_ACCOUNT};
use crate::AppState;
use crate::audit::{Actor, Entry};
use crate::clock::rfc3339;
use crate::crypto::{open, seal};
use crate::directory::{self, MfaState, Status, User};
use crate::error::Error;
use crate::ids::{TenantId, new_id};
use crate::principal::Principal;
use crate::principal::RequestMeta;
use crate::table::{Condition, Key, TableError, Write, from_item, to_item};

/// Seconds per TOTP step.
const STEP: u64 = 30;
const DIGITS: usize = 6;
/// How long the second login step may take.
pub const CHALLENGE_TTL_SECS: i64 = 300;
/// Codes one challenge may try before it is spent.
const CHALLENGE_ATTEMPTS: u32 = 5;
pub const RECOVERY_CODES: usize = 10;
const CHALLENGE_PREFIX: &str = crate::ids::MfaChallengeId::PREFIX;
const ISSUER: &str = "CRM";

/// What enrolment shows the user: the secret three ways.
#[derive(Debug, Serialize)]
pub struct Enrolment {
    /// Base32, for typing into an authenticator app.
    pub secret: String,
    pub otpauth_uri: String,
    /// The URI as a QR code: `data:image/svg+xml;base64,...`.
    pub qr_code: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Code {
    /// A 6-digit TOTP code or a recovery code.
    pub code: String,
}

/// The body that turns two-factor sign-in on (confirming enrolment) or off: a code and
/// the current password, so a borrowed session alone cannot change how the user signs in.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Confirmation {
    /// A 6-digit TOTP code (or, to turn it off, a recovery code).
    pub code: String,
    /// The user's current password.
    pub password: String,
}

#[derive(Debug, Serialize)]
pub struct RecoveryCodes {
    /// Shown this once; each works once instead of a TOTP code.
    pub recovery_codes: Vec<String>,
}

/// The first login step's answer when a second factor is needed.
#[derive(Debug, Serialize)]
pub struct MfaChallenge {
    pub mfa_required: bool,
    /// Send it back with a code to `POST /v1/auth/mfa`.
    pub mfa_token: String,
    pub expires_in: i64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MfaLogin {
    pub mfa_token: String,
    pub code: String,
}

/// A pending second login step.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Challenge {
    user_id: String,
    secret_hash: String,
    expires_at: i64,
    attempts: u32,
    version: u64,
    ttl: i64,
}

fn challenge_key(tenant: &TenantId, id: &str) -> Key {
    Key::new(tenant.pk("mfa-challenges"), id)
}

fn totp(secret: Vec<u8>, account: &str) -> Result<TOTP, Error> {
    // Labels may not contain `:`; emails never do, but be safe.
    TOTP::new(
        Algorithm::SHA1,
        DIGITS,
        0,
        STEP,
        secret,
        Some(ISSUER.into()),
        account.replace(':', ""),
    )
    .map_err(|e| Error::Internal(format!("TOTP: {e}")))
}

async fn secret_of(
    state: &AppState,
    tenant: &TenantId,
    mfa: &MfaState,
) -> Result<Zeroizing<Vec<u8>>, Error> {
    let key = state.data_key(tenant).await?;
    let base32 = Zeroizing::new(
        open(&key, tenant, &mfa.sealed_secret)
            .map_err(|_| Error::Internal("the TOTP secret does not open".into()))?,
    );
    totp_rs::Secret::Encoded(base32.to_string())
        .to_bytes()
        .map(Zeroizing::new)
        .map_err(|e| Error::Internal(format!("TOTP secret: {e:?}")))
}

/// The time step `code` is valid for (now, or one step either side), if it is a current
/// code newer than `after`.
fn totp_step(secret: &[u8], email: &str, code: &str, now: u64, after: u64) -> Option<u64> {
    let code = code.trim();
    if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let totp = totp(secret.to_vec(), email).ok()?;
    let current = now / STEP;
    [current.saturating_sub(1), current, current + 1]
        .into_iter()
        .filter(|step| *step > after)
        .find(|step| bool::from(totp.generate(step * STEP).as_bytes().ct_eq(code.as_bytes())))
}

/// A recovery code as typed: lower case, without spaces or dashes.
fn normalize_recovery(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

fn new_recovery_codes() -> (Vec<String>, Vec<String>) {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut codes = Vec::new();
    for _ in 0..RECOVERY_CODES {
        let mut bytes = [0u8; 10];
        rand::rng().fill_bytes(&mut bytes);
        let chars: String = bytes
            .iter()
            .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
            .collect();
        codes.push(format!("{}-{}", &chars[..5], &chars[5..]));
    }
    let hashes = codes
        .iter()
        .map(|c| secrets::hash_secret(&normalize_recovery(c)))
        .collect();
    (codes, hashes)
}

/// Checks `code` (TOTP or recovery) against `mfa`, and returns the state after using it.
async fn use_code(
    state: &AppState,
    tenant: &TenantId,
    user: &User,
    mfa: &MfaState,
    code: &str,
) -> Result<Option<MfaState>, Error> {
    let now = state.clock.now().unix_timestamp().max(0) as u64;
    let secret = secret_of(state, tenant, mfa).await?;
    if let Some(step) = totp_step(&secret, &user.email, code, now, mfa.last_step) {
        return Ok(Some(MfaState {
            last_step: step,
            ..mfa.clone()
        }));
    }
    let typed = normalize_recovery(code);
    if typed.len() == 10
        && let Some(i) = mfa
            .recovery_hashes
            .iter()
            .position(|h| secrets::matches(h, &typed))
    {
        let mut next = mfa.clone();
        next.recovery_hashes.remove(i);
        return Ok(Some(next));
    }
    Ok(None)
}

fn wrong_code() -> Error {
    Error::validation(
        "code",
        "is not a current authenticator code or an unused recovery code",
    )
}

async fn current_user(state: &AppState, principal: &Principal) -> Result<User, Error> {
    principal.session()?;
    directory::get_user(state.table.as_ref(), &principal.tenant, &principal.user_id)
        .await?
        .ok_or_else(|| Error::Unauthenticated("The user no longer exists.".into()))
}

/// Stores `user` with `mfa` on the version it was read at, with an audit entry.
async fn save(
    state: &AppState,
    principal_or_user: (&TenantId, Actor, &RequestMeta),
    user: &User,
    mfa: Option<MfaState>,
    action: Option<&str>,
) -> Result<User, Error> {
    let (tenant, actor, request) = principal_or_user;
    let now = state.clock.now();
    let next = User {
        mfa,
        version: user.version + 1,
        updated_at: rfc3339(now),
        ..user.clone()
    };
    let mut writes = vec![Write::Put {
        item: to_item(&directory::user_key(tenant, &user.id), &next)?,
        condition: Condition::VersionIs(user.version),
    }];
    if let Some(action) = action {
        let entry = Entry::new(now, actor, action, "users", Some(&user.id), request);
        writes.extend(entry.writes(tenant)?);
    }
    match state.table.transact(writes).await {
        Ok(()) => Ok(next),
        Err(TableError::ConditionFailed { .. }) => Err(Error::conflict(
            "concurrent-modification",
            "Your account changed meanwhile; please try again.",
        )),
        Err(e) => Err(e.into()),
    }
}

/// Starts (or restarts) enrolment: a new secret, not yet in force.
pub async fn begin(state: &AppState, principal: &Principal) -> Result<Enrolment, Error> {
    let user = current_user(state, principal).await?;
    if user.mfa.as_ref().is_some_and(|m| m.confirmed) {
        return Err(Error::conflict(
            "mfa-already-enabled",
            "Two-factor sign-in is already on; turn it off first to enrol a new device.",
        ));
    }
    let mut raw = Zeroizing::new(vec![0u8; 20]);
    rand::rng().fill_bytes(&mut raw);
    let totp = totp(raw.to_vec(), &user.email)?;
    let secret = Zeroizing::new(totp.get_secret_base32());
    let key = state.data_key(&principal.tenant).await?;
    let mfa = MfaState {
        sealed_secret: seal(&key, &principal.tenant, &secret),
        confirmed: false,
        recovery_hashes: Vec::new(),
        last_step: 0,
        enabled_at: None,
    };
    let otpauth_uri = totp.get_url();
    let qr = qrcode::QrCode::new(otpauth_uri.as_bytes())
        .map_err(|e| Error::Internal(format!("QR code: {e}")))?
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(200, 200)
        .build();
    save(
        state,
        (&principal.tenant, Actor::of(principal), &principal.request),
        &user,
        Some(mfa),
        None,
    )
    .await?;
    Ok(Enrolment {
        secret: secret.to_string(),
        otpauth_uri,
        qr_code: format!(
            "data:image/svg+xml;base64,{}",
            base64::engine::general_purpose::STANDARD.encode(qr)
        ),
    })
}

/// Confirms enrolment with a first code; from now on login asks for one.
pub async fn confirm(
    state: &AppState,
    principal: &Principal,
    input: Confirmation,
) -> Result<RecoveryCodes, Error> {
    let user = current_user(state, principal).await?;
    let Some(mfa) = user.mfa.clone().filter(|m| !m.confirmed) else {
        return Err(Error::conflict(
            "mfa-not-pending",
            "Start enrolment first (POST /v1/me/mfa/totp).",
        ));
    };
    super::account::confirm_password(state, &user, "password", &input.password).await?;
    let now = state.clock.now().unix_timestamp().max(0) as u64;
    let secret = secret_of(state, &principal.tenant, &mfa).await?;
    let Some(step) = totp_step(&secret, &user.email, &input.code, now, 0) else {
        return Err(wrong_code());
    };
    let (codes, hashes) = new_recovery_codes();
    let confirmed = MfaState {
        confirmed: true,
        recovery_hashes: hashes,
        last_step: step,
        enabled_at: Some(rfc3339(state.clock.now())),
        ..mfa
    };
    save(
        state,
        (&principal.tenant, Actor::of(principal), &principal.request),
        &user,
        Some(confirmed),
        Some("auth.mfa_enabled"),
    )
    .await?;
    Ok(RecoveryCodes {
        recovery_codes: codes,
    })
}

/// Turns two-factor sign-in off (with the password and a current code), unless the
/// company requires it.
pub async fn disable(
    state: &AppState,
    principal: &Principal,
    input: Confirmation,
) -> Result<(), Error> {
    let user = current_user(state, principal).await?;
    let Some(mfa) = user.mfa.clone().filter(|m| m.confirmed) else {
        return Err(Error::conflict(
            "mfa-not-enabled",
            "Two-factor sign-in is not on.",
        ));
    };
    let company = directory::get_tenant(state.table.as_ref(), &principal.tenant).await?;
    if company.is_some_and(|t| t.require_mfa) {
        return Err(Error::conflict(
            "mfa-required-by-company",
            "Your company requires two-factor sign-in.",
        ));
    }
    super::account::confirm_password(state, &user, "password", &input.password).await?;
    throttled_check(state, &principal.tenant, &user, &mfa, &input.code).await?;
    save(
        state,
        (&principal.tenant, Actor::of(principal), &principal.request),
        &user,
        None,
        Some("auth.mfa_disabled"),
    )
    .await?;
    Ok(())
}

/// An admin clears a user's second factor (a lost phone); they enrol again. Changing how
/// someone signs in is for a person (not an API key) who holds everything the user's
/// roles allow; it is audited and the user is told by mail.
pub async fn reset(state: &AppState, principal: &Principal, user_id: &str) -> Result<(), Error> {
    principal.require("users", crate::policy::Action::Update)?;
    principal.session()?;
    let not_found = || Error::NotFound("No user with this id.".into());
    if !crate::ids::is_id(directory::USER_PREFIX, user_id) {
        return Err(not_found());
    }
    let user = directory::get_user(state.table.as_ref(), &principal.tenant, user_id)
        .await?
        .ok_or_else(not_found)?;
    directory::require_covers_user(state.table.as_ref(), principal, &user).await?;
    if user.mfa.is_none() {
        return Ok(());
    }
    save(
        state,
        (&principal.tenant, Actor::of(principal), &principal.request),
        &user,
        None,
        Some("auth.mfa_reset"),
    )
    .await?;
    super::notices::tell(state, principal, &user, super::notices::Notice::MfaReset).await;
    Ok(())
}

/// Checks a code under the per-account attempt limit; a right code gives its attempt back.
async fn throttled_check(
    state: &AppState,
    tenant: &TenantId,
    user: &User,
    mfa: &MfaState,
    code: &str,
) -> Result<MfaState, Error> {
    let subject = format!("mfa:{tenant}:{}", user.id);
    let now = state.clock.now().unix_timestamp();
    throttle::attempt(
        state.table.as_ref(),
        &subject,
        PER_ACCOUNT,
        now,
        "Too many wrong codes; try again later.",
    )
    .await?;
    match use_code(state, tenant, user, mfa, code).await? {
        Some(next) => {
            throttle::forgive(state.table.as_ref(), &subject, PER_ACCOUNT, now).await?;
            Ok(next)
        }
        None => Err(wrong_code()),
    }
}

/// The second login step's challenge for `user`: the write that stores it and the token.
pub fn challenge(
    state: &AppState,
    tenant: &TenantId,
    user: &User,
) -> Result<(Write, MfaChallenge), Error> {
    let id = new_id(CHALLENGE_PREFIX);
    let (secret, secret_hash) = secrets::new_secret();
    let now = state.clock.now().unix_timestamp();
    let record = Challenge {
        user_id: user.id.clone(),
        secret_hash,
        expires_at: now + CHALLENGE_TTL_SECS,
        attempts: 0,
        version: 1,
        ttl: now + CHALLENGE_TTL_SECS + 3600,
    };
    Ok((
        Write::Put {
            item: to_item(&challenge_key(tenant, &id), &record)?,
            condition: Condition::NotExists,
        },
        MfaChallenge {
            mfa_required: true,
            mfa_token: secrets::compose(CHALLENGE_PREFIX, tenant, &id, &secret),
            expires_in: CHALLENGE_TTL_SECS,
        },
    ))
}

fn bad_challenge() -> Error {
    Error::Unauthenticated(
        "The sign-in step expired or was used up; sign in with your password again.".into(),
    )
}

/// The second login step: a code for a challenge; signs in on success.
pub async fn complete_login(
    state: &AppState,
    input: MfaLogin,
    request: &RequestMeta,
) -> Result<TokenPair, Error> {
    if input.mfa_token.len() > 512 || input.code.len() > 64 {
        return Err(Error::validation("code", "is too long"));
    }
    let (tenant, id, secret) = secrets::parse(CHALLENGE_PREFIX, CHALLENGE_PREFIX, &input.mfa_token)
        .ok_or_else(bad_challenge)?;
    let table = state.table.as_ref();
    let key = challenge_key(&tenant, &id);
    let challenge: Challenge = table
        .get(&key)
        .await?
        .map(from_item)
        .transpose()?
        .ok_or_else(bad_challenge)?;
    let now = state.clock.now();
    if !secrets::matches(&challenge.secret_hash, &secret)
        || challenge.expires_at <= now.unix_timestamp()
        || challenge.attempts >= CHALLENGE_ATTEMPTS
    {
        return Err(bad_challenge());
    }
    let user = directory::get_user(table, &tenant, &challenge.user_id)
        .await?
        .filter(|u| u.status == Status::Active)
        .ok_or_else(bad_challenge)?;
    let Some(mfa) = user.mfa.clone().filter(|m| m.confirmed) else {
        return Err(bad_challenge());
    };
    let used = match throttled_check(state, &tenant, &user, &mfa, &input.code).await {
        Ok(used) => used,
        // Refused before any code was checked (too many tries): nothing more to count.
        Err(e @ Error::TooManyRequests { .. }) => return Err(e),
        Err(e) => {
            // Count the try against the challenge too; a lost race only undercounts
            // by one, and the per-account limit still holds.
            let spent = Challenge {
                attempts: challenge.attempts + 1,
                version: challenge.version + 1,
                ..challenge.clone()
            };
            let _ = table
                .put(
                    to_item(&key, &spent)?,
                    Condition::VersionIs(challenge.version),
                )
                .await;
            let failed = Entry::new(
                now,
                Actor::user(&user.id),
                "auth.mfa_failed",
                "auth",
                Some(&user.id),
                request,
            );
            table.transact(failed.writes(&tenant)?).await?;
            return Err(e);
        }
    };
    let next_user = User {
        mfa: Some(used),
        version: user.version + 1,
        updated_at: rfc3339(now),
        ..user.clone()
    };
    let (session, tokens) = start_session(state, &tenant, &user.id, now)?;
    let entry = Entry::new(
        now,
        Actor::user(&user.id),
        "auth.login_succeeded",
        "auth",
        Some(&user.id),
        request,
    )
    .with_fields(&["mfa"]);
    match table
        .transact(
            [
                vec![
                    // The challenge works once.
                    Write::Delete {
                        key,
                        condition: Condition::VersionIs(challenge.version),
                    },
                    Write::Put {
                        item: to_item(&directory::user_key(&tenant, &user.id), &next_user)?,
                        condition: Condition::VersionIs(user.version),
                    },
                    session,
                ],
                entry.writes(&tenant)?,
            ]
            .concat(),
        )
        .await
    {
        Ok(()) => Ok(tokens),
        Err(TableError::ConditionFailed { .. }) => Err(bad_challenge()),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_is_valid_one_step_either_side_and_only_once() {
        let secret = b"12345678901234567890".to_vec();
        let totp = totp(secret.clone(), "a@b.co").unwrap();
        let now = 1_700_000_000u64;
        let code = totp.generate(now);
        let step = now / STEP;
        assert_eq!(totp_step(&secret, "a@b.co", &code, now, 0), Some(step));
        assert_eq!(
            totp_step(&secret, "a@b.co", &code, now + STEP, 0),
            Some(step)
        );
        assert_eq!(totp_step(&secret, "a@b.co", &code, now + 3 * STEP, 0), None);
        assert_eq!(
            totp_step(&secret, "a@b.co", &code, now, step),
            None,
            "replayed"
        );
        assert_eq!(totp_step(&secret, "a@b.co", "12345", now, 0), None);
        assert_eq!(totp_step(&secret, "a@b.co", "abcdef", now, 0), None);
    }

    #[test]
    fn rfc_6238_test_vector() {
        // RFC 6238 appendix B, SHA-1, T = 59 s: 94287082 (8 digits); 6 digits: 287082.
        let totp = totp(b"12345678901234567890".to_vec(), "a@b.co").unwrap();
        assert_eq!(totp.generate(59), "287082");
    }

    #[test]
    fn recovery_codes_are_ten_distinct_and_match_as_typed() {
        let (codes, hashes) = new_recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        let unique: std::collections::BTreeSet<_> = codes.iter().collect();
        assert_eq!(unique.len(), RECOVERY_CODES);
        let typed = codes[3].to_uppercase().replace('-', " ");
        assert!(secrets::matches(&hashes[3], &normalize_recovery(&typed)));
    }
}

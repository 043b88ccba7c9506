//! Sensitive contact fields: national id, payment card number, bank account and date of
//! birth. They are validated (check digits where they exist), stored sealed under the
//! tenant's data key (AES-256-GCM, tenant id as associated data), shown masked unless
//! revealed, and never written to the audit log or an index in clear: the log gets a keyed
//! fingerprint, and the exact-match lookup by national id goes through a keyed hash.

use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;
use time::macros::format_description;

use crate::crypto::{open, seal};
use crate::error::Error;
use crate::ids::TenantId;
use crate::table::Item;
use crate::validation::Errors;

/// The sensitive fields of a contact, as named on the wire and in storage.
pub const SENSITIVE: &[&str] = &[
    "national_id",
    "card_number",
    "bank_account",
    "date_of_birth",
];

/// Normalizes the sensitive fields present and reports every rule they break.
pub fn check(
    national_id: &mut Option<String>,
    card_number: &mut Option<String>,
    bank_account: &mut Option<String>,
    date_of_birth: &Option<String>,
    today: time::Date,
    errors: &mut Errors,
) {
    // Each rule is the pattern `openapi.yaml` gives the field, judged on the value as
    // sent; spaces and dashes in card and account numbers are dropped only afterwards.
    if let Some(id) = national_id {
        *id = id.to_ascii_uppercase();
        if !national_id_ok(id) {
            errors.add(
                "national_id",
                "must be a valid national id (a Chinese resident id needs its check digit)",
            );
        }
    }
    if let Some(card) = card_number {
        let sent_len = card.len();
        *card = card.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        if sent_len > 40
            || !(13..=19).contains(&card.len())
            || !card.bytes().all(|b| b.is_ascii_digit())
            || !luhn_ok(card)
        {
            errors.add(
                "card_number",
                "must be a card number of 13 to 19 digits that passes the Luhn check",
            );
        }
    }
    if let Some(account) = bank_account {
        let sent_len = account.len();
        *account = account
            .chars()
            .filter(|c| !matches!(c, ' ' | '-'))
            .collect::<String>()
            .to_ascii_uppercase();
        if sent_len > 50 || !bank_account_ok(account) {
            errors.add(
                "bank_account",
                "must be an IBAN with valid check digits, or 6 to 34 digits",
            );
        }
    }
    if let Some(date) = date_of_birth {
        let format = format_description!("[year]-[month]-[day]");
        match time::Date::parse(date, &format) {
            Ok(d) if d <= today && d.year() >= 1900 => {}
            _ => errors.add(
                "date_of_birth",
                "must be a past date like 1990-05-17 (YYYY-MM-DD, from 1900)",
            ),
        }
    }
}

/// A Chinese resident id (18 characters, ISO 7064 MOD 11-2 check character, a real birth
/// date), or another country's id of 4 to 32 letters, digits and dashes. Anything shaped
/// like a Chinese id must pass its check.
pub fn national_id_ok(id: &str) -> bool {
    let looks_chinese = id.len() == 18 && id.bytes().take(17).all(|b| b.is_ascii_digit());
    if looks_chinese {
        return cn_resident_id_ok(id);
    }
    (4..=32).contains(&id.len())
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && id.bytes().any(|b| b.is_ascii_digit())
}

fn cn_resident_id_ok(id: &str) -> bool {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &[u8; 11] = b"10X98765432";
    let bytes = id.as_bytes();
    let sum: u32 = bytes[..17]
        .iter()
        .zip(WEIGHTS)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    let birth = &id[6..14];
    let format = format_description!("[year][month][day]");
    bytes[17] == CHECK[(sum % 11) as usize] && time::Date::parse(birth, &format).is_ok()
}

/// The Luhn check of a string of digits.
pub fn luhn_ok(digits: &str) -> bool {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// An IBAN (checked mod 97) or a plain account number of 6 to 34 digits.
pub fn bank_account_ok(account: &str) -> bool {
    let bytes = account.as_bytes();
    if bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() {
        if !(15..=34).contains(&bytes.len())
            || !bytes[1].is_ascii_alphabetic()
            || !bytes[2..4].iter().all(u8::is_ascii_digit)
            || !bytes.iter().all(u8::is_ascii_alphanumeric)
        {
            return false;
        }
        let rearranged = account[4..].chars().chain(account[..4].chars());
        let mut remainder = 0u32;
        for c in rearranged {
            let value = c.to_digit(36).unwrap_or(0);
            let width = if value > 9 { 100 } else { 10 };
            remainder = (remainder * width + value) % 97;
        }
        return remainder == 1;
    }
    (6..=34).contains(&bytes.len()) && bytes.iter().all(u8::is_ascii_digit)
}

fn keyed(data_key: &[u8; 32], purpose: &str, value: &str) -> String {
    let mut derive = Hmac::<Sha256>::new_from_slice(data_key).expect("any key length");
    derive.update(purpose.as_bytes());
    let key = derive.finalize().into_bytes();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("any key length");
    mac.update(value.as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The keyed hash a national id is looked up by (never the id itself).
pub fn lookup_token(data_key: &[u8; 32], national_id: &str) -> String {
    keyed(data_key, "contacts:national_id:lookup", national_id)
}

/// `record` (a serialized contact) with its sensitive values replaced by keyed
/// fingerprints, for the audit log: a change shows, the value does not.
pub fn redact(data_key: Option<&[u8; 32]>, mut record: Value) -> Value {
    if let Some(map) = record.as_object_mut() {
        for field in SENSITIVE {
            if let Some(value) = map.get_mut(*field)
                && let Some(text) = value.as_str()
            {
                let print = data_key.map_or_else(
                    || "unavailable".to_owned(),
                    |k| keyed(k, &format!("contacts:{field}:audit"), text)[..12].to_owned(),
                );
                *value = Value::String(format!("fingerprint:{print}"));
            }
        }
    }
    record
}

/// Whether `item` carries any sensitive value.
pub fn present(item: &Item) -> bool {
    SENSITIVE
        .iter()
        .any(|f| item.get(*f).is_some_and(|v| !v.is_null()))
}

/// Seals the sensitive values of a stored item in place.
pub fn seal_item(data_key: &[u8; 32], tenant: &TenantId, item: &mut Item) {
    for field in SENSITIVE {
        if let Some(value) = item.get_mut(*field)
            && let Some(text) = value.as_str()
        {
            *value = Value::String(seal(data_key, tenant, text));
        }
    }
}

/// Opens the sealed values of a stored item in place.
pub fn open_item(data_key: &[u8; 32], tenant: &TenantId, item: &mut Item) -> Result<(), Error> {
    for field in SENSITIVE {
        if let Some(value) = item.get_mut(*field)
            && let Some(text) = value.as_str()
        {
            let clear = open(data_key, tenant, text)
                .map_err(|_| Error::Internal(format!("contact field {field} does not open")))?;
            *value = Value::String(clear);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_resident_ids_need_their_check_character_and_birth_date() {
        // GB 11643-1999 example.
        assert!(national_id_ok("11010519491231002X"));
        assert!(
            !national_id_ok("110105194912310021"),
            "wrong check character"
        );
        assert!(!national_id_ok("110105194913310025"), "month 13");
        assert!(national_id_ok("AB1234567"), "another country's id");
        assert!(!national_id_ok("ABC"), "too short");
        assert!(!national_id_ok("ABCDEFGH"), "no digit");
    }

    #[test]
    fn cards_pass_luhn_and_accounts_their_iban_check() {
        assert!(luhn_ok("4111111111111111"));
        assert!(!luhn_ok("4111111111111112"));
        assert!(bank_account_ok("GB82WEST12345698765432"));
        assert!(!bank_account_ok("GB82WEST12345698765433"));
        assert!(bank_account_ok("6222021234567890"));
        assert!(!bank_account_ok("12345"));
    }

    #[test]
    fn sealed_items_open_only_for_their_tenant_and_fingerprints_hide_values() {
        let key = [7u8; 32];
        let tenant = TenantId::generate();
        let mut item = Item::new();
        item.insert(
            "national_id".into(),
            Value::String("11010519491231002X".into()),
        );
        item.insert("name".into(), Value::String("Wang".into()));
        seal_item(&key, &tenant, &mut item);
        assert!(item["national_id"].as_str().unwrap().starts_with("v1."));
        assert_eq!(item["name"], "Wang");
        let mut copy = item.clone();
        assert!(open_item(&key, &TenantId::generate(), &mut copy).is_err());
        open_item(&key, &tenant, &mut item).unwrap();
        assert_eq!(item["national_id"], "11010519491231002X");

        let record = serde_json::json!({"national_id": "11010519491231002X", "name": "Wang"});
        let redacted = redact(Some(&key), record);
        assert!(!redacted.to_string().contains("11010519491231002X"));
        assert!(
            redacted["national_id"]
                .as_str()
                .unwrap()
                .starts_with("fingerprint:")
        );
        assert_ne!(
            lookup_token(&key, "11010519491231002X"),
            lookup_token(&[8u8; 32], "11010519491231002X"),
            "tokens are per tenant key"
        );
    }
}

//! Money: an amount in integer minor units of an ISO 4217 currency, bounded where it
//! enters (|amount| <= 10^15 minor units, [`MAX_AMOUNT_MINOR`]), and sums of it. A sum
//! over many records (a purchase history, a board stage's total) is not bounded: it is an
//! `i128`, added with checks, and stored as a JSON number while it fits an `i64` and as a
//! decimal string beyond (the table's items are JSON, whose numbers the library keeps
//! within 64 bits).

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::Error;

/// The largest amount accepted, in minor units (10^15: ten trillion in yuan).
pub const MAX_AMOUNT_MINOR: i64 = 1_000_000_000_000_000;

/// An amount of money: integer minor units and an ISO 4217 currency.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(remote = "Self", deny_unknown_fields)]
pub struct Money {
    pub amount_minor: i64,
    pub currency: String,
}

crate::object_only!(Money);

/// `amount` (a decimal in major units: `1250.5`, `-3`, `12,345.67`) in minor units of
/// `currency`, exactly: `None` when it is not such a decimal, has more decimals than the
/// currency has minor units (yen has none), or exceeds [`MAX_AMOUNT_MINOR`].
pub fn minor_units(amount: &str, currency: &str) -> Option<i64> {
    let exponent = iso_currency::Currency::from_code(currency)?
        .exponent()
        .unwrap_or(0) as usize;
    let amount = amount.trim().replace(',', "");
    let (negative, digits) = match amount.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, amount.as_str()),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !all_digits(whole) || !all_digits(fraction) || fraction.len() > exponent
    {
        return None;
    }
    let scale = 10_i64.checked_pow(exponent as u32)?;
    let fraction = format!("{fraction:0<exponent$}");
    let minor =
        whole
            .parse::<i64>()
            .ok()?
            .checked_mul(scale)?
            .checked_add(if fraction.is_empty() {
                0
            } else {
                fraction.parse::<i64>().ok()?
            })?;
    (minor <= MAX_AMOUNT_MINOR).then_some(if negative { -minor } else { minor })
}

/// A sum of amounts in minor units of one currency.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Sum(pub i128);

impl Sum {
    /// Adds `sign` × `amount`; a sum that cannot be represented is a problem naming
    /// `field`, never a panic or a wrapped number (unreachable with bounded amounts,
    /// short of 10^23 records).
    pub fn add(&mut self, sign: i64, amount: i64, field: &str) -> Result<(), Error> {
        self.0 = i128::from(sign)
            .checked_mul(i128::from(amount))
            .and_then(|a| self.0.checked_add(a))
            .ok_or_else(|| too_large(field))?;
        Ok(())
    }

    /// Adds another sum for a view (a team's share of a stage); saturates rather than
    /// fail a read.
    pub fn plus(self, other: Sum) -> Sum {
        Sum(self.0.saturating_add(other.0))
    }

    pub fn is_zero(&self) -> bool {
        self.0 == 0
    }
}

/// The problem answered when a write would make a total too large to represent.
pub fn too_large(field: &str) -> Error {
    Error::validation(
        field,
        "would make a total (a purchase history, a stage's amount) too large to represent",
    )
}

impl Serialize for Sum {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match i64::try_from(self.0) {
            Ok(small) => serializer.serialize_i64(small),
            Err(_) => serializer.serialize_str(&self.0.to_string()),
        }
    }
}

impl<'de> Deserialize<'de> for Sum {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Stored {
            Number(i64),
            Text(String),
        }
        match Stored::deserialize(deserializer)? {
            Stored::Number(n) => Ok(Sum(n.into())),
            Stored::Text(s) => s.parse().map(Sum).map_err(serde::de::Error::custom),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn major_units_become_exact_minor_units_per_currency() {
        assert_eq!(minor_units("1250.5", "CNY"), Some(125_050));
        assert_eq!(minor_units("12,345.67", "USD"), Some(1_234_567));
        assert_eq!(minor_units("-3", "EUR"), Some(-300));
        assert_eq!(minor_units("1500", "JPY"), Some(1500));
        assert_eq!(minor_units("1500.5", "JPY"), None);
        assert_eq!(minor_units("0.001", "CNY"), None);
        assert_eq!(minor_units("1.005", "KWD"), Some(1005));
        assert_eq!(minor_units("abc", "CNY"), None);
        assert_eq!(minor_units("1e3", "CNY"), None);
        assert_eq!(minor_units("10000000000000.01", "CNY"), None);
        assert_eq!(minor_units("5", "ZZZ"), None);
        assert_eq!(minor_units("99999999999999999999", "CNY"), None);
    }

    #[test]
    fn sums_beyond_64_bits_are_kept_exactly_and_read_back() {
        let mut sum = Sum::default();
        for _ in 0..20_000 {
            sum.add(1, MAX_AMOUNT_MINOR, "amount").unwrap();
        }
        assert_eq!(sum.0, 20_000 * 1_000_000_000_000_000i128);
        let stored = serde_json::to_value(sum).unwrap();
        assert_eq!(stored, serde_json::json!("20000000000000000000"));
        assert_eq!(serde_json::from_value::<Sum>(stored).unwrap(), sum);
        let small = serde_json::to_value(Sum(42)).unwrap();
        assert_eq!(small, serde_json::json!(42));
        assert_eq!(serde_json::from_value::<Sum>(small).unwrap(), Sum(42));
        let mut top = Sum(i128::MAX);
        assert!(top.add(1, 1, "amount").is_err());
        assert_eq!(top, Sum(i128::MAX), "a failed add changes nothing");
    }
}

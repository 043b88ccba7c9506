//! Orders: what a customer bought. Each has a number unique in its tenant (sequential,
//! `SO-000001`), line items (a product or free text, quantity, unit price, discount and
//! tax in basis points) whose totals are computed exactly in integer minor units, and a
//! status that moves only along the ways an order can go. This module holds the record,
//! the arithmetic and the rules; `service` applies permissions and keeps purchase
//! histories current.

pub mod service;

use serde::{Deserialize, Serialize};

use crate::companies::MAX_AMOUNT_MINOR;
use crate::ids::TenantId;
use crate::policy::FieldSpec;
use crate::table::Key;
use crate::validation::Errors;
use crate::wire::present;

pub const PREFIX: &str = crate::ids::OrderId::PREFIX;
pub const RESOURCE: &str = "orders";
pub const MAX_LINES: usize = 200;
pub const MAX_QUANTITY: u32 = 1_000_000;

pub const FIELDS: &[FieldSpec] = crate::policy::fields::ORDERS;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    #[default]
    Draft,
    Confirmed,
    Paid,
    Shipped,
    Cancelled,
    Refunded,
}

impl OrderStatus {
    /// Whether the order counts as a purchase (in purchase histories).
    pub fn is_purchase(self) -> bool {
        matches!(
            self,
            OrderStatus::Confirmed | OrderStatus::Paid | OrderStatus::Shipped
        )
    }

    /// The statuses an order can go to from this one.
    pub fn can_become(self, next: OrderStatus) -> bool {
        use OrderStatus::*;
        self == next
            || matches!(
                (self, next),
                (Draft, Confirmed | Paid | Cancelled)
                    | (Confirmed, Paid | Shipped | Cancelled)
                    | (Paid, Shipped | Refunded)
                    | (Shipped, Paid | Refunded)
            )
    }
}

/// A line as computed and stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Line {
    pub product_id: Option<String>,
    pub sku: Option<String>,
    pub description: String,
    pub quantity: u32,
    pub unit_price_minor: i64,
    /// Basis points of the line's amount taken off.
    pub discount_bp: u32,
    /// Basis points of the discounted amount added as tax.
    pub tax_rate_bp: u32,
    /// quantity × unit price.
    pub amount_minor: i64,
    pub discount_minor: i64,
    pub tax_minor: i64,
    /// amount − discount + tax.
    pub total_minor: i64,
}

/// A line as a client sends it: a product (its name, price and tax rate unless given)
/// or free text with a price.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineInput {
    pub product_id: Option<String>,
    pub description: Option<String>,
    pub quantity: u32,
    pub unit_price_minor: Option<i64>,
    pub discount_bp: Option<u32>,
    pub tax_rate_bp: Option<u32>,
}

/// `part` basis points of `amount`, rounded half up (amounts are never negative).
pub fn basis_points(amount: i64, part: u32) -> i64 {
    ((amount as i128 * part as i128 + 5_000) / 10_000) as i64
}

impl Line {
    /// Computes a line's amounts; `None` when they would exceed the largest amount.
    pub fn compute(
        product: Option<(&str, &str)>,
        description: String,
        quantity: u32,
        unit_price_minor: i64,
        discount_bp: u32,
        tax_rate_bp: u32,
    ) -> Option<Self> {
        let amount = unit_price_minor.checked_mul(quantity as i64)?;
        if amount > MAX_AMOUNT_MINOR {
            return None;
        }
        let discount = basis_points(amount, discount_bp);
        let tax = basis_points(amount - discount, tax_rate_bp);
        Some(Line {
            product_id: product.map(|p| p.0.to_owned()),
            sku: product.map(|p| p.1.to_owned()),
            description,
            quantity,
            unit_price_minor,
            discount_bp,
            tax_rate_bp,
            amount_minor: amount,
            discount_minor: discount,
            tax_minor: tax,
            total_minor: amount - discount + tax,
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    pub id: String,
    /// `SO-000001`: sequential per tenant.
    pub number: String,
    pub contact_id: Option<String>,
    pub company_id: Option<String>,
    pub deal_id: Option<String>,
    pub owner_id: String,
    /// ISO 4217; every line is in it.
    pub currency: String,
    pub lines: Vec<Line>,
    pub amount_minor: i64,
    pub discount_minor: i64,
    pub tax_minor: i64,
    pub total_minor: i64,
    pub status: OrderStatus,
    pub confirmed_at: Option<String>,
    pub paid_at: Option<String>,
    pub shipped_at: Option<String>,
    pub cancelled_at: Option<String>,
    pub refunded_at: Option<String>,
    pub notes: Option<String>,
    /// Where a partner's copy lives (`shop`, `erp`, ...) and its id there.
    pub source: Option<String>,
    pub external_id: Option<String>,
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
    pub version: u64,
}

impl crate::records::Relinked for Order {
    const NOUN: &'static str = "order";
    const RESOURCE: &'static str = RESOURCE;

    fn key(tenant: &TenantId, id: &str) -> Key {
        key(tenant, id)
    }

    fn link_mut(&mut self, resource: &str) -> Option<&mut Option<String>> {
        match resource {
            "contacts" => Some(&mut self.contact_id),
            "companies" => Some(&mut self.company_id),
            _ => None,
        }
    }

    fn bump(&mut self, now: String) {
        self.version += 1;
        self.updated_at = now;
    }

    fn version(&self) -> u64 {
        self.version
    }
}

impl crate::records::Owned for Order {
    fn owner_id(&self) -> &str {
        &self.owner_id
    }
}

impl Order {
    /// Sums the lines into the order's totals; false when the total is too large.
    pub fn total_up(&mut self) -> bool {
        // Summed wide, then bounded: the order's amounts are what a business can have.
        let sum = |f: fn(&Line) -> i64| {
            let wide: i128 = self.lines.iter().map(|l| i128::from(f(l))).sum();
            i64::try_from(wide)
                .ok()
                .filter(|s| s.abs() <= MAX_AMOUNT_MINOR)
        };
        match (
            sum(|l| l.amount_minor),
            sum(|l| l.discount_minor),
            sum(|l| l.tax_minor),
            sum(|l| l.total_minor),
        ) {
            (Some(amount), Some(discount), Some(tax), Some(total)) => {
                self.amount_minor = amount;
                self.discount_minor = discount;
                self.tax_minor = tax;
                self.total_minor = total;
                true
            }
            _ => false,
        }
    }

    /// Stamps the time the order reached its status (first time only).
    pub fn stamp(&mut self, now: &str) {
        let at = match self.status {
            OrderStatus::Draft => return,
            OrderStatus::Confirmed => &mut self.confirmed_at,
            OrderStatus::Paid => &mut self.paid_at,
            OrderStatus::Shipped => &mut self.shipped_at,
            OrderStatus::Cancelled => &mut self.cancelled_at,
            OrderStatus::Refunded => &mut self.refunded_at,
        };
        if at.is_none() {
            *at = Some(now.to_owned());
        }
        // A purchase is dated by its confirmation, even when it skipped that step.
        if self.status.is_purchase() && self.confirmed_at.is_none() {
            self.confirmed_at = Some(now.to_owned());
        }
    }
}

/// The body of `POST /v1/orders` and `PUT /v1/orders/external/{source}/{external_id}`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewOrder {
    pub contact_id: Option<String>,
    pub company_id: Option<String>,
    pub deal_id: Option<String>,
    pub owner_id: Option<String>,
    /// The first product's currency when absent.
    pub currency: Option<String>,
    /// May be left out for an order from a deal with an amount: one line for the deal.
    #[serde(default)]
    pub lines: Vec<LineInput>,
    pub status: Option<OrderStatus>,
    pub notes: Option<String>,
    pub source: Option<String>,
    pub external_id: Option<String>,
}

/// The body of `PATCH /v1/orders/{id}`: lines change only while the order is a draft.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderPatch {
    #[serde(default, deserialize_with = "present")]
    pub contact_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub company_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub deal_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub owner_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub lines: Option<Option<Vec<LineInput>>>,
    #[serde(default, deserialize_with = "present")]
    pub status: Option<Option<OrderStatus>>,
    #[serde(default, deserialize_with = "present")]
    pub notes: Option<Option<String>>,
}

/// Checks a source or external id: short, printable, no spaces.
pub fn check_token(field: &str, value: &str, errors: &mut Errors) {
    if value.is_empty()
        || value.chars().count() > 100
        || value
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '/')
    {
        errors.add(field, "must be 1 to 100 characters without spaces or /");
    }
}

pub fn key(tenant: &TenantId, id: &str) -> Key {
    Key::new(tenant.pk(RESOURCE), id)
}

/// The marker of a partner's order: one order per source and external id.
pub fn external_key(tenant: &TenantId, source: &str, external_id: &str) -> Key {
    Key::new(tenant.pk(&format!("order-external#{source}")), external_id)
}

/// The partition of the order links of a contact or company.
pub fn linked_pk(tenant: &TenantId, resource: &str, record_id: &str) -> String {
    tenant.pk(&format!("orders#{resource}#{record_id}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_totals_are_exact_and_round_half_up() {
        // 3 × 33.33 = 99.99; 10 % off = 10.00 (9.999 rounds up); 13 % tax on 89.99 = 11.70 (11.6987).
        let line = Line::compute(None, "x".into(), 3, 3_333, 1_000, 1_300).unwrap();
        assert_eq!(line.amount_minor, 9_999);
        assert_eq!(line.discount_minor, 1_000);
        assert_eq!(line.tax_minor, 1_170);
        assert_eq!(line.total_minor, 9_999 - 1_000 + 1_170);
        assert_eq!(basis_points(5, 5_000), 3, "2.5 rounds up");
        assert_eq!(basis_points(0, 10_000), 0);
        assert!(Line::compute(None, "x".into(), MAX_QUANTITY, MAX_AMOUNT_MINOR, 0, 0).is_none());
    }

    #[test]
    fn orders_move_only_along_the_ways_an_order_can_go() {
        use OrderStatus::*;
        assert!(Draft.can_become(Confirmed));
        assert!(Confirmed.can_become(Shipped));
        assert!(Shipped.can_become(Paid));
        assert!(Paid.can_become(Refunded));
        assert!(!Cancelled.can_become(Confirmed));
        assert!(!Refunded.can_become(Paid));
        assert!(!Draft.can_become(Refunded));
        assert!(!Shipped.can_become(Draft));
    }
}

//! Products: the catalogue orders are made of (sku, name, unit price, tax rate, active).
//! Whoever reads deals or orders reads the catalogue; keeping it needs `update` on orders
//! for all records (finance and admins), since prices bind every seller.

use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::audit::Entry;
use crate::clock::rfc3339;
use crate::companies::{MAX_AMOUNT_MINOR, Money};
use crate::error::Error;
use crate::ids::{TenantId, is_id, new_id};
use crate::paging::{ListPage, ListParams};
use crate::policy::{Action, Scope};
use crate::principal::Principal;
use crate::table::{Condition, Key, Query, Write, from_item, to_item};
use crate::validation::Errors;
use crate::versioned::Precondition;
use crate::versioned::write_on_version;
use crate::wire::present;

pub const PREFIX: &str = crate::ids::ProductId::PREFIX;
/// Basis points: 10,000 is 100 %.
pub const MAX_TAX_RATE_BP: u32 = 10_000;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    pub id: String,
    pub sku: String,
    pub name: String,
    pub description: Option<String>,
    pub unit_price: Money,
    /// In basis points (1300 is 13 %).
    pub tax_rate_bp: u32,
    pub active: bool,
    pub created_at: String,
    pub updated_at: String,
    pub version: u64,
}

/// The body of `POST /v1/products`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewProduct {
    pub sku: String,
    pub name: String,
    pub description: Option<String>,
    pub unit_price: Money,
    pub tax_rate_bp: Option<u32>,
    pub active: Option<bool>,
}

/// The body of `PATCH /v1/products/{id}`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductPatch {
    #[serde(default, deserialize_with = "present")]
    pub sku: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub name: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub unit_price: Option<Option<Money>>,
    #[serde(default, deserialize_with = "present")]
    pub tax_rate_bp: Option<Option<u32>>,
    #[serde(default, deserialize_with = "present")]
    pub active: Option<Option<bool>>,
}

fn not_found() -> Error {
    Error::NotFound("No product with this id.".into())
}

fn key(tenant: &TenantId, id: &str) -> Key {
    Key::new(tenant.pk("products"), id)
}

/// The marker that keeps a sku to one product (compared ignoring case).
fn sku_key(tenant: &TenantId, sku: &str) -> Key {
    Key::new(tenant.pk("product-skus"), sku.to_lowercase())
}

/// The longest sku, as sent (spaces around it included).
const MAX_SKU: usize = 64;

fn check(product: &mut Product, errors: &mut Errors) {
    let sent = product.sku.chars().count();
    product.sku = product.sku.trim().to_owned();
    if product.sku.is_empty()
        || sent > MAX_SKU
        || product
            .sku
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
    {
        errors.add("sku", "must be 1 to 64 characters without spaces");
    }
    errors.text("name", &product.name, 1, 200);
    product.name = product.name.trim().to_owned();
    errors.trimmed("description", &mut product.description, 2_000);
    let price = &product.unit_price;
    if !(0..=MAX_AMOUNT_MINOR).contains(&price.amount_minor) {
        errors.add(
            "unit_price.amount_minor",
            format!("must be 0 to {MAX_AMOUNT_MINOR}"),
        );
    }
    errors.currency("unit_price.currency", &price.currency);
    if product.tax_rate_bp > MAX_TAX_RATE_BP {
        errors.add("tax_rate_bp", "must be 0 to 10000 (basis points)");
    }
}

fn require_read(principal: &Principal) -> Result<(), Error> {
    if principal.require("orders", Action::Read).is_ok() {
        return Ok(());
    }
    principal.require("deals", Action::Read).map(|_| ())
}

fn require_write(principal: &Principal) -> Result<(), Error> {
    if principal.require("orders", Action::Update)? != Scope::All {
        return Err(Error::Forbidden(
            "Keeping the product catalogue needs update on all orders.".into(),
        ));
    }
    Ok(())
}

fn sku_taken(sku: &str) -> Error {
    Error::conflict(
        "sku-taken",
        format!("Another product has the sku \"{sku}\"."),
    )
}

/// Product `id` of `tenant` (for order lines).
pub async fn find(state: &AppState, tenant: &TenantId, id: &str) -> Result<Option<Product>, Error> {
    if !is_id(PREFIX, id) {
        return Ok(None);
    }
    Ok(state
        .table
        .get(&key(tenant, id))
        .await?
        .map(from_item)
        .transpose()?)
}

pub async fn create(
    state: &AppState,
    principal: &Principal,
    input: NewProduct,
) -> Result<Product, Error> {
    require_write(principal)?;
    let now = state.clock.now();
    let mut product = Product {
        id: new_id(PREFIX),
        sku: input.sku,
        name: input.name,
        description: input.description,
        unit_price: input.unit_price,
        tax_rate_bp: input.tax_rate_bp.unwrap_or(0),
        active: input.active.unwrap_or(true),
        created_at: rfc3339(now),
        updated_at: rfc3339(now),
        version: 1,
    };
    let mut errors = Errors::new();
    check(&mut product, &mut errors);
    errors.finish().map_err(Error::Validation)?;
    let tenant = &principal.tenant;
    let entry = Entry::by(
        principal,
        now,
        "product.created",
        "products",
        Some(&product.id),
    )
    .with_changes(None, Some(&product));
    let writes = [
        vec![
            Write::Put {
                item: to_item(&key(tenant, &product.id), &product)?,
                condition: Condition::NotExists,
            },
            Write::Put {
                item: to_item(
                    &sku_key(tenant, &product.sku),
                    &serde_json::json!({ "product_id": product.id }),
                )?,
                condition: Condition::NotExists,
            },
        ],
        entry.writes(tenant)?,
    ]
    .concat();
    match state.table.transact(writes).await {
        Ok(()) => Ok(product),
        Err(crate::table::TableError::ConditionFailed { .. }) => Err(sku_taken(&product.sku)),
        Err(e) => Err(e.into()),
    }
}

pub async fn get(state: &AppState, principal: &Principal, id: &str) -> Result<Product, Error> {
    require_read(principal)?;
    find(state, &principal.tenant, id)
        .await?
        .ok_or_else(not_found)
}

/// `GET /v1/products` parameters.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductQuery {
    pub limit: Option<u32>,
    pub cursor: Option<String>,
    pub active: Option<bool>,
    /// The product with this sku (ignoring case).
    pub sku: Option<String>,
}

/// The catalogue, oldest first.
pub async fn list(
    state: &AppState,
    principal: &Principal,
    query: ProductQuery,
) -> Result<ListPage<Product>, Error> {
    require_read(principal)?;
    let tenant = &principal.tenant;
    if let Some(sku) = &query.sku {
        if sku.is_empty() || sku.chars().count() > MAX_SKU {
            return Err(Error::validation("sku", "must be 1 to 64 characters"));
        }
        let found = match state.table.get(&sku_key(tenant, sku.trim())).await? {
            Some(marker) => match marker.get("product_id").and_then(|v| v.as_str()) {
                Some(id) => find(state, tenant, id).await?,
                None => None,
            },
            None => None,
        };
        let data = found
            .into_iter()
            .filter(|p| query.active.is_none_or(|a| a == p.active))
            .collect();
        return Ok(ListPage {
            data,
            next_cursor: None,
        });
    }
    let params = ListParams {
        limit: query.limit,
        cursor: query.cursor.clone(),
    };
    let limit = params.limit()?;
    let list_id = format!("{tenant}/products");
    let start = params
        .cursor
        .as_deref()
        .map(|c| state.cursors.decode(&list_id, c))
        .transpose()?;
    let table_query = Query::partition(tenant.pk("products"))
        .limit(limit)
        .start(start);
    let (data, next) = crate::table::query_filtered(
        state.table.as_ref(),
        table_query,
        limit,
        10,
        |p: &Product| query.active.is_none_or(|a| a == p.active),
    )
    .await?;
    Ok(ListPage {
        data,
        next_cursor: next.map(|n| state.cursors.encode(&list_id, &n)),
    })
}

pub async fn update(
    state: &AppState,
    principal: &Principal,
    id: &str,
    precondition: Precondition,
    patch: ProductPatch,
) -> Result<Product, Error> {
    require_write(principal)?;
    let tenant = &principal.tenant;
    write_on_version(&precondition, "product", || async {
        let current = find(state, tenant, id).await?.ok_or_else(not_found)?;
        let mut next = current.clone();
        let mut errors = Errors::new();
        let p = patch.clone();
        macro_rules! required {
            ($($field:ident),*) => {$(
                match p.$field {
                    Some(Some(v)) => next.$field = v,
                    Some(None) => errors.add(stringify!($field), "cannot be removed"),
                    None => {}
                }
            )*};
        }
        required!(sku, name, unit_price, tax_rate_bp, active);
        if let Some(description) = p.description {
            next.description = description;
        }
        check(&mut next, &mut errors);
        errors.finish().map_err(Error::Validation)?;
        precondition.check(current.version)?;
        if next == current {
            return Ok(Ok(current));
        }
        let now = state.clock.now();
        next.version = current.version + 1;
        next.updated_at = rfc3339(now);
        let entry = Entry::by(principal, now, "product.updated", "products", Some(id))
            .with_changes(Some(&current), Some(&next));
        let mut writes = vec![Write::Put {
            item: to_item(&key(tenant, id), &next)?,
            condition: Condition::VersionIs(current.version),
        }];
        if sku_key(tenant, &next.sku) != sku_key(tenant, &current.sku) {
            if state
                .table
                .get(&sku_key(tenant, &next.sku))
                .await?
                .is_some()
            {
                return Err(sku_taken(&next.sku));
            }
            writes.push(Write::Delete {
                key: sku_key(tenant, &current.sku),
                condition: Condition::None,
            });
            writes.push(Write::Put {
                item: to_item(
                    &sku_key(tenant, &next.sku),
                    &serde_json::json!({ "product_id": id }),
                )?,
                condition: Condition::NotExists,
            });
        }
        writes.extend(entry.writes(tenant)?);
        Ok(state.table.transact(writes).await.map(|()| next))
    })
    .await
}

pub async fn delete(
    state: &AppState,
    principal: &Principal,
    id: &str,
    precondition: Precondition,
) -> Result<(), Error> {
    require_write(principal)?;
    let tenant = &principal.tenant;
    write_on_version(&precondition, "product", || async {
        let current = find(state, tenant, id).await?.ok_or_else(not_found)?;
        precondition.check(current.version)?;
        let entry = Entry::by(
            principal,
            state.clock.now(),
            "product.deleted",
            "products",
            Some(id),
        )
        .with_changes(Some(&current), None);
        let writes = [
            vec![
                Write::Delete {
                    key: key(tenant, id),
                    condition: Condition::VersionIs(current.version),
                },
                Write::Delete {
                    key: sku_key(tenant, &current.sku),
                    condition: Condition::None,
                },
            ],
            entry.writes(tenant)?,
        ]
        .concat();
        Ok(state.table.transact(writes).await)
    })
    .await
}

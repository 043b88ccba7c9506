//! Products: the catalogue orders are made of (sku, name, unit price, tax rate, active),
//! on the record engine. Whoever reads deals or orders reads the catalogue; keeping it
//! needs `update` on orders for all records (finance and admins), since prices bind every
//! seller. What is a product's own is its [`Kind`]: that access, no owner, and the marker
//! that keeps a sku to one product.

use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::companies::{MAX_AMOUNT_MINOR, Money};
use crate::engine::{Change, Context, Fresh, Kind};
use crate::error::Error;
use crate::ids::{TenantId, is_id};
use crate::paging::{ListPage, ListParams};
use crate::policy::{Action, Scope};
use crate::principal::Principal;
use crate::table::{Condition, Key, Query, Write, from_item, to_item};
use crate::validation::Errors;
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

/// The catalogue, as the record engine handles it: no owner, no custom fields, search or
/// timeline.
#[derive(Default)]
pub struct Products;

impl crate::search::Indexed for Product {
    fn resource(&self) -> std::borrow::Cow<'_, str> {
        "products".into()
    }

    fn id(&self) -> &str {
        &self.id
    }

    /// The catalogue is the company's: no one owns a product.
    fn owner_id(&self) -> &str {
        ""
    }

    fn name(&self) -> &str {
        &self.name
    }

    fn updated_at(&self) -> &str {
        &self.updated_at
    }

    fn terms(&self) -> crate::search::Terms {
        let mut terms = crate::search::Terms::new();
        terms.text("name", &self.name);
        terms
    }
}

crm_engine::versioned_record!(Product);

/// The sku's marker as a write: `NotExists` unless `condition` says otherwise.
fn sku_marker(tenant: &TenantId, product: &Product) -> Result<Write, Error> {
    Ok(Write::Put {
        item: to_item(
            &sku_key(tenant, &product.sku),
            &serde_json::json!({ "product_id": product.id }),
        )?,
        condition: Condition::NotExists,
    })
}

impl Kind for Products {
    type Record = Product;
    type Id = crate::ids::ProductId;
    type New = NewProduct;
    type Patch = ProductPatch;
    const SEARCHED: bool = false;
    const TIMELINE: bool = false;
    const CUSTOM_FIELDS: bool = false;
    const OWNED: bool = false;

    fn resource(&self) -> &str {
        "products"
    }

    fn noun(&self) -> &str {
        "product"
    }

    fn prefix(&self) -> &'static str {
        PREFIX
    }

    fn fields_of(&self) -> &str {
        "products"
    }

    fn key(&self, tenant: &TenantId, id: &str) -> Key {
        key(tenant, id)
    }

    fn not_found(&self) -> Error {
        not_found()
    }

    /// Reading follows orders or deals; every change needs `update` on all orders.
    fn access(&self, principal: &Principal, action: Action) -> Result<Scope, Error> {
        match action {
            Action::Read => require_read(principal),
            _ => require_write(principal),
        }
        .map(|()| Scope::All)
    }

    /// No field rules name the catalogue's fields.
    fn sent_new(&self, _: &NewProduct) -> Vec<String> {
        Vec::new()
    }

    fn sent_patch(&self, _: &ProductPatch) -> Vec<String> {
        Vec::new()
    }

    async fn build(
        &self,
        _: &AppState,
        _: &Principal,
        input: NewProduct,
        fresh: Fresh,
        _: &Context,
        _: &mut Errors,
    ) -> Result<Product, Error> {
        Ok(Product {
            id: fresh.id,
            sku: input.sku,
            name: input.name,
            description: input.description,
            unit_price: input.unit_price,
            tax_rate_bp: input.tax_rate_bp.unwrap_or(0),
            active: input.active.unwrap_or(true),
            created_at: fresh.now.clone(),
            updated_at: fresh.now,
            version: 1,
        })
    }

    async fn apply(
        &self,
        _: &AppState,
        _: &Principal,
        p: ProductPatch,
        next: &mut Product,
        _: &Context,
        errors: &mut Errors,
    ) -> Result<Vec<Write>, Error> {
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
        Ok(Vec::new())
    }

    fn check(&self, _: Option<&Product>, product: &mut Product, _: &Context, errors: &mut Errors) {
        check(product, errors);
    }

    /// A sku another product has is refused (409 `sku-taken`).
    async fn settle(
        &self,
        state: &AppState,
        principal: &Principal,
        before: Option<&Product>,
        product: &mut Product,
        _: &Context,
        _: &mut Errors,
    ) -> Result<(), Error> {
        let tenant = &principal.tenant;
        let renamed =
            before.is_some_and(|b| sku_key(tenant, &b.sku) != sku_key(tenant, &product.sku));
        if renamed
            && state
                .table
                .get(&sku_key(tenant, &product.sku))
                .await?
                .is_some()
        {
            return Err(sku_taken(&product.sku));
        }
        Ok(())
    }

    /// A new product takes its sku's marker, or is refused.
    fn guard(
        &self,
        tenant: &TenantId,
        product: &Product,
        action: Action,
    ) -> Option<(Write, Error)> {
        (action == Action::Create).then(|| {
            let marker = sku_marker(tenant, product).ok()?;
            Some((marker, sku_taken(&product.sku)))
        })?
    }

    /// The sku's marker moves with a new sku (a race for it is written again, and then
    /// refused by [`Kind::settle`]) and goes with the product.
    async fn writes(
        &self,
        _: &AppState,
        principal: &Principal,
        change: &Change<'_, Product>,
    ) -> Result<Vec<Write>, Error> {
        let tenant = &principal.tenant;
        let mut writes = Vec::new();
        match (change.before, change.after) {
            (Some(before), after)
                if after
                    .is_none_or(|a| sku_key(tenant, &a.sku) != sku_key(tenant, &before.sku)) =>
            {
                writes.push(Write::Delete {
                    key: sku_key(tenant, &before.sku),
                    condition: Condition::None,
                });
                if let Some(after) = after {
                    writes.push(sku_marker(tenant, after)?);
                }
            }
            _ => {}
        }
        Ok(writes)
    }
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

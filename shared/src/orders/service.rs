//! Order operations, on the record engine: permission first, then tenant and record scope
//! (an order out of scope, or of another tenant, is not found). What is an order's own is
//! its [`Kind`]: its lines and totals (from the products), its status workflow, its number
//! from the tenant's order counter, its partner marker, and what its writes carry beside
//! it: its links to contact and company, their purchase histories and their timelines.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{
    Line, LineInput, MAX_LINES, MAX_QUANTITY, NewOrder, Order, OrderPatch, OrderStatus, PREFIX,
    RESOURCE, check_token, external_key, key, linked_pk,
};
use crate::AppState;
use crate::audit::Entry;
use crate::companies::MAX_AMOUNT_MINOR;
use crate::engine::{self, Change, Context, Fresh, Kind};
use crate::error::Error;
use crate::ids::TenantId;
use crate::paging::{ListPage, ListParams};
use crate::policy::{Action, Scope, View};
use crate::principal::Principal;
use crate::records::{Writing, list_query, owner_pk};
use crate::table::{Condition, Index, Item, Key, Query, Write, from_item, to_item};
use crate::validation::Errors;
use crate::versioned::Precondition;
use crate::{companies, contacts, deals, products, timeline};

/// Orders, as the record engine handles them: no custom fields, no search, no timeline of
/// their own (their creation and status changes go on the contact's and company's).
#[derive(Default)]
pub struct Orders;

crm_engine::indexed!(Order, RESOURCE, number);

impl engine::Record for Order {
    fn version(&self) -> u64 {
        self.version
    }

    /// A change of status is dated when it is made.
    fn touch(&mut self, version: u64, at: String) {
        self.version = version;
        self.stamp(&at);
        self.updated_at = at;
    }
}

/// The fields a create or patch sets, as role rules name them.
fn sent(fields: &[(&str, bool)]) -> Vec<String> {
    fields
        .iter()
        .filter(|(_, set)| *set)
        .map(|(name, _)| (*name).to_owned())
        .collect()
}

impl Kind for Orders {
    type Record = Order;
    type Id = crate::ids::OrderId;
    type New = NewOrder;
    type Patch = OrderPatch;
    const SEARCHED: bool = false;
    const TIMELINE: bool = false;
    const CUSTOM_FIELDS: bool = false;

    fn resource(&self) -> &str {
        RESOURCE
    }

    fn noun(&self) -> &str {
        "order"
    }

    fn prefix(&self) -> &'static str {
        PREFIX
    }

    fn fields_of(&self) -> &str {
        RESOURCE
    }

    fn key(&self, tenant: &TenantId, id: &str) -> Key {
        key(tenant, id)
    }

    fn not_found(&self) -> Error {
        not_found()
    }

    fn sent_new(&self, input: &NewOrder) -> Vec<String> {
        sent(&[
            ("contact_id", input.contact_id.is_some()),
            ("company_id", input.company_id.is_some()),
            ("deal_id", input.deal_id.is_some()),
            ("owner_id", input.owner_id.is_some()),
            ("currency", input.currency.is_some()),
            ("lines", !input.lines.is_empty()),
            ("status", input.status.is_some()),
            ("notes", input.notes.is_some()),
            ("source", input.source.is_some()),
            ("external_id", input.external_id.is_some()),
        ])
    }

    fn sent_patch(&self, patch: &OrderPatch) -> Vec<String> {
        sent(&[
            ("contact_id", patch.contact_id.is_some()),
            ("company_id", patch.company_id.is_some()),
            ("deal_id", patch.deal_id.is_some()),
            ("owner_id", patch.owner_id.is_some()),
            ("lines", patch.lines.is_some()),
            ("status", patch.status.is_some()),
            ("notes", patch.notes.is_some()),
        ])
    }

    /// An order from a deal takes what it lacks from the deal; its lines are priced from
    /// the products; it is numbered when it is written ([`Kind::number`]).
    async fn build(
        &self,
        state: &AppState,
        principal: &Principal,
        mut input: NewOrder,
        fresh: Fresh,
        _: &Context,
        errors: &mut Errors,
    ) -> Result<Order, Error> {
        for (field, value) in [
            ("source", &input.source),
            ("external_id", &input.external_id),
        ] {
            if let Some(value) = value {
                check_token(field, value, errors);
            }
        }
        if input.source.is_some() != input.external_id.is_some() {
            errors.add("external_id", "goes with source (both or neither)");
        }
        from_deal(state, principal, &mut input).await?;
        let (lines, currency) = build_lines(
            state,
            &principal.tenant,
            input.currency,
            input.lines,
            errors,
        )
        .await?;
        let mut order = Order {
            id: fresh.id,
            number: String::new(),
            contact_id: input.contact_id,
            company_id: input.company_id,
            deal_id: input.deal_id,
            owner_id: input.owner_id.unwrap_or_else(|| fresh.user_id.clone()),
            currency,
            lines,
            amount_minor: 0,
            discount_minor: 0,
            tax_minor: 0,
            total_minor: 0,
            status: input.status.unwrap_or_default(),
            confirmed_at: None,
            paid_at: None,
            shipped_at: None,
            cancelled_at: None,
            refunded_at: None,
            notes: input.notes,
            source: input.source,
            external_id: input.external_id,
            created_by: fresh.user_id,
            created_at: fresh.now.clone(),
            updated_at: fresh.now.clone(),
            version: 1,
        };
        if !order.total_up() {
            errors.add("lines", "make the order's total too large");
        }
        if !matches!(
            order.status,
            OrderStatus::Draft | OrderStatus::Confirmed | OrderStatus::Paid
        ) {
            errors.add("status", "a new order is a draft, confirmed or paid");
        }
        order.stamp(&fresh.now);
        Ok(order)
    }

    /// Lines change only while the order is a draft; the status only as its workflow
    /// allows.
    async fn apply(
        &self,
        state: &AppState,
        principal: &Principal,
        p: OrderPatch,
        next: &mut Order,
        _: &Context,
        errors: &mut Errors,
    ) -> Result<Vec<Write>, Error> {
        let current_status = next.status;
        if let Some(lines) = p.lines {
            match lines {
                Some(_) if current_status != OrderStatus::Draft => {
                    errors.add("lines", "change only while the order is a draft");
                }
                Some(lines) => {
                    let currency = Some(next.currency.clone());
                    let (lines, _) =
                        build_lines(state, &principal.tenant, currency, lines, errors).await?;
                    next.lines = lines;
                    if !next.total_up() {
                        errors.add("lines", "make the order's total too large");
                    }
                }
                None => errors.add("lines", "cannot be removed"),
            }
        }
        match p.status {
            Some(Some(status)) if !current_status.can_become(status) => errors.add(
                "status",
                format!("cannot go from {current_status:?} to {status:?}").to_lowercase(),
            ),
            Some(Some(status)) => next.status = status,
            Some(None) => errors.add("status", "cannot be removed"),
            None => {}
        }
        match p.owner_id {
            Some(Some(owner)) => next.owner_id = owner,
            Some(None) => errors.add("owner_id", "cannot be removed"),
            None => {}
        }
        if let Some(v) = p.contact_id {
            next.contact_id = v;
        }
        if let Some(v) = p.company_id {
            next.company_id = v;
        }
        if let Some(v) = p.deal_id {
            next.deal_id = v;
        }
        if let Some(v) = p.notes {
            next.notes = v;
        }
        Ok(Vec::new())
    }

    fn check(&self, _: Option<&Order>, order: &mut Order, _: &Context, errors: &mut Errors) {
        errors.trimmed("notes", &mut order.notes, 10_000);
    }

    fn updated(&self, before: &Order, after: &Order) -> &'static str {
        if before.status != after.status {
            "status_changed"
        } else {
            "updated"
        }
    }

    async fn check_links(
        &self,
        state: &AppState,
        principal: &Principal,
        _: &crate::fields::Definitions,
        before: Option<&Order>,
        after: &Order,
        errors: &mut Errors,
    ) -> Result<(), Error> {
        check_links(state, principal, before, after, errors).await
    }

    async fn allot(
        &self,
        state: &AppState,
        principal: &Principal,
        order: &mut Order,
    ) -> Result<Vec<Write>, Error> {
        let (number, counter) =
            crate::records::next_number(state, &principal.tenant, "orders").await?;
        order.number = format!("SO-{number:06}");
        Ok(vec![counter])
    }

    /// A partner's order is made once: its marker must not exist (the create answers the
    /// order made meanwhile).
    fn guard(&self, tenant: &TenantId, order: &Order, action: Action) -> Option<(Write, Error)> {
        let (Some(source), Some(external)) = (&order.source, &order.external_id) else {
            return None;
        };
        if action != Action::Create {
            return None;
        }
        let item = to_item(
            &external_key(tenant, source, external),
            &serde_json::json!({ "order_id": order.id }),
        )
        .ok()?;
        Some((
            Write::Put {
                item,
                condition: Condition::NotExists,
            },
            Error::conflict(
                "concurrent-modification",
                "The partner's order was made at the same time by another request.",
            ),
        ))
    }

    /// Not past draft (409 `order-not-draft`): a later order is cancelled or refunded, so
    /// its number and history stay.
    async fn may_delete(&self, _: &AppState, _: &Principal, order: &Order) -> Result<(), Error> {
        if order.status != OrderStatus::Draft {
            return Err(Error::conflict(
                "order-not-draft",
                "Only a draft is deleted; cancel or refund this order instead.",
            ));
        }
        Ok(())
    }

    /// Its contact's and company's purchase histories (which race other orders: the
    /// engine writes again), its link items, the merge holds on its contact, their
    /// timelines when it is made or its status changes, and its partner marker's removal
    /// when it is deleted.
    async fn writes(
        &self,
        state: &AppState,
        principal: &Principal,
        change: &Change<'_, Order>,
    ) -> Result<Vec<Write>, Error> {
        let tenant = &principal.tenant;
        let (before, after) = (change.before, change.after);
        let mut writes = purchase_writes(state, tenant, before, after).await?;
        writes.extend(link_writes(tenant, before, after)?);
        match (before, after) {
            (_, Some(order)) => {
                writes.extend(crate::contacts::merge::link_holds(
                    tenant,
                    before.and_then(|o| o.contact_id.as_deref()),
                    order.contact_id.as_deref(),
                ));
                if before.is_none_or(|b| b.status != order.status) {
                    writes.extend(timeline_writes(tenant, order, change.at, change.entry)?);
                }
            }
            (Some(order), None) => {
                if let (Some(source), Some(external)) = (&order.source, &order.external_id) {
                    writes.push(Write::Delete {
                        key: external_key(tenant, source, external),
                        condition: Condition::None,
                    });
                }
            }
            (None, None) => {}
        }
        Ok(writes)
    }
}

fn not_found() -> Error {
    Error::NotFound("No order with this id.".into())
}

fn to_stored(tenant: &TenantId, order: &Order) -> Result<Item, Error> {
    engine::to_stored(tenant, &Orders, order, None)
}

fn links(order: &Order) -> Vec<(&'static str, &str)> {
    [
        (contacts::service::RESOURCE, order.contact_id.as_deref()),
        (companies::RESOURCE, order.company_id.as_deref()),
    ]
    .into_iter()
    .filter_map(|(r, id)| id.map(|id| (r, id)))
    .collect()
}

fn link_writes(
    tenant: &TenantId,
    before: Option<&Order>,
    after: Option<&Order>,
) -> Result<Vec<Write>, Error> {
    let id = after.or(before).map_or("", |o| o.id.as_str());
    crate::records::link_writes(
        |resource, record| linked_pk(tenant, resource, record),
        ("order_id", id),
        &before.map(links).unwrap_or_default(),
        &after.map(links).unwrap_or_default(),
    )
}

/// A contact's or company's purchases: confirmed, paid or shipped orders.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Purchases {
    pub order_count: u64,
    /// Totals per currency, minor units.
    pub lifetime: BTreeMap<String, crate::money::Sum>,
    /// Orders per currency (for averages).
    #[serde(default)]
    pub counts: BTreeMap<String, u64>,
    pub first_purchase_at: Option<String>,
    pub last_purchase_at: Option<String>,
    #[serde(default)]
    pub version: u64,
}

/// Where the purchase history of `resource` record `id` is kept.
pub fn purchases_key(tenant: &TenantId, resource: &str, id: &str) -> Key {
    Key::new(tenant.pk(&format!("purchases#{resource}")), id)
}

async fn read_purchases(
    state: &AppState,
    tenant: &TenantId,
    resource: &str,
    id: &str,
) -> Result<Purchases, Error> {
    Ok(
        match state
            .table
            .get(&purchases_key(tenant, resource, id))
            .await?
        {
            Some(item) => from_item(item)?,
            None => Purchases::default(),
        },
    )
}

/// The purchase history writes for an order going from `before` to `after`: each linked
/// contact and company it leaves or joins as a purchase is adjusted (on its version).
async fn purchase_writes(
    state: &AppState,
    tenant: &TenantId,
    before: Option<&Order>,
    after: Option<&Order>,
) -> Result<Vec<Write>, Error> {
    let old = before.filter(|o| o.status.is_purchase());
    let new = after.filter(|o| o.status.is_purchase());
    let mut touched: BTreeMap<(&str, String), (Purchases, bool)> = BTreeMap::new();
    for (order, sign) in [(old, -1i64), (new, 1)] {
        let Some(order) = order else { continue };
        for (resource, id) in links(order) {
            let at = (resource, id.to_owned());
            if !touched.contains_key(&at) {
                let read = read_purchases(state, tenant, resource, id).await?;
                touched.insert(at.clone(), (read, false));
            }
            let (p, recompute) = touched.get_mut(&at).expect("inserted above");
            p.order_count = p.order_count.saturating_add_signed(sign);
            let total = p.lifetime.entry(order.currency.clone()).or_default();
            total.add(sign, order.total_minor, "lines")?;
            p.lifetime.retain(|_, v| !v.is_zero());
            let n = p.counts.entry(order.currency.clone()).or_default();
            *n = n.saturating_add_signed(sign);
            p.counts.retain(|_, n| *n != 0);
            let date = order.confirmed_at.clone();
            if sign > 0 {
                if p.first_purchase_at.is_none() || date < p.first_purchase_at {
                    p.first_purchase_at = date.clone();
                }
                if date > p.last_purchase_at {
                    p.last_purchase_at = date;
                }
            } else if date == p.first_purchase_at || date == p.last_purchase_at {
                *recompute = true;
            }
        }
    }
    let unchanged = match (old, new) {
        (None, None) => true,
        (Some(a), Some(b)) => {
            links(a) == links(b) && a.total_minor == b.total_minor && a.currency == b.currency
        }
        _ => false,
    };
    if unchanged {
        return Ok(Vec::new());
    }
    let mut writes = Vec::new();
    for ((resource, id), (mut purchases, recompute)) in touched {
        if recompute {
            let (first, last) = purchase_dates(state, tenant, resource, &id, before, after).await?;
            purchases.first_purchase_at = first;
            purchases.last_purchase_at = last;
        }
        let condition = Condition::at_version(purchases.version);
        purchases.version += 1;
        writes.push(Write::Put {
            item: to_item(&purchases_key(tenant, resource, &id), &purchases)?,
            condition,
        });
    }
    Ok(writes)
}

/// The first and last purchase dates of a contact or company, from its orders (the
/// order being written counted as it will be).
async fn purchase_dates(
    state: &AppState,
    tenant: &TenantId,
    resource: &str,
    id: &str,
    before: Option<&Order>,
    after: Option<&Order>,
) -> Result<(Option<String>, Option<String>), Error> {
    let writing = after.or(before).map(|o| o.id.clone());
    let mut dates: Vec<String> = Vec::new();
    if let Some(order) =
        after.filter(|o| o.status.is_purchase() && links(o).contains(&(resource, id)))
    {
        dates.extend(order.confirmed_at.clone());
    }
    let mut start = None;
    loop {
        let page = state
            .table
            .query(
                &Query::partition(linked_pk(tenant, resource, id))
                    .limit(100)
                    .start(start),
            )
            .await?;
        for link in page.items {
            let Some(order_id) = link.get("order_id").and_then(serde_json::Value::as_str) else {
                continue;
            };
            if Some(order_id) == writing.as_deref() {
                continue;
            }
            if let Some(item) = state.table.get(&key(tenant, order_id)).await? {
                let order: Order = from_item(item)?;
                if order.status.is_purchase() {
                    dates.extend(order.confirmed_at);
                }
            }
        }
        match page.next {
            Some(next) => start = Some(next),
            None => break,
        }
    }
    dates.sort();
    Ok((dates.first().cloned(), dates.last().cloned()))
}

/// Builds the lines (products read for their name, sku, price and tax rate) and the
/// order's currency. Reports every rule broken.
async fn build_lines(
    state: &AppState,
    tenant: &TenantId,
    currency: Option<String>,
    input: Vec<LineInput>,
    errors: &mut Errors,
) -> Result<(Vec<Line>, String), Error> {
    if input.is_empty() || input.len() > MAX_LINES {
        errors.add("lines", format!("must hold 1 to {MAX_LINES} lines"));
    }
    let mut currency = currency;
    let mut lines = Vec::with_capacity(input.len());
    for (i, line) in input.into_iter().enumerate() {
        let at = |field: &str| format!("lines[{i}].{field}");
        let product = match &line.product_id {
            Some(id) => match products::find(state, tenant, id).await? {
                Some(p) => Some(p),
                None => {
                    errors.add(at("product_id"), "is not a product of this account");
                    continue;
                }
            },
            None => None,
        };
        if let Some(p) = &product {
            match &currency {
                None => currency = Some(p.unit_price.currency.clone()),
                Some(c) if *c != p.unit_price.currency && line.unit_price_minor.is_none() => {
                    errors.add(
                        at("product_id"),
                        format!("is priced in {}, the order in {c}", p.unit_price.currency),
                    );
                }
                Some(_) => {}
            }
        }
        let description = line
            .description
            .clone()
            .or_else(|| product.as_ref().map(|p| p.name.clone()))
            .unwrap_or_default();
        // At most 500 characters as sent; not blank.
        let sent = description.chars().count();
        let description = description.trim().to_owned();
        if !crate::validation::has_visible(&description) || sent > 500 {
            errors.add(
                at("description"),
                "must be 1 to 500 characters (or a product)",
            );
        }
        if !(1..=MAX_QUANTITY).contains(&line.quantity) {
            errors.add(at("quantity"), format!("must be 1 to {MAX_QUANTITY}"));
        }
        let price = line
            .unit_price_minor
            .or(product.as_ref().map(|p| p.unit_price.amount_minor));
        let Some(price) = price else {
            errors.add(
                at("unit_price_minor"),
                "is needed for a line without a product",
            );
            continue;
        };
        if !(0..=MAX_AMOUNT_MINOR).contains(&price) {
            errors.add(
                at("unit_price_minor"),
                format!("must be 0 to {MAX_AMOUNT_MINOR}"),
            );
            continue;
        }
        let discount = line.discount_bp.unwrap_or(0);
        let tax = line
            .tax_rate_bp
            .or(product.as_ref().map(|p| p.tax_rate_bp))
            .unwrap_or(0);
        for (field, bp) in [("discount_bp", discount), ("tax_rate_bp", tax)] {
            if bp > 10_000 {
                errors.add(at(field), "must be 0 to 10000 (basis points)");
            }
        }
        let product_ref = product.as_ref().map(|p| (p.id.as_str(), p.sku.as_str()));
        match Line::compute(
            product_ref,
            description,
            line.quantity,
            price,
            discount,
            tax,
        ) {
            Some(computed) => lines.push(computed),
            None => errors.add(at("quantity"), "makes the line's amount too large"),
        }
    }
    let currency = currency.unwrap_or_default();
    if !crate::validation::is_currency(&currency) {
        errors.add(
            "currency",
            "must be the ISO 4217 code of a currency in use, like CNY (or come from a product)",
        );
    }
    Ok((lines, currency))
}

/// Checks the links: a contact, company and deal the caller can see.
async fn check_links(
    state: &AppState,
    principal: &Principal,
    before: Option<&Order>,
    order: &Order,
    errors: &mut Errors,
) -> Result<(), Error> {
    let changed = |f: fn(&Order) -> &Option<String>| {
        f(order)
            .as_ref()
            .filter(|id| before.is_none_or(|b| f(b).as_ref() != Some(*id)))
    };
    if let Some(id) = changed(|o| &o.contact_id)
        && contacts::service::get(state, principal, id, false)
            .await
            .is_err()
    {
        errors.add("contact_id", "is not a contact you can see");
    }
    if let Some(id) = changed(|o| &o.company_id)
        && companies::service::get(state, principal, id).await.is_err()
    {
        errors.add("company_id", "is not a company you can see");
    }
    if let Some(id) = changed(|o| &o.deal_id)
        && deals::service::get(state, principal, id).await.is_err()
    {
        errors.add("deal_id", "is not a deal you can see");
    }
    Ok(())
}

fn show(principal: &Principal, order: &Order) -> Result<View, Error> {
    principal.view(RESOURCE, order, false)
}

/// Timeline entries on the linked contact and company (creation and status changes).
fn timeline_writes(
    tenant: &TenantId,
    order: &Order,
    at: time::OffsetDateTime,
    entry: &Entry,
) -> Result<Vec<Write>, Error> {
    links(order)
        .into_iter()
        .map(|(_, id)| timeline::related(tenant, id, at, entry, &order.number))
        .collect()
}

/// What a create answers: the order, and whether it is new (201) or the partner's order
/// already made (200).
pub struct Created {
    pub order: View,
    pub new: bool,
}

async fn find_external(
    state: &AppState,
    tenant: &TenantId,
    source: &str,
    external_id: &str,
) -> Result<Option<String>, Error> {
    Ok(state
        .table
        .get(&external_key(tenant, source, external_id))
        .await?
        .and_then(|m| {
            m.get("order_id")
                .and_then(|v| v.as_str())
                .map(str::to_owned)
        }))
}

/// An order from a deal (winning one, typically) takes the deal's contact and company
/// when it names neither, and without lines becomes one line for the deal's amount.
async fn from_deal(
    state: &AppState,
    principal: &Principal,
    input: &mut NewOrder,
) -> Result<(), Error> {
    let Some(deal_id) = &input.deal_id else {
        return Ok(());
    };
    // A deal the caller cannot see is reported by the link check.
    let Ok(deal) = deals::service::get(state, principal, deal_id).await else {
        return Ok(());
    };
    let text = |field: &str| {
        deal.body
            .get(field)
            .and_then(|v| v.as_str())
            .map(str::to_owned)
    };
    if input.contact_id.is_none() && input.company_id.is_none() {
        input.contact_id = text("contact_id");
        input.company_id = text("company_id");
    }
    if input.lines.is_empty()
        && let Some(amount) = deal.body.get("amount").filter(|a| a.is_object())
    {
        input.currency = input
            .currency
            .clone()
            .or_else(|| amount["currency"].as_str().map(str::to_owned));
        input.lines.push(LineInput {
            product_id: None,
            description: text("title"),
            quantity: 1,
            unit_price_minor: amount["amount_minor"].as_i64(),
            discount_bp: None,
            tax_rate_bp: None,
        });
    }
    Ok(())
}

/// Creates an order. With `source` and `external_id` it is safe to repeat: the order
/// a partner already sent is answered again, not made twice.
pub async fn create(
    state: &AppState,
    principal: &Principal,
    input: NewOrder,
) -> Result<Created, Error> {
    let scope = principal.require(RESOURCE, Action::Create)?;
    let tenant = &principal.tenant;
    let partner = match (&input.source, &input.external_id) {
        (Some(source), Some(external)) => {
            let mut errors = Errors::new();
            check_token("source", source, &mut errors);
            check_token("external_id", external, &mut errors);
            errors
                .is_empty()
                .then(|| (source.clone(), external.clone()))
        }
        _ => None,
    };
    let existing = |partner: Option<(String, String)>| async move {
        let Some((source, external)) = partner else {
            return Ok(None);
        };
        let Some(id) = find_external(state, tenant, &source, &external).await? else {
            return Ok(None);
        };
        let order = load(state, principal, scope, &id).await?;
        Ok::<_, Error>(Some(Created {
            order: show(principal, &order)?,
            new: false,
        }))
    };
    if let Some(found) = existing(partner.clone()).await? {
        return Ok(found);
    }
    match engine::create(state, principal, &Orders, input, Writing::default()).await {
        Ok(order) => Ok(Created { order, new: true }),
        // The partner's order was made meanwhile (a concurrent repeat).
        Err(e) if partner.is_some() => match existing(partner).await? {
            Some(found) => Ok(found),
            None => Err(e),
        },
        Err(e) => Err(e),
    }
}

async fn load(
    state: &AppState,
    principal: &Principal,
    scope: Scope,
    id: &str,
) -> Result<Order, Error> {
    engine::load(state, principal, &Orders, scope, id).await
}

pub async fn get(state: &AppState, principal: &Principal, id: &str) -> Result<View, Error> {
    engine::get(state, principal, &Orders, id, false).await
}

/// `GET /v1/orders` parameters.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderQuery {
    pub limit: Option<u32>,
    pub cursor: Option<String>,
    pub status: Option<OrderStatus>,
    pub owner_id: Option<String>,
    /// A contact's (or company's) orders, newest first.
    pub contact_id: Option<String>,
    pub company_id: Option<String>,
}

pub async fn list(
    state: &AppState,
    principal: &Principal,
    query: OrderQuery,
) -> Result<ListPage<View>, Error> {
    let scope = principal.require(RESOURCE, Action::Read)?;
    principal.check_filters(
        RESOURCE,
        &[
            ("status", "status", query.status.is_some()),
            ("owner_id", "owner_id", query.owner_id.is_some()),
            ("contact_id", "contact_id", query.contact_id.is_some()),
            ("company_id", "company_id", query.company_id.is_some()),
        ],
    )?;
    let tenant = &principal.tenant;
    let params = ListParams {
        limit: query.limit,
        cursor: query.cursor.clone(),
    };
    let keep = |o: &Order| {
        principal.reaches(scope, &o.owner_id)
            && query.status.is_none_or(|s| s == o.status)
            && query.owner_id.as_ref().is_none_or(|w| *w == o.owner_id)
    };
    let linked = match (&query.contact_id, &query.company_id) {
        (Some(_), Some(_)) => {
            return Err(Error::validation(
                "company_id",
                "cannot be combined with contact_id",
            ));
        }
        (Some(id), None) => Some((contacts::service::RESOURCE, id.as_str())),
        (None, Some(id)) => Some((companies::RESOURCE, id.as_str())),
        (None, None) => None,
    };
    let (orders, next_cursor): (Vec<Order>, _) = if let Some((resource, record)) = linked {
        crate::records::linked_page(
            state,
            (linked_pk(tenant, resource, record), "order_id"),
            &format!("{tenant}/orders/{resource}/{record}"),
            &params,
            |id| async move { load(state, principal, scope, &id).await },
            keep,
        )
        .await?
    } else {
        let (table_query, list_id) = match (&query.owner_id, scope) {
            (Some(owner), _) => (
                Query::partition(owner_pk(tenant, RESOURCE, owner)).on(Index::Gsi1),
                format!("{tenant}/orders/owner/{owner}"),
            ),
            (None, Scope::Own) => (
                Query::partition(owner_pk(tenant, RESOURCE, &principal.user_id)).on(Index::Gsi1),
                format!("{tenant}/orders/owner/{}", principal.user_id),
            ),
            (None, _) => (
                Query::partition(tenant.pk(RESOURCE)),
                format!("{tenant}/orders"),
            ),
        };
        let (items, next) =
            list_query(state, principal, table_query, &list_id, scope, &params).await?;
        let found: Vec<Order> = items.into_iter().map(from_item).collect::<Result<_, _>>()?;
        (found.into_iter().filter(|o| keep(o)).collect(), next)
    };
    let data = orders
        .iter()
        .map(|o| show(principal, o))
        .collect::<Result<_, _>>()?;
    Ok(ListPage { data, next_cursor })
}

pub async fn update(
    state: &AppState,
    principal: &Principal,
    id: &str,
    precondition: Precondition,
    patch: OrderPatch,
) -> Result<View, Error> {
    engine::update(state, principal, &Orders, id, precondition, patch, false).await
}

/// Creates or updates the order a partner knows as `external_id` in `source` (an ERP or
/// shop syncing its orders): the same call any number of times leaves one order.
pub async fn upsert_external(
    state: &AppState,
    principal: &Principal,
    source: &str,
    external_id: &str,
    mut input: NewOrder,
) -> Result<Created, Error> {
    principal.require(RESOURCE, Action::Create)?;
    let mut errors = Errors::new();
    check_token("source", source, &mut errors);
    check_token("external_id", external_id, &mut errors);
    if input.source.as_deref().is_some_and(|s| s != source)
        || input
            .external_id
            .as_deref()
            .is_some_and(|e| e != external_id)
    {
        errors.add("external_id", "must match the path (or be left out)");
    }
    errors.finish().map_err(Error::Validation)?;
    input.source = Some(source.to_owned());
    input.external_id = Some(external_id.to_owned());
    let Some(id) = find_external(state, &principal.tenant, source, external_id).await? else {
        return create(state, principal, input).await;
    };
    let patch = OrderPatch {
        contact_id: Some(input.contact_id),
        company_id: Some(input.company_id),
        deal_id: Some(input.deal_id),
        owner_id: input.owner_id.map(Some),
        lines: None,
        status: input.status.map(Some),
        notes: Some(input.notes),
    };
    let current = get(state, principal, &id).await?;
    let mut patch = patch;
    if current.body.get("status").and_then(|s| s.as_str()) == Some("draft") {
        patch.lines = Some(Some(input.lines));
    }
    let order = update(state, principal, &id, Precondition::Any, patch).await?;
    Ok(Created { order, new: false })
}

/// A contact's or company's purchase history as `GET .../purchases` answers it.
#[derive(Debug, Serialize)]
pub struct PurchaseHistory {
    pub order_count: u64,
    pub lifetime_value: Vec<crate::deals::service::Amount>,
    pub average_order_value: Vec<crate::deals::service::Amount>,
    pub first_purchase_at: Option<String>,
    pub last_purchase_at: Option<String>,
}

/// The purchase history of contact (or company) `id`: needs `read` on orders and on the
/// record (which must be in the caller's scope).
pub async fn purchases(
    state: &AppState,
    principal: &Principal,
    resource: &str,
    id: &str,
) -> Result<PurchaseHistory, Error> {
    let scope = principal.require(RESOURCE, Action::Read)?;
    match resource {
        "contacts" => {
            contacts::service::get(state, principal, id, false).await?;
        }
        _ => {
            companies::service::get(state, principal, id).await?;
        }
    }
    // The stored totals count every order; a caller who reads only some orders gets the
    // totals of those.
    let p = if scope == Scope::All {
        read_purchases(state, &principal.tenant, resource, id).await?
    } else {
        purchases_in_scope(state, principal, resource, id).await?
    };
    // Each currency's average over that currency's orders, rounded half up.
    let amounts = |average: bool| {
        p.lifetime
            .iter()
            .map(|(currency, total)| {
                let count = i128::from(p.counts.get(currency).copied().unwrap_or(1).max(1));
                crate::deals::service::Amount {
                    currency: currency.clone(),
                    amount_minor: if average {
                        (total.0 + count / 2) / count
                    } else {
                        total.0
                    },
                }
            })
            .collect()
    };
    Ok(PurchaseHistory {
        order_count: p.order_count,
        lifetime_value: amounts(false),
        average_order_value: amounts(true),
        first_purchase_at: p.first_purchase_at.clone(),
        last_purchase_at: p.last_purchase_at.clone(),
    })
}

/// The purchases of contact (or company) `id` among the orders the caller may read.
async fn purchases_in_scope(
    state: &AppState,
    principal: &Principal,
    resource: &str,
    id: &str,
) -> Result<Purchases, Error> {
    let mut p = Purchases::default();
    let mut cursor = None;
    loop {
        let (contact_id, company_id) = match resource {
            "contacts" => (Some(id.to_owned()), None),
            _ => (None, Some(id.to_owned())),
        };
        let page = list(
            state,
            principal,
            OrderQuery {
                limit: Some(200),
                cursor,
                contact_id,
                company_id,
                ..Default::default()
            },
        )
        .await?;
        // Read from the caller's view of each order: what their role hides (the status,
        // the currency) leaves the order out.
        for view in &page.data {
            let field = |name: &str| view.body.get(name).cloned();
            let status: Option<OrderStatus> =
                field("status").and_then(|v| serde_json::from_value(v).ok());
            let currency = field("currency").and_then(|v| v.as_str().map(str::to_owned));
            let total = field("total_minor").and_then(|v| v.as_i64());
            let (Some(status), Some(currency), Some(total)) = (status, currency, total) else {
                continue;
            };
            if !status.is_purchase() {
                continue;
            }
            p.order_count += 1;
            let sum = p.lifetime.entry(currency.clone()).or_default();
            *sum = sum.plus(crate::money::Sum(i128::from(total)));
            *p.counts.entry(currency).or_default() += 1;
            let date = field("confirmed_at").and_then(|v| v.as_str().map(str::to_owned));
            if p.first_purchase_at.is_none() || date < p.first_purchase_at {
                p.first_purchase_at = date.clone();
            }
            if date > p.last_purchase_at {
                p.last_purchase_at = date;
            }
        }
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return Ok(p),
        }
    }
}

/// Moves every order of contact (or company) `from` over to `to` (a merge); purchase
/// histories move with them.
pub async fn relink(
    state: &AppState,
    principal: &Principal,
    resource: &str,
    from: &str,
    to: &str,
) -> Result<usize, Error> {
    let tenant = &principal.tenant;
    let partition = linked_pk(tenant, resource, from);
    crate::records::relink(
        state,
        principal,
        (partition, "order_id"),
        (resource, from, to),
        |current: Order, next: Order| async move {
            let mut writes = vec![Write::Put {
                item: to_stored(tenant, &next)?,
                condition: Condition::VersionIs(current.version),
            }];
            writes.extend(purchase_writes(state, tenant, Some(&current), Some(&next)).await?);
            writes.extend(link_writes(tenant, Some(&current), Some(&next))?);
            Ok(writes)
        },
    )
    .await
}

/// Most orders one bulk call upserts.
pub const MAX_BULK: usize = 100;

/// The body of `POST /v1/orders/bulk`: partners' orders, each with its `source` and
/// `external_id`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BulkOrders {
    pub orders: Vec<NewOrder>,
}

/// What became of one order of a bulk call.
#[derive(Debug, Serialize)]
pub struct BulkResult {
    /// Its place in the request.
    pub index: usize,
    /// 201 made, 200 updated, or the problem's status.
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order: Option<View>,
    /// The RFC 9457 problem when it was refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<serde_json::Value>,
}

/// Upserts up to [`MAX_BULK`] partner orders by their external ids, one by one (each
/// its own transaction, exactly as `PUT /v1/orders/external/...` would), and reports
/// each: a refused order does not stop the others, and the call can be repeated.
pub async fn bulk_upsert(
    state: &AppState,
    principal: &Principal,
    input: BulkOrders,
) -> Result<Vec<BulkResult>, Error> {
    principal.require(RESOURCE, Action::Create)?;
    if input.orders.is_empty() || input.orders.len() > MAX_BULK {
        return Err(Error::validation(
            "orders",
            format!("give 1 to {MAX_BULK} orders"),
        ));
    }
    let mut results = Vec::with_capacity(input.orders.len());
    for (index, order) in input.orders.into_iter().enumerate() {
        let outcome = match (order.source.clone(), order.external_id.clone()) {
            (Some(source), Some(external)) => {
                upsert_external(state, principal, &source, &external, order).await
            }
            _ => Err(Error::validation(
                "external_id",
                "a bulk order needs its source and external_id",
            )),
        };
        results.push(match outcome {
            Ok(created) => BulkResult {
                index,
                status: if created.new { 201 } else { 200 },
                order: Some(created.order),
                problem: None,
            },
            Err(e) => BulkResult {
                index,
                status: e.status().as_u16(),
                order: None,
                problem: Some(e.body()),
            },
        });
    }
    Ok(results)
}

//! Filters and sort orders of record lists, and the list reader that applies them.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::Indexed;
use crate::AppState;
use crate::error::Error;
use crate::fields::{Definitions, Kind};
use crate::ids::TenantId;
use crate::paging::ListParams;
use crate::policy::Scope;
use crate::principal::Principal;
use crate::table::{Index, Item, Query, SortKey, from_item, query_filtered};
use crate::terms;
use crate::validation::Errors;

/// Table pages (of [`READ_PAGE`] items) one list request reads while filtering.
const MAX_READS: usize = 10;
const READ_PAGE: usize = 200;
/// Most custom-field conditions one list request carries.
pub const MAX_CUSTOM_FILTERS: usize = 10;
/// Most tags one filter asks for.
const MAX_FILTER_TAGS: usize = 10;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sort {
    Created,
    Name,
    Updated,
}

/// How a list is ordered: `sort=name`, `sort=-updated`, ...; newest first by default.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ListOrder {
    pub sort: Sort,
    pub descending: bool,
}

impl ListOrder {
    pub fn parse(sort: Option<&str>) -> Result<Self, Error> {
        let Some(text) = sort else {
            return Ok(Self {
                sort: Sort::Created,
                descending: true,
            });
        };
        let (descending, name) = match text.strip_prefix('-') {
            Some(name) => (true, name),
            None => (false, text),
        };
        let sort = match name {
            "created" => Sort::Created,
            "name" => Sort::Name,
            "updated" => Sort::Updated,
            _ => {
                return Err(Error::validation(
                    "sort",
                    "must be name, created or updated, with a leading - for descending",
                ));
            }
        };
        Ok(Self { sort, descending })
    }
}

/// The index-3/4 partition that orders `resource` by `sort` (not used for creation
/// order, which is the base partition's).
pub fn sorted_pk(tenant: &TenantId, resource: &str, sort: Sort) -> String {
    let by = match sort {
        Sort::Name => "name",
        Sort::Updated => "updated",
        Sort::Created => "created",
    };
    tenant.pk(&format!("{resource}#by-{by}"))
}

const TIME_KEY: &[time::format_description::BorrowedFormatItem<'static>] = time::macros::format_description!(
    "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
);

/// A time as a fixed-width key, so keys sort as the times do (RFC 3339 text drops
/// trailing zeros of the fraction, which breaks that).
pub fn time_key(rfc3339: &str) -> String {
    OffsetDateTime::parse(rfc3339, &Rfc3339)
        .ok()
        .and_then(|t| t.to_offset(time::UtcOffset::UTC).format(TIME_KEY).ok())
        .unwrap_or_else(|| rfc3339.to_owned())
}

#[derive(Clone, Debug, Default)]
struct Range {
    from: Option<OffsetDateTime>,
    to: Option<OffsetDateTime>,
}

impl Range {
    fn contains(&self, value: Option<&str>) -> bool {
        if self.from.is_none() && self.to.is_none() {
            return true;
        }
        let Some(t) = value.and_then(|v| OffsetDateTime::parse(v, &Rfc3339).ok()) else {
            return false;
        };
        self.from.is_none_or(|f| t >= f) && self.to.is_none_or(|to| t < to)
    }

    fn is_set(&self) -> bool {
        self.from.is_some() || self.to.is_some()
    }
}

#[derive(Clone, Debug)]
enum Cond {
    /// The text at `path` equals `value`, ignoring case.
    Text {
        path: &'static [&'static str],
        value: String,
    },
    /// The record has every one of these tags (folded).
    Tags(Vec<String>),
    /// A custom field's value equals `target` or (for ordered kinds) lies in a range.
    Custom {
        key: String,
        kind: Kind,
        low: Option<Target>,
        high: Option<Target>,
    },
}

/// A value a custom-field condition compares with.
#[derive(Clone, Debug, PartialEq)]
enum Target {
    Text(String),
    Number(f64),
    Bool(bool),
}

impl Target {
    fn parse(kind: Kind, text: &str) -> Option<Target> {
        match kind {
            Kind::Text | Kind::SingleSelect | Kind::MultiSelect | Kind::Relation => {
                let t = terms::fold(text.trim());
                (!t.is_empty()).then_some(Target::Text(t))
            }
            Kind::Date => time::Date::parse(
                text,
                time::macros::format_description!("[year]-[month]-[day]"),
            )
            .ok()
            .map(|_| Target::Text(text.to_owned())),
            Kind::Number => text
                .parse::<f64>()
                .ok()
                .filter(|f| f.is_finite())
                .map(Target::Number),
            Kind::Money => text.parse::<i64>().ok().map(|n| Target::Number(n as f64)),
            Kind::Boolean => match text {
                "true" => Some(Target::Bool(true)),
                "false" => Some(Target::Bool(false)),
                _ => None,
            },
        }
    }

    /// The value of a record's field as a target, for comparison.
    fn of(kind: Kind, value: &Value) -> Vec<Target> {
        match (kind, value) {
            (Kind::MultiSelect, Value::Array(items)) => items
                .iter()
                .filter_map(Value::as_str)
                .map(|s| Target::Text(terms::fold(s)))
                .collect(),
            (Kind::Text | Kind::SingleSelect | Kind::Relation, Value::String(s)) => {
                vec![Target::Text(terms::fold(s))]
            }
            (Kind::Date, Value::String(s)) => vec![Target::Text(s.clone())],
            (Kind::Number, Value::Number(n)) => {
                n.as_f64().map(Target::Number).into_iter().collect()
            }
            (Kind::Money, Value::Object(m)) => m
                .get("amount_minor")
                .and_then(Value::as_f64)
                .map(Target::Number)
                .into_iter()
                .collect(),
            (Kind::Boolean, Value::Bool(b)) => vec![Target::Bool(*b)],
            _ => Vec::new(),
        }
    }

    fn cmp(&self, other: &Target) -> Option<std::cmp::Ordering> {
        match (self, other) {
            (Target::Text(a), Target::Text(b)) => Some(a.cmp(b)),
            (Target::Number(a), Target::Number(b)) => a.partial_cmp(b),
            (Target::Bool(a), Target::Bool(b)) => Some(a.cmp(b)),
            _ => None,
        }
    }
}

/// What a list keeps: every condition must hold.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    conds: Vec<Cond>,
    created: Range,
    updated: Range,
    /// The parameters of the conditions and the record fields they read, for field rules.
    fields: BTreeSet<(String, String)>,
}

impl Filter {
    pub fn new() -> Self {
        Self::default()
    }

    /// Keeps records whose `path` (below field `field`) equals `value`, ignoring case.
    pub fn text(
        &mut self,
        param: &str,
        field: &'static str,
        path: &'static [&'static str],
        value: Option<String>,
        errors: &mut Errors,
    ) {
        let Some(value) = value else { return };
        if value.trim().is_empty() || value.chars().count() > 200 {
            errors.add(param, "must be 1 to 200 characters");
            return;
        }
        self.fields.insert((param.to_owned(), field.to_owned()));
        self.conds.push(Cond::Text {
            path,
            value: terms::fold(value.trim()),
        });
    }

    /// Keeps records that have every tag of `tags` (comma-separated).
    pub fn tags(&mut self, tags: Option<String>, errors: &mut Errors) {
        let Some(tags) = tags else { return };
        let list: Vec<String> = tags.split(',').map(|t| terms::fold(t.trim())).collect();
        if list.is_empty()
            || list.len() > MAX_FILTER_TAGS
            || list.iter().any(|t| t.is_empty() || t.chars().count() > 50)
        {
            errors.add(
                "tags",
                format!(
                    "must be 1 to {MAX_FILTER_TAGS} comma-separated tags of 1 to 50 characters"
                ),
            );
            return;
        }
        self.fields.insert(("tags".into(), "tags".into()));
        self.conds.push(Cond::Tags(list));
    }

    /// Keeps records whose custom fields meet `conditions` (`cf[<key>]` parameters): a
    /// value, or for number, money (minor units) and date fields a range `low..high`
    /// (either end may be left out; both are inclusive).
    pub fn custom(
        &mut self,
        conditions: BTreeMap<String, String>,
        defs: &Definitions,
        errors: &mut Errors,
    ) {
        for (key, condition) in conditions {
            let param = format!("cf[{key}]");
            let Some(def) = defs.active(&key) else {
                errors.add(param, "is not a custom field of this object");
                continue;
            };
            if condition.chars().count() > 200 {
                errors.add(param, "must be at most 200 characters");
                continue;
            }
            let (low, high) = match condition.split_once("..") {
                Some((low, high)) if def.kind.ordered() => (low, high),
                _ => (condition.as_str(), condition.as_str()),
            };
            let parse = |text: &str| (!text.is_empty()).then(|| Target::parse(def.kind, text));
            match (parse(low), parse(high)) {
                (Some(None), _) | (_, Some(None)) | (None, None) => {
                    errors.add(
                        param,
                        format!("is not a value of this {:?} field", def.kind),
                    );
                }
                (low, high) => {
                    self.fields.insert((param.clone(), format!("custom.{key}")));
                    self.conds.push(Cond::Custom {
                        key,
                        kind: def.kind,
                        low: low.flatten(),
                        high: high.flatten(),
                    });
                }
            }
        }
    }

    /// Keeps records created in `[after, before)`.
    pub fn created(&mut self, after: Option<String>, before: Option<String>, errors: &mut Errors) {
        self.created = range("created", after, before, errors);
    }

    /// Keeps records last changed in `[after, before)`.
    pub fn updated(&mut self, after: Option<String>, before: Option<String>, errors: &mut Errors) {
        self.updated = range("updated", after, before, errors);
    }

    /// Whether the filter keeps every record.
    pub fn is_empty(&self) -> bool {
        self.conds.is_empty() && !self.created.is_set() && !self.updated.is_set()
    }

    /// Refuses (403 `hidden-field`) a filter on a field the caller may not see.
    pub fn check_visible(&self, principal: &Principal, resource: &str) -> Result<(), Error> {
        let params: Vec<(&str, &str, bool)> = self
            .fields
            .iter()
            .map(|(param, field)| (param.as_str(), field.as_str(), true))
            .collect();
        principal.check_filters(resource, &params)
    }

    pub fn matches(&self, item: &Item) -> bool {
        let text = |name: &str| item.get(name).and_then(Value::as_str);
        self.created.contains(text("created_at"))
            && self.updated.contains(text("updated_at"))
            && self.conds.iter().all(|cond| match cond {
                Cond::Text { path, value } => {
                    let mut at = item.get(path[0]);
                    for step in &path[1..] {
                        at = at.and_then(|v| v.get(step));
                    }
                    at.and_then(Value::as_str)
                        .is_some_and(|v| terms::fold(v) == *value)
                }
                Cond::Tags(wanted) => {
                    let tags: BTreeSet<String> = item
                        .get("tags")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_str)
                        .map(terms::fold)
                        .collect();
                    wanted.iter().all(|t| tags.contains(t))
                }
                Cond::Custom {
                    key,
                    kind,
                    low,
                    high,
                } => {
                    let values = item
                        .get("custom")
                        .and_then(|c| c.get(key))
                        .map(|v| Target::of(*kind, v))
                        .unwrap_or_default();
                    values.iter().any(|v| {
                        low.as_ref()
                            .is_none_or(|l| v.cmp(l).is_some_and(|o| o.is_ge()))
                            && high
                                .as_ref()
                                .is_none_or(|h| v.cmp(h).is_some_and(|o| o.is_le()))
                    })
                }
            })
    }
}

fn range(what: &str, after: Option<String>, before: Option<String>, errors: &mut Errors) -> Range {
    let mut parse = |param: String, value: Option<String>| {
        value.and_then(|v| match OffsetDateTime::parse(&v, &Rfc3339) {
            Ok(t) => Some(t),
            Err(_) => {
                errors.add(param, "must be an RFC 3339 date-time");
                None
            }
        })
    };
    Range {
        from: parse(format!("{what}_after"), after),
        to: parse(format!("{what}_before"), before),
    }
}

/// The lowest and highest ids (of kind `prefix`) a record created in `range` can have:
/// ids are ULIDs, which start with their creation time.
fn id_bounds(prefix: &str, range: &Range) -> SortKey {
    let at = |t: Option<OffsetDateTime>, random: u128| {
        t.map(|t| {
            let ms = (t.unix_timestamp_nanos() / 1_000_000).clamp(0, (1 << 48) - 1) as u64;
            let ulid = ulid::Ulid::from_parts(ms, random)
                .to_string()
                .to_ascii_lowercase();
            format!("{prefix}_{ulid}")
        })
    };
    SortKey::Between(
        at(range.from, 0).unwrap_or_else(|| format!("{prefix}_0")),
        at(range.to, u128::MAX).unwrap_or_else(|| format!("{prefix}_~")),
    )
}

/// One page of the records of `T` in `scope` that `filter` keeps and every word of
/// `words` finds, in `order`; items as stored and the cursor of the next page. A page can
/// come back short (even empty) with a cursor when the filter matches little: each
/// request reads a bounded number of records.
pub async fn list<T: Indexed>(
    state: &AppState,
    principal: &Principal,
    scope: Scope,
    request: &super::ListRequest,
    id_prefix: &str,
    params: &ListParams,
) -> Result<(Vec<Item>, Option<String>), Error> {
    let (order, filter, words) = (request.order, &request.filter, &request.words);
    let limit = params.limit()?;
    let tenant = &principal.tenant;
    let resource = request.resource.as_str();
    let (query, list_id) = match order.sort {
        Sort::Created => {
            let bounds = id_bounds(id_prefix, &filter.created);
            let query = if scope == Scope::Own {
                Query::partition(crate::records::owner_pk(
                    tenant,
                    resource,
                    &principal.user_id,
                ))
                .on(Index::Gsi1)
            } else {
                Query::partition(tenant.pk(resource))
            };
            let own = if scope == Scope::Own { "own" } else { "all" };
            (
                query.sort_key(bounds),
                format!("{tenant}/{resource}/created/{own}"),
            )
        }
        Sort::Name => (
            Query::partition(sorted_pk(tenant, resource, Sort::Name)).on(Index::Gsi3),
            format!("{tenant}/{resource}/name"),
        ),
        Sort::Updated => {
            let mut query =
                Query::partition(sorted_pk(tenant, resource, Sort::Updated)).on(Index::Gsi4);
            if filter.updated.is_set() {
                let key = |t: Option<OffsetDateTime>| t.and_then(|t| t.format(TIME_KEY).ok());
                query = query.sort_key(SortKey::Between(
                    key(filter.updated.from).unwrap_or_else(|| "0".into()),
                    key(filter.updated.to).map_or_else(|| "9~".into(), |k| format!("{k}#~")),
                ));
            }
            (query, format!("{tenant}/{resource}/updated"))
        }
    };
    let query = if order.descending {
        query.descending()
    } else {
        query
    };
    let start = params
        .cursor
        .as_deref()
        .map(|c| state.cursors.decode(&list_id, c))
        .transpose()?;
    let hidden = &request.hidden;
    // When (nearly) every record is kept, a page's worth of reading is enough.
    let everything = filter.is_empty()
        && words.is_empty()
        && (scope == Scope::All || (scope == Scope::Own && order.sort == Sort::Created));
    let read = if everything {
        limit
    } else {
        READ_PAGE.max(limit)
    };
    let (items, next) = query_filtered(
        state.table.as_ref(),
        query.limit(read).start(start),
        limit,
        MAX_READS,
        |item: &Item| {
            let owner = item.get("owner_id").and_then(Value::as_str);
            owner.is_some_and(|o| principal.reaches(scope, o))
                && filter.matches(item)
                && (words.is_empty()
                    || from_item::<T>(item.clone()).is_ok_and(|record| {
                        terms::matches_all(words, &record.terms().visible(hidden))
                    }))
        },
    )
    .await?;
    Ok((items, next.map(|n| state.cursors.encode(&list_id, &n))))
}

//! The AWS twin of the `Table` port: one DynamoDB table (`pk`/`sk`, GSIs `gsi1` to `gsi4`),
//! items encoded with serde_dynamo.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, Delete, Put, TransactWriteItem};
use serde_dynamo::aws_sdk_dynamodb_1::{from_item, to_item};

use super::{
    Condition, Index, Item, Key, Page, Query, SortKey, Table, TableError, Write, check_item,
    check_transaction,
};

#[derive(Clone)]
pub struct DynamoTable {
    client: Client,
    table: String,
}

type Attributes = HashMap<String, AttributeValue>;

/// A condition rendered as a DynamoDB condition expression with its placeholders.
struct Expr {
    text: Option<String>,
    names: Option<HashMap<String, String>>,
    values: Option<Attributes>,
}

fn expr(condition: &Condition) -> Expr {
    let names = || Some(HashMap::from([("#pk".to_owned(), "pk".to_owned())]));
    match condition {
        Condition::None => Expr {
            text: None,
            names: None,
            values: None,
        },
        Condition::NotExists => Expr {
            text: Some("attribute_not_exists(#pk)".into()),
            names: names(),
            values: None,
        },
        Condition::Exists => Expr {
            text: Some("attribute_exists(#pk)".into()),
            names: names(),
            values: None,
        },
        Condition::VersionIs(v) => Expr {
            text: Some("#version = :version".into()),
            names: Some(HashMap::from([(
                "#version".to_owned(),
                "version".to_owned(),
            )])),
            values: Some(HashMap::from([(
                ":version".to_owned(),
                AttributeValue::N(v.to_string()),
            )])),
        },
    }
}

fn key_attrs(key: &Key) -> Attributes {
    HashMap::from([
        ("pk".to_owned(), AttributeValue::S(key.pk.clone())),
        ("sk".to_owned(), AttributeValue::S(key.sk.clone())),
    ])
}

fn encode(item: &Item) -> Result<Attributes, TableError> {
    to_item(item).map_err(|e| TableError::Invalid(format!("cannot encode item: {e}")))
}

fn decode(attrs: Attributes) -> Result<Item, TableError> {
    from_item(attrs).map_err(|e| TableError::Unavailable(format!("cannot decode item: {e}")))
}

/// Maps an SDK error: a failed condition is the caller's business, the rest is an outage.
fn classify<E: ProvideErrorMetadata + std::fmt::Debug, R: std::fmt::Debug>(
    err: SdkError<E, R>,
) -> TableError {
    match err.code() {
        Some("ConditionalCheckFailedException") => TableError::ConditionFailed { index: None },
        Some("TransactionConflictException") => TableError::Conflict,
        Some("ValidationException") => {
            TableError::Invalid(err.message().unwrap_or("validation failed").to_owned())
        }
        _ => TableError::Unavailable(format!("{err:?}")),
    }
}

impl DynamoTable {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }
}

#[async_trait]
impl Table for DynamoTable {
    async fn get(&self, key: &Key) -> Result<Option<Item>, TableError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key_attrs(key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(classify)?;
        out.item.map(decode).transpose()
    }

    async fn put(&self, item: Item, condition: Condition) -> Result<(), TableError> {
        check_item(&item)?;
        let e = expr(&condition);
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(encode(&item)?))
            .set_condition_expression(e.text)
            .set_expression_attribute_names(e.names)
            .set_expression_attribute_values(e.values)
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }

    async fn delete(&self, key: &Key, condition: Condition) -> Result<(), TableError> {
        let e = expr(&condition);
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key_attrs(key)))
            .set_condition_expression(e.text)
            .set_expression_attribute_names(e.names)
            .set_expression_attribute_values(e.values)
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }

    async fn query(&self, query: &Query) -> Result<Page, TableError> {
        query.check()?;
        let (ipk, isk) = query.index.key_names();
        let mut names = HashMap::from([("#pk".to_owned(), ipk.to_owned())]);
        let mut values = HashMap::from([(":pk".to_owned(), AttributeValue::S(query.pk.clone()))]);
        let mut condition = "#pk = :pk".to_owned();
        match &query.sk {
            SortKey::Any => {}
            SortKey::BeginsWith(prefix) => {
                names.insert("#sk".into(), isk.into());
                values.insert(":p".into(), AttributeValue::S(prefix.clone()));
                condition.push_str(" AND begins_with(#sk, :p)");
            }
            SortKey::Between(low, high) => {
                names.insert("#sk".into(), isk.into());
                values.insert(":lo".into(), AttributeValue::S(low.clone()));
                values.insert(":hi".into(), AttributeValue::S(high.clone()));
                condition.push_str(" AND #sk BETWEEN :lo AND :hi");
            }
        }

        // Ask for one item more than the page so `next` is only set when more follow, as
        // on the embedded twin; DynamoDB may stop early (1 MB per call), so keep reading.
        let want = query.limit + 1;
        let mut items: Vec<Item> = Vec::with_capacity(want);
        let mut start: Option<Attributes> = query.start.as_ref().map(|s| {
            s.0.iter()
                .map(|(k, v)| (k.clone(), AttributeValue::S(v.clone())))
                .collect()
        });
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .set_index_name(query.index.name().map(str::to_owned))
                .key_condition_expression(&condition)
                .set_expression_attribute_names(Some(names.clone()))
                .set_expression_attribute_values(Some(values.clone()))
                .scan_index_forward(!query.descending)
                .consistent_read(query.index == Index::Primary)
                .limit((want - items.len()) as i32)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(classify)?;
            for attrs in out.items.unwrap_or_default() {
                items.push(decode(attrs)?);
            }
            match out.last_evaluated_key {
                Some(lek) if items.len() < want => start = Some(lek),
                _ => break,
            }
        }
        Page::from_overfetch(items, query)
    }

    async fn transact(&self, writes: Vec<Write>) -> Result<(), TableError> {
        check_transaction(&writes)?;
        let mut request = self.client.transact_write_items();
        for write in &writes {
            let built = match write {
                Write::Put { item, condition } => {
                    let e = expr(condition);
                    let put = Put::builder()
                        .table_name(&self.table)
                        .set_item(Some(encode(item)?))
                        .set_condition_expression(e.text)
                        .set_expression_attribute_names(e.names)
                        .set_expression_attribute_values(e.values)
                        .build()
                        .map_err(|e| TableError::Invalid(e.to_string()))?;
                    TransactWriteItem::builder().put(put).build()
                }
                Write::Delete { key, condition } => {
                    let e = expr(condition);
                    let delete = Delete::builder()
                        .table_name(&self.table)
                        .set_key(Some(key_attrs(key)))
                        .set_condition_expression(e.text)
                        .set_expression_attribute_names(e.names)
                        .set_expression_attribute_values(e.values)
                        .build()
                        .map_err(|e| TableError::Invalid(e.to_string()))?;
                    TransactWriteItem::builder().delete(delete).build()
                }
                Write::Check { key, condition } => {
                    let e = expr(condition);
                    let check = ConditionCheck::builder()
                        .table_name(&self.table)
                        .set_key(Some(key_attrs(key)))
                        .set_condition_expression(e.text)
                        .set_expression_attribute_names(e.names)
                        .set_expression_attribute_values(e.values)
                        .build()
                        .map_err(|e| TableError::Invalid(e.to_string()))?;
                    TransactWriteItem::builder().condition_check(check).build()
                }
            };
            request = request.transact_items(built);
        }
        match request.send().await {
            Ok(_) => Ok(()),
            Err(err) => {
                if let Some(cancelled) = err
                    .as_service_error()
                    .and_then(|e| match e {
                        aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(c) => Some(c),
                        _ => None,
                    })
                {
                    let reasons = cancelled.cancellation_reasons();
                    if let Some(index) = reasons
                        .iter()
                        .position(|r| r.code() == Some("ConditionalCheckFailed"))
                    {
                        return Err(TableError::ConditionFailed { index: Some(index) });
                    }
                    if reasons.iter().any(|r| r.code() == Some("TransactionConflict")) {
                        return Err(TableError::Conflict);
                    }
                    // Moto (and old API versions) may omit reasons: still a failed condition.
                    if reasons.is_empty() {
                        return Err(TableError::ConditionFailed { index: None });
                    }
                }
                Err(classify(err))
            }
        }
    }
}

//! The `dispatcher` function on AWS Lambda. The table's stream invokes it with the
//! outbox markers just written (the event source mapping filters for them): it hands
//! each event to the webhooks that want it, then makes the delivery attempts that are
//! due. An EventBridge schedule also invokes it every minute, for retries and for any
//! marker the stream path missed. The local server's worker runs the same code.
//!
//! A stream batch whose handling fails is retried by Lambda and finally sent to the
//! dead-letter queue; its markers stay in the table, so the schedule still hands them on.

use std::time::Duration;

use lambda_http::{Error, LambdaEvent, service_fn};
use serde_json::Value;
use shared::AppState;
use shared::config::Config;
use shared::table::Key;

/// How long one invocation works (the function's timeout is 5 minutes).
const BUDGET: Duration = Duration::from_secs(4 * 60);

/// The keys of the items a DynamoDB stream batch inserted.
fn inserted_keys(event: &Value) -> Vec<Key> {
    let records = event
        .get("Records")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    records
        .iter()
        .filter(|r| r.get("eventName").and_then(Value::as_str) == Some("INSERT"))
        .filter_map(|r| {
            let keys = r.get("dynamodb")?.get("Keys")?;
            let text = |name: &str| keys.get(name)?.get("S")?.as_str().map(str::to_owned);
            Some(Key::new(text("pk")?, text("sk")?))
        })
        .collect()
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let config = Config::from_env()?;
    shared::telemetry::init(config.log_format);
    let state = AppState::from_config(config).await?;
    let state = &state;
    lambda_http::lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let (events, attempts) = if event.payload.get("Records").is_some() {
            let keys = inserted_keys(&event.payload);
            shared::webhooks::deliver::on_stream(state, keys, BUDGET).await?
        } else {
            shared::webhooks::deliver::run(state, BUDGET).await?
        };
        Ok::<_, Error>(serde_json::json!({ "events": events, "attempts": attempts }))
    }))
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stream_batch_gives_the_keys_it_inserted() {
        let batch = serde_json::json!({"Records": [
            {"eventName": "INSERT", "dynamodb": {"Keys": {
                "pk": {"S": "G#outbox"}, "sk": {"S": "000001#ten_a#evt_1"}}}},
            {"eventName": "REMOVE", "dynamodb": {"Keys": {
                "pk": {"S": "G#outbox"}, "sk": {"S": "000002#ten_a#evt_2"}}}},
            {"eventName": "INSERT", "dynamodb": {}}
        ]});
        assert_eq!(
            inserted_keys(&batch),
            [Key::new("G#outbox", "000001#ten_a#evt_1")]
        );
    }
}

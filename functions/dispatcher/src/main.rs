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
use shared::config::Config;

/// How long one invocation works (the function's timeout is 5 minutes).
const BUDGET: Duration = Duration::from_secs(4 * 60);

#[tokio::main]
async fn main() -> Result<(), Error> {
    let config = Config::from_env()?;
    shared::telemetry::init(config.log_format);
    let state = shared::wiring::from_config(config).await?;
    let state = &state;
    lambda_http::lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let (events, attempts) = if event.payload.get("Records").is_some() {
            let keys = shared::webhooks::deliver::stream_keys(&event.payload);
            shared::webhooks::deliver::on_stream(state, keys, BUDGET).await?
        } else {
            shared::webhooks::deliver::run(state, BUDGET).await?
        };
        Ok::<_, Error>(serde_json::json!({ "events": events, "attempts": attempts }))
    }))
    .await
}

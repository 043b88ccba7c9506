//! The `reminders` function on AWS Lambda: an EventBridge schedule invokes it every
//! minute, and it fires the task reminders that are due, and makes the deal follow-up
//! tasks that are due, and flags the tickets whose service level targets passed, with the same code the local server's worker runs. A reminder
//! fires once, however often this runs.

use std::time::Duration;

use lambda_http::{Error, LambdaEvent, service_fn};
use shared::config::Config;

/// How long one invocation works (the function's timeout is 5 minutes).
const BUDGET: Duration = Duration::from_secs(4 * 60);

#[tokio::main]
async fn main() -> Result<(), Error> {
    let config = Config::from_env()?;
    shared::telemetry::init(config.log_format);
    let state = shared::wiring::from_config(config).await?;
    let state = &state;
    lambda_http::lambda_runtime::run(service_fn(
        move |_: LambdaEvent<serde_json::Value>| async move {
            let fired = shared::tasks::reminders::run_due(state, BUDGET / 3).await?;
            let follow_ups = shared::deals::follow_ups::run_due(state, BUDGET / 3).await?;
            let breaches = shared::tickets::sla::run_due(state, BUDGET / 3).await?;
            Ok::<_, Error>(serde_json::json!({
                "fired": fired,
                "follow_ups": follow_ups,
                "breaches": breaches,
            }))
        },
    ))
    .await
}

//! The `jobs` function on AWS Lambda: an EventBridge schedule invokes it every minute, and
//! it works through the job queue (imports, exports) with the same code the local
//! server's worker runs, stopping well inside the function's time limit. A job cut short
//! is resumed by the next invocation from its last checkpoint.

use std::time::Duration;

use lambda_http::{Error, LambdaEvent, service_fn};
use shared::config::Config;

/// How long one invocation works (the function's timeout is 15 minutes).
const BUDGET: Duration = Duration::from_secs(12 * 60);

#[tokio::main]
async fn main() -> Result<(), Error> {
    let config = Config::from_env()?;
    shared::telemetry::init(config.log_format);
    let state = shared::wiring::from_config(config).await?;
    let state = &state;
    lambda_http::lambda_runtime::run(service_fn(
        move |_: LambdaEvent<serde_json::Value>| async move {
            let ended = shared::jobs::run_pending(state, BUDGET, shared::wiring::job_steps).await?;
            Ok::<_, Error>(serde_json::json!({ "ended": ended }))
        },
    ))
    .await
}

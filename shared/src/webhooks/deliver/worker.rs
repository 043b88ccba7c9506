//! The loop that runs the dispatcher: locally a task of the server, in AWS the `dispatcher` function's body.

use super::*;

/// Hands on the outbox and makes the attempts due: what the local worker and the
/// dispatcher function run.
pub async fn run(state: &AppState, budget: Duration) -> Result<(usize, usize), Error> {
    let events = run_outbox(state, budget / 2).await?;
    let attempts = run_due(state, budget / 2).await?;
    Ok((events, attempts))
}

/// The local server's dispatcher: hands on new events and makes due attempts, until
/// `stop`. (In AWS the `dispatcher` function runs the same code, woken by the table's
/// stream and by a schedule.)
pub async fn worker(
    state: AppState,
    interval: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    // Webhooks need no faster turn than a quarter second, however eager the job worker.
    let interval = interval.max(Duration::from_millis(250));
    let mut expired_at = None::<std::time::Instant>;
    loop {
        if let Err(e) = run(&state, Duration::from_secs(30)).await {
            tracing::warn!(error = %e, "webhook dispatch unavailable");
        }
        // The embedded table has no TTL of its own: events and deliveries past their 30
        // days (and spent counters) go hourly. (DynamoDB removes them itself.)
        if expired_at.is_none_or(|at| at.elapsed() >= Duration::from_secs(3600)) {
            expired_at = Some(std::time::Instant::now());
            let now = state.clock.now().unix_timestamp();
            if let Err(e) = state.table.expire(now).await {
                tracing::warn!(error = %e, "expiring items failed");
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = stop.changed() => return,
        }
    }
}

//! The local server's worker for everything that falls due: task reminders, deal
//! follow-up rules and ticket service-level checks. In AWS, scheduled functions run the
//! same `run_due` functions.

use std::time::Duration;

use crate::AppState;

/// The local server's reminder worker: fires what is due (and makes the follow-up tasks
/// that are due) every `interval` until `stop`.
pub async fn worker(
    state: AppState,
    interval: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        if let Err(e) = crate::tasks::reminders::run_due(&state, Duration::from_secs(30)).await {
            tracing::warn!(error = %e, "reminder queue unavailable");
        }
        if let Err(e) = crate::deals::follow_ups::run_due(&state, Duration::from_secs(30)).await {
            tracing::warn!(error = %e, "follow-up rules unavailable");
        }
        if let Err(e) = crate::tickets::sla::run_due(&state, Duration::from_secs(30)).await {
            tracing::warn!(error = %e, "service level checks unavailable");
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = stop.changed() => return,
        }
    }
}

//! The DynamoDB stream's batches: the outbox markers they inserted.

use super::*;

/// The keys of the items a DynamoDB stream batch (as Lambda delivers it) inserted.
pub fn stream_keys(batch: &serde_json::Value) -> Vec<Key> {
    let Some(records) = batch.get("Records").and_then(serde_json::Value::as_array) else {
        return Vec::new();
    };
    records
        .iter()
        .filter(|r| r.get("eventName").and_then(serde_json::Value::as_str) == Some("INSERT"))
        .filter_map(|r| {
            let keys = r.get("dynamodb")?.get("Keys")?;
            let text = |name: &str| keys.get(name)?.get("S")?.as_str().map(str::to_owned);
            Some(Key::new(text("pk")?, text("sk")?))
        })
        .collect()
}

/// Hands on the events of the outbox markers a stream batch shows (their keys), then
/// makes the attempts due. Markers already handled (gone from the table) are skipped.
pub async fn on_stream(
    state: &AppState,
    keys: Vec<Key>,
    budget: Duration,
) -> Result<(usize, usize), Error> {
    let mut events = 0;
    for key in keys.into_iter().filter(|k| k.pk == events::OUTBOX) {
        if let Some(item) = state.table.get(&key).await? {
            fan_out_marker(state, key, item).await?;
            events += 1;
        }
    }
    // Only what is due now, briefly: the stream's next batch must not wait behind a slow
    // receiver (the schedule works through the rest).
    let attempts = run_due(state, budget.min(STREAM_ATTEMPTS)).await?;
    Ok((events, attempts))
}

//! Reminders before a duty: each node looks every few seconds for duties starting within
//! the next two hours and texts each person on them once (the first node to take a
//! reminder sends it). Needs the SMS channel; without it nothing is sent.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;

use super::service::to_local;
use crate::channels::{Backoff, Channels, Message, Recipient};
use crate::domain::Phone;
use crate::store::Store;

/// How long before a duty its people are reminded.
pub const LEAD: chrono::Duration = chrono::Duration::hours(2);
const TICK: Duration = Duration::from_secs(5);

pub fn start(store: Arc<dyn Store>, channels: Arc<Channels>) {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(TICK).await;
            if !channels.configured().contains(&"sms") {
                continue;
            }
            if let Err(e) = remind_due(store.as_ref(), &channels).await {
                tracing::warn!(error = %e, "duty reminders failed");
            }
        }
    });
}

/// Send every reminder that is due now; answers how many were taken on.
pub async fn remind_due(store: &dyn Store, channels: &Channels) -> anyhow::Result<usize> {
    let now = Utc::now();
    let due = store.due_reminders(now, now + LEAD, 200).await?;
    let mut taken = 0;
    for r in due {
        if !store.claim_reminder(r.assignment_id).await? {
            continue;
        }
        taken += 1;
        let outcome = match Phone::parse(&r.phone) {
            Err(_) => "no phone".to_string(),
            Ok(phone) => {
                let at = to_local(r.starts_at).format("%H:%M %d/%m");
                let place = r.place.map(|p| format!(" tại {p}")).unwrap_or_default();
                let msg = Message::new(
                    "Nhắc lịch trực",
                    format!("Nhắc lịch trực: {} lúc {at}{place}.", r.title),
                );
                match channels
                    .send(&Recipient::Phone(phone), &msg, &Backoff::default())
                    .await
                {
                    Ok(kind) => format!("sent: {kind}"),
                    Err(e) => format!("failed: {e}"),
                }
            }
        };
        store.record_reminder(r.assignment_id, &outcome).await?;
    }
    Ok(taken)
}

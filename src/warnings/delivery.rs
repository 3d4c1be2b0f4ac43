//! Delivery of each publication to each subscriber on each outside channel (web push,
//! Zalo, SMS, e-mail), tracked per recipient in the database: pending, sending, sent or
//! failed, with retries and back-off kept in the rows, so a restart or a second node
//! carries on. Each delivery runs on its own: a failing channel never delays another.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;

use super::service::reaches_subscription;
use crate::channels::{
    Backoff, Channels, Message, PushSubscription, Recipient, SendError, Urgency,
};
use crate::store::Store;
use crate::store::warnings::{Delivery, Subscription, WarningEvent};

/// Queue a publication for every subscription of its ward that it reaches.
pub async fn enqueue(
    store: &dyn Store,
    channels: &Channels,
    event: &WarningEvent,
) -> anyhow::Result<usize> {
    let Some(snap) = event.snapshot() else {
        return Ok(0);
    };
    let configured = channels.configured();
    let items: Vec<(Option<i64>, String, String)> = store
        .subscriptions(event.ward_id)
        .await?
        .into_iter()
        .filter(|s| configured.contains(&s.channel.as_str()) && reaches_subscription(&snap, s))
        .map(|s| (Some(s.id), s.channel.clone(), s.address.clone()))
        .collect();
    Ok(store.enqueue_deliveries(event.id, &items).await?)
}

fn recipient(d: &Delivery, sub: Option<&Subscription>) -> Option<Recipient> {
    match d.channel.as_str() {
        "webpush" => {
            let s = sub?;
            Some(Recipient::Push(PushSubscription {
                endpoint: s.address.clone(),
                p256dh: s.p256dh.clone(),
                auth: s.auth.clone(),
            }))
        }
        "zalo" => match d.recipient.split_once(':') {
            Some(("group", id)) => Some(Recipient::ZaloGroup(id.to_string())),
            Some(("user", id)) => Some(Recipient::ZaloUser(id.to_string())),
            _ => Some(Recipient::ZaloUser(d.recipient.clone())),
        },
        "sms" => crate::domain::Phone::parse(&d.recipient)
            .ok()
            .map(Recipient::Phone),
        "email" => Some(Recipient::Email(d.recipient.clone())),
        _ => None,
    }
}

fn message(event: &WarningEvent, base_url: &str) -> Option<Message> {
    let snap = event.snapshot()?;
    let w = &snap.warning;
    let prefix = match event.msg_type.as_str() {
        "update" => "[Cập nhật] ",
        "cancel" => "[Đã huỷ] ",
        _ => "",
    };
    let mut body = w.body.clone();
    if !w.instruction.is_empty() {
        body.push('\n');
        body.push_str(&w.instruction);
    }
    let urgent = matches!(w.severity.as_str(), "Extreme" | "Severe") || w.urgency == "Immediate";
    let msg = Message::new(format!("{prefix}{}", w.headline), body)
        .with_url(format!("{base_url}/warnings/{}", w.id));
    Some(if urgent {
        msg.with_urgency(Urgency::High)
    } else {
        msg
    })
}

/// Try one delivery once and record the outcome (with the next attempt's time).
async fn attempt(
    store: &dyn Store,
    channels: &Channels,
    backoff: &Backoff,
    base_url: &str,
    d: Delivery,
) {
    if !store.claim_delivery(d.id).await.unwrap_or(false) {
        return;
    }
    let attempts = d.attempts + 1;
    let sub = match d.subscription_id {
        Some(id) => store.subscription(id).await.ok().flatten(),
        None => None,
    };
    let event = store.warning_event(d.event_id).await.ok().flatten();
    let outcome = match (
        event.as_ref().and_then(|e| message(e, base_url)),
        recipient(&d, sub.as_ref()),
    ) {
        (Some(msg), Some(to)) => match channels.for_recipient(&to) {
            Some(ch) => {
                match tokio::time::timeout(Duration::from_secs(30), ch.send(&to, &msg)).await {
                    Ok(r) => r,
                    Err(_) => Err(SendError::Retryable("timed out".into())),
                }
            }
            None => Err(SendError::Permanent(format!(
                "channel {} is not configured",
                d.channel
            ))),
        },
        _ => Err(SendError::Permanent(
            "the warning or the recipient is gone".into(),
        )),
    };
    let record = match outcome {
        Ok(()) => {
            store
                .record_delivery(d.id, "sent", attempts, None, "")
                .await
        }
        Err(SendError::Retryable(why)) => match backoff.delay(attempts as u32) {
            Some(wait) => {
                let next = Utc::now() + chrono::Duration::from_std(wait).unwrap_or_default();
                store
                    .record_delivery(d.id, "pending", attempts, Some(next), &why)
                    .await
            }
            None => {
                store
                    .record_delivery(d.id, "failed", attempts, None, &why)
                    .await
            }
        },
        Err(SendError::Permanent(why)) => {
            // A push subscription the push service says is gone will not come back.
            if d.channel == "webpush" && (why.contains("404") || why.contains("410")) {
                let _ = store.revoke_subscription("webpush", &d.recipient).await;
            }
            store
                .record_delivery(d.id, "failed", attempts, None, &why)
                .await
        }
    };
    if let Err(e) = record {
        tracing::warn!(delivery = d.id, error = %e, "could not record a delivery outcome");
    }
}

/// The delivery loop of a node: wakes every second (or when told), sends what is due,
/// each delivery in its own task.
pub fn start(
    store: Arc<dyn Store>,
    channels: Arc<Channels>,
    base_url: String,
) -> Arc<tokio::sync::Notify> {
    let wake = Arc::new(tokio::sync::Notify::new());
    let notified = wake.clone();
    tokio::spawn(async move {
        let backoff = Backoff::default();
        loop {
            tokio::select! {
                _ = notified.notified() => {}
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
            if channels.configured().is_empty() {
                continue;
            }
            let due = match store.due_deliveries(Utc::now(), 200).await {
                Ok(d) => d,
                Err(e) => {
                    tracing::warn!(error = %e, "reading due deliveries failed");
                    continue;
                }
            };
            let mut tasks = tokio::task::JoinSet::new();
            for d in due {
                let (store, channels, base_url) =
                    (store.clone(), channels.clone(), base_url.clone());
                tasks.spawn(async move {
                    attempt(store.as_ref(), &channels, &backoff, &base_url, d).await
                });
            }
            while tasks.join_next().await.is_some() {}
        }
    });
    wake
}

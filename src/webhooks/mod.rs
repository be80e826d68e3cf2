//! Webhook delivery: every instance sends what the outbox (`crate::db::outbox`) holds to
//! `webhook_url`, signed with `webhook_secret`. A row is sent only under its lease, so
//! two instances never send one event at the same time; an instance that dies
//! mid-delivery leaves a lease that runs out, and another sends the event again with the
//! same id (receivers de-duplicate on it). 2xx means delivered; anything else, or no
//! answer in `webhook_timeout_ms`, is retried with exponential backoff until
//! `webhook_retry_secs` after the event, then the row gives up (the admin API can
//! re-queue it).

pub mod notices;
pub mod send;
pub mod sign;

use std::time::Duration;

use futures_util::future::join_all;

use crate::db::outbox::WebhookEvent;
use crate::state::{AppState, every};

/// Rows one pass claims; they are sent concurrently, so one slow receiver costs a pass
/// one timeout, not one per event.
const BATCH: i64 = 16;

/// How much longer than an attempt's time bound a lease lasts: room for the database
/// write that records the answer.
const LEASE_MARGIN_MS: i64 = 30_000;

/// Starts the delivery loop when webhooks are on, supervised like every other loop.
pub fn spawn(state: &AppState) {
    if !state.settings.webhooks_on() {
        return;
    }
    let timeout = Duration::from_millis(state.settings.webhook_timeout_ms);
    let client = match send::client(timeout) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "no HTTP client for webhooks; not delivering");
            return;
        }
    };
    let s = state.clone();
    state.tasks.supervise("webhook delivery".into(), move || {
        delivery_loop(s.clone(), client.clone())
    });
}

async fn delivery_loop(state: AppState, client: reqwest::Client) {
    // Who holds a lease: a lost lease's late answer must not overwrite a newer attempt.
    let owner = hex::encode(rand::random::<[u8; 8]>());
    let mut ticks = every(Duration::from_millis(state.settings.webhook_poll_ms));
    while state.tick(&mut ticks).await {
        let pass = deliver_due(&state, &client, &owner);
        // A stop drops attempts in flight: their leases run out and another instance
        // (or this one, restarted) sends them again, as after a crash.
        tokio::select! {
            _ = state.stopped() => return,
            done = pass => if let Err(e) = done {
                tracing::warn!(error = %e, "delivering webhooks failed");
            },
        }
    }
}

/// Claims the rows that are due and sends them.
async fn deliver_due(
    state: &AppState,
    client: &reqwest::Client,
    owner: &str,
) -> anyhow::Result<()> {
    let now = state.clock.now_ms();
    let lease_until = now + state.settings.webhook_timeout_ms as i64 + LEASE_MARGIN_MS;
    let mut claimed = Vec::new();
    for id in state.db.due_webhooks(now, BATCH).await? {
        if let Some(ev) = state.db.claim_webhook(id, owner, now, lease_until).await? {
            claimed.push(ev);
        }
    }
    let attempts = claimed
        .into_iter()
        .map(|ev| attempt(state, client, owner, ev));
    for done in join_all(attempts).await {
        done?;
    }
    Ok(())
}

/// One attempt of one claimed row, and its outcome recorded.
#[tracing::instrument(skip_all, fields(event_uid = %ev.event_uid, attempt = ev.attempts))]
async fn attempt(
    state: &AppState,
    client: &reqwest::Client,
    owner: &str,
    ev: WebhookEvent,
) -> anyhow::Result<()> {
    let settings = &state.settings;
    let body = sign::body(&ev);
    let t = state.clock.now_ms().div_euclid(1000);
    let signature = sign::signature(settings.webhook_secret.as_bytes(), t, &body);
    let sent = send::post(
        client,
        &settings.webhook_url,
        &ev.event_uid,
        &signature,
        body,
    )
    .await;
    let now = state.clock.now_ms();
    match sent {
        Ok(()) => {
            tracing::debug!("webhook delivered");
            state.db.webhook_delivered(ev.id, now).await
        }
        Err(why) => {
            let jitter = 0.8 + 0.4 * rand::random::<f64>();
            let first = settings.webhook_backoff_ms as i64;
            let next = now + sign::backoff_ms(ev.attempts, first, jitter);
            tracing::info!(error = %why, "webhook attempt failed");
            state.db.webhook_failed(ev.id, owner, &why, next).await
        }
    }
}

//! What a delivery sends, as pure functions: the body, the `Usher-Signature` header, and
//! the wait before the next attempt.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::db::outbox::WebhookEvent;

/// The longest wait between two attempts.
pub const MAX_BACKOFF_MS: i64 = 3_600_000;

/// The body: `{"id","type","created","data"}`, `created` in Unix seconds. Every attempt
/// of one event sends the same bytes (`data` is stored as written).
pub fn body(ev: &WebhookEvent) -> String {
    let quote = |s: &str| serde_json::Value::from(s).to_string();
    format!(
        r#"{{"id":{},"type":{},"created":{},"data":{}}}"#,
        quote(&ev.event_uid),
        quote(&ev.kind),
        ev.created_at_ms.div_euclid(1000),
        ev.payload
    )
}

/// `t=<unix seconds>,v1=<hex HMAC-SHA256 of "{t}.{body}">`, as Stripe signs: the time is
/// signed too, so a receiver can refuse an old message replayed.
pub fn signature(secret: &[u8], t: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("hmac takes any key length");
    mac.update(format!("{t}.").as_bytes());
    mac.update(body.as_bytes());
    format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// The wait after attempt number `attempts` (1 for the first) failed: `first_ms`, doubling
/// each time, capped at [`MAX_BACKOFF_MS`], times `jitter` (0.8 to 1.2, so instances and
/// events do not retry in lockstep).
pub fn backoff_ms(attempts: i64, first_ms: i64, jitter: f64) -> i64 {
    let doublings = attempts.saturating_sub(1).clamp(0, 40) as u32;
    let base = first_ms
        .saturating_mul(1i64 << doublings.min(30))
        .min(MAX_BACKOFF_MS);
    ((base as f64) * jitter.clamp(0.8, 1.2)).round() as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_then_stops_at_an_hour() {
        let waits: Vec<i64> = (1..=12).map(|n| backoff_ms(n, 5000, 1.0)).collect();
        assert_eq!(&waits[..4], &[5000, 10_000, 20_000, 40_000]);
        assert_eq!(waits[11], MAX_BACKOFF_MS);
        assert_eq!(backoff_ms(1000, 5000, 1.0), MAX_BACKOFF_MS);
        assert_eq!(backoff_ms(1, 5000, 1.2), 6000);
        assert_eq!(backoff_ms(1, 5000, 9.0), 6000, "jitter is bounded");
    }

    #[test]
    fn the_signature_is_the_hmac_of_time_dot_body() {
        // The value Python's standard library gives:
        // hmac.new(b"secret", b"1700000000.{}", "sha256").hexdigest()
        assert_eq!(
            signature(b"secret", 1_700_000_000, "{}"),
            "t=1700000000,v1=b8569b78799ff9e3cbff0fc2d63a33a2b57f3282abd07c37ae5e8e7d79a5f163"
        );
    }
}

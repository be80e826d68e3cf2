//! One delivery attempt over HTTP. The receiver is not trusted: the attempt has a time
//! bound, follows no redirect, and reads at most [`MAX_ANSWER_BYTES`] of a failed answer
//! (for `last_error`); nothing it answers can make this panic.

use std::time::Duration;

use reqwest::header::CONTENT_TYPE;

/// How much of a failed answer's body is kept for `last_error`.
pub const MAX_ANSWER_BYTES: usize = 2048;

/// The client every attempt of this instance uses.
pub fn client(timeout: Duration) -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("usher-webhooks/", env!("CARGO_PKG_VERSION")))
        .build()?)
}

/// POSTs `body`; `Ok` when the receiver answered 2xx, else why not (for `last_error`).
pub async fn post(
    client: &reqwest::Client,
    url: &str,
    event_uid: &str,
    signature: &str,
    body: String,
) -> Result<(), String> {
    let res = client
        .post(url)
        .header(CONTENT_TYPE, "application/json")
        .header("Usher-Event-Id", event_uid)
        .header("Usher-Signature", signature)
        .body(body)
        .send()
        .await
        .map_err(|e| describe(&e))?;
    let status = res.status();
    if status.is_success() {
        // The body is not read: dropping the answer closes a connection that would
        // otherwise stream on.
        return Ok(());
    }
    let text = head(res).await;
    Err(format!("HTTP {}: {text}", status.as_u16()))
}

/// The first [`MAX_ANSWER_BYTES`] of an answer's body, as text.
async fn head(mut res: reqwest::Response) -> String {
    let mut kept = Vec::new();
    while kept.len() < MAX_ANSWER_BYTES {
        match res.chunk().await {
            Ok(Some(chunk)) => {
                let room = MAX_ANSWER_BYTES - kept.len();
                kept.extend_from_slice(&chunk[..chunk.len().min(room)]);
            }
            Ok(None) => break,
            Err(e) => {
                kept.extend_from_slice(format!(" [{}]", describe(&e)).as_bytes());
                break;
            }
        }
    }
    String::from_utf8_lossy(&kept).into_owned()
}

/// An error with its causes, in one line.
fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        return "timed out".into();
    }
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

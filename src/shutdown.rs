//! Graceful stop: which upgraded sockets are still open, and waiting (within a bound) for
//! them to close.
//!
//! axum's graceful shutdown waits for in-flight HTTP requests only: once a request is
//! upgraded to a WebSocket, hyper forgets it (tokio-rs/axum#3003). Without this tracker
//! the process would exit while sockets are still sending their close 4000 and while seat
//! sessions are giving back their claims. Each socket handler takes a [`SocketGuard`]
//! before it upgrades; [`SocketTracker::drained`] resolves when every guard is dropped.

use tokio::sync::watch;

/// Counts the open (or upgrading) sockets of this instance. A cheap clone.
#[derive(Clone)]
pub struct SocketTracker {
    open: watch::Sender<usize>,
}

impl Default for SocketTracker {
    fn default() -> Self {
        SocketTracker {
            open: watch::Sender::new(0),
        }
    }
}

/// One open socket; dropping it (the task ended, panicked or was cancelled) deregisters it.
#[must_use = "the socket counts as open only while the guard lives"]
pub struct SocketGuard {
    open: watch::Sender<usize>,
}

impl SocketTracker {
    /// Registers a socket. Take the guard in the handler, before the upgrade, and move it
    /// into the upgraded task: a socket whose upgrade is still in flight when the stop
    /// begins is then waited for too.
    pub fn track(&self) -> SocketGuard {
        self.open.send_modify(|n| *n += 1);
        SocketGuard {
            open: self.open.clone(),
        }
    }

    /// Sockets open now.
    pub fn open(&self) -> usize {
        *self.open.borrow()
    }

    /// Resolves once no socket is open.
    pub async fn drained(&self) {
        let mut rx = self.open.subscribe();
        // The sender lives in `self`, so `wait_for` cannot fail.
        let _ = rx.wait_for(|n| *n == 0).await;
    }
}

impl Drop for SocketGuard {
    fn drop(&mut self) {
        self.open.send_modify(|n| *n = n.saturating_sub(1));
    }
}

/// Resolves once the shutdown flag turns true (or its sender is gone).
pub async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|s| *s).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn drained_waits_for_every_guard() {
        let tracker = SocketTracker::default();
        tracker.drained().await; // nothing open: at once
        let a = tracker.track();
        let b = tracker.track();
        assert_eq!(tracker.open(), 2);
        let waiter = tokio::spawn({
            let t = tracker.clone();
            async move { t.drained().await }
        });
        drop(a);
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        drop(b);
        waiter.await.unwrap();
        assert_eq!(tracker.open(), 0);
    }
}

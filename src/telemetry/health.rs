//! What `/healthz` reports: panics anywhere in the process (each one is a bug: nothing
//! reachable from client input may panic) and supervised tasks (rooms, the admission,
//! checkpoint, hold expiry, event refresh and bus loops) that are down.

use std::sync::Once;
use std::sync::atomic::{AtomicU64, Ordering};

/// Panics in this process since it started.
pub static PANICS: AtomicU64 = AtomicU64::new(0);

/// Counts every panic (then runs the previous hook, which prints it). Installed once per
/// process, by the first app built.
pub fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            PANICS.fetch_add(1, Ordering::Relaxed);
            tracing::error!(panic = %info, "a task panicked");
            previous(info);
        }));
    });
}

/// Panics so far.
pub fn panics() -> u64 {
    PANICS.load(Ordering::Relaxed)
}

/// Background tasks that restart themselves when they fail (a panic is a bug, but one bug
/// must not stop admission, expiry or a room for good), and which of them are down now.
#[derive(Default)]
pub struct Tasks {
    down: dashmap::DashMap<String, ()>,
    restarts: AtomicU64,
}

impl Tasks {
    /// Runs the task `make` builds, and builds and runs it again (after a backoff) each
    /// time it fails. Ends when a run returns (shutdown) or is cancelled.
    pub fn supervise<F, Fut>(self: &std::sync::Arc<Self>, name: String, make: F)
    where
        F: Fn() -> Fut + Send + 'static,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        let tasks = self.clone();
        tokio::spawn(async move {
            let mut backoff = std::time::Duration::from_millis(50);
            loop {
                match tokio::spawn(make()).await {
                    Ok(()) => return,
                    Err(e) if e.is_cancelled() => return,
                    Err(e) => {
                        tasks.down.insert(name.clone(), ());
                        tasks.restarts.fetch_add(1, Ordering::Relaxed);
                        tracing::error!(task = %name, error = %e, "task failed; restarting");
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(std::time::Duration::from_secs(5));
                        tasks.down.remove(&name);
                    }
                }
            }
        });
    }

    /// Tasks that failed and are waiting to restart.
    pub fn down(&self) -> Vec<String> {
        let mut v: Vec<String> = self.down.iter().map(|e| e.key().clone()).collect();
        v.sort();
        v
    }

    /// Restarts since start.
    pub fn restarts(&self) -> u64 {
        self.restarts.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::Tasks;

    #[tokio::test]
    async fn a_task_that_fails_is_restarted_and_counted() {
        let tasks = Arc::new(Tasks::default());
        let runs = Arc::new(AtomicUsize::new(0));
        let (done_tx, done_rx) = tokio::sync::oneshot::channel();
        let done_tx = Arc::new(parking_lot::Mutex::new(Some(done_tx)));
        let r = runs.clone();
        tasks.supervise("flaky".into(), move || {
            let (r, done_tx) = (r.clone(), done_tx.clone());
            async move {
                if r.fetch_add(1, Ordering::SeqCst) == 0 {
                    panic!("the first run fails");
                }
                if let Some(tx) = done_tx.lock().take() {
                    let _ = tx.send(());
                }
            }
        });
        done_rx.await.expect("the task ran again");
        assert_eq!(runs.load(Ordering::SeqCst), 2);
        assert_eq!(tasks.restarts(), 1);
        assert!(tasks.down().is_empty(), "{:?}", tasks.down());
    }
}

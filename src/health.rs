//! What `/healthz` reports: panics anywhere in the process (each one is a bug: nothing
//! reachable from client input may panic) and room tasks that are down.

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

//! The waiting room as one instance sees it: the buyers connected here, and the room's
//! counters. Positions are computed here, in process, for every local buyer in one pass
//! over the buyers in queue order (O(1) per socket, no Redis round trip per socket), and
//! pushed through one `watch` channel per buyer that all of the buyer's tabs read.

use std::sync::Arc;
use std::time::Duration;

use parking_lot::{Mutex, MutexGuard};
use tokio::sync::{Notify, watch};

use super::line::{Force, Inner, Member, SLICES};
use super::view::View;
use crate::clock::Clock;
use crate::engine::bus::{Bus, BusMessage};
use crate::engine::queue::{Place, Presence, QueueEngine, RoomSnapshot};
use crate::events::EventId;
use crate::identity::BuyerId;

/// What every room of an instance runs with (the hub holds one, `super::hub`).
pub struct RoomContext {
    /// The queue engine.
    pub engine: Arc<dyn QueueEngine>,
    /// The same engine's bus: a room listens to its event before its first sync.
    pub bus: Arc<dyn Bus>,
    /// Time source.
    pub clock: Clock,
    /// How often every buyer's view is refreshed at the latest.
    pub update_interval: Duration,
    /// How often connected buyers' presence is renewed in the engine.
    pub heartbeat: Duration,
    /// Turns true when the server shuts down: room tasks end.
    pub shutdown: watch::Receiver<bool>,
}

/// One event's waiting room on this instance.
pub struct Room {
    /// The event.
    pub event: EventId,
    // A parking_lot Mutex: it cannot be poisoned (a panic in one section must not take
    // the room down for every buyer), and it is never held across an `.await`; every
    // section is a short computation.
    inner: Mutex<Inner>,
    wake: Notify,
    /// Wakes the heartbeat at once (the store came back with a new epoch).
    beat: Notify,
}

/// Shortest gap between two change-driven position passes. Every admission batch moves
/// every waiting buyer up; pushing each move at once would flood a large room (admitted
/// messages do not wait for this; the periodic update still comes on time).
const RECOMPUTE_GAP: Duration = Duration::from_millis(200);
/// Change-driven position pushes per second one room may make on one instance; a larger
/// room stretches the gap between passes so that positions never crowd out admissions.
const PUSH_BUDGET: u64 = 20_000;

/// How long position pushes wait after an admission batch, so that the buyers let in hear
/// it first.
const ADMITTED_FIRST: Duration = Duration::from_millis(25);

/// Longest a sync may take before the room counts the store as unavailable (a frozen
/// Redis answers nothing; buyers must hear about it within about a second).
const SYNC_TIMEOUT: Duration = Duration::from_millis(800);

impl Room {
    pub(super) fn new(event: EventId) -> Room {
        Room {
            event,
            inner: Mutex::new(Inner::default()),
            wake: Notify::new(),
            beat: Notify::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock()
    }

    /// Registers one socket of a buyer who holds `place` (Pre or Waiting); `pre` is the
    /// pre-queue size the join reported (fresher than the room's last sync).
    /// Forgets that the room is in step with the engine: its next pass syncs first.
    pub(super) fn unsync(&self) {
        self.lock().synced = false;
    }

    /// Syncs the room with the engine at once (after missed bus messages, or a restore).
    pub(super) fn resync(&self) {
        self.unsync();
        self.wake.notify_one();
    }

    pub fn attach(
        self: &Arc<Self>,
        buyer: BuyerId,
        place: &Place,
        pre: u64,
        ctx: &RoomContext,
    ) -> Attachment {
        let mut inner = self.lock();
        inner.snap.pre = inner.snap.pre.max(pre);
        let seq = match place {
            Place::Waiting { seq } => Some(*seq),
            _ => None,
        };
        // The buyer's other tabs share one member; it moves if the place changed (the
        // pre-queue was drawn, or the buyer came back after losing the old place).
        let existing = match inner.index.get(&buyer).copied() {
            Some(Some(old)) => inner.waiting.remove(&old).map(|(_, m)| m),
            Some(None) => inner.pre.remove(&buyer),
            None => None,
        };
        let mut member = existing.unwrap_or_else(Member::new);
        if inner.index.get(&buyer).copied().flatten() != seq {
            member.best_ahead = u64::MAX;
        }
        inner.index.insert(buyer, seq);
        let member = match seq {
            Some(seq) => &mut inner.waiting.entry(seq).or_insert((buyer, member)).1,
            None => inner.pre.entry(buyer).or_insert(member),
        };
        member.sockets += 1;
        let rx = member.tx.subscribe();
        // Admitted (or passed) between the engine's join and this attach: the next sync
        // finds out which, now rather than at the next periodic one.
        if seq.is_some_and(|s| s <= inner.snap.head) {
            inner.synced = false;
        }
        if inner.synced {
            // Only the new buyer's view: a join must not cost a pass over the whole room.
            inner.show_one(buyer);
        } else {
            drop(inner);
            self.wake.notify_one();
        }
        Attachment {
            room: self.clone(),
            buyer,
            rx,
            engine: ctx.engine.clone(),
            clock: ctx.clock.clone(),
        }
    }

    /// Deregisters one socket; returns the buyer's place (`Some(seq)` in line, `None` in
    /// the pre-queue) when it was their last socket here.
    fn detach(&self, buyer: BuyerId) -> Option<Option<u64>> {
        let mut inner = self.lock();
        let slot = inner.index.get(&buyer).copied()?;
        let last = match slot {
            Some(seq) => match inner.waiting.get_mut(&seq) {
                Some((_, m)) => {
                    m.sockets = m.sockets.saturating_sub(1);
                    (m.sockets == 0)
                        .then(|| inner.waiting.remove(&seq))
                        .is_some()
                }
                None => false,
            },
            None => match inner.pre.get_mut(&buyer) {
                Some(m) => {
                    m.sockets = m.sockets.saturating_sub(1);
                    (m.sockets == 0).then(|| inner.pre.remove(&buyer)).is_some()
                }
                None => false,
            },
        };
        if last {
            inner.index.remove(&buyer);
        }
        last.then_some(slot)
    }

    /// Applies a bus message about this room.
    pub fn on_bus(&self, msg: &BusMessage) {
        let mut inner = self.lock();
        match msg {
            BusMessage::Admitted { h, a, d, .. } => {
                inner.snap.head = inner.snap.head.max(*h);
                inner.snap.admitted_total += a.len() as u64;
                inner.snap.waiting = inner
                    .snap
                    .waiting
                    .saturating_sub((a.len() + d.len()) as u64);
                for adm in a {
                    inner.finish(adm.buyer, View::Admitted(adm.clone()));
                }
                // A buyer connected here whose place ran out is told, not left hanging.
                for seq in d {
                    if let Some(buyer) = inner.waiting.get(seq).map(|(b, _)| *b) {
                        inner.finish(buyer, View::Lost);
                    }
                }
                inner.departed.extend(d.iter().copied());
            }
            BusMessage::Departed { d, b, .. } => {
                inner.snap.waiting = inner.snap.waiting.saturating_sub(d.len() as u64);
                inner.departed.extend(d.iter().copied());
                // The buyer left in one tab: their other tabs (here) end too.
                if let Some(buyer) = b.as_deref().and_then(BuyerId::parse) {
                    inner.finish(buyer, View::Gone);
                }
            }
            BusMessage::Revoked { b, .. } => {
                if let Some(buyer) = BuyerId::parse(b) {
                    inner.finish(buyer, View::Revoked);
                }
            }
            BusMessage::Opened { .. } | BusMessage::Config { .. } | BusMessage::SoldOut { .. } => {
                inner.synced = false
            }
            BusMessage::Seats { .. } => return,
        }
        drop(inner);
        self.wake.notify_one();
    }

    /// Reads the room's counters from the engine and brings every local buyer up to date.
    async fn sync(&self, ctx: &RoomContext) -> anyhow::Result<()> {
        let now = ctx.clock.now_ms();
        let snap = ctx.engine.snapshot(self.event, now).await?;
        let (reload_departed, check) = {
            let inner = self.lock();
            let mut check: Vec<BuyerId> = Vec::new();
            if snap.opened {
                check.extend(inner.pre.keys().copied());
            }
            // Local buyers the head has passed: admitted or dropped, message missed.
            check.extend(inner.waiting.range(..=snap.head).map(|(_, (b, _))| *b));
            (snap.departed_version != inner.departed_version, check)
        };
        let departed = if reload_departed {
            Some(ctx.engine.departed_above(self.event, snap.head).await?)
        } else {
            None
        };
        let places = ctx.engine.places(self.event, &check, now).await?;
        let mut inner = self.lock();
        // The store restored its counters (it had lost its data): put this instance's
        // buyers back at their numbers now, not at the next heartbeat.
        if snap.epoch != 0 && snap.epoch != inner.epoch {
            if inner.epoch != 0 {
                self.beat.notify_one();
            }
            inner.epoch = snap.epoch;
        }
        inner.outage = false;
        if let Some(d) = departed {
            inner.departed = d.into_iter().collect();
            inner.departed_version = snap.departed_version;
        }
        if inner.snap.rate != snap.rate {
            inner.outflow.reset();
        }
        inner.snap = RoomSnapshot {
            head: snap.head.max(inner.snap.head),
            ..snap
        };
        // The line moves when admission runs and someone waits for a free slot.
        let moving = snap.opened
            && !snap.paused
            && !snap.sold_out
            && !snap.ended
            && snap.active < snap.max_active
            && snap.waiting > 0;
        inner.outflow.observe(now, snap.admitted_total, moving);
        for (buyer, place) in check.into_iter().zip(places) {
            match place {
                Some(Place::Waiting { seq }) if seq > inner.snap.head || !snap.opened => {
                    inner.move_to_line(buyer, seq)
                }
                // Put back at a number the head has passed (after a store loss): admitted
                // by the next step.
                Some(Place::Waiting { .. }) => {}
                Some(Place::Admitted(a)) => {
                    inner.finish(buyer, View::Admitted(a));
                }
                Some(Place::Revoked) => inner.finish(buyer, View::Revoked),
                Some(Place::Pre) => {}
                // The store has no place for this buyer. With counters (epoch set) the
                // place is truly gone; without, the store lost its data and the
                // heartbeat puts the buyer back once the counters are restored.
                None if snap.epoch != 0 => inner.finish(buyer, View::Lost),
                None => {}
            }
        }
        inner.synced = true;
        inner.recompute(Force::None);
        Ok(())
    }

    /// Everyone connected here and still in line or the pre-queue, with their numbers.
    fn present(&self) -> Vec<Presence> {
        let inner = self.lock();
        inner
            .waiting
            .iter()
            .map(|(seq, (buyer, _))| Presence {
                buyer: *buyer,
                seq: Some(*seq),
            })
            .chain(inner.pre.keys().map(|b| Presence {
                buyer: *b,
                seq: None,
            }))
            .collect()
    }

    /// Syncs with a time bound; a failure tells every local buyer the line is briefly
    /// unavailable (they keep their place), and the periodic update repeats it.
    async fn sync_or_report(&self, ctx: &RoomContext) {
        let failed = match tokio::time::timeout(SYNC_TIMEOUT, self.sync(ctx)).await {
            Ok(Ok(())) => return,
            Ok(Err(e)) => e.to_string(),
            Err(_) => "the queue store did not answer in time".to_owned(),
        };
        tracing::warn!(event = self.event, error = %failed, "room sync failed");
        // Every failed sync tells every local buyer again. The periodic slices cannot: each
        // pass of the room loop now waits out SYNC_TIMEOUT, and the slices advance one per
        // pass, so a buyer's slice would come round only every ten or more seconds.
        let mut inner = self.lock();
        inner.outage = true;
        inner.recompute(Force::All);
    }

    pub(super) async fn heartbeat(&self, ctx: &RoomContext) {
        let present = self.present();
        if present.is_empty() {
            return;
        }
        let now = ctx.clock.now_ms();
        let touched = ctx.engine.touch(self.event, &present, now, true);
        match tokio::time::timeout(SYNC_TIMEOUT * 2, touched).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(event = self.event, error = %e, "heartbeat failed"),
            Err(_) => tracing::warn!(event = self.event, "heartbeat timed out"),
        }
    }

    fn is_empty(&self) -> bool {
        self.lock().index.is_empty()
    }

    pub(super) async fn run(self: Arc<Self>, ctx: Arc<RoomContext>) {
        // Hear the event's changes before the first sync reads it, so none falls between.
        ctx.bus.listen(self.event).await;
        let mut sync = tokio::time::interval(ctx.update_interval);
        // The periodic update goes out in slices spread over the interval: a room of
        // 20,000 sockets does not wake all of them in the same millisecond.
        let mut slices = tokio::time::interval(ctx.update_interval / SLICES as u32);
        slices.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut slice = 0u64;
        let mut heartbeat = tokio::time::interval(ctx.heartbeat);
        sync.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut shutdown = ctx.shutdown.clone();
        loop {
            tokio::select! {
                _ = crate::shutdown::stopped(&mut shutdown) => return,
                _ = sync.tick() => {
                    if self.is_empty() { continue; }
                    self.sync_or_report(&ctx).await;
                }
                _ = slices.tick() => {
                    let mut inner = self.lock();
                    if inner.synced || inner.outage {
                        inner.recompute(Force::Slice(slice));
                    }
                    slice = (slice + 1) % SLICES;
                }
                _ = heartbeat.tick() => self.heartbeat(&ctx).await,
                _ = self.beat.notified() => self.heartbeat(&ctx).await,
                _ = self.wake.notified() => {
                    let needs_sync = !self.lock().synced;
                    if needs_sync {
                        self.sync_or_report(&ctx).await;
                    } else {
                        // Let the `admitted` pushes of this batch go out before the
                        // position pushes it causes.
                        tokio::time::sleep(ADMITTED_FIRST).await;
                        self.lock().recompute(Force::None);
                    }
                    // Coalesce bursts of changes into one pass per gap.
                    let members = self.lock().index.len() as u64;
                    let stretched = Duration::from_millis(members * 1000 / PUSH_BUDGET);
                    tokio::time::sleep(RECOMPUTE_GAP.max(stretched)).await;
                }
            }
        }
    }
}

/// One socket's registration in a room; deregisters on drop, so a cancelled or panicking
/// socket task cannot leak it.
pub struct Attachment {
    room: Arc<Room>,
    buyer: BuyerId,
    /// The buyer's view; changes on every update.
    pub rx: watch::Receiver<View>,
    engine: Arc<dyn QueueEngine>,
    clock: Clock,
}

impl Drop for Attachment {
    fn drop(&mut self) {
        if let Some(seq) = self.room.detach(self.buyer) {
            // The buyer's last socket here closed: the grace period starts now.
            let (engine, event, buyer, now) = (
                self.engine.clone(),
                self.room.event,
                self.buyer,
                self.clock.now_ms(),
            );
            if let Ok(rt) = tokio::runtime::Handle::try_current() {
                rt.spawn(async move {
                    let gone = [Presence { buyer, seq }];
                    let _ = engine.touch(event, &gone, now, false).await;
                });
            }
        }
    }
}

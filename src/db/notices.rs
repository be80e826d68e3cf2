//! Notices: what the ticket site is told about a sale as a whole (`sale.opened`,
//! `event.sold_out`, `event.back_on_sale`), as opposed to one order. No single request
//! causes them (time passes, the last seat of many is sold), so every instance looks for
//! them, and the table `event_notices` decides who tells: a notice is the row
//! (event, kind, episode) under a primary key, so of several instances that see the same
//! transition exactly one inserts it, and that one writes the webhook in the same
//! transaction.
//!
//! Availability is a history of episodes: `event.sold_out` #1, `event.back_on_sale` #1,
//! `event.sold_out` #2, … Sold out #k+1 is recorded only after back on sale #k, and back
//! on sale #k only after sold out #k; rows are never removed, so what a check reads
//! before its insert stays true, and a check that read an old state only collides with
//! the row that was recorded meanwhile.
//!
//! Notices are recorded while webhooks are off too (without an outbox row): a transition
//! that happened then is never told late, once webhooks are turned on.

use anyhow::Context;
use sqlx::{Any, Transaction};

use crate::db::Db;
use crate::events::EventId;

/// The notice kind of a sale that opened (one episode).
pub const SALE_OPENED: &str = "sale.opened";
/// The notice kind of every seat sold.
pub const SOLD_OUT: &str = "event.sold_out";
/// The notice kind of seats free again after a sell-out.
pub const BACK_ON_SALE: &str = "event.back_on_sale";

/// A transition of an event's availability that this call recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    /// [`SOLD_OUT`] or [`BACK_ON_SALE`].
    pub kind: &'static str,
    /// Which time (1 for the first).
    pub episode: i64,
}

/// What one read of an event's availability found (one statement: one snapshot).
struct Availability {
    name: String,
    ended: bool,
    seats: i64,
    sold: i64,
    /// The latest `event.sold_out` episode (0: none).
    sold_out: i64,
    /// The latest `event.back_on_sale` episode (0: none).
    back: i64,
}

impl Availability {
    /// The transition the counts call for, if any.
    fn due(&self) -> Option<Transition> {
        if self.ended || self.seats == 0 {
            return None;
        }
        let all_sold = self.sold >= self.seats;
        let told_sold_out = self.sold_out > self.back;
        match (all_sold, told_sold_out) {
            (true, false) => Some(Transition {
                kind: SOLD_OUT,
                episode: self.sold_out + 1,
            }),
            (false, true) => Some(Transition {
                kind: BACK_ON_SALE,
                episode: self.sold_out,
            }),
            _ => None,
        }
    }
}

impl Db {
    /// Tells the ticket site, once, that the event's sale has opened (`sale.opened`): its
    /// opening time has passed by `now_ms` and it has not ended. The database's opening
    /// decides, not the caller's copy of the event, so a sale whose opening was just moved
    /// later is not announced at the old time. Returns true when this call recorded it.
    pub async fn notice_sale_opened(&self, event: EventId, now_ms: i64) -> anyhow::Result<bool> {
        let told: Option<(i64,)> =
            sqlx::query_as("SELECT episode FROM event_notices WHERE event_id = $1 AND kind = $2")
                .bind(event)
                .bind(SALE_OPENED)
                .fetch_optional(self.pool())
                .await?;
        if told.is_some() {
            return Ok(false);
        }
        let mut tx = self.pool().begin().await?;
        let noticed = sale_opened_in(&mut tx, self, event, now_ms).await?;
        tx.commit()
            .await
            .context("recording the sale.opened notice")?;
        Ok(noticed)
    }

    /// Records the transition of the availability of the event's `seats` seats that its
    /// sales call for, if any: `event.sold_out` when every seat is sold (holds and unpaid
    /// orders do not count) and the site last heard otherwise, `event.back_on_sale` when
    /// a seat is free again after the last `event.sold_out`. Nothing for an ended sale.
    /// `Ok(None)` also when another instance recorded the same transition first.
    pub async fn notice_availability(
        &self,
        event: EventId,
        seats: i64,
        now_ms: i64,
    ) -> anyhow::Result<Option<Transition>> {
        let Some(now) = self.availability(event, seats).await? else {
            return Ok(None);
        };
        let Some(due) = now.due() else {
            return Ok(None);
        };
        let mut tx = self.pool().begin().await?;
        if !insert_notice(&mut tx, event, due.kind, due.episode, now_ms).await? {
            return Ok(None);
        }
        if let Some(outbox) = self.outbox() {
            let at = crate::clock::rfc3339(now_ms);
            let data = if due.kind == SOLD_OUT {
                serde_json::json!({
                    "event_id": event, "name": now.name, "episode": due.episode,
                    "seats_sold": now.sold, "sold_out_at": at, "sold_out_at_ms": now_ms,
                })
            } else {
                serde_json::json!({
                    "event_id": event, "name": now.name, "episode": due.episode,
                    "seats_sold": now.sold, "seats_free": now.seats - now.sold,
                    "back_on_sale_at": at, "back_on_sale_at_ms": now_ms,
                })
            };
            super::outbox::insert_event(&mut tx, outbox, due.kind, event, &data, now_ms)
                .await
                .with_context(|| format!("writing {} to the outbox", due.kind))?;
        }
        tx.commit()
            .await
            .context("recording an availability notice")?;
        Ok(Some(due))
    }

    /// The event's sales and notices as of one moment (`None`: no such event).
    async fn availability(
        &self,
        event: EventId,
        seats: i64,
    ) -> anyhow::Result<Option<Availability>> {
        let row: Option<(String, i64, i64, i64, i64)> = sqlx::query_as(
            "SELECT name, ended_at_ms, \
             (SELECT COUNT(*) FROM booked_seats WHERE event_id = $1), \
             (SELECT COALESCE(MAX(episode), 0) FROM event_notices \
              WHERE event_id = $1 AND kind = $2), \
             (SELECT COALESCE(MAX(episode), 0) FROM event_notices \
              WHERE event_id = $1 AND kind = $3) \
             FROM events WHERE id = $1",
        )
        .bind(event)
        .bind(SOLD_OUT)
        .bind(BACK_ON_SALE)
        .fetch_optional(self.pool())
        .await
        .context("reading an event's availability")?;
        Ok(
            row.map(|(name, ended_at, sold, sold_out, back)| Availability {
                name,
                ended: ended_at != 0,
                seats,
                sold,
                sold_out,
                back,
            }),
        )
    }
}

/// Records `sale.opened` inside `tx` when the stored opening has passed by `now_ms` and
/// the sale has not ended, with its webhook when webhooks are on. False when it is not
/// due or was recorded before. The event's creation calls this too, so a sale that opens
/// at once is told in the transaction that creates it.
pub async fn sale_opened_in(
    tx: &mut Transaction<'_, Any>,
    db: &Db,
    event: EventId,
    now_ms: i64,
) -> anyhow::Result<bool> {
    let noticed = sqlx::query(
        "INSERT INTO event_notices (event_id, kind, episode, created_at_ms) \
         SELECT id, $2, 1, $3 FROM events \
         WHERE id = $1 AND sale_opens_at_ms <= $3 AND ended_at_ms = 0 \
         ON CONFLICT (event_id, kind, episode) DO NOTHING",
    )
    .bind(event)
    .bind(SALE_OPENED)
    .bind(now_ms)
    .execute(&mut **tx)
    .await
    .context("recording the sale.opened notice")?;
    if noticed.rows_affected() != 1 {
        return Ok(false);
    }
    if let Some(outbox) = db.outbox() {
        let (name, opens): (String, i64) =
            sqlx::query_as("SELECT name, sale_opens_at_ms FROM events WHERE id = $1")
                .bind(event)
                .fetch_one(&mut **tx)
                .await?;
        let data = serde_json::json!({
            "event_id": event,
            "name": name,
            "opened_at": crate::clock::rfc3339(opens),
            "opened_at_ms": opens,
        });
        super::outbox::insert_event(tx, outbox, SALE_OPENED, event, &data, now_ms)
            .await
            .context("writing sale.opened to the outbox")?;
    }
    Ok(true)
}

/// Inserts one notice; true when this insert made it (of several instances, one does).
async fn insert_notice(
    tx: &mut Transaction<'_, Any>,
    event: EventId,
    kind: &str,
    episode: i64,
    now_ms: i64,
) -> anyhow::Result<bool> {
    let done = sqlx::query(
        "INSERT INTO event_notices (event_id, kind, episode, created_at_ms) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (event_id, kind, episode) DO NOTHING",
    )
    .bind(event)
    .bind(kind.to_owned())
    .bind(episode)
    .bind(now_ms)
    .execute(&mut **tx)
    .await
    .with_context(|| format!("recording the {kind} notice"))?;
    Ok(done.rows_affected() == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(sold: i64, sold_out: i64, back: i64) -> Availability {
        Availability {
            name: "A".into(),
            ended: false,
            seats: 4,
            sold,
            sold_out,
            back,
        }
    }

    #[test]
    fn availability_moves_through_episodes() {
        assert_eq!(at(3, 0, 0).due(), None, "seats free, never sold out");
        let first = at(4, 0, 0).due();
        assert_eq!(
            first,
            Some(Transition {
                kind: SOLD_OUT,
                episode: 1
            })
        );
        assert_eq!(at(4, 1, 0).due(), None, "told already");
        let back = at(2, 1, 0).due();
        assert_eq!(
            back,
            Some(Transition {
                kind: BACK_ON_SALE,
                episode: 1
            })
        );
        assert_eq!(at(2, 1, 1).due(), None, "told already");
        let again = at(4, 1, 1).due();
        assert_eq!(
            again,
            Some(Transition {
                kind: SOLD_OUT,
                episode: 2
            })
        );
    }

    #[test]
    fn an_ended_sale_or_an_event_without_seats_tells_nothing() {
        let ended = Availability {
            ended: true,
            ..at(4, 0, 0)
        };
        assert_eq!(ended.due(), None);
        let seatless = Availability {
            seats: 0,
            ..at(0, 0, 0)
        };
        assert_eq!(seatless.due(), None);
    }
}

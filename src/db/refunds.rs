//! Refunds of bookings: the database is the record, so a refund is decided here, in one
//! transaction: the booking is marked refunded, its seats move from `booked_seats` (where
//! the unique (event, seat) guards against selling twice) to `refunded_seats`, and
//! `order.refunded` goes to the webhook outbox. Only then does the engine free the seats.

use anyhow::Context;

use super::Db;
use crate::events::{EventId, PerformanceRef};

/// A refunded booking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refund {
    /// The booking.
    pub booking: i64,
    /// Its event.
    pub event: EventId,
    /// Its buyer (32 hex digits).
    pub buyer: String,
    /// Its performance.
    pub performance: PerformanceRef,
    /// The seats given back (engine ids: see [`PerformanceRef::local`]), ascending.
    pub seats: Vec<u32>,
    /// What was paid (minor units).
    pub total: i64,
    /// When it was refunded (ms since the epoch).
    pub refunded_at_ms: i64,
    /// True when this call refunded it; false when it had been refunded before (then
    /// nothing changed, and its seats must not be freed again: they may be someone
    /// else's by now).
    pub now: bool,
}

impl Db {
    /// Refunds a booking (None: no such booking). Refunding twice changes nothing the
    /// second time.
    pub async fn refund_booking(
        &self,
        booking: i64,
        now_ms: i64,
    ) -> anyhow::Result<Option<Refund>> {
        let mut tx = self.pool().begin().await?;
        let row: Option<(i64, String, i64, i64, i64, i64)> = sqlx::query_as(
            "SELECT event_id, buyer, total, refunded_at_ms, performance, \
             COALESCE((SELECT first_seat FROM performances p WHERE p.event_id = \
             bookings.event_id AND p.number = bookings.performance), 0) \
             FROM bookings WHERE id = $1",
        )
        .bind(booking)
        .fetch_optional(&mut *tx)
        .await
        .context("reading the booking")?;
        let Some((event, buyer, total, refunded_at, performance, first_seat)) = row else {
            return Ok(None);
        };
        let performance = PerformanceRef {
            index: performance as u32,
            first_seat: first_seat as u32,
        };
        if refunded_at != 0 {
            let seats: Vec<(i64,)> = sqlx::query_as(
                "SELECT seat_id FROM refunded_seats WHERE booking_id = $1 ORDER BY seat_id",
            )
            .bind(booking)
            .fetch_all(&mut *tx)
            .await?;
            return Ok(Some(Refund {
                booking,
                event,
                performance,
                buyer,
                seats: seats.into_iter().map(|(s,)| s as u32).collect(),
                total,
                refunded_at_ms: refunded_at,
                now: false,
            }));
        }
        let refunded_at = now_ms.max(1);
        let done = sqlx::query(
            "UPDATE bookings SET refunded_at_ms = $1 WHERE id = $2 AND refunded_at_ms = 0",
        )
        .bind(refunded_at)
        .bind(booking)
        .execute(&mut *tx)
        .await
        .context("marking the booking refunded")?;
        if done.rows_affected() != 1 {
            // Refunded by another request in between: report it as it is now.
            drop(tx);
            return Box::pin(self.refund_booking(booking, now_ms)).await;
        }
        sqlx::query(
            "INSERT INTO refunded_seats (booking_id, event_id, seat_id, price) \
             SELECT booking_id, event_id, seat_id, price FROM booked_seats WHERE booking_id = $1",
        )
        .bind(booking)
        .execute(&mut *tx)
        .await
        .context("keeping the refunded seats")?;
        let seats: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT seat_id, price FROM refunded_seats WHERE booking_id = $1 ORDER BY seat_id",
        )
        .bind(booking)
        .fetch_all(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE orders SET status = 'refunded', updated_at_ms = $1 \
             WHERE booking_id = $2 AND status = 'paid'",
        )
        .bind(now_ms)
        .bind(booking)
        .execute(&mut *tx)
        .await
        .context("marking the order refunded")?;
        sqlx::query("DELETE FROM booked_seats WHERE booking_id = $1")
            .bind(booking)
            .execute(&mut *tx)
            .await
            .context("putting the seats back on sale")?;
        if let Some(outbox) = self.outbox() {
            let data = serde_json::json!({
                "booking_id": booking,
                "event_id": event,
                "performance": performance.index,
                "buyer_id": buyer,
                "seats": seats.iter().map(|(id, price)| serde_json::json!({ "id": performance.local(*id as u32), "price": price })).collect::<Vec<_>>(),
                "total": total,
                "refunded_at": crate::clock::rfc3339(refunded_at),
                "refunded_at_ms": refunded_at,
            });
            super::outbox::insert_event(&mut tx, outbox, "order.refunded", event, &data, now_ms)
                .await
                .context("writing order.refunded to the outbox")?;
        }
        tx.commit().await.context("refunding a booking")?;
        Ok(Some(Refund {
            booking,
            event,
            performance,
            buyer,
            seats: seats.into_iter().map(|(s, _)| s as u32).collect(),
            total,
            refunded_at_ms: refunded_at,
            now: true,
        }))
    }
}

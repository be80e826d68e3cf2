//! Seat maps and bookings in the database. The unique (event, seat) constraint on
//! `booked_seats` is the last guard against selling a seat twice.

use std::collections::BTreeMap;

use anyhow::Context;
use sqlx::{Any, Transaction};

use crate::db::Db;
use crate::engine::seats::Inventory;
use crate::events::EventId;
use crate::events::PerformanceRef;
use crate::events::layout::{Area, Plan};
use usher_protocol::SeatInfo;

/// An event's seat map and prices, and how many performances have a copy of it.
#[derive(Debug, Clone, PartialEq)]
pub struct SeatMap {
    /// Every seat of one performance; `seats[i].id == i`.
    pub seats: Vec<SeatInfo>,
    /// Price per grade.
    pub prices: BTreeMap<String, i64>,
    /// How many performances (at least 1; fixed when the event is created).
    pub performances: u32,
    /// Where the stage and sections are drawn, if the map says.
    pub plan: Option<Plan>,
}

impl SeatMap {
    /// The seats as the engine keeps them: one copy of the map per performance.
    pub fn inventory(&self) -> Inventory {
        Inventory {
            seats: self.seats.len() as u32,
            performances: self.performances.max(1),
        }
    }

    /// The seat of an engine seat id (any performance's copy).
    pub fn info(&self, seat: u32) -> Option<&SeatInfo> {
        if seat >= self.inventory().total() {
            return None;
        }
        self.seats.get(self.inventory().local(seat) as usize)
    }

    /// The price of an engine seat (any performance's copy).
    pub fn price(&self, seat: u32) -> Option<i64> {
        let info = self.info(seat)?;
        self.prices.get(&info.grade).copied()
    }
}

/// A booking as the database has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Booking {
    /// Booking id.
    pub id: i64,
    /// Seats bought, ascending.
    pub seats: Vec<u32>,
    /// Total price (minor units).
    pub total: i64,
}

/// Why a booking was not written.
#[derive(Debug, thiserror::Error)]
pub enum BookingError {
    /// The token already booked (a replay).
    #[error("this entry session has already booked")]
    AlreadyBooked,
    /// A seat is already sold in the database.
    #[error("a seat is already sold")]
    SeatSold,
    /// Anything else.
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

/// Inserts a seat map inside the event's creating transaction.
pub async fn insert_map(
    tx: &mut Transaction<'_, Any>,
    event: EventId,
    seats: &[SeatInfo],
    prices: &BTreeMap<String, i64>,
) -> anyhow::Result<()> {
    for (grade, price) in prices {
        sqlx::query("INSERT INTO prices (event_id, grade, price) VALUES ($1, $2, $3)")
            .bind(event)
            .bind(grade.clone())
            .bind(*price)
            .execute(&mut **tx)
            .await?;
    }
    // Many rows per statement: a 100,000-seat map is 1,000 round trips, not 100,000.
    for chunk in seats.chunks(100) {
        let sql = insert_rows(
            "INSERT INTO seats (event_id, seat_id, section, row_label, number, grade)",
            chunk.len(),
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for s in chunk {
            q = q
                .bind(event)
                .bind(s.id as i64)
                .bind(s.section.clone())
                .bind(s.row.clone())
                .bind(s.number as i64)
                .bind(s.grade.clone());
        }
        q.execute(&mut **tx).await.context("inserting seats")?;
    }
    Ok(())
}

/// `head` (an INSERT naming six columns) with `rows` rows of numbered placeholders:
/// `VALUES ($1, …, $6), ($7, …, $12), …`. The values are bound, never written in.
fn insert_rows(head: &str, rows: usize) -> String {
    let mut sql = format!("{head} VALUES ");
    for i in 0..rows {
        let b = i * 6;
        if i > 0 {
            sql.push(',');
        }
        let marks: Vec<String> = (1..=6).map(|k| format!("${}", b + k)).collect();
        sql.push('(');
        sql.push_str(&marks.join(", "));
        sql.push(')');
    }
    sql
}

/// Stores where the stage and sections are, inside the event's creating transaction.
pub async fn insert_plan(
    tx: &mut Transaction<'_, Any>,
    event: EventId,
    plan: &Plan,
) -> anyhow::Result<()> {
    let rows: Vec<(Option<&str>, &Area)> = plan
        .stage
        .iter()
        .map(|a| (None, a))
        .chain(plan.sections.iter().map(|(n, a)| (Some(n.as_str()), a)))
        .collect();
    // As the seats: many rows per statement.
    for chunk in rows.chunks(100) {
        let sql = insert_rows(
            "INSERT INTO seat_map_areas (event_id, section, x, y, w, h)",
            chunk.len(),
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (section, a) in chunk {
            q = q
                .bind(event)
                .bind(section.map(str::to_owned))
                .bind(i64::from(a.x))
                .bind(i64::from(a.y))
                .bind(i64::from(a.w))
                .bind(i64::from(a.h));
        }
        q.execute(&mut **tx)
            .await
            .context("inserting section areas")?;
    }
    Ok(())
}

impl Db {
    /// The plan of an event's seat map, if it has one.
    async fn plan(&self, event: EventId) -> anyhow::Result<Option<Plan>> {
        let rows: Vec<(Option<String>, i64, i64, i64, i64)> =
            sqlx::query_as("SELECT section, x, y, w, h FROM seat_map_areas WHERE event_id = $1")
                .bind(event)
                .fetch_all(self.pool())
                .await?;
        if rows.is_empty() {
            return Ok(None);
        }
        let mut plan = Plan::default();
        for (section, x, y, w, h) in rows {
            // Checked on the way in; a number out of range here would be a hand edit.
            let n = |v: i64| u32::try_from(v).unwrap_or(0);
            let area = Area {
                x: n(x),
                y: n(y),
                w: n(w),
                h: n(h),
            };
            match section {
                Some(name) => {
                    plan.sections.insert(name, area);
                }
                None => plan.stage = Some(area),
            }
        }
        Ok(Some(plan))
    }

    /// The seat map of an event (None: the event has no seats).
    pub async fn seat_map(&self, event: EventId) -> anyhow::Result<Option<SeatMap>> {
        let rows: Vec<(i64, String, String, i64, String)> = sqlx::query_as(
            "SELECT seat_id, section, row_label, number, grade FROM seats \
             WHERE event_id = $1 ORDER BY seat_id",
        )
        .bind(event)
        .fetch_all(self.pool())
        .await?;
        if rows.is_empty() {
            return Ok(None);
        }
        let prices: Vec<(String, i64)> =
            sqlx::query_as("SELECT grade, price FROM prices WHERE event_id = $1")
                .bind(event)
                .fetch_all(self.pool())
                .await?;
        let (performances,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM performances WHERE event_id = $1")
                .bind(event)
                .fetch_one(self.pool())
                .await?;
        Ok(Some(SeatMap {
            seats: rows
                .into_iter()
                .map(|(id, section, row, number, grade)| SeatInfo {
                    id: id as u32,
                    section,
                    row,
                    number: number as u32,
                    grade,
                })
                .collect(),
            prices: prices.into_iter().collect(),
            performances: performances.max(1) as u32,
            plan: self.plan(event).await?,
        }))
    }

    /// Writes a booking inside `tx`: the booking, its seats (the unique (event, seat)
    /// refuses a seat sold twice), the end of their holds, and `order.paid` to the
    /// webhook outbox. Returns the booking's id and total.
    #[allow(clippy::too_many_arguments)]
    pub async fn book_in(
        &self,
        tx: &mut Transaction<'_, Any>,
        event: EventId,
        perf: PerformanceRef,
        buyer: &str,
        jti: &str,
        seats: &[(u32, i64)],
        now_ms: i64,
    ) -> Result<(i64, i64), BookingError> {
        let total: i64 = seats.iter().map(|(_, p)| p).sum();
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO bookings (event_id, buyer, jti, total, created_at_ms, performance) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(event)
        .bind(buyer.to_owned())
        .bind(jti.to_owned())
        .bind(total)
        .bind(now_ms)
        .bind(i64::from(perf.index))
        .fetch_one(&mut **tx)
        .await
        .map_err(|e| unique(e, BookingError::AlreadyBooked))?;
        for (seat, price) in seats {
            sqlx::query(
                "INSERT INTO booked_seats (event_id, seat_id, booking_id, price) VALUES ($1, $2, $3, $4)",
            )
            .bind(event)
            .bind(*seat as i64)
            .bind(id)
            .bind(*price)
            .execute(&mut **tx)
            .await
            .map_err(|e| unique(e, BookingError::SeatSold))?;
        }
        // The seats are sold: their holds end in the same transaction.
        let sql = format!(
            "DELETE FROM holds WHERE event_id = $1 AND buyer = $2 AND seat_id IN ({})",
            super::holds::placeholders(3, seats.len())
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(event)
            .bind(buyer.to_owned());
        for (seat, _) in seats {
            q = q.bind(i64::from(*seat));
        }
        q.execute(&mut **tx).await.context("ending the holds")?;
        if let Some(outbox) = self.outbox() {
            let data = paid_order(tx, event, perf, id, buyer, seats, total, now_ms).await?;
            super::outbox::insert_event(tx, outbox, "order.paid", event, &data, now_ms)
                .await
                .context("writing order.paid to the outbox")?;
        }
        Ok((id, total))
    }

    /// The booking made with entry token `jti`, if it is committed.
    pub async fn booking_by_jti(&self, jti: &str) -> anyhow::Result<Option<Booking>> {
        let row: Option<(i64, i64)> =
            sqlx::query_as("SELECT id, total FROM bookings WHERE jti = $1")
                .bind(jti.to_owned())
                .fetch_optional(self.pool())
                .await?;
        let Some((id, total)) = row else {
            return Ok(None);
        };
        let seats: Vec<(i64,)> = sqlx::query_as(
            "SELECT seat_id FROM booked_seats WHERE booking_id = $1 ORDER BY seat_id",
        )
        .bind(id)
        .fetch_all(self.pool())
        .await?;
        Ok(Some(Booking {
            id,
            seats: seats.into_iter().map(|(s,)| s as u32).collect(),
            total,
        }))
    }

    /// After a booking write whose answer was lost: the booking of `jti` if it was
    /// committed, `None` if it certainly was not and never will be. A plain read cannot
    /// say "not": the lost transaction may still be in flight (its COMMIT sent, not yet
    /// applied). Inserting the same `jti` waits on the unique index for that transaction
    /// to end, then conflicts if it committed; the probe itself is rolled back.
    pub async fn settled_booking(
        &self,
        event: EventId,
        buyer: &str,
        jti: &str,
        now_ms: i64,
    ) -> anyhow::Result<Option<Booking>> {
        if let Some(b) = self.booking_by_jti(jti).await? {
            return Ok(Some(b));
        }
        let mut tx = self.pool().begin().await?;
        let probe = sqlx::query(
            "INSERT INTO bookings (event_id, buyer, jti, total, created_at_ms)              VALUES ($1, $2, $3, 0, $4)",
        )
        .bind(event)
        .bind(buyer.to_owned())
        .bind(jti.to_owned())
        .bind(now_ms)
        .execute(&mut *tx)
        .await;
        tx.rollback().await?;
        match probe {
            Ok(_) => Ok(None),
            Err(sqlx::Error::Database(d)) if d.is_unique_violation() => self
                .booking_by_jti(jti)
                .await?
                .map(Some)
                .context("a booking that conflicts but cannot be read"),
            Err(e) => Err(e.into()),
        }
    }

    /// Every sold seat of an event with the buyer who bought it.
    pub async fn sold_seats_with_buyers(
        &self,
        event: EventId,
    ) -> anyhow::Result<Vec<(u32, String)>> {
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "SELECT s.seat_id, b.buyer FROM booked_seats s JOIN bookings b ON b.id = s.booking_id \
             WHERE s.event_id = $1 ORDER BY s.seat_id",
        )
        .bind(event)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().map(|(s, b)| (s as u32, b)).collect())
    }

    /// Every sold seat of an event.
    pub async fn sold_seats(&self, event: EventId) -> anyhow::Result<Vec<u32>> {
        let rows: Vec<(i64,)> =
            sqlx::query_as("SELECT seat_id FROM booked_seats WHERE event_id = $1 ORDER BY seat_id")
                .bind(event)
                .fetch_all(self.pool())
                .await?;
        Ok(rows.into_iter().map(|(s,)| s as u32).collect())
    }

    /// How many of the event's seats are sold.
    pub async fn sold_count(&self, event: EventId) -> anyhow::Result<u64> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM booked_seats WHERE event_id = $1")
            .bind(event)
            .fetch_one(self.pool())
            .await?;
        Ok(n as u64)
    }
}

/// The `data` of `order.paid`: the booking with each seat's place and price, read in the
/// booking's transaction.
#[allow(clippy::too_many_arguments)]
async fn paid_order(
    tx: &mut Transaction<'_, Any>,
    event: EventId,
    perf: PerformanceRef,
    booking: i64,
    buyer: &str,
    seats: &[(u32, i64)],
    total: i64,
    now_ms: i64,
) -> anyhow::Result<serde_json::Value> {
    let sql = format!(
        "SELECT seat_id, section, row_label, number FROM seats \
         WHERE event_id = $1 AND seat_id IN ({}) ORDER BY seat_id",
        super::holds::placeholders(2, seats.len())
    );
    let mut q =
        sqlx::query_as::<_, (i64, String, String, i64)>(sqlx::AssertSqlSafe(sql)).bind(event);
    for (seat, _) in seats {
        q = q.bind(i64::from(perf.local(*seat)));
    }
    let places = q
        .fetch_all(&mut **tx)
        .await
        .context("reading the seats sold")?;
    let seats: Vec<serde_json::Value> = places
        .into_iter()
        .map(|(id, section, row, number)| {
            let price = seats
                .iter()
                .find(|(s, _)| i64::from(perf.local(*s)) == id)
                .map_or(0, |(_, p)| *p);
            serde_json::json!({
                "id": id, "section": section, "row": row, "number": number, "price": price,
            })
        })
        .collect();
    Ok(serde_json::json!({
        "booking_id": booking,
        "event_id": event,
        "performance": perf.index,
        "buyer_id": buyer,
        "seats": seats,
        "total": total,
        "created_at": crate::clock::rfc3339(now_ms),
        "created_at_ms": now_ms,
    }))
}

fn unique(e: sqlx::Error, as_: BookingError) -> BookingError {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => as_,
        _ => BookingError::Other(e.into()),
    }
}

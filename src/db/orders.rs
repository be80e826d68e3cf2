//! Orders awaiting payment (when a checkout URL is configured). The database decides
//! every step of an order in one transaction, with its webhook:
//!
//! - checkout: `pending_payment`, one per entry session, with a deadline;
//! - confirm (the ticket site, after payment): `paid`, and the booking it becomes,
//!   written by [`Db::book_in`] in the same transaction; refused once the deadline has
//!   passed or the order was cancelled;
//! - cancel: `cancelled`; expiry at the deadline: `expired`.
//!
//! The engine keeps the seats from expiry until a little after the deadline, so a
//! confirmation the database accepts always finds its seats; only then does it free them.

use anyhow::Context;
use sqlx::{Any, Transaction};

use super::Db;
use super::seats::BookingError;
use crate::events::{EventId, PerformanceRef};

/// Where an order stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderStatus {
    /// Waiting for the ticket site to confirm payment.
    PendingPayment,
    /// Paid: a booking.
    Paid,
    /// Cancelled before payment.
    Cancelled,
    /// Not paid by its deadline.
    Expired,
    /// Paid, then refunded by the operator.
    Refunded,
}

impl OrderStatus {
    /// The name the API uses.
    pub fn name(self) -> &'static str {
        match self {
            OrderStatus::PendingPayment => "pending_payment",
            OrderStatus::Paid => "paid",
            OrderStatus::Cancelled => "cancelled",
            OrderStatus::Expired => "expired",
            OrderStatus::Refunded => "refunded",
        }
    }

    fn parse(s: &str) -> OrderStatus {
        match s {
            "paid" => OrderStatus::Paid,
            "cancelled" => OrderStatus::Cancelled,
            "expired" => OrderStatus::Expired,
            "refunded" => OrderStatus::Refunded,
            _ => OrderStatus::PendingPayment,
        }
    }
}

/// An order as the database has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    /// Order id.
    pub id: i64,
    /// Its event.
    pub event: EventId,
    /// Its performance.
    pub performance: PerformanceRef,
    /// Its buyer (32 hex digits).
    pub buyer: String,
    /// The entry token it was made with.
    pub jti: String,
    /// Where it stands.
    pub status: OrderStatus,
    /// Seats (engine ids: see [`Order::local_seats`]) with their prices (minor units),
    /// ascending.
    pub seats: Vec<(u32, i64)>,
    /// The sum of the prices.
    pub total: i64,
    /// Payment must be confirmed before this (ms since the epoch).
    pub deadline_ms: i64,
    /// The ticket site's payment reference, once paid.
    pub payment_ref: Option<String>,
    /// The booking it became, once paid.
    pub booking: Option<i64>,
    /// When it was made (ms since the epoch).
    pub created_at_ms: i64,
    /// Its deadline was extended (once only).
    pub extended: bool,
}

impl Order {
    /// The seats as the buyer and the ticket site know them: the performance's own ids.
    pub fn local_seats(&self) -> impl Iterator<Item = (u32, i64)> + '_ {
        self.seats
            .iter()
            .map(|(s, p)| (self.performance.local(*s), *p))
    }
}

/// Why a confirmation or a cancellation was refused; nothing changed.
#[derive(Debug, thiserror::Error)]
pub enum OrderRefusal {
    /// Paid already, with another payment reference.
    #[error("the order is already paid with another payment reference")]
    PaidOtherwise,
    /// Its deadline passed before the confirmation.
    #[error("the order expired at its payment deadline; its seats are back on sale")]
    Expired,
    /// Cancelled before.
    #[error("the order was cancelled")]
    Cancelled,
    /// Cancelling an order that is paid (refund its booking instead).
    #[error("the order is paid: refund its booking instead")]
    Paid,
    /// A seat of it is sold to someone else (the engine failed to keep it).
    #[error("a seat of the order is already sold")]
    SeatSold,
    /// Paid, then refunded.
    #[error("the order was paid and then refunded")]
    Refunded,
    /// The deadline was extended once already.
    #[error("the order's deadline was extended already; it can be extended once")]
    ExtendedAlready,
}

/// One seat of a paid order, for the CSV export: order, booking, buyer, performance,
/// seat id, section, row, number, price, and when it was paid (ms).
pub type PaidSeat = (
    i64,
    Option<i64>,
    String,
    i64,
    i64,
    String,
    String,
    i64,
    i64,
    i64,
);

type OrderRow = (
    i64,
    i64,
    String,
    String,
    String,
    i64,
    i64,
    Option<String>,
    Option<i64>,
    i64,
    i64,
    i64,
    i64,
);

const ORDER_COLUMNS: &str = "id, event_id, buyer, jti, status, total, deadline_ms, payment_ref, \
     booking_id, created_at_ms, extended, performance, \
     COALESCE((SELECT first_seat FROM performances p \
     WHERE p.event_id = orders.event_id AND p.number = orders.performance), 0)";

async fn load(tx: &mut Transaction<'_, Any>, id: i64) -> anyhow::Result<Option<Order>> {
    let sql = format!("SELECT {ORDER_COLUMNS} FROM orders WHERE id = $1");
    let row: Option<OrderRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await
        .context("reading an order")?;
    let Some((
        id,
        event,
        buyer,
        jti,
        status,
        total,
        deadline_ms,
        payment_ref,
        booking,
        created,
        extended,
        performance,
        first_seat,
    )) = row
    else {
        return Ok(None);
    };
    let seats: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT seat_id, price FROM order_seats WHERE order_id = $1 ORDER BY seat_id",
    )
    .bind(id)
    .fetch_all(&mut **tx)
    .await
    .context("reading an order's seats")?;
    Ok(Some(Order {
        id,
        event,
        performance: PerformanceRef {
            index: performance as u32,
            first_seat: first_seat as u32,
        },
        buyer,
        jti,
        status: OrderStatus::parse(&status),
        seats: seats.into_iter().map(|(s, p)| (s as u32, p)).collect(),
        total,
        deadline_ms,
        payment_ref,
        booking,
        created_at_ms: created,
        extended: extended != 0,
    }))
}

/// The webhook `data` of an order.
fn order_data(o: &Order, now_ms: i64) -> serde_json::Value {
    serde_json::json!({
        "order_id": o.id,
        "event_id": o.event,
        "performance": o.performance.index,
        "buyer_id": o.buyer,
        "seats": o.local_seats().map(|(id, price)| serde_json::json!({ "id": id, "price": price })).collect::<Vec<_>>(),
        "total": o.total,
        "deadline": crate::clock::rfc3339(o.deadline_ms),
        "at": crate::clock::rfc3339(now_ms),
        "at_ms": now_ms,
    })
}

async fn set_status(
    tx: &mut Transaction<'_, Any>,
    id: i64,
    status: OrderStatus,
    now_ms: i64,
) -> anyhow::Result<bool> {
    let done = sqlx::query(
        "UPDATE orders SET status = $1, updated_at_ms = $2 \
         WHERE id = $3 AND status = 'pending_payment'",
    )
    .bind(status.name())
    .bind(now_ms)
    .bind(id)
    .execute(&mut **tx)
    .await
    .context("changing an order's status")?;
    Ok(done.rows_affected() == 1)
}

/// Records a sale made at once (no `checkout_url`) as a paid order, inside the booking's
/// transaction, so every sale is an order the orders API lists.
#[allow(clippy::too_many_arguments)]
pub async fn paid_at_once(
    tx: &mut Transaction<'_, Any>,
    event: EventId,
    perf: PerformanceRef,
    buyer: &str,
    jti: &str,
    seats: &[(u32, i64)],
    booking: i64,
    now_ms: i64,
) -> anyhow::Result<()> {
    let new = NewOrder {
        event,
        perf,
        buyer,
        jti,
        seats,
        status: OrderStatus::Paid,
        deadline_ms: now_ms,
        booking: Some(booking),
    };
    insert_order(tx, &new, now_ms)
        .await
        .context("recording the sale as an order")?;
    Ok(())
}

/// An order to write.
struct NewOrder<'a> {
    event: EventId,
    perf: PerformanceRef,
    buyer: &'a str,
    jti: &'a str,
    seats: &'a [(u32, i64)],
    status: OrderStatus,
    deadline_ms: i64,
    booking: Option<i64>,
}

/// Writes an order and its seats inside `tx`; returns its id.
async fn insert_order(
    tx: &mut Transaction<'_, Any>,
    o: &NewOrder<'_>,
    now_ms: i64,
) -> anyhow::Result<i64> {
    let total: i64 = o.seats.iter().map(|(_, p)| p).sum();
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO orders (event_id, buyer, jti, status, total, deadline_ms, booking_id, \
         created_at_ms, updated_at_ms, performance) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9) RETURNING id",
    )
    .bind(o.event)
    .bind(o.buyer.to_owned())
    .bind(o.jti.to_owned())
    .bind(o.status.name())
    .bind(total)
    .bind(o.deadline_ms)
    .bind(o.booking)
    .bind(now_ms)
    .bind(i64::from(o.perf.index))
    .fetch_one(&mut **tx)
    .await
    .context("making an order")?;
    for (seat, price) in o.seats {
        sqlx::query("INSERT INTO order_seats (order_id, seat_id, price) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(i64::from(*seat))
            .bind(*price)
            .execute(&mut **tx)
            .await
            .context("recording an order's seats")?;
    }
    Ok(id)
}

/// Which orders to list.
#[derive(Debug, Clone, Default)]
pub struct OrderFilter {
    /// Only this event's.
    pub event: Option<EventId>,
    /// Only this performance's (with the event).
    pub performance: Option<u32>,
    /// Only in this state.
    pub status: Option<OrderStatus>,
    /// Only this buyer's (32 hex digits).
    pub buyer: Option<String>,
    /// Ids above this one (the cursor).
    pub after: i64,
    /// At most this many.
    pub limit: i64,
}

impl OrderStatus {
    /// A status by its API name.
    pub fn from_name(s: &str) -> Option<OrderStatus> {
        [
            OrderStatus::PendingPayment,
            OrderStatus::Paid,
            OrderStatus::Cancelled,
            OrderStatus::Expired,
            OrderStatus::Refunded,
        ]
        .into_iter()
        .find(|st| st.name() == s)
    }
}

impl Db {
    /// A sale made at once (no `checkout_url`): the booking and its seats (see
    /// [`Db::book_in`]) and its paid order, in one transaction.
    pub async fn book(
        &self,
        event: EventId,
        perf: PerformanceRef,
        buyer: &str,
        jti: &str,
        seats: &[(u32, i64)],
        now_ms: i64,
    ) -> Result<(i64, i64), BookingError> {
        let mut tx = self.pool().begin().await.map_err(anyhow::Error::from)?;
        let booked = self
            .book_in(&mut tx, event, perf, buyer, jti, seats, now_ms)
            .await?;
        paid_at_once(&mut tx, event, perf, buyer, jti, seats, booked.0, now_ms).await?;
        tx.commit().await.map_err(anyhow::Error::from)?;
        Ok(booked)
    }

    /// Orders by ascending id, filtered; the last one's id is the next page's cursor.
    pub async fn orders(&self, f: &OrderFilter) -> anyhow::Result<Vec<Order>> {
        // Each filter is a fixed clause with its own placeholder, always bound (a filter
        // that is off matches everything): no text from the request enters the SQL.
        let ids: Vec<(i64,)> = sqlx::query_as(
            "SELECT id FROM orders WHERE id > $1 \
             AND ($2 = 0 OR event_id = $3) \
             AND ($4 = '' OR status = $4) \
             AND ($5 = '' OR buyer = $5) \
             AND ($7 = 0 OR performance = $8) \
             ORDER BY id LIMIT $6",
        )
        .bind(f.after)
        .bind(i64::from(f.event.is_some()))
        .bind(f.event.unwrap_or(0))
        .bind(f.status.map(|s| s.name()).unwrap_or(""))
        .bind(f.buyer.clone().unwrap_or_default())
        .bind(f.limit)
        .bind(i64::from(f.performance.is_some()))
        .bind(i64::from(f.performance.unwrap_or(0)))
        .fetch_all(self.pool())
        .await
        .context("listing orders")?;
        let mut tx = self.pool().begin().await?;
        let mut out = Vec::with_capacity(ids.len());
        for (id,) in ids {
            if let Some(o) = load(&mut tx, id).await? {
                out.push(o);
            }
        }
        tx.commit().await?;
        Ok(out)
    }

    /// Every seat of the event's paid orders, for the CSV export: (order, booking, buyer,
    /// seat, section, row, number, price, paid at ms), by order then seat.
    pub async fn paid_order_seats(&self, event: EventId) -> anyhow::Result<Vec<PaidSeat>> {
        let rows: Vec<PaidSeat> = sqlx::query_as(
            "SELECT o.id, o.booking_id, o.buyer, o.performance, m.seat_id, m.section, \
             m.row_label, m.number, s.price, o.updated_at_ms FROM orders o \
             JOIN order_seats s ON s.order_id = o.id \
             JOIN performances p ON p.event_id = o.event_id AND p.number = o.performance \
             JOIN seats m ON m.event_id = o.event_id AND m.seat_id = s.seat_id - p.first_seat \
             WHERE o.event_id = $1 AND o.status = 'paid' ORDER BY o.id, s.seat_id",
        )
        .bind(event)
        .fetch_all(self.pool())
        .await
        .context("reading the paid orders")?;
        Ok(rows)
    }

    /// Makes the entry session's order for these seats, or returns the one it made
    /// already (a retried checkout).
    #[allow(clippy::too_many_arguments)]
    pub async fn checkout(
        &self,
        event: EventId,
        perf: PerformanceRef,
        buyer: &str,
        jti: &str,
        seats: &[(u32, i64)],
        deadline_ms: i64,
        now_ms: i64,
    ) -> anyhow::Result<Order> {
        let mut tx = self.pool().begin().await?;
        let existing: Option<(i64,)> = sqlx::query_as("SELECT id FROM orders WHERE jti = $1")
            .bind(jti.to_owned())
            .fetch_optional(&mut *tx)
            .await?;
        let id = match existing {
            Some((id,)) => id,
            None => {
                let new = NewOrder {
                    event,
                    perf,
                    buyer,
                    jti,
                    seats,
                    status: OrderStatus::PendingPayment,
                    deadline_ms,
                    booking: None,
                };
                insert_order(&mut tx, &new, now_ms).await?
            }
        };
        let order = load(&mut tx, id).await?.context("the order just made")?;
        tx.commit().await.context("making an order")?;
        Ok(order)
    }

    /// An order by id.
    pub async fn order(&self, id: i64) -> anyhow::Result<Option<Order>> {
        let mut tx = self.pool().begin().await?;
        let order = load(&mut tx, id).await?;
        tx.commit().await?;
        Ok(order)
    }

    /// Confirms payment: the order turns `paid` and becomes a booking, in one
    /// transaction. Confirming again with the same reference answers the same order;
    /// `Ok(None)`: no such order. `newly`: this call paid it.
    ///
    /// The claim comes first, before anything is read: its conditional `UPDATE` takes the
    /// order's row lock, so a confirmation, cancellation or expiry of the same order at the
    /// same time (on any instance) waits for this transaction and then finds the order
    /// decided, or the other way round; without it both could pass a read of
    /// `pending_payment`. On SQLite, a transaction that writes first takes the write lock
    /// at once instead of failing to upgrade a read that another writer made stale.
    pub async fn confirm_order(
        &self,
        id: i64,
        payment_ref: &str,
        now_ms: i64,
    ) -> anyhow::Result<Option<Result<(Order, bool), OrderRefusal>>> {
        let mut tx = self.pool().begin().await?;
        let claimed = sqlx::query(
            "UPDATE orders SET status = 'paid', payment_ref = $1, updated_at_ms = $2 \
             WHERE id = $3 AND status = 'pending_payment' AND deadline_ms > $2",
        )
        .bind(payment_ref.to_owned())
        .bind(now_ms)
        .bind(id)
        .execute(&mut *tx)
        .await
        .context("claiming an order to pay it")?
        .rows_affected()
            == 1;
        let Some(order) = load(&mut tx, id).await? else {
            return Ok(None);
        };
        if !claimed {
            // Decided already (or due): the answer says how; nothing is written but an
            // expiry that the sweep has not made yet.
            return match order.status {
                OrderStatus::Paid if order.payment_ref.as_deref() == Some(payment_ref) => {
                    Ok(Some(Ok((order, false))))
                }
                OrderStatus::Paid => Ok(Some(Err(OrderRefusal::PaidOtherwise))),
                OrderStatus::Cancelled => Ok(Some(Err(OrderRefusal::Cancelled))),
                OrderStatus::Expired => Ok(Some(Err(OrderRefusal::Expired))),
                OrderStatus::Refunded => Ok(Some(Err(OrderRefusal::Refunded))),
                OrderStatus::PendingPayment if now_ms >= order.deadline_ms => {
                    // Past the deadline: it is expired now, whatever the sweep has done.
                    self.expire_in(&mut tx, &order, now_ms).await?;
                    tx.commit().await.context("expiring an order")?;
                    Ok(Some(Err(OrderRefusal::Expired)))
                }
                // Awaiting payment before its deadline, yet not claimable: it changed
                // between the two statements; nothing was written, asking again decides.
                OrderStatus::PendingPayment => {
                    anyhow::bail!("the order changed while being confirmed")
                }
            };
        }
        // Claimed: the booking is written in the same transaction, or nothing is.
        let booked = self
            .book_in(
                &mut tx,
                order.event,
                order.performance,
                &order.buyer,
                &order.jti,
                &order.seats,
                now_ms,
            )
            .await;
        let booking = match booked {
            Ok((booking, _)) => booking,
            Err(BookingError::SeatSold) => return Ok(Some(Err(OrderRefusal::SeatSold))),
            Err(BookingError::AlreadyBooked) => {
                anyhow::bail!("the order's entry session booked already")
            }
            Err(BookingError::Other(e)) => return Err(e),
        };
        sqlx::query("UPDATE orders SET booking_id = $1 WHERE id = $2")
            .bind(booking)
            .bind(id)
            .execute(&mut *tx)
            .await
            .context("marking an order paid")?;
        let paid = load(&mut tx, id).await?.context("the order just paid")?;
        tx.commit().await.context("confirming an order")?;
        Ok(Some(Ok((paid, true))))
    }

    /// Moves the payment deadline of an order awaiting payment `by_ms` later, once.
    /// `Ok(None)`: no such order.
    pub async fn extend_order(
        &self,
        id: i64,
        by_ms: i64,
        now_ms: i64,
    ) -> anyhow::Result<Option<Result<Order, OrderRefusal>>> {
        let mut tx = self.pool().begin().await?;
        let Some(order) = load(&mut tx, id).await? else {
            return Ok(None);
        };
        let refused = match order.status {
            OrderStatus::Paid => Some(OrderRefusal::Paid),
            OrderStatus::Cancelled => Some(OrderRefusal::Cancelled),
            OrderStatus::Expired => Some(OrderRefusal::Expired),
            OrderStatus::Refunded => Some(OrderRefusal::Refunded),
            OrderStatus::PendingPayment if now_ms >= order.deadline_ms => {
                Some(OrderRefusal::Expired)
            }
            OrderStatus::PendingPayment if order.extended => Some(OrderRefusal::ExtendedAlready),
            OrderStatus::PendingPayment => None,
        };
        if let Some(r) = refused {
            return Ok(Some(Err(r)));
        }
        let done = sqlx::query(
            "UPDATE orders SET deadline_ms = deadline_ms + $1, extended = 1, updated_at_ms = $2 \
             WHERE id = $3 AND status = 'pending_payment' AND extended = 0 AND deadline_ms > $2",
        )
        .bind(by_ms)
        .bind(now_ms)
        .bind(id)
        .execute(&mut *tx)
        .await
        .context("extending an order")?;
        if done.rows_affected() != 1 {
            return Ok(Some(Err(OrderRefusal::ExtendedAlready)));
        }
        let extended = load(&mut tx, id)
            .await?
            .context("the order just extended")?;
        tx.commit().await.context("extending an order")?;
        Ok(Some(Ok(extended)))
    }

    /// Cancels an order awaiting payment. `Ok(None)`: no such order. Cancelling again
    /// answers the same order (`newly` false). Like [`Db::confirm_order`], the claim
    /// (the conditional `UPDATE`) comes first, so a cancellation and a confirmation of the
    /// same order at the same time end one way only.
    pub async fn cancel_order(
        &self,
        id: i64,
        now_ms: i64,
    ) -> anyhow::Result<Option<Result<(Order, bool), OrderRefusal>>> {
        let mut tx = self.pool().begin().await?;
        let claimed = set_status(&mut tx, id, OrderStatus::Cancelled, now_ms).await?;
        let Some(order) = load(&mut tx, id).await? else {
            return Ok(None);
        };
        if !claimed {
            return match order.status {
                OrderStatus::Cancelled => Ok(Some(Ok((order, false)))),
                OrderStatus::Paid => Ok(Some(Err(OrderRefusal::Paid))),
                OrderStatus::Expired => Ok(Some(Err(OrderRefusal::Expired))),
                OrderStatus::Refunded => Ok(Some(Err(OrderRefusal::Refunded))),
                // It changed between the two statements; nothing was written.
                OrderStatus::PendingPayment => {
                    anyhow::bail!("the order changed while being cancelled")
                }
            };
        }
        if let Some(outbox) = self.outbox() {
            let data = order_data(&order, now_ms);
            super::outbox::insert_event(
                &mut tx,
                outbox,
                "order.cancelled",
                order.event,
                &data,
                now_ms,
            )
            .await?;
        }
        tx.commit().await.context("cancelling an order")?;
        Ok(Some(Ok((order, true))))
    }

    /// Expires every order awaiting payment whose deadline has passed, and returns them
    /// (their seats go back on sale).
    pub async fn expire_due_orders(&self, now_ms: i64) -> anyhow::Result<Vec<Order>> {
        let due: Vec<(i64,)> = sqlx::query_as(
            "SELECT id FROM orders WHERE status = 'pending_payment' AND deadline_ms <= $1 \
             ORDER BY deadline_ms LIMIT 100",
        )
        .bind(now_ms)
        .fetch_all(self.pool())
        .await?;
        let mut expired = Vec::new();
        for (id,) in due {
            match self.expire_one(id, now_ms).await {
                Ok(Some(order)) => expired.push(order),
                Ok(None) => {}
                // Those expired so far are committed: they are still returned, so that
                // their seats go back on sale now (this one waits for the next sweep).
                Err(e) if !expired.is_empty() => {
                    tracing::warn!(order = id, error = ?e, "expiring an order failed");
                    break;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(expired)
    }

    /// Expires one due order in its own transaction, if it still awaits payment.
    async fn expire_one(&self, id: i64, now_ms: i64) -> anyhow::Result<Option<Order>> {
        let mut tx = self.pool().begin().await?;
        let Some(order) = load(&mut tx, id).await? else {
            return Ok(None);
        };
        if !self.expire_in(&mut tx, &order, now_ms).await? {
            return Ok(None);
        }
        tx.commit().await.context("expiring an order")?;
        Ok(Some(order))
    }

    /// Marks an order expired (with `order.expired`) if it still awaits payment.
    async fn expire_in(
        &self,
        tx: &mut Transaction<'_, Any>,
        order: &Order,
        now_ms: i64,
    ) -> anyhow::Result<bool> {
        if !set_status(tx, order.id, OrderStatus::Expired, now_ms).await? {
            return Ok(false);
        }
        if let Some(outbox) = self.outbox() {
            let data = order_data(order, now_ms);
            super::outbox::insert_event(tx, outbox, "order.expired", order.event, &data, now_ms)
                .await?;
        }
        // Its holds end with it.
        sqlx::query("DELETE FROM holds WHERE event_id = $1 AND buyer = $2")
            .bind(order.event)
            .bind(order.buyer.clone())
            .execute(&mut **tx)
            .await
            .context("ending an expired order's holds")?;
        Ok(true)
    }

    /// The earliest expiry of the buyer's recorded holds in the event (None: none).
    pub async fn hold_deadline(&self, event: EventId, buyer: &str) -> anyhow::Result<Option<i64>> {
        let (min,): (Option<i64>,) = sqlx::query_as(
            "SELECT MIN(expires_at_ms) FROM holds WHERE event_id = $1 AND buyer = $2",
        )
        .bind(event)
        .bind(buyer.to_owned())
        .fetch_one(self.pool())
        .await?;
        Ok(min)
    }
}

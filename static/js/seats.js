// The live seat map: one WebSocket to /ws/events/{id}/seats (crates/usher-protocol/src/seats.rs; docs/protocol.md is the contract).
//
// auth{token} → snapshot, then `seats` deltas from everyone; hold / release / book answered
// by held / released / booked or error. The entry token comes from the waiting room, in
// sessionStorage under usher.token.{id}.

import {
  Backoff, eventIdFromPath, fetchJson, formatClock, formatDate, formatWon, notice,
  reconnectNotice, socketUrl,
} from "./common.js";
import { mountSwitcher, onLanguage, register, t, translate } from "./i18n.js";
import en from "./msg/seats.en.js";
import ko from "./msg/seats.ko.js";
import {
  dockNotices, drawBar, drawClock, markLatest, showConfirmation, wireBar,
} from "./seatbar.js";
import { neighbour, paintSeat } from "./seatmap.js";
import { SeatModel } from "./seatmodel.js";
import { expandLayout } from "./seatwire.js";
import { Venue } from "./venue.js";
import {
  bookedNames, drawLegend, errorWords, limitWords, seatsLeft, showBooking, updatePanel as drawPanel,
} from "./seatpanel.js";

register({ en, ko });

const eventId = eventIdFromPath();
const tokenKey = `usher.token.${eventId}`;
const bookingKey = `usher.booking.${eventId}`;
const performanceKey = `usher.performance.${eventId}`;
/** Seconds before a hold ends when the buyer is warned. */
const WARN_AT_S = [60, 15];
const queuePage = `/events/${encodeURIComponent(eventId)}`;

const $ = (id) => document.getElementById(id);
const backoff = new Backoff();

const map = new SeatModel();
// Draws the map: whole, or for a big venue an overview of its sections and one at a time.
const venue = new Venue(map, $("seatmap"), (g, id) => paintSeat(g, map.viewState(id), map.selected.has(id)));

let pass = null; // {token, expires_at_ms}
let ws = null;
let lastError = null;
let busy = false; // a request is on its way: one at a time
let busyTimer = null;
let finished = false; // booked, or the session is over: no more requests
let reconnectTimer = null;
let reconnectAt = 0;
let reconnectWhy = null; // () => the words of the reconnect notice, or null
let warnFor = null; // the hold expiry the warnings below are about
let warnedAt = new Set(); // WARN_AT_S already said (or already past) for it
let confirmRelease = false; // Release with nothing picked asks "Release all N?" first
let confirmTimer = null;
let actedFrom = null; // the element that sent the last request, to return focus to
let asked = null; // the type of the last request sent ("hold", "best", …)
let inbox = Promise.resolve(); // server messages, handled one at a time
let performanceIndex = readPerformance(); // the date this page shows
let performances = []; // from GET /api/events/{id}
let switchedAt = 0; // when the buyer last picked another date
let booked = null; // {booking, seats, total} once this session bought its seats
let eventInfo = null; // GET /api/events/{id}, for the heading
let overWords = null; // () => why the session cannot go on

// ---- words ------------------------------------------------------------------------------

// What the notices say, as functions of the language: redone on a switch of language.
const notes = new Map(); // element id → {words, kind}

/** Shows a notice; `words` is a text or a function giving it (redone on a switch). */
function showNote(id, words, kind) {
  const fn = typeof words === "function" ? words : () => words;
  notes.set(id, { words: fn, kind });
  const text = fn();
  markLatest(id, Boolean(text));
  notice($(id), text, kind);
}

/** An error or a page-level notice (#message, an alert). */
function showMessage(words, kind = "error") {
  showNote("message", words, kind);
}

/** A result (#info, a polite status: screen readers read it once, as it changes). */
function showInfo(words, kind = "ok") {
  showNote("info", words, kind);
}

// ---- state and drawing ------------------------------------------------------------------

/** Shows seat `id` as the model has it, if its node is built (a seat built later is
 * painted as it is built). */
function paint(id) {
  const g = map.nodes.get(id);
  if (g) paintSeat(g, map.viewState(id), map.selected.has(id));
}

function paintAll() {
  for (const id of map.nodes.keys()) paint(id);
  updatePanel();
}

function updatePanel() {
  drawPanel(map, !busy && !finished, finished, { bought: boughtHere(), confirmRelease, booked });
  drawBar(map, booked);
}

/** Seats the buyer bought for the date shown, in any session or browser: the server
 * says so in each snapshot (`bought`), and a booking on this page adds to it. */
function boughtHere() {
  return map.bought;
}

/** Moves the focus to the result of an action, so keyboard and screen-reader users land
 * where the page changed rather than on a button that went away. */
function focusOn(el) {
  if (el && !el.disabled && !el.closest("[hidden]")) el.focus();
}

// ---- server messages ----------------------------------------------------------------------

/** The layout a snapshot names: fetched once (the browser caches it: its URL is versioned). */
let layout = null; // {etag, seats, prices}

async function layoutFor(m) {
  if (layout && layout.etag === m.layout_etag) return layout;
  const body = await fetchJson(m.layout_url);
  layout = { etag: m.layout_etag, seats: expandLayout(body), prices: body.prices, body };
  return layout;
}

async function onSnapshot(m) {
  const { seats, prices, body } = await layoutFor(m);
  performance.mark("usher-layout-ready");
  map.load(m, seats, prices);
  const key = m.layout_etag;
  const fresh = map.drawnFor !== key;
  if (fresh) {
    venue.draw(seats, prices, body);
    map.drawnFor = key;
    drawLegend(prices);
  }
  venue.recount();
  performanceIndex = m.performance ?? 0;
  $("limit").textContent = limitWords(map, boughtHere());
  drawPerformances();
  $("workspace").hidden = false;
  dockNotices();
  // The seats in view are built now that the map has its size on the page.
  if (fresh) map.view.start();
  setBusy(false);
  paintAll();
  tick();
  if (!window.usherMapDrawnAt) {
    // Time to the first drawn map, for measurements (BENCHMARKS.md).
    window.usherMapDrawnAt = performance.now();
    performance.mark("usher-map-drawn");
    // The end of the first frame with the map in it: a task after that frame's paint.
    requestAnimationFrame(() => setTimeout(() => {
      window.usherSeatsAtPaint = document.querySelectorAll("#seatmap [data-seat]").length;
      $("seatmap").dataset.seatsAtPaint = String(window.usherSeatsAtPaint);
      window.usherMapPaintedAt = performance.now();
    }, 0));
  }
}

function onSeats(changes) {
  for (const { seat, state } of changes) {
    map.state.set(seat, state);
    if (state !== "held") map.mine.delete(seat);
    if (map.selected.has(seat) && !map.takeable(seat)) {
      map.selected.delete(seat);
      showMessage(() => t("seats.msg.taken_now", { seats: map.names([seat]) }));
    }
    paint(seat);
  }
  updatePanel();
}

function onHeld(m) {
  for (const id of m.seats) {
    map.mine.set(id, m.expires_at_ms);
    map.state.set(id, "held");
    map.selected.delete(id);
    paint(id);
  }
  venue.reveal(m.seats);
  setBusy(false);
  showMessage("");
  const mins = Math.max(1, Math.round((m.expires_at_ms - map.serverNow()) / 60000));
  showInfo(() => t("seats.msg.held", { seats: map.names(m.seats), count: mins }));
  focusOn($("book"));
  // Seats the server picked may be anywhere on the map: bring them into view (the
  // buyer is at the best-available form, maybe far below).
  if (asked === "best") showSeat(m.seats[0]);
}

/** Scrolls seat `id` to the middle of the map's view (building its block if need be). */
function showSeat(id) {
  const g = id === undefined ? null : map.view?.ensure(id);
  g?.scrollIntoView({ block: "center", inline: "center" });
}

function onReleased(m) {
  for (const id of m.seats) {
    map.mine.delete(id);
    map.state.set(id, "free");
    map.selected.delete(id);
    paint(id);
  }
  setBusy(false);
  showInfo(() => t("seats.msg.released", { seats: map.names(m.seats) }));
  focusOn($("choice-panel"));
}

function onExpired(m) {
  for (const id of m.seats) {
    map.mine.delete(id);
    if (map.state.get(id) === "held") map.state.set(id, "free");
    map.selected.delete(id);
    paint(id);
  }
  updatePanel();
  // The green "Held… book within" line is no longer true.
  if (!map.mine.size) showInfo("");
  showMessage(() => t("seats.msg.expired", { seats: map.names(m.seats), count: m.seats.length }));
}

// The ticket site takes the payment: the seats stay ours until the deadline.
function onCheckout(m) {
  finished = true;
  sessionStorage.removeItem(tokenKey);
  setBusy(false);
  showMessage(() => t("seats.msg.checkout"), "ok");
  window.location.assign(m.payment_url);
}

function onBooked(m) {
  finished = true;
  for (const id of m.seats) {
    map.mine.delete(id);
    map.state.set(id, "sold");
    map.selected.delete(id);
    paint(id);
  }
  // The seats as section, row and number, so that a switch of language renames them.
  const seats = m.seats.map((id) => {
    const s = map.seats.get(id);
    return s ? { section: s.section, row: s.row, number: s.number } : t("seats.seat.id", { id });
  });
  booked = { booking: m.booking, seats, total: m.total };
  sessionStorage.setItem(bookingKey, JSON.stringify(booked));
  sessionStorage.removeItem(tokenKey);
  map.selected.clear();
  paintAll();
  setBusy(false);
  showMessage("");
  map.bought += m.seats.length;
  showBooking(booked);
  drawPerformances();
  tick();
  showInfo(() => t("seats.msg.booked", {
    id: booked.booking, seats: bookedNames(booked).join(t("seats.list_sep")), total: formatWon(booked.total),
  }));
  // On a phone the confirmation is far above the bar: brought into view with the focus.
  showConfirmation();
}

async function onMessage(m) {
  switch (m.type) {
    case "snapshot": await onSnapshot(m); break;
    case "seats": onSeats(m.changes); break;
    case "held": onHeld(m); break;
    case "released": onReleased(m); break;
    case "expired": onExpired(m); break;
    case "booked": onBooked(m); break;
    case "checkout": onCheckout(m); break;
    case "error":
      lastError = m;
      setBusy(false);
      showMessage(() => errorWords(m, map));
      // The button pressed was disabled while the request was out: give the focus back.
      if (!document.activeElement || document.activeElement === document.body) {
        focusOn(actedFrom?.isConnected && !actedFrom.disabled ? actedFrom : $("choice-panel"));
      }
      break;
    default: break;
  }
}

// ---- requests ---------------------------------------------------------------------------

function send(msg) {
  if (!ws || ws.readyState !== WebSocket.OPEN) {
    showMessage(() => t("seats.msg.offline"));
    return false;
  }
  ws.send(JSON.stringify(msg));
  return true;
}

function setBusy(on) {
  busy = on;
  clearTimeout(busyTimer);
  // An answer always comes; this only unsticks the buttons if a connection died meanwhile.
  if (on) busyTimer = setTimeout(() => setBusy(false), 10000);
  updatePanel();
}

function request(msg) {
  if (busy || finished) return;
  showMessage("");
  actedFrom = document.activeElement;
  asked = msg.type;
  setConfirmRelease(false);
  if (send(msg)) setBusy(true);
}

/** Release with nothing picked first asks; the question lapses after a while. */
function setConfirmRelease(on) {
  confirmRelease = on;
  clearTimeout(confirmTimer);
  if (on) confirmTimer = setTimeout(() => setConfirmRelease(false), 8000);
  updatePanel();
}

function toggle(id) {
  if (finished) return;
  const st = map.viewState(id);
  if (st === "held" || st === "sold") {
    showMessage(() => t(st === "sold" ? "seats.msg.is_sold" : "seats.msg.is_held", { seat: map.names([id]) }));
    return;
  }
  if (map.selected.has(id)) {
    map.selected.delete(id);
  } else if (st === "free") {
    if (map.toHold().length + map.mine.size >= seatsLeft(map, boughtHere())) {
      showMessage(() => t("seats.msg.limit", { limit: limitWords(map, boughtHere()) }));
      return;
    }
    map.selected.add(id);
  } else {
    map.selected.add(id); // one of yours: marked to release
  }
  showMessage("");
  paint(id);
  setConfirmRelease(false);
}

$("hold").addEventListener("click", () => {
  const seats = map.toHold();
  if (seats.length) request({ type: "hold", seats });
});
$("release").addEventListener("click", () => {
  const picked = map.toRelease();
  if (picked.length) {
    request({ type: "release", seats: picked });
    return;
  }
  // Nothing picked: one click must not give back every seat. Ask first.
  const all = map.mineIds();
  if (!all.length) return;
  if (confirmRelease) {
    request({ type: "release", seats: all });
    return;
  }
  setConfirmRelease(true);
  showInfo(() => t("seats.msg.release_ask", { count: all.length }), "");
});
$("book").addEventListener("click", () => request({ type: "book" }));
$("best-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const count = Number($("best-count").value);
  const grade = $("best-grade").value;
  request(grade ? { type: "best", count, grade } : { type: "best", count });
});
$("end-session").addEventListener("click", endSession);

const svg = $("seatmap");
svg.addEventListener("click", (e) => {
  const g = e.target.closest(".seat");
  if (g) toggle(Number(g.dataset.seat));
});
// The map is one Tab stop: the seat focused last (by click or key) is the one Tab returns to.
svg.addEventListener("focusin", (e) => {
  const g = e.target.closest?.(".seat");
  if (g) map.view.setCurrent(Number(g.dataset.seat));
});
svg.addEventListener("keydown", (e) => {
  const g = e.target.closest(".seat");
  if (!g || e.altKey || e.ctrlKey || e.metaKey) return;
  const id = Number(g.dataset.seat);
  if (e.key === "Enter" || e.key === " ") {
    e.preventDefault();
    toggle(id);
    return;
  }
  const next = neighbour(map.rows, map.seats, id, e.key);
  if (next !== null) {
    e.preventDefault();
    map.view.setCurrent(next);
    map.nodes.get(next)?.focus();
  }
});

async function endSession() {
  if (!pass || !window.confirm(t("seats.panel.end_confirm"))) return;
  try {
    await fetchJson(`/api/events/${encodeURIComponent(eventId)}/session/end`, {
      method: "POST", headers: { Authorization: `Bearer ${pass.token}` },
    });
  } catch (e) {
    if (e.status !== 400) {
      showMessage(() => t("seats.msg.end_failed", { why: e.message }));
      return;
    }
  }
  over(() => t("seats.msg.gave_up"), false);
}

// ---- the clock --------------------------------------------------------------------------

function tick() {
  if (!map.sessionEnds) return;
  const now = map.serverNow();
  const cd = $("countdown");
  if (map.mine.size) {
    const ends = Math.min(...map.mine.values());
    const left = ends - now;
    cd.textContent = left > 0 ? t("seats.time.left", { clock: formatClock(left) }) : t("seats.time.expiring");
    drawClock(Math.max(0, left));
    warnBeforeExpiry(ends, left);
  } else {
    cd.textContent = booked ? t("seats.time.booked") : finished ? t("common.none") : t("seats.time.none_held");
    drawClock(null);
  }
  const session = map.sessionEnds - now;
  $("session").textContent = finished ? t("common.none") : session > 0 ? formatClock(session) : t("seats.time.over");
}
/**
 * Says (in #info, a live region, and aloud) when the hold is about to end: once at each of
 * WARN_AT_S. A hold first seen with less time left than a mark is not warned for that mark.
 */
function warnBeforeExpiry(ends, left) {
  if (ends !== warnFor) {
    warnFor = ends;
    warnedAt = new Set(WARN_AT_S.filter((s) => left <= s * 1000));
  }
  const due = WARN_AT_S.filter((s) => left > 0 && left <= s * 1000 && !warnedAt.has(s));
  if (!due.length || finished) return;
  for (const s of due) warnedAt.add(s);
  const s = Math.min(...due);
  const seats = map.names(map.mineIds());
  showInfo(() => t("seats.msg.warn", {
    when: s >= 60 && s % 60 === 0 ? t("seats.msg.minutes", { count: s / 60 }) : t("seats.msg.seconds", { count: s }),
    seats,
  }), "");
}

setInterval(() => {
  tick();
  if (reconnectTimer) showReconnect();
}, 250);

// ---- the socket -------------------------------------------------------------------------

function connect() {
  clearTimeout(reconnectTimer);
  reconnectTimer = null;
  lastError = null;
  const sock = new WebSocket(socketUrl(`/ws/events/${encodeURIComponent(eventId)}/seats`));
  ws = sock;
  sock.onopen = () => sock.send(JSON.stringify(
    { type: "auth", token: pass.token, performance: performanceIndex },
  ));
  sock.onmessage = (e) => {
    if (sock !== ws) return;
    let m;
    try {
      m = JSON.parse(e.data);
    } catch {
      return;
    }
    // In order, one after another: a snapshot may wait for its layout, and the deltas
    // after it must not be applied before it.
    inbox = inbox.then(async () => {
      if (sock !== ws) return;
      if (m.type === "snapshot") {
        backoff.reset();
        if (reconnectWhy) showMessage("");
        reconnectWhy = null;
      }
      try {
        await onMessage(m);
      } catch (e) {
        // Only the layout fetch can fail here: start over after a pause.
        ws = null;
        sock.close(1000);
        retry(backoff.next(), () => t("seats.close.layout", { why: e.message }));
      }
    });
  };
  sock.onclose = (e) => {
    if (sock === ws) onClose(e.code, e.reason);
  };
}

/** The session cannot go on: words (a function of the language), a way back to the
 * waiting room, no reconnect. */
function over(words, backToQueue = true) {
  finished = true;
  clearTimeout(reconnectTimer);
  reconnectTimer = null;
  sessionStorage.removeItem(tokenKey);
  const sock = ws;
  ws = null;
  if (sock) sock.close(1000);
  showMessage(words, backToQueue ? "error" : "ok");
  if (backToQueue) {
    overWords = words;
    $("no-token").hidden = false;
    $("no-token-words").textContent = words();
  }
  updatePanel();
}

function onClose(code, reason) {
  setBusy(false);
  if (finished) return;
  const said = (lastError && lastError.message) || reason;
  switch (code) {
    case 4409:
      if (Date.now() - switchedAt < 5000) {
        // This page's own socket of the date it left is still being let go.
        retry(300, () => t("seats.close.switching"));
        return;
      }
      retry(3000 + Math.random() * 2000 + backoff.next(),
        () => t("seats.close.other_tab"));
      return;
    case 4000:
      retry(Math.random() * 1000, () => t("seats.close.restart"));
      return;
    case 4502:
      over(() => t("seats.close.removed"));
      return;
    case 4510:
    case 4512:
      over(() => t("seats.close.bad_pass", { why: said }));
      return;
    case 4511:
      over(() => t("seats.close.time_over"));
      return;
    case 4513:
      over(() => t("seats.close.session_ended"));
      return;
    case 4500:
      over(() => t("seats.close.no_map", { why: said || t("seats.close.no_event") }));
      return;
    case 1000:
      over(() => (said ? t("seats.close.closed_why", { why: said }) : t("seats.close.closed")));
      return;
    default:
      if (code >= 4500 && code <= 4999) {
        over(() => t("seats.close.refused", { why: said || t("seats.close.code", { code }) }));
        return;
      }
      retry(backoff.next(), () => t("seats.close.lost"));
  }
}

function retry(delayMs, why) {
  reconnectWhy = why;
  reconnectAt = Date.now() + delayMs;
  clearTimeout(reconnectTimer);
  reconnectTimer = setTimeout(connect, delayMs);
  showReconnect();
}

function showReconnect() {
  notes.delete("message"); // the reconnect notice has its own words, redone each tick
  markLatest("message", true);
  reconnectNotice($("message"), t("seats.close.waiting", { why: reconnectWhy() }), reconnectAt);
}

window.addEventListener("online", () => {
  if (reconnectTimer) connect();
});

// ---- performances (dates) ----------------------------------------------------------------

function readPerformance() {
  const fromUrl = new URLSearchParams(location.search).get("performance");
  const n = Number(fromUrl ?? sessionStorage.getItem(performanceKey) ?? 0);
  return Number.isInteger(n) && n >= 0 ? n : 0;
}

function performanceName(p) {
  return [p.label, formatDate(p.starts_at_ms)].filter(Boolean).join(" · ");
}

/** One button per date, with seats left; the one shown is pressed. Only for events
 * with more than one date. */
function drawPerformances() {
  const list = $("perf-list");
  $("performances").hidden = performances.length < 2 || finished;
  list.replaceChildren();
  for (const p of performances) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = p.index === performanceIndex ? "perf current" : "perf secondary";
    b.dataset.performance = String(p.index);
    b.setAttribute("aria-pressed", String(p.index === performanceIndex));
    const left = p.sold_out ? t("seats.perf.sold_out") : t("seats.perf.left", { count: p.seats.free });
    b.textContent = t("seats.perf.button", { name: performanceName(p), left });
    b.disabled = p.sold_out && p.index !== performanceIndex;
    b.addEventListener("click", () => pickPerformance(p.index));
    list.append(b);
  }
}

/** Shows another date: the socket of this one closes, one for the other opens. */
function pickPerformance(index) {
  if (index === performanceIndex || finished) return;
  performanceIndex = index;
  sessionStorage.setItem(performanceKey, String(index));
  switchedAt = Date.now();
  map.selected.clear();
  const sock = ws;
  ws = null;
  if (sock) sock.close(1000);
  setBusy(false);
  const p = performances.find((x) => x.index === index);
  showInfo(p ? () => t("seats.perf.showing", { name: performanceName(p) }) : "");
  drawPerformances();
  connect();
}

async function refreshPerformances() {
  try {
    const ev = await fetchJson(`/api/events/${encodeURIComponent(eventId)}`);
    performances = ev.performances || [];
    drawPerformances();
    return ev;
  } catch {
    return null;
  }
}

// ---- start ------------------------------------------------------------------------------

function readPass() {
  try {
    const p = JSON.parse(sessionStorage.getItem(tokenKey) || "null");
    return p && typeof p.token === "string" ? p : null;
  } catch {
    return null;
  }
}

function drawHeading() {
  if (!eventInfo) return;
  $("event-name").textContent = t("seats.heading_event", { name: eventInfo.name });
  $("event-meta").textContent = [eventInfo.venue, formatDate(eventInfo.starts_at_ms)].filter(Boolean).join(" · ");
  document.title = t("seats.doc_title", { name: eventInfo.name });
}

/**
 * The page in the language just picked, in place: the socket, the holds, the picks and the
 * focus stay (a reload would reconnect, and a reconnect within the session is refused for a
 * moment as "open in another tab"). The static text is redone by i18n.js; this redoes what
 * the page drew, and the map relabels its seats in slices (seatview.js).
 */
function redraw() {
  drawHeading();
  if (overWords) $("no-token-words").textContent = overWords();
  if (booked) showBooking(booked);
  for (const [id, { words, kind }] of notes) notice($(id), words(), kind);
  if (reconnectTimer) showReconnect();
  if (layout && map.view) drawLegend(layout.prices);
  $("limit").textContent = limitWords(map, boughtHere());
  drawPerformances();
  map.view?.relabel();
  paintAll();
  tick();
}

async function main() {
  $("back-link").href = queuePage;
  refreshPerformances().then((ev) => {
    if (!ev) return;
    // Seats left per date, now and then (the map itself is live).
    setInterval(refreshPerformances, 15000);
    eventInfo = ev;
    drawHeading();
  }).catch(() => {});

  pass = readPass();
  const booking = JSON.parse(sessionStorage.getItem(bookingKey) || "null");
  if (!pass && booking) {
    booked = booking;
    showBooking(booking);
    return;
  }
  if (!pass || (pass.expires_at_ms && pass.expires_at_ms <= Date.now())) {
    sessionStorage.removeItem(tokenKey);
    $("no-token").hidden = false;
    return;
  }
  connect();
}

translate();
mountSwitcher();
onLanguage(redraw);
wireBar();
main();

// The live seat map: one WebSocket to /ws/events/{id}/seats (crates/usher-protocol/src/seats.rs; docs/protocol.md is the contract).
//
// auth{token} → snapshot, then `seats` deltas from everyone; hold / release / book answered
// by held / released / booked or error. The entry token comes from the waiting room, in
// sessionStorage under usher.token.{id}.

import {
  Announcer, Backoff, eventIdFromPath, fetchJson, formatClock, formatDate, formatWon, notice,
  reconnectNotice, socketUrl,
} from "./common.js";
import { neighbour, paintSeat, seatShort } from "./seatmap.js";
import { SeatModel } from "./seatmodel.js";
import { Venue } from "./venue.js";
import { expandLayout } from "./seatwire.js";
import {
  drawLegend, errorWords, limitWords, seatsLeft, showBooking, updatePanel as drawPanel,
} from "./seatpanel.js";

const eventId = eventIdFromPath();
const tokenKey = `usher.token.${eventId}`;
const bookingKey = `usher.booking.${eventId}`;
const performanceKey = `usher.performance.${eventId}`;
// Seats this browser bought, per date: {performance: count}. In localStorage, as the
// buyer's identity in the waiting room is, so a later session knows them.
const boughtKey = `usher.bought.${eventId}`;
/** Seconds before a hold ends when the buyer is warned. */
const WARN_AT_S = [60, 15];
const queuePage = `/events/${encodeURIComponent(eventId)}`;

const $ = (id) => document.getElementById(id);
const announcer = new Announcer($("announce"), 3000);
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
let reconnectWhy = "";
let warnFor = null; // the hold expiry the warnings below are about
let warnedAt = new Set(); // WARN_AT_S already said (or already past) for it
let confirmRelease = false; // Release with nothing picked asks "Release all N?" first
let confirmTimer = null;
let actedFrom = null; // the element that sent the last request, to return focus to
let inbox = Promise.resolve(); // server messages, handled one at a time
let performanceIndex = readPerformance(); // the date this page shows
let performances = []; // from GET /api/events/{id}
let switchedAt = 0; // when the buyer last picked another date

// ---- words ------------------------------------------------------------------------------

function showMessage(text, kind = "error") {
  notice($("message"), text, kind);
}

function showInfo(text) {
  notice($("info"), text, "ok");
  if (text) announcer.say(text, { now: true });
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
  drawPanel(map, !busy && !finished, finished, { bought: boughtHere(), confirmRelease });
}

/** Seats this browser bought for the date shown, as far as it remembers. */
function boughtHere() {
  try {
    const all = JSON.parse(localStorage.getItem(boughtKey) || "{}");
    return Number(all[performanceIndex]) || 0;
  } catch {
    return 0;
  }
}

function rememberBought(count) {
  let all = {};
  try {
    all = JSON.parse(localStorage.getItem(boughtKey) || "{}") || {};
  } catch {
    all = {};
  }
  all[performanceIndex] = (Number(all[performanceIndex]) || 0) + count;
  localStorage.setItem(boughtKey, JSON.stringify(all));
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
      showMessage(`${map.names([seat])} was just taken by someone else.`);
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
  showInfo(`Held: ${map.names(m.seats)}. Book within ${mins} minute${mins > 1 ? "s" : ""}.`);
  focusOn($("book"));
}

function onReleased(m) {
  for (const id of m.seats) {
    map.mine.delete(id);
    map.state.set(id, "free");
    map.selected.delete(id);
    paint(id);
  }
  setBusy(false);
  showInfo(`Released: ${map.names(m.seats)}.`);
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
  if (!map.mine.size) notice($("info"), "");
  showMessage(`Your hold expired: ${map.names(m.seats)} ${m.seats.length > 1 ? "are" : "is"} free again. Choose and hold again to book.`);
}

// The ticket site takes the payment: the seats stay ours until the deadline.
function onCheckout(m) {
  finished = true;
  sessionStorage.removeItem(tokenKey);
  setBusy(false);
  showMessage("Taking you to payment. Your seats are kept for you until the deadline.");
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
  const booking = { booking: m.booking, seats: m.seats.map((id) => seatShort(map.seats.get(id))), total: m.total };
  sessionStorage.setItem(bookingKey, JSON.stringify(booking));
  sessionStorage.removeItem(tokenKey);
  setBusy(false);
  showMessage("");
  rememberBought(m.seats.length);
  showBooking(booking);
  showInfo(`Booking ${m.booking} confirmed: ${booking.seats.join(", ")}, ${formatWon(m.total)} in total.`);
  focusOn($("booked"));
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
      showMessage(errorWords(m, map));
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
    showMessage("Not connected right now: wait for the connection to come back, then try again.");
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
    showMessage(`${map.names([id])} is ${st === "sold" ? "sold" : "held by someone else"}. Pick a free seat.`);
    return;
  }
  if (map.selected.has(id)) {
    map.selected.delete(id);
  } else if (st === "free") {
    if (map.toHold().length + map.mine.size >= seatsLeft(map, boughtHere())) {
      showMessage(`You can have ${limitWords(map, boughtHere())}, held and selected together.`);
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
  notice($("info"), `Pick the seats to give back on the map (yours show ★), or press `
    + `"Release all ${all.length}?" to give back all ${all.length}.`);
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
  if (!pass || !window.confirm("Give up your turn? Seats you hold are released and the next buyer is let in.")) return;
  try {
    await fetchJson(`/api/events/${encodeURIComponent(eventId)}/session/end`, {
      method: "POST", headers: { Authorization: `Bearer ${pass.token}` },
    });
  } catch (e) {
    if (e.status !== 400) {
      showMessage(`Could not end the session: ${e.message}`);
      return;
    }
  }
  over("You gave up your turn. Thank you!", false);
}

// ---- the clock --------------------------------------------------------------------------

function tick() {
  if (!map.sessionEnds) return;
  const now = map.serverNow();
  const cd = $("countdown");
  if (map.mine.size) {
    const ends = Math.min(...map.mine.values());
    const left = ends - now;
    cd.textContent = left > 0 ? `${formatClock(left)} left` : "expiring…";
    warnBeforeExpiry(ends, left);
  } else {
    cd.textContent = finished ? "–" : "No seats held";
  }
  const session = map.sessionEnds - now;
  $("session").textContent = finished ? "–" : session > 0 ? formatClock(session) : "over";
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
  const when = s >= 60 && s % 60 === 0 ? `${s / 60} minute${s > 60 ? "s" : ""}` : `${s} seconds`;
  const text = `Your hold ends in ${when}: book now to keep ${map.names(map.mineIds())}.`;
  notice($("info"), text);
  announcer.say(text, { now: true });
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
        reconnectWhy = "";
      }
      try {
        await onMessage(m);
      } catch (e) {
        // Only the layout fetch can fail here: start over after a pause.
        ws = null;
        sock.close(1000);
        retry(backoff.next(), `The seat map could not be loaded (${e.message}). Trying again`);
      }
    });
  };
  sock.onclose = (e) => {
    if (sock === ws) onClose(e.code, e.reason);
  };
}

/** The session cannot go on: words, a way back to the waiting room, no reconnect. */
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
    $("no-token").hidden = false;
    $("no-token-words").textContent = words;
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
        retry(300, "Opening the date you picked");
        return;
      }
      retry(3000 + Math.random() * 2000 + backoff.next(),
        "This seat map is open in another tab or window. Close it there; trying again");
      return;
    case 4000:
      retry(Math.random() * 1000, "The server is restarting. Reconnecting");
      return;
    case 4502:
      over("The organiser has removed you from this sale.");
      return;
    case 4510:
    case 4512:
      over(`Your entry pass does not work for this event (${said}). Go back to the waiting room to get a new one.`);
      return;
    case 4511:
      over("Your time to choose seats is over. Queue again in the waiting room to get a new turn.");
      return;
    case 4513:
      over("Your seat-map session has ended (booked, ended or expired). Queue again to buy more.");
      return;
    case 4500:
      over(`This event has no seat map to show (${said || "no such event"}).`);
      return;
    case 1000:
      over(`The seat map closed the connection${said ? `: ${said}` : ""}.`);
      return;
    default:
      if (code >= 4500 && code <= 4999) {
        over(`The seat map refused the connection: ${said || `code ${code}`}.`);
        return;
      }
      retry(backoff.next(), "Connection lost. Your held seats stay yours until the hold ends. Reconnecting");
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
  reconnectNotice($("message"), `${reconnectWhy}…`, reconnectAt);
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
    const left = p.sold_out ? "sold out" : `${p.seats.free} seats left`;
    b.textContent = `${performanceName(p)} — ${left}`;
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
  showInfo(p ? `Showing ${performanceName(p)}.` : "");
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

async function main() {
  $("back-link").href = queuePage;
  refreshPerformances().then((ev) => {
    if (!ev) return;
    // Seats left per date, now and then (the map itself is live).
    setInterval(refreshPerformances, 15000);
    $("event-name").textContent = `${ev.name}: choose your seats`;
    $("event-meta").textContent = [ev.venue, formatDate(ev.starts_at_ms)].filter(Boolean).join(" · ");
    document.title = `${ev.name} — seat map`;
  }).catch(() => {});

  pass = readPass();
  const booking = JSON.parse(sessionStorage.getItem(bookingKey) || "null");
  if (!pass && booking) {
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

main();

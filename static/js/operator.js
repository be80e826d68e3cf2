// The operator page: the admin API with a bearer key, polled every second.

import { fetchJson, formatWon, notice, num } from "./common.js";

const keyKey = "usher.adminKey";
const eventKey = "usher.operator.event";
const POLL_MS = 1000;
/** Window of the admitted-per-minute figure. */
const WINDOW_MS = 60000;
/** How long a "Really …?" button waits for its second click. */
const ARMED_MS = 5000;
/** Orders per page of the table. */
const ORDERS_PAGE = 50;

const $ = (id) => document.getElementById(id);
let key = sessionStorage.getItem(keyKey) || "";
let eventId = null;
let samples = []; // [local ms, admitted_total]
let polling = false;
let pollTimer = null;
let filled = false; // the rate and cap inputs hold the event's values

function say(text, kind = "error") {
  notice($("op-message"), text, kind);
}

async function api(method, path, body) {
  const headers = { Authorization: `Bearer ${key}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  try {
    return await fetchJson(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    if (e.status === 401) e.message = "That admin key is wrong.";
    if (e.status === 503) e.message = "The admin API is off: start the server with USHER_ADMIN_KEY set.";
    throw e;
  }
}

// ---- key and event ------------------------------------------------------------------------

$("key-form").addEventListener("submit", (e) => {
  e.preventDefault();
  key = $("admin-key").value.trim();
  sessionStorage.setItem(keyKey, key);
  loadEvents();
});
$("key-forget").addEventListener("click", () => {
  key = "";
  sessionStorage.removeItem(keyKey);
  $("admin-key").value = "";
  stopPolling();
  $("dashboard").hidden = true;
  const sel = $("event-select");
  sel.replaceChildren(new Option("Enter the key first", ""));
  sel.disabled = true;
  say("");
});

async function loadEvents() {
  let events;
  try {
    events = await api("GET", "/api/admin/events");
  } catch (e) {
    say(e.message);
    return;
  }
  say("");
  const sel = $("event-select");
  if (events.length === 0) {
    sel.replaceChildren(new Option("No events yet", ""));
    sel.disabled = true;
    return;
  }
  sel.replaceChildren(...events.map((ev) => new Option(`#${ev.id} ${ev.name}`, String(ev.id))));
  sel.disabled = false;
  const wanted = new URLSearchParams(location.search).get("event") || sessionStorage.getItem(eventKey);
  sel.value = events.some((ev) => String(ev.id) === wanted) ? wanted : String(events[events.length - 1].id);
  pick(sel.value);
}

$("event-select").addEventListener("change", (e) => pick(e.target.value));

function pick(id) {
  if (!id) return;
  eventId = id;
  sessionStorage.setItem(eventKey, id);
  samples = [];
  $("queue-link").href = `/events/${encodeURIComponent(id)}`;
  $("queue-link").hidden = false;
  $("dashboard").hidden = false;
  filled = false;
  for (const out of ["admission-result", "rate-result", "cap-result", "end-result"]) result($(out), "");
  stopPolling();
  poll();
  loadOrders();
}

// ---- live figures -------------------------------------------------------------------------

function stopPolling() {
  clearTimeout(pollTimer);
  pollTimer = null;
}

async function poll() {
  const id = eventId;
  if (polling) return;
  polling = true;
  try {
    const view = await api("GET", `/api/admin/events/${encodeURIComponent(id)}`);
    if (id === eventId) show(view);
    if ($("op-message").dataset.poll) {
      say("");
      delete $("op-message").dataset.poll;
    }
  } catch (e) {
    say(`Cannot read the event: ${e.message} Retrying every second.`);
    $("op-message").dataset.poll = "1";
  } finally {
    polling = false;
    if (id === eventId && key) pollTimer = setTimeout(poll, POLL_MS);
  }
}

function perMinute(total) {
  const now = Date.now();
  const last = samples[samples.length - 1];
  if (last && total < last[1]) samples = []; // a fresh engine: start over
  samples.push([now, total]);
  while (samples.length > 2 && now - samples[0][0] > WINDOW_MS) samples.shift();
  const [t0, n0] = samples[0];
  const span = now - t0;
  if (span < 2000) return "–";
  return (((total - n0) * 60000) / span).toFixed(1);
}

function show(view) {
  const room = view.room || {};
  $("event-title").textContent = view.name;
  const paused = Boolean(room.paused);
  const ended = Boolean(view.ended || room.ended);
  const badge = $("paused-state");
  badge.textContent = ended ? "Sale ended" : paused ? "Paused" : room.sold_out ? "Sold out" : room.opened ? "Admitting" : "Before the opening";
  badge.className = paused || ended || room.sold_out ? "badge later" : "badge";
  badge.dataset.paused = String(paused);
  badge.dataset.ended = String(ended);
  $("pause").disabled = paused;
  $("resume").disabled = !paused || ended;
  for (const id of ["end", "rate-apply", "cap-apply"]) $(id).disabled = ended;
  if (ended) disarm($("end"));
  $("waiting").textContent = num(room.waiting);
  $("active").textContent = num(room.active);
  $("rate").textContent = num(room.rate);
  $("cap").textContent = num(room.max_active);
  $("pre").textContent = num(room.pre);
  $("admitted-total").textContent = num(room.admitted_total);
  $("admitted-per-min").textContent = perMinute(room.admitted_total ?? 0);
  const seats = view.seats || {};
  $("seats-free").textContent = num(seats.free);
  $("seats-held").textContent = num(seats.held);
  $("seats-sold").textContent = num(seats.sold);
  // Fill the inputs once per event (and after a change): never overwrite what the
  // operator is typing.
  if (!filled) {
    $("rate-input").value = view.admission_rate ?? room.rate;
    $("cap-input").value = view.max_active ?? room.max_active;
    filled = true;
  }
  $("updated").textContent = `Updated ${new Date().toLocaleTimeString()}`;
}

// ---- controls -----------------------------------------------------------------------------

/** Changes the event; the result is shown in `out`, next to the control. */
async function change(out, method, path, body, done) {
  try {
    const view = await api(method, `/api/admin/events/${encodeURIComponent(eventId)}${path}`, body);
    filled = false;
    show(view);
    result($(out), done);
  } catch (e) {
    result($(out), `Not changed: ${e.message}`, "error");
  }
}

$("pause").addEventListener("click", () => change("admission-result", "POST", "/pause", undefined, "Admission paused."));
$("resume").addEventListener("click", () => change("admission-result", "POST", "/resume", undefined, "Admission resumed."));

$("rate-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const rate = Number($("rate-input").value);
  if (!(rate > 0 && rate <= 100000)) {
    result($("rate-result"), "The rate is a number of buyers per second above 0 and at most 100000.", "error");
    return;
  }
  change("rate-result", "PATCH", "", { admission_rate: rate }, `Rate set to ${rate} buyers per second.`);
});

$("cap-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const cap = Number($("cap-input").value);
  if (!(Number.isInteger(cap) && cap >= 1 && cap <= 10000000)) {
    result($("cap-result"), "The cap is a whole number from 1 to 10,000,000.", "error");
    return;
  }
  change("cap-result", "PATCH", "", { max_active: cap }, `Cap set to ${cap.toLocaleString()} active buyers.`);
});

// ---- end and delete -----------------------------------------------------------------------

/** Shows an action's result (or clears it) in the element next to that action. */
function result(el, text, kind = "") {
  el.textContent = text;
  el.classList.toggle("error", kind === "error");
}

/**
 * A button that asks for a second click: the first turns its label into `really` for a few
 * seconds (the button stays where it is); a click on it then runs `action`.
 */
function confirmed(button, really, action, out, ask) {
  button.addEventListener("click", () => {
    if (button.dataset.armed) {
      disarm(button);
      action();
      return;
    }
    button.dataset.armed = button.textContent;
    button.textContent = really;
    named(button);
    if (out && ask) result(out, ask);
    button.armTimer = setTimeout(() => {
      disarm(button);
      if (out && out.textContent === ask) result(out, "");
    }, ARMED_MS);
  });
}

function disarm(button) {
  if (!button.dataset.armed) return;
  clearTimeout(button.armTimer);
  button.textContent = button.dataset.armed;
  delete button.dataset.armed;
  named(button);
}

/** A row's button says which order it acts on: "Refund order #3". */
function named(button) {
  if (button.dataset.what) button.setAttribute("aria-label", `${button.textContent} ${button.dataset.what}`);
}

confirmed($("end"), "Really end the sale", async () => {
  const out = $("end-result");
  try {
    const view = await api("POST", `/api/admin/events/${encodeURIComponent(eventId)}/end`);
    show(view);
    result(out, "The sale has ended: nobody more is let in.");
  } catch (e) {
    result(out, `The sale was not ended: ${e.message}`, "error");
  }
}, $("end-result"), "Click “Really end the sale” to end it for good. Nothing has changed yet.");

confirmed($("delete"), "Really delete it", async () => {
  const id = eventId;
  try {
    await api("DELETE", `/api/admin/events/${encodeURIComponent(id)}`);
  } catch (e) {
    result($("end-result"), `Not deleted: ${e.message}`, "error");
    return;
  }
  stopPolling();
  eventId = null;
  sessionStorage.removeItem(eventKey);
  $("dashboard").hidden = true;
  await loadEvents();
  say(`Event #${id} was deleted.`, "ok");
}, $("end-result"), "Click “Really delete it” to delete the event. Nothing has changed yet.");

// ---- orders -------------------------------------------------------------------------------

let nextAfter = null;
let ordersFor = null; // the event and filter the table shows

/** Loads the first page of orders again (`more`: the page after the last one shown). */
async function loadOrders(more = false) {
  const status = $("orders-status").value;
  const wanted = `${eventId}|${status}`;
  const q = new URLSearchParams({ event: eventId, limit: String(ORDERS_PAGE) });
  if (status) q.set("status", status);
  if (more && nextAfter !== null) q.set("after", String(nextAfter));
  if (!more) {
    $("orders-body").replaceChildren();
    $("orders-more").hidden = true;
    result($("orders-result"), "Loading orders…");
  }
  let page;
  try {
    page = await api("GET", `/api/admin/orders?${q}`);
  } catch (e) {
    result($("orders-result"), `Cannot read the orders: ${e.message}`, "error");
    return;
  }
  if (`${eventId}|${$("orders-status").value}` !== wanted) return; // the operator moved on
  ordersFor = wanted;
  $("orders-body").append(...page.orders.map(orderRow));
  nextAfter = page.next_after;
  $("orders-more").hidden = nextAfter === null;
  const shown = $("orders-body").rows.length;
  result($("orders-result"), shown === 0 ? "No orders." : `${shown} order${shown === 1 ? "" : "s"} shown${nextAfter === null ? "" : ", more below"}.`);
}

$("orders-status").addEventListener("change", () => loadOrders());
$("orders-reload").addEventListener("click", () => loadOrders());
$("orders-more").addEventListener("click", () => {
  if (ordersFor === `${eventId}|${$("orders-status").value}`) loadOrders(true);
});

function cell(tr, text, className) {
  const td = tr.insertCell();
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

/** One order's row: its figures, then its action and that action's result. */
function orderRow(o) {
  const tr = document.createElement("tr");
  tr.dataset.order = String(o.id);
  cell(tr, `#${o.id}`);
  cell(tr, "", "status");
  const buyer = cell(tr, `${o.buyer.slice(0, 8)}…`);
  buyer.title = o.buyer;
  cell(tr, o.seats.map((s) => s.id).join(", "));
  cell(tr, formatWon(o.total), "num");
  cell(tr, o.booking === null ? "–" : `#${o.booking}`);
  const act = cell(tr, "", "action");
  const note = document.createElement("span");
  note.className = "note";
  note.setAttribute("aria-live", "polite");
  act.append(note);
  setOrder(tr, o);
  return tr;
}

/** Shows an order's status and the one action it allows (refund if paid, cancel if pending). */
function setOrder(tr, o) {
  tr.dataset.status = o.status;
  tr.querySelector(".status").textContent = o.status;
  const act = tr.querySelector(".action");
  act.querySelector("button")?.remove();
  const note = act.querySelector(".note");
  let button = null;
  if (o.status === "paid" && o.booking !== null) {
    button = actionButton(`order #${o.id}`, "Refund", "Really refund", () => refund(tr, o, note));
  } else if (o.status === "pending_payment") {
    button = actionButton(`order #${o.id}`, "Cancel", "Really cancel", () => cancel(tr, o, note));
  }
  if (button) act.prepend(button);
}

function actionButton(what, label, really, action) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = "secondary";
  b.textContent = label;
  b.dataset.what = what;
  named(b);
  confirmed(b, really, action);
  return b;
}

async function refund(tr, o, note) {
  try {
    const r = await api("POST", `/api/admin/bookings/${encodeURIComponent(o.booking)}/refund`);
    setOrder(tr, { ...o, status: "refunded" });
    result(note, r.already_refunded ? "Was already refunded." : `Refunded ${formatWon(r.total)}; seats ${r.seats.join(", ")} are on sale again.`);
  } catch (e) {
    result(note, `Refund refused: ${e.message}`, "error");
  }
}

async function cancel(tr, o, note) {
  try {
    setOrder(tr, await api("POST", `/api/admin/orders/${encodeURIComponent(o.id)}/cancel`));
    result(note, "Cancelled; its seats are on sale again.");
  } catch (e) {
    result(note, `Not cancelled: ${e.message}`, "error");
  }
}

$("orders-csv").addEventListener("click", async () => {
  const out = $("orders-result");
  const id = eventId;
  let blob;
  try {
    const res = await fetch(`/api/admin/events/${encodeURIComponent(id)}/orders.csv`, {
      headers: { Authorization: `Bearer ${key}` },
    });
    if (res.status === 401) throw new Error("That admin key is wrong.");
    if (!res.ok) {
      const body = await res.json().catch(() => null);
      throw new Error((body && body.message) || `${res.status} ${res.statusText}`);
    }
    blob = await res.blob();
  } catch (e) {
    result(out, `No CSV: ${e.message}`, "error");
    return;
  }
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = `event-${id}-orders.csv`;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 60000);
  result(out, `Downloaded ${a.download} (${blob.size.toLocaleString()} bytes).`);
});

if (key) {
  $("admin-key").value = key;
  loadEvents();
}

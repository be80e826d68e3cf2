// The operator page: the admin API with a bearer key, polled every second.

import { fetchJson, notice, num } from "./common.js";

const keyKey = "usher.adminKey";
const eventKey = "usher.operator.event";
const POLL_MS = 1000;
/** Window of the admitted-per-minute figure. */
const WINDOW_MS = 60000;

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
  stopPolling();
  poll();
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
  const badge = $("paused-state");
  badge.textContent = paused ? "Paused" : room.sold_out ? "Sold out" : room.opened ? "Admitting" : "Before the opening";
  badge.className = paused || room.sold_out ? "badge later" : "badge";
  badge.dataset.paused = String(paused);
  $("pause").disabled = paused;
  $("resume").disabled = !paused;
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

async function change(method, path, body, done) {
  try {
    const view = await api(method, `/api/admin/events/${encodeURIComponent(eventId)}${path}`, body);
    filled = false;
    show(view);
    say(done, "ok");
  } catch (e) {
    say(e.message);
  }
}

$("pause").addEventListener("click", () => change("POST", "/pause", undefined, "Admission paused."));
$("resume").addEventListener("click", () => change("POST", "/resume", undefined, "Admission resumed."));

$("rate-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const rate = Number($("rate-input").value);
  if (!(rate > 0 && rate <= 100000)) {
    say("The rate is a number of buyers per second above 0 and at most 100000.");
    return;
  }
  change("PATCH", "", { admission_rate: rate }, `Rate set to ${rate} buyers per second.`);
});

$("cap-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const cap = Number($("cap-input").value);
  if (!(Number.isInteger(cap) && cap >= 1 && cap <= 10000000)) {
    say("The cap is a whole number from 1 to 10,000,000.");
    return;
  }
  change("PATCH", "", { max_active: cap }, `Cap set to ${cap.toLocaleString()} active buyers.`);
});

if (key) {
  $("admin-key").value = key;
  loadEvents();
}

// The operator page: the admin API with a bearer key, polled every second. The event's
// figures and controls live here; the orders table (oporders.js), the create form
// (opcreate.js) and the details form (opedit.js) are modules of their own.

import { notice, num } from "./common.js";
import { adminKey, api, confirmed, disarm, result, setAdminKey } from "./opkit.js";
import { setPerformances, showOrdersOf } from "./oporders.js";
import { initCreateForm } from "./opcreate.js";
import { initEditForm, showEdit } from "./opedit.js";

const eventKey = "usher.operator.event";
const POLL_MS = 1000;
/** Window of the admitted-per-minute figure. */
const WINDOW_MS = 60000;

const $ = (id) => document.getElementById(id);
let eventId = null;
let samples = []; // [local ms, admitted_total]
let polling = false;
let pollTimer = null;
let filled = false; // the inputs hold the event's values

function say(text, kind = "error") {
  notice($("op-message"), text, kind);
}

// ---- key and event ------------------------------------------------------------------------

$("key-form").addEventListener("submit", (e) => {
  e.preventDefault();
  setAdminKey($("admin-key").value.trim());
  loadEvents();
});
$("key-forget").addEventListener("click", () => {
  setAdminKey("");
  $("admin-key").value = "";
  stopPolling();
  eventId = null;
  $("dashboard").hidden = true;
  $("create").hidden = true;
  const sel = $("event-select");
  sel.replaceChildren(new Option("Enter the key first", ""));
  sel.disabled = true;
  say("");
});

/** Lists the events and shows one: `prefer` if given (a new event), else the last shown. */
async function loadEvents(prefer = null) {
  let events;
  try {
    events = await api("GET", "/api/admin/events");
  } catch (e) {
    say(e.message);
    return;
  }
  say("");
  $("create").hidden = false;
  const sel = $("event-select");
  if (events.length === 0) {
    sel.replaceChildren(new Option("No events yet: create one below", ""));
    sel.disabled = true;
    return;
  }
  sel.replaceChildren(...events.map((ev) => new Option(`#${ev.id} ${ev.name}`, String(ev.id))));
  sel.disabled = false;
  const has = (id) => id && events.some((ev) => String(ev.id) === id);
  const wanted = [prefer, new URLSearchParams(location.search).get("event"), sessionStorage.getItem(eventKey)].find(has);
  sel.value = wanted || String(events[events.length - 1].id);
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
  const outs = ["admission-result", "rate-result", "cap-result", "end-result", "edit-result", "revoke-result"];
  for (const out of outs) result($(out), "");
  stopPolling();
  poll();
  showOrdersOf(id);
}

// ---- live figures -------------------------------------------------------------------------

function stopPolling() {
  clearTimeout(pollTimer);
  pollTimer = null;
}

async function poll() {
  pollTimer = null;
  const id = eventId;
  // A poll still under way for another event schedules the next one when it ends.
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
    if (eventId !== null && adminKey() && pollTimer === null) pollTimer = setTimeout(poll, POLL_MS);
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
  const option = [...$("event-select").options].find((o) => o.value === String(view.id));
  if (option) option.textContent = `#${view.id} ${view.name}`;
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
  showEdit(view, !filled);
  if (!filled) {
    $("rate-input").value = view.admission_rate ?? room.rate;
    $("cap-input").value = view.max_active ?? room.max_active;
    filled = true;
  }
  setPerformances(view.performances);
  $("updated").textContent = `Updated ${new Date().toLocaleTimeString()}`;
}

// ---- controls -----------------------------------------------------------------------------

/** Changes the event; the result is shown in `out`, next to the control. */
async function change(out, method, path, body, done) {
  try {
    const view = await api(method, `/api/admin/events/${encodeURIComponent(eventId)}${path}`, body);
    if (String(view.id) !== eventId) return; // the operator picked another event meanwhile
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

// ---- end, delete and revoke ---------------------------------------------------------------

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

// ---- revoke a buyer -----------------------------------------------------------------------

/** The revoke body the form describes: a buyer id or the ticket site's user id. */
function revokeBody() {
  const id = $("revoke-id").value.trim();
  return $("revoke-by").value === "user" ? { user: id } : { buyer: id.toLowerCase() };
}

confirmed($("revoke"), "Really revoke", async () => {
  const out = $("revoke-result");
  const body = revokeBody();
  try {
    const r = await api("POST", `/api/admin/events/${encodeURIComponent(eventId)}/revoke`, body);
    const who = body.user === undefined ? `Buyer ${r.buyer}` : `User ${body.user} (buyer ${r.buyer})`;
    result(out, r.known
      ? `${who} is revoked: out of the line, and barred from this sale.`
      : `${who} was never seen in this sale, and is barred from it all the same.`, "ok");
    $("revoke-id").value = "";
  } catch (e) {
    result(out, `Not revoked: ${e.message}`, "error");
  }
}, $("revoke-result"), "Click “Really revoke” to bar this buyer from the sale. Nothing has changed yet.");

// Enter in the id asks like a first click, never revokes at once.
$("revoke-form").addEventListener("submit", (e) => {
  e.preventDefault();
  $("revoke").click();
});

// ---- start --------------------------------------------------------------------------------

initCreateForm((view) => loadEvents(String(view.id)));
initEditForm((view) => {
  filled = false;
  show(view);
});

if (adminKey()) {
  $("admin-key").value = adminKey();
  loadEvents();
}

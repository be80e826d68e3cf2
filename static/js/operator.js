// The operator page: the admin API with a bearer key, polled every second. The event's
// figures and controls live here; the orders table (oporders.js), the create form
// (opcreate.js) and the details form (opedit.js) are modules of their own. Every word
// comes from msg/operator.{en,ko}.js; a switch of language redraws the words and keeps
// whatever the operator has typed or picked.
//
// Feedback never moves a control: results go into lines of reserved height next to their
// action, and page-wide messages into a toast over the page (app.css).

import { notice, num } from "./common.js";
import { locale, mountSwitcher, onLanguage, t, translate } from "./i18n.js";
import { adminKey, api, confirmed, counted, disarm, result, reword, setAdminKey, why } from "./opkit.js";
import { relabelOrders, setPerformances, showOrdersOf } from "./oporders.js";
import { initCreateForm, relabelCreateForm } from "./opcreate.js";
import { initEditForm, relabelEdit, showEdit } from "./opedit.js";

const eventKey = "usher.operator.event";
const POLL_MS = 1000;

const $ = (id) => document.getElementById(id);
let eventId = null;
let lastView = null; // the event's last view, to redraw its words on a switch
let shownAt = null; // when it was read
let polling = false;
let pollTimer = null;
let filled = false; // the inputs hold the event's values
let emptyList = "operator.key_first"; // what the event list says while it has no event
const busy = new Set(); // results whose action is under way: a second click waits

/** How long a good-news toast stays; an error stays until it is resolved. */
const TOAST_MS = 8000;
let toastTimer = null;

/** A message over the page (a toast: it moves nothing); `words` as for `result`. */
function say(words, kind = "error") {
  const el = $("op-message");
  el.words = typeof words === "function" ? words : null;
  notice(el, el.words ? el.words() : words, kind);
  clearTimeout(toastTimer);
  if (kind === "ok") toastTimer = setTimeout(() => say(""), TOAST_MS);
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
  lastView = null;
  $("dashboard").hidden = true;
  $("create").hidden = true;
  emptyEventList("operator.key_first");
  result($("key-result"), "");
  say("");
});

/** The event list with no event in it: `key` says why. */
function emptyEventList(key) {
  emptyList = key;
  const sel = $("event-select");
  sel.replaceChildren(new Option(t(key), ""));
  sel.disabled = true;
}

/** Lists the events and shows one: `prefer` if given (a new event), else the last shown. */
async function loadEvents(prefer = null) {
  let events;
  try {
    events = await api("GET", "/api/admin/events");
  } catch (e) {
    // A wrong key changes nothing: no event is shown or polled with it.
    stopPolling();
    eventId = null;
    $("dashboard").hidden = true;
    $("create").hidden = true;
    emptyEventList("operator.key_first");
    result($("key-result"), e.i18n ? () => why(e) : () => t("operator.list_failed", { why: why(e) }), "error");
    return;
  }
  result($("key-result"), () => t("operator.key_ok"), "ok");
  say("");
  $("create").hidden = false;
  const sel = $("event-select");
  if (events.length === 0) {
    emptyEventList("operator.no_events");
    return;
  }
  emptyList = null;
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
  lastView = null;
  sessionStorage.setItem(eventKey, id);
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
    say(() => t("operator.read_failed", { why: why(e) }));
    $("op-message").dataset.poll = "1";
  } finally {
    polling = false;
    if (eventId !== null && adminKey() && pollTimer === null) pollTimer = setTimeout(poll, POLL_MS);
  }
}

/** The state of the sale in one word, for the badge. */
function stateKey(room, ended) {
  if (ended) return "operator.state.ended";
  if (room.paused) return "operator.state.paused";
  if (room.sold_out) return "operator.state.sold_out";
  return room.opened ? "operator.state.admitting" : "operator.state.before";
}

function show(view, at = new Date()) {
  lastView = view;
  shownAt = at;
  const room = view.room || {};
  $("event-title").textContent = view.name;
  const option = [...$("event-select").options].find((o) => o.value === String(view.id));
  if (option) option.textContent = `#${view.id} ${view.name}`;
  const paused = Boolean(room.paused);
  const ended = Boolean(view.ended || room.ended);
  const badge = $("paused-state");
  badge.textContent = t(stateKey(room, ended));
  badge.className = paused || ended || room.sold_out ? "badge later" : "badge";
  badge.dataset.paused = String(paused);
  badge.dataset.ended = String(ended);
  $("pause").disabled = paused || ended;
  $("resume").disabled = !paused || ended;
  for (const id of ["end", "rate-apply", "cap-apply"]) $(id).disabled = ended;
  if (ended) disarm($("end"));
  $("waiting").textContent = num(room.waiting);
  $("active").textContent = num(room.active);
  $("rate").textContent = num(room.rate);
  $("cap").textContent = num(room.max_active);
  $("pre").textContent = num(room.pre);
  $("admitted-total").textContent = num(room.admitted_total);
  // Counted by the server over the last minute (or since the opening, if later): see
  // admitted_last_minute in docs/protocol.md. A shorter window is said under the figure.
  const recent = view.admitted_last_minute;
  $("admitted-per-min").textContent = num(recent?.admitted);
  $("admitted-over").textContent = recent && recent.over_secs < 60 ? t("operator.m.recent_over", { secs: recent.over_secs }) : "";
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
  $("updated").textContent = t("operator.updated", { time: at.toLocaleTimeString(locale()) });
  if ($("pause-dialog").open) askPause();
}

// ---- controls -----------------------------------------------------------------------------

/**
 * Changes the event; the result is shown in `out`, next to the control. One change per
 * control at a time: a click while it is under way (a double click) sends nothing more.
 */
async function change(out, method, path, body, done) {
  if (busy.has(out)) return;
  busy.add(out);
  try {
    const view = await api(method, `/api/admin/events/${encodeURIComponent(eventId)}${path}`, body);
    if (String(view.id) !== eventId) return; // the operator picked another event meanwhile
    filled = false;
    show(view);
    result($(out), done, "ok");
  } catch (e) {
    result($(out), () => t("operator.not_changed", { why: why(e) }), "error");
  } finally {
    busy.delete(out);
  }
}

// Pausing asks first, in a modal dialog: how many are waiting, and what a pause does.
// Cancel (or Escape) changes nothing; resuming is one click.
$("pause").addEventListener("click", () => {
  if (!lastView || $("pause").disabled) return;
  askPause();
  $("pause-dialog").showModal();
});

/** The dialog's words, with the line as last read. */
function askPause() {
  const waiting = lastView?.room?.waiting ?? 0;
  const vars = { count: waiting, n: waiting.toLocaleString(locale()), name: lastView?.name ?? "" };
  $("pause-ask").textContent = t("operator.pause_ask", vars);
  $("pause-confirm").textContent = counted("operator.pause_confirm", waiting);
}

$("pause-dialog").addEventListener("close", () => {
  const dialog = $("pause-dialog");
  const answer = dialog.returnValue;
  dialog.returnValue = "";
  $("pause").focus();
  if (answer === "confirm") {
    change("admission-result", "POST", "/pause", undefined, () => t("operator.paused_done"));
  } else {
    result($("admission-result"), () => t("operator.pause_cancelled"));
  }
});

// The rest of a double click that began in the dialog does not fall through to the page
// once the dialog has closed under the pointer.
let pressedInDialog = false;
document.addEventListener("mousedown", (e) => {
  if (e.detail <= 1) pressedInDialog = Boolean(e.target.closest?.("dialog"));
}, true);
document.addEventListener("click", (e) => {
  if (e.detail > 1 && pressedInDialog && !e.target.closest?.("dialog")) {
    e.preventDefault();
    e.stopPropagation();
  }
}, true);

$("resume").addEventListener("click", () => change("admission-result", "POST", "/resume", undefined, () => t("operator.resumed_done")));

$("rate-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const rate = Number($("rate-input").value);
  if (!(rate > 0 && rate <= 100000)) {
    result($("rate-result"), () => t("operator.rate_bad"), "error");
    return;
  }
  change("rate-result", "PATCH", "", { admission_rate: rate }, () => t("operator.rate_done", { rate: rate.toLocaleString(locale(), { maximumFractionDigits: 6 }) }));
});

$("cap-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const cap = Number($("cap-input").value);
  if (!(Number.isInteger(cap) && cap >= 1 && cap <= 10000000)) {
    result($("cap-result"), () => t("operator.cap_bad"), "error");
    return;
  }
  change("cap-result", "PATCH", "", { max_active: cap }, () => t("operator.cap_done", { cap: cap.toLocaleString(locale()) }));
});

// ---- end, delete and revoke ---------------------------------------------------------------

confirmed($("end"), "operator.end_really", async () => {
  const out = $("end-result");
  try {
    const view = await api("POST", `/api/admin/events/${encodeURIComponent(eventId)}/end`);
    show(view);
    result(out, () => t("operator.end_done"), "ok");
  } catch (e) {
    result(out, () => t("operator.end_failed", { why: why(e) }), "error");
  }
}, $("end-result"), "operator.end_ask");

confirmed($("delete"), "operator.delete_really", async () => {
  const id = eventId;
  try {
    await api("DELETE", `/api/admin/events/${encodeURIComponent(id)}`);
  } catch (e) {
    result($("end-result"), () => t("operator.delete_failed", { why: why(e) }), "error");
    return;
  }
  stopPolling();
  eventId = null;
  lastView = null;
  sessionStorage.removeItem(eventKey);
  $("dashboard").hidden = true;
  await loadEvents();
  say(() => t("operator.deleted", { id }), "ok");
}, $("end-result"), "operator.delete_ask");

// ---- revoke a buyer -----------------------------------------------------------------------

/** The revoke body the form describes: a buyer id or the ticket site's user id. */
function revokeBody() {
  const id = $("revoke-id").value.trim();
  return $("revoke-by").value === "user" ? { user: id } : { buyer: id.toLowerCase() };
}

confirmed($("revoke"), "operator.revoke_really", async () => {
  const out = $("revoke-result");
  const body = revokeBody();
  try {
    const r = await api("POST", `/api/admin/events/${encodeURIComponent(eventId)}/revoke`, body);
    const who = () => (body.user === undefined
      ? t("operator.revoke_buyer", { buyer: r.buyer })
      : t("operator.revoke_user", { user: body.user, buyer: r.buyer }));
    result(out, () => t(r.known ? "operator.revoked_known" : "operator.revoked_unknown", { who: who() }), "ok");
    $("revoke-id").value = "";
  } catch (e) {
    result(out, () => t("operator.revoke_failed", { why: why(e) }), "error");
  }
}, $("revoke-result"), "operator.revoke_ask");

// Enter in the id asks like a first click, never revokes at once.
$("revoke-form").addEventListener("submit", (e) => {
  e.preventDefault();
  $("revoke").click();
});

// ---- start --------------------------------------------------------------------------------

/** A switch of language: the words the page drew itself, again; inputs are left alone. */
function relabel() {
  if (emptyList) emptyEventList(emptyList);
  if (lastView) show(lastView, shownAt ?? new Date());
  const msg = $("op-message");
  if (msg.words) msg.textContent = msg.words();
  reword();
  relabelOrders();
  relabelCreateForm();
  relabelEdit();
}

translate();
mountSwitcher();
onLanguage(relabel);
emptyEventList("operator.key_first");
initCreateForm((view) => loadEvents(String(view.id)));
initEditForm((view) => {
  filled = false;
  show(view);
});

if (adminKey()) {
  $("admin-key").value = adminKey();
  loadEvents();
}

// The operator page's "Event details" form: the fields a PATCH may change, filled from the
// selected event. Only the fields the operator changed are sent, so a time shown to the
// minute is never sent back as a change, and a refusal is shown in the server's words.

import { t } from "./i18n.js";
import { api, localToRfc3339, msToLocalInput, performanceName, result, why } from "./opkit.js";

const $ = (id) => document.getElementById(id);

/** [input id, PATCH field, its value in a view as the input shows it, kind of input]. */
const FIELDS = [
  ["edit-name", "name", (v) => v.name, "text"],
  ["edit-kind", "kind", (v) => v.kind, "text"],
  ["edit-venue", "venue", (v) => v.venue, "text"],
  ["edit-starts", "starts_at", (v) => msToLocalInput(v.starts_at_ms), "time"],
  ["edit-opens", "sale_opens_at", (v) => msToLocalInput(v.sale_opens_at_ms), "time"],
  ["edit-rate", "admission_rate", (v) => String(v.admission_rate), "number"],
  ["edit-max", "max_active", (v) => String(v.max_active), "number"],
  ["edit-hold", "hold_secs", (v) => String(v.hold_secs), "number"],
  ["edit-session", "session_secs", (v) => String(v.session_secs), "number"],
  ["edit-grace", "grace_secs", (v) => String(v.grace_secs), "number"],
];

let eventId = null;
let base = {}; // input id -> the value it was filled with
let perfShown = "";
let lastView = null;

/**
 * Shows the selected event: fills the inputs when `refill` (a new event, or after a
 * change; never while the operator types) and keeps what may be changed up to date.
 */
export function showEdit(view, refill) {
  eventId = String(view.id);
  lastView = view;
  if (refill) {
    base = {};
    for (const [id, , get] of FIELDS) {
      base[id] = get(view) ?? "";
      $(id).value = base[id];
    }
  }
  const ended = Boolean(view.ended);
  $("edit-submit").disabled = ended;
  const opened = view.sale_opens_at_ms <= Date.now();
  $("edit-opens").disabled = ended || opened;
  $("edit-opens-help").textContent = t(opened ? "operator.edit_opened" : "operator.edit_future");
  $("edit-state").textContent = ended ? t("operator.edit_ended") : "";
  showPerformances(view.performances || []);
}

/** A switch of language: the hints, and the dates in the page's language. */
export function relabelEdit() {
  perfShown = "";
  if (lastView) showEdit(lastView, false);
}

/** The event's dates, read only (they are fixed when the event is created). */
function showPerformances(list) {
  const key = JSON.stringify(list.map((p) => [p.starts_at_ms, p.label]));
  if (key === perfShown) return;
  perfShown = key;
  $("edit-perfs").replaceChildren(...list.map((p) => {
    const li = document.createElement("li");
    li.textContent = performanceName(p);
    return li;
  }));
  $("edit-perfs-field").hidden = list.length === 0;
}

/** The PATCH body of what changed, or the words (a function) saying what to fill in first. */
function patch() {
  const body = {};
  for (const [id, name, , kind] of FIELDS) {
    const input = $(id);
    const v = input.value.trim();
    if (input.disabled || input.value === base[id]) continue;
    const labelKey = document.querySelector(`label[for="${id}"]`).dataset.i18n;
    if (kind === "text") {
      body[name] = v;
    } else if (kind === "time") {
      const at = localToRfc3339(v);
      if (!at) return () => t("operator.edit_need_time", { label: t(labelKey) });
      body[name] = at;
    } else {
      if (v === "") return () => t("operator.edit_need_number", { label: t(labelKey) });
      body[name] = Number(v);
    }
  }
  return body;
}

/** Sets up the form; `onSaved(view)` runs with the event's view after a change. */
export function initEditForm(onSaved) {
  $("edit-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const out = $("edit-result");
    const body = patch();
    if (typeof body === "function") {
      result(out, body, "error");
      return;
    }
    const names = Object.keys(body);
    if (names.length === 0) {
      result(out, () => t("operator.edit_nothing"));
      return;
    }
    const id = eventId;
    try {
      const view = await api("PATCH", `/api/admin/events/${encodeURIComponent(id)}`, body);
      if (String(view.id) !== eventId) return; // the operator picked another event meanwhile
      onSaved(view);
      result(out, () => t("operator.edit_saved", { fields: names.map(words).join(t("operator.list_sep")) }), "ok");
    } catch (err) {
      result(out, () => t("operator.not_changed", { why: why(err) }), "error");
    }
  });
}

/** A PATCH field in words, as its label says it (in the language shown). */
function words(name) {
  const f = FIELDS.find((x) => x[1] === name);
  const key = document.querySelector(`label[for="${f[0]}"]`).dataset.i18n;
  return t(key).toLocaleLowerCase();
}

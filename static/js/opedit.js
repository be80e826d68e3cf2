// The operator page's "Event details" form: the fields a PATCH may change, filled from the
// selected event. Only the fields the operator changed are sent, so a time shown to the
// minute is never sent back as a change, and a refusal is shown in the server's words.

import { api, localToRfc3339, msToLocalInput, performanceName, result } from "./opkit.js";

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

/**
 * Shows the selected event: fills the inputs when `refill` (a new event, or after a
 * change; never while the operator types) and keeps what may be changed up to date.
 */
export function showEdit(view, refill) {
  eventId = String(view.id);
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
  $("edit-opens-help").textContent = opened
    ? "The sale has opened: its opening cannot move any more."
    : "It can move while it is still in the future, to a time in the future.";
  if (ended) $("edit-state").textContent = "The sale has ended: the event cannot change any more.";
  else $("edit-state").textContent = "";
  showPerformances(view.performances || []);
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

/** The PATCH body of what changed, or words saying what to fill in first. */
function patch() {
  const body = {};
  for (const [id, name, , kind] of FIELDS) {
    const input = $(id);
    const v = input.value.trim();
    if (input.disabled || input.value === base[id]) continue;
    const label = document.querySelector(`label[for="${id}"]`).textContent;
    if (kind === "text") {
      body[name] = v;
    } else if (kind === "time") {
      const at = localToRfc3339(v);
      if (!at) return `${label}: give a date and time, or leave it as it was.`;
      body[name] = at;
    } else {
      if (v === "") return `${label}: give a number, or leave it as it was.`;
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
    if (typeof body === "string") {
      result(out, body, "error");
      return;
    }
    const names = Object.keys(body);
    if (names.length === 0) {
      result(out, "Nothing has changed: edit a field first.");
      return;
    }
    const id = eventId;
    try {
      const view = await api("PATCH", `/api/admin/events/${encodeURIComponent(id)}`, body);
      if (String(view.id) !== eventId) return; // the operator picked another event meanwhile
      onSaved(view);
      result(out, `Saved: ${names.map(words).join(", ")}.`, "ok");
    } catch (err) {
      result(out, `Not changed: ${err.message}`, "error");
    }
  });
}

/** A PATCH field in words, as its label says it. */
function words(name) {
  const f = FIELDS.find((x) => x[1] === name);
  return document.querySelector(`label[for="${f[0]}"]`).textContent.toLowerCase();
}

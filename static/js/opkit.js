// What the parts of the operator page share: the admin API with the key, a result shown
// next to the action it answers, buttons that ask for a second click, and the words for a
// performance and for local date-times.

import { fetchJson, formatDate } from "./common.js";

const keyKey = "usher.adminKey";
/** How long a "Really …?" button waits for its second click. */
const ARMED_MS = 5000;

// The key is kept in this tab only (sessionStorage), never in a cookie.
let key = sessionStorage.getItem(keyKey) || "";

/** The admin key in use ("" before one is given). */
export function adminKey() {
  return key;
}

/** Uses `k` from now on (and keeps it in this tab); "" forgets it. */
export function setAdminKey(k) {
  key = k;
  if (k) sessionStorage.setItem(keyKey, k);
  else sessionStorage.removeItem(keyKey);
}

/** Calls the admin API; throws an Error with the server's words (or ours for 401/503). */
export async function api(method, path, body) {
  const headers = { Authorization: `Bearer ${key}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  try {
    return await fetchJson(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    if (e.status === 401) e.message = "That admin key is wrong.";
    if (e.status === 503 && e.code === "admin_disabled") {
      e.message = "The admin API is off: start the server with USHER_ADMIN_KEY set.";
    }
    throw e;
  }
}

/** Shows an action's result (or clears it) in the element next to that action. */
export function result(el, text, kind = "") {
  el.textContent = text;
  el.classList.toggle("error", kind === "error");
  el.classList.toggle("ok", kind === "ok");
}

/**
 * A button that asks for a second click: the first turns its label into `really` for a few
 * seconds (the button stays where it is); a click on it then runs `action`. `ask`, if
 * given, is said in `out` meanwhile.
 */
export function confirmed(button, really, action, out, ask) {
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

/** Puts an armed button back as it was, without acting. */
export function disarm(button) {
  if (!button.dataset.armed) return;
  clearTimeout(button.armTimer);
  button.textContent = button.dataset.armed;
  delete button.dataset.armed;
  named(button);
}

/** A row's button says what it acts on: "Refund order #3". */
export function named(button) {
  if (button.dataset.what) button.setAttribute("aria-label", `${button.textContent} ${button.dataset.what}`);
}

/** "Matinee · Sat, 1 May 2030, 14:00", or the date alone. */
export function performanceName(p) {
  return [p.label, formatDate(p.starts_at_ms)].filter(Boolean).join(" · ");
}

const pad = (n, width = 2) => String(n).padStart(width, "0");

/**
 * A `datetime-local` value ("2030-05-01T20:00") as RFC 3339 with this browser's offset
 * ("2030-05-01T20:00:00.000+09:00"), as the admin API reads times; null when empty or not
 * a time. The offset is the one in force on that date, not today's.
 */
export function localToRfc3339(value) {
  if (!value) return null;
  const d = new Date(value); // a date-time without an offset is local time
  if (Number.isNaN(d.getTime())) return null;
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? "+" : "-";
  const abs = Math.abs(off);
  return `${pad(d.getFullYear(), 4)}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}` +
    `T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}` +
    `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** A time in ms as a `datetime-local` value in this browser's zone, to the minute. */
export function msToLocalInput(ms) {
  const d = new Date(ms);
  return `${pad(d.getFullYear(), 4)}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}` +
    `T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** Says "1 performance" or "3 performances". */
export function plural(n, one, many = `${one}s`) {
  return `${n.toLocaleString()} ${n === 1 ? one : many}`;
}

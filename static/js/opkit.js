// What the parts of the operator page share: the admin API with the key, a result shown
// next to the action it answers (redrawn in the new language on a switch), buttons that
// ask for a second click, and the words for a performance and for local date-times. The
// page's words are in msg/operator.{en,ko}.js, registered here for every op*.js module.

import { fetchJson, formatDate } from "./common.js";
import { locale, register, t } from "./i18n.js";
import en from "./msg/operator.en.js";
import ko from "./msg/operator.ko.js";

register({ en, ko });

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

/**
 * Calls the admin API; throws an Error with the server's words (English, shown as they
 * are), or with `i18n`, the key of ours, for a wrong key (401) and an API that is off.
 */
export async function api(method, path, body) {
  const headers = { Authorization: `Bearer ${key}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  try {
    return await fetchJson(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    if (e.status === 401) e.i18n = "operator.key_wrong";
    if (e.status === 503 && e.code === "admin_disabled") e.i18n = "operator.admin_off";
    if (e.i18n) e.message = t(e.i18n);
    throw e;
  }
}

/** What went wrong, in the page's language when the words are ours. */
export function why(e) {
  return e.i18n ? t(e.i18n) : e.message;
}

/** Elements showing words that are redrawn on a switch of language. */
const worded = new Set();

/**
 * Shows an action's result (or clears it with "") in the element next to that action.
 * `words` is a function giving the text, so that a switch of language redraws it
 * (`reword`); a plain string is shown as it is.
 */
export function result(el, words, kind = "") {
  el.words = typeof words === "function" ? words : null;
  if (el.words) worded.add(el);
  else worded.delete(el);
  el.textContent = el.words ? el.words() : words;
  el.classList.toggle("error", kind === "error");
  el.classList.toggle("ok", kind === "ok");
}

/** Redraws every result in the language now shown (onLanguage). */
export function reword() {
  for (const el of worded) {
    if (!el.isConnected) worded.delete(el);
    else if (el.words) el.textContent = el.words();
  }
}

/**
 * A button (labelled by its `data-i18n` key) that asks for a second click: the first turns
 * its label into the words of key `really` for a few seconds (the button stays where it
 * is); a click on it then runs `action`. The second click of a double click is not a
 * confirmation (its `detail` counts 2), and Escape puts the button back. `ask`, a key, is
 * said in `out` meanwhile.
 */
export function confirmed(button, really, action, out, ask) {
  const asking = () => t(ask);
  button.addEventListener("click", (e) => {
    if (button.dataset.armed) {
      if (e.detail > 1) return;
      disarm(button);
      if (out && out.words === asking) result(out, "");
      action();
      return;
    }
    button.dataset.armed = button.dataset.i18n;
    button.dataset.i18n = really;
    button.textContent = t(really);
    named(button);
    if (out && ask) result(out, asking);
    button.armTimer = setTimeout(() => {
      disarm(button);
      if (out && out.words === asking) result(out, "");
    }, ARMED_MS);
  });
  button.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && button.dataset.armed) {
      disarm(button);
      if (out && out.words === asking) result(out, "");
    }
  });
}

/** Puts an armed button back as it was, without acting. */
export function disarm(button) {
  if (!button.dataset.armed) return;
  clearTimeout(button.armTimer);
  button.dataset.i18n = button.dataset.armed;
  button.textContent = t(button.dataset.i18n);
  delete button.dataset.armed;
  named(button);
}

/** An order row's button says what it acts on: "Refund order #3". */
export function named(button) {
  if (button.dataset.order) {
    const what = t("operator.order_what", { id: button.dataset.order });
    button.setAttribute("aria-label", t("operator.named", { action: button.textContent, what }));
  }
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

/** Says "1 performance" or "3 performances" with key `key` (".one"/".other" forms). */
export function counted(key, n) {
  return t(key, { count: n, n: n.toLocaleString(locale()) });
}

// Helpers shared by every page: URLs, JSON fetches, formatting in the reader's language,
// reconnect delays and a polite screen-reader announcer.

import { language, locale, register, t } from "./i18n.js";
import en from "./msg/common.en.js";
import ko from "./msg/common.ko.js";

register({ en, ko });

/** The event id in a page path such as /events/42 or /events/42/seats. */
export function eventIdFromPath(path = location.pathname) {
  const m = path.match(/^\/events\/([^/]+)/);
  return m ? decodeURIComponent(m[1]) : null;
}

/** ws:// or wss:// URL of a path on this host. */
export function socketUrl(path) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}${path}`;
}

/** Fetches JSON; throws an Error whose `status` and message come from the API's answer. */
export async function fetchJson(url, options = {}) {
  const res = await fetch(url, options);
  let body = null;
  try {
    body = await res.json();
  } catch {
    body = null;
  }
  if (!res.ok) {
    const err = new Error((body && body.message) || `${res.status} ${res.statusText}`);
    err.status = res.status;
    err.code = body && body.error;
    throw err;
  }
  return body;
}

/** "3 min 05 s", "45 s", "1 h 02 min": a duration for people. */
export function formatDuration(secs) {
  secs = Math.max(0, Math.round(secs));
  if (secs < 60) return t("common.duration_s", { s: secs });
  const h = Math.floor(secs / 3600);
  const m = Math.floor((secs % 3600) / 60);
  const s = secs % 60;
  // English pads the smaller unit ("3 min 05 s"); Korean does not ("3분 5초").
  const pad = (n) => (language() === "ko" ? String(n) : String(n).padStart(2, "0"));
  if (h > 0) return t("common.duration_hm", { h, m: pad(m) });
  return t("common.duration_ms", { m, s: pad(s) });
}

/** "4:07" (or "1:02:07"): a ticking clock. */
export function formatClock(ms) {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

/** A price in won, in the page's language: "₩143,000" or "143,000원". */
export function formatWon(n) {
  return t("common.won", { n: Number(n).toLocaleString(locale()) });
}

/** A date and time in the page's language. */
export function formatDate(ms) {
  return new Date(ms).toLocaleString(locale(), {
    weekday: "short", year: "numeric", month: "short", day: "numeric",
    hour: "2-digit", minute: "2-digit", hourCycle: "h23",
  });
}

/** A number, or an en dash when there is none. */
export function num(v) {
  return v === null || v === undefined ? "–" : Number(v).toLocaleString(locale());
}

/**
 * Reconnect delays: exponential (1 s, 2 s, 4 s, … capped at 30 s) with "equal jitter"
 * (half fixed, half random), so that thousands of pages dropped together by one restart
 * do not come back in the same instant.
 */
export class Backoff {
  constructor(baseMs = 1000, capMs = 30000) {
    this.baseMs = baseMs;
    this.capMs = capMs;
    this.attempt = 0;
  }
  next() {
    const d = Math.min(this.capMs, this.baseMs * 2 ** this.attempt);
    this.attempt += 1;
    return Math.round(d / 2 + Math.random() * (d / 2));
  }
  reset() {
    this.attempt = 0;
  }
}

/**
 * Speaks through an aria-live="polite" region at most once per `minGapMs`: a screen
 * reader is not flooded by a position that changes every second. The latest text wins.
 */
export class Announcer {
  constructor(el, minGapMs = 5000) {
    this.el = el;
    this.minGapMs = minGapMs;
    this.last = 0;
    this.pending = null;
    this.timer = null;
  }
  say(text, { now = false } = {}) {
    if (text === this.el.textContent && !now) {
      this.pending = null; // already said; drop an older text still waiting its turn
      return;
    }
    this.pending = text;
    const wait = now ? 0 : Math.max(0, this.last + this.minGapMs - Date.now());
    if (wait === 0) {
      this.flush();
    } else if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), wait);
    }
  }
  flush() {
    clearTimeout(this.timer);
    this.timer = null;
    if (this.pending === null) return;
    this.el.textContent = this.pending;
    this.pending = null;
    this.last = Date.now();
  }
}

/** Sets the text of the element with this id (if it exists). */
export function setText(id, text) {
  const el = document.getElementById(id);
  if (el) el.textContent = text;
}

/** Shows a notice (or hides it with an empty text); kind: "", "error" or "ok". */
export function notice(el, text, kind = "") {
  delete el.dataset.words;
  el.className = `notice ${kind}`.trim();
  el.textContent = text;
}

/**
 * A reconnect notice: the words are said once (the notice is an alert); the ticking
 * seconds are for the eyes only, so that a screen reader does not repeat it every second.
 */
export function reconnectNotice(el, words, at) {
  let tick = el.querySelector(".retry-in");
  if (!tick || el.dataset.words !== words) {
    el.className = "notice";
    el.dataset.words = words;
    el.textContent = `${words} `;
    tick = document.createElement("span");
    tick.className = "retry-in";
    tick.setAttribute("aria-hidden", "true");
    el.append(tick);
  }
  const secs = Math.max(0, Math.ceil((at - Date.now()) / 1000));
  tick.textContent = secs > 0 ? t("common.retry_in", { secs }) : t("common.retry_now");
}

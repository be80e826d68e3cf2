// What the waiting room can honestly say about its connection and the buyer's place.
//
// The server pushes a status at least every `update_interval_ms` (1 s by default), so a
// few seconds without a message means the figures on screen are no longer live. The place
// itself is kept for the event's grace period (`grace_secs` of `joined`) after the last
// socket closes; the page counts it from the last message it heard, the latest moment it
// knows it was connected, so it never promises longer than the server keeps the place.

import { formatDuration, setText } from "./common.js";
import { t } from "./i18n.js";
import { timeOfDay } from "./queuewords.js";

/** No message for longer than this: the figures are shown as out of date. */
export const STALE_MS = 3000;

/**
 * What can be promised about the place, `now` ms after the epoch, when the last message
 * came at `heardAt` and the place is kept `graceSecs` (null: not known) after that.
 */
export function promiseWords(heardAt, graceSecs, now) {
  if (graceSecs === null || graceSecs === undefined) return t("queue.link.kept_short");
  if (graceSecs === 0) return t("queue.link.no_grace");
  const keptUntil = heardAt + graceSecs * 1000;
  const grace = formatDuration(graceSecs);
  if (now < keptUntil) {
    return t("queue.link.kept_until", { time: timeOfDay(keptUntil, { seconds: true }), grace });
  }
  return t("queue.link.away_too_long", { grace });
}

/**
 * The words of the connection banner. `silent`: the socket is open but nothing came for a
 * while; otherwise it is closed. `hadPlace`: the buyer was in line on this page.
 */
export function linkWords({ silent, hadPlace, heardAt, graceSecs, now }) {
  const promise = hadPlace ? [promiseWords(heardAt, graceSecs, now)] : [];
  if (silent) return [t("queue.link.silent"), ...promise, t("queue.link.checking")].join(" ");
  if (!hadPlace) return t("queue.link.unreachable");
  return [t("queue.link.lost"), ...promise, t("queue.link.reconnecting")].join(" ");
}

/** "Updated 12 s ago", for the eyes (it changes every second). */
export function updatedTick(ageMs) {
  const secs = Math.floor(ageMs / 1000);
  return secs < 1 ? t("queue.updated_now") : t("queue.updated_ago", { age: formatDuration(secs) });
}

/** The same in coarse steps, for a screen reader (a polite live region). */
export function updatedSaid(ageMs) {
  const secs = Math.floor(ageMs / 1000);
  if (secs < 10) return t("queue.stale_seconds");
  if (secs < 60) return t("queue.stale_tens", { secs: Math.floor(secs / 10) * 10 });
  return t("queue.stale_minutes", { mins: Math.floor(secs / 60) });
}

/** The figures that stop being live when the connection does. */
const FIGURES = ["position", "ahead", "behind", "wait", "wait-range", "pre-count", "opens-in"];

/**
 * Puts the connection state on the page: `stale` figures greyed with their age, and the
 * `banner` with its words, the next automatic try (`retrySecs`) and "Reconnect now".
 */
export function renderLink({ stale, banner, silent, hadPlace, heardAt, graceSecs, now, retrySecs }) {
  const $ = (id) => document.getElementById(id);
  for (const id of FIGURES) $(id).classList.toggle("stale", stale);
  $("line").dataset.stale = String(stale);
  $("updated").hidden = !stale;
  if (stale) {
    setText("updated-tick", updatedTick(now - heardAt));
    const said = updatedSaid(now - heardAt);
    // Changed in steps only: a polite live region, not a voice counting seconds.
    if ($("updated-said").textContent !== said) setText("updated-said", said);
  }
  $("connection").hidden = !banner;
  if (!banner) return;
  const words = linkWords({ silent, hadPlace, heardAt, graceSecs, now });
  // Written only when they change: the paragraph is an alert, said once per change.
  if ($("connection-words").textContent !== words) setText("connection-words", words);
  setText("retry-in", retrySecs > 0 ? t("queue.next_try", { secs: retrySecs }) : "");
}

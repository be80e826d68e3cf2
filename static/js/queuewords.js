// The waiting room's words: each state's title and explanation, the expected wait, and
// what a close that must not be retried means for the buyer (docs/protocol.md, close codes
// 4500-4999). Every text comes from msg/queue.{en,ko}.js, in the page's language.

import { formatDuration } from "./common.js";
import { locale, register, t } from "./i18n.js";
import en from "./msg/queue.en.js";
import ko from "./msg/queue.ko.js";

register({ en, ko });

/** The states the page can show, each with a title and an explanation. */
export const STATES = [
  "connecting", "pre_queue", "open", "paused", "sold_out", "unavailable", "ended",
  "admitted", "left", "gone", "stopped",
];

/** A state's [title, explanation], in the page's language. */
export function stateWords(state) {
  return [t(`queue.state.${state}`), t(`queue.explain.${state}`)];
}

/** Words for a close that must not be retried as is. The server's own `message` is in
 * English, so the page says it in its own words, chosen by the close code. */
export function fatalWords(code) {
  switch (code) {
    case 4500:
      return t("queue.fatal.unknown_event");
    case 4501:
      return t("queue.fatal.bad_credential");
    case 4502:
      return t("queue.fatal.revoked");
    case 4506:
      return t("queue.fatal.sale_ended");
    case 4503:
    case 4504:
    case 4505:
      return t("queue.fatal.page_error", { code });
    default:
      return t("queue.fatal.other", { code });
  }
}

/** "20:41" or "20시 41분": a time of day in the page's language, on a 24-hour clock as
 * ticket sites write entry times. (Intl writes Korean 24-hour times as "20:41", so the
 * words around the numbers come from the message files.) */
export function timeOfDay(ms, { seconds = false } = {}) {
  const opts = { hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
  if (seconds) opts.second = "2-digit";
  const parts = {};
  for (const p of new Intl.DateTimeFormat(locale(), opts).formatToParts(new Date(ms))) {
    parts[p.type] = p.value;
  }
  const vars = { h: parts.hour, m: parts.minute, s: parts.second };
  return seconds ? t("queue.time_hms", vars) : t("queue.time_hm", vars);
}

/** "2–3 min" or "2~3분": a range of seconds, in minutes once it reaches a minute. */
export function rangeWords(lo, hi) {
  lo = Math.max(0, Math.round(lo));
  hi = Math.max(lo, Math.round(hi));
  if (hi >= 3600) return t("queue.range_long", { from: formatDuration(lo), to: formatDuration(hi) });
  if (hi < 60) return t("queue.range_s", { from: lo, to: hi });
  if (lo < 60) return t("queue.range_s_min", { from: lo, to: Math.round(hi / 60) });
  // Whole minutes, and never "2–2 min": the range stays a range.
  const from = Math.round(lo / 60);
  return t("queue.range_min", { from, to: Math.max(Math.round(hi / 60), from + 1) });
}

/** The expected wait in words: "about 2 min 30 s", "paused", "estimating…". */
export function waitWords(s) {
  if (s.expected_wait_secs !== null && s.expected_wait_secs !== undefined) {
    return t("queue.wait_about", { duration: formatDuration(s.expected_wait_secs) });
  }
  if (s.state === "paused") return t("queue.wait_paused");
  if (s.state === "sold_out" || s.state === "unavailable") return t("common.none");
  return t("queue.wait_estimating");
}

/** "about 2–3 min · expected around 20:41", from the server's range and expected entry
 * time (on the server's clock, moved to this device's); "" without an estimate. */
export function rangeText(s, now = Date.now()) {
  const r = s.expected_wait_range_secs;
  if (!Array.isArray(r) || r.length !== 2 || s.expected_entry_at_ms == null) return "";
  const entry = s.expected_entry_at_ms - ((s.server_time_ms ?? now) - now);
  return t("queue.wait_range", { range: rangeWords(r[0], r[1]), time: timeOfDay(entry) });
}

/** The tab title: the place first, so that it shows in a narrow tab. */
export function tabTitle(eventName, position) {
  const plain = eventName ? t("queue.tab", { event: eventName }) : t("queue.title");
  if (position === null || position === undefined) return plain;
  return t("queue.tab_place", { n: position, title: plain });
}

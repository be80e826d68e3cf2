// Words every page uses, in English (common.ko.js has the same keys in Korean).
export default {
  "common.language": "Language",
  "common.site_nav": "Site",
  "common.all_events": "All events",
  "common.operator": "Operator",
  "common.none": "–",
  "common.retry_in": "(in {secs} s)",
  "common.retry_now": "(now)",
  "common.duration_s": "{s} s",
  "common.duration_ms": "{m} min {s} s",
  "common.duration_hm": "{h} h {m} min",
  "common.won": "₩{n}",
};

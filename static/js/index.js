// The event list: GET /api/events, one card per event linking to its waiting room.

import { fetchJson, formatDate, notice } from "./common.js";
import { mountSwitcher, onLanguage, register, t, translate } from "./i18n.js";
import en from "./msg/index.en.js";
import ko from "./msg/index.ko.js";

register({ en, ko });

/** An event's kind in the page's language when it is a common one ("musical" → 뮤지컬),
 * else as the organiser wrote it. */
function kindWords(kind) {
  const key = `common.kind.${String(kind).toLowerCase()}`;
  const words = t(key);
  return words === key ? kind : words;
}

function card(ev, now) {
  const li = document.createElement("li");
  const a = document.createElement("a");
  a.className = "panel event-card";
  a.href = `/events/${encodeURIComponent(ev.id)}`;
  a.dataset.event = ev.id;

  const kind = document.createElement("span");
  kind.className = "kind";
  kind.textContent = ev.kind ? kindWords(ev.kind) : "";
  const h2 = document.createElement("h2");
  h2.textContent = ev.name;
  const venue = document.createElement("p");
  venue.className = "sub";
  venue.textContent = [ev.venue, formatDate(ev.starts_at_ms)].filter(Boolean).join(" · ");
  const sale = document.createElement("span");
  const open = ev.sale_opens_at_ms <= now;
  sale.className = open ? "badge" : "badge later";
  sale.textContent = open ? t("index.on_sale") : t("index.opens", { when: formatDate(ev.sale_opens_at_ms) });

  a.append(kind, h2, venue, sale);
  li.append(a);
  return li;
}

async function main() {
  const list = document.getElementById("events");
  const loading = document.getElementById("loading");
  try {
    const events = await fetchJson("/api/events");
    loading.hidden = true;
    if (events.length === 0) {
      loading.hidden = false;
      loading.textContent = t("index.none");
      return;
    }
    const now = Date.now();
    list.replaceChildren(...events.map((ev) => card(ev, now)));
  } catch (e) {
    loading.hidden = true;
    notice(document.getElementById("notice"), t("index.load_failed", { why: e.message }), "error");
  }
}

translate();
mountSwitcher();
onLanguage(main);
main();

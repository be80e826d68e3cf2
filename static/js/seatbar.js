// The action bar of the seat page (seats.html #bar): the answers to the buyer's actions,
// what is selected and held with its price, the hold's clock, and the buttons. On a desktop
// it sits in the side panel beside the map; on a phone (app.css, the one-column layout) it
// is fixed to the bottom of the screen, because there the side panel is far below the map
// and a buyer tapping seats never saw the Hold button nor the answers at the top.
//
// The page's notices (#message, role=alert; #info, role=status) move into the bar once the
// map is shown: one place for the answers, read once by screen readers. Before that (no
// pass, the map not loaded) they stay at the top of the page, the only thing shown.

import { formatClock, formatWon } from "./common.js";
import { t } from "./i18n.js";
import { bookedNames } from "./seatpanel.js";
import { seatShort } from "./seatmap.js";

const $ = (id) => document.getElementById(id);

/** The last minute of a hold: the clock turns to a warning. */
const WARN_MS = 60000;

/** Moves #message and #info into the bar (once). */
export function dockNotices() {
  const notes = $("bar-notes");
  if (!notes.contains($("message"))) notes.append($("message"), $("info"));
  document.documentElement.classList.add("has-bar");
}

/**
 * Notes which notice changed last: on a phone the bar shows only that one (app.css), as
 * two would cover half the screen. Called before the notice's text changes, so that a
 * screen reader meets a shown live region.
 */
export function markLatest(id, shown) {
  const notes = $("bar-notes");
  if (shown) notes.dataset.latest = id;
  else if (notes.dataset.latest === id) notes.dataset.latest = id === "message" ? "info" : "message";
}

/** The bar's own buttons (the names, best available, the booking) and its height. */
export function wireBar() {
  $("bar-summary").addEventListener("click", () => {
    const open = $("bar-summary").getAttribute("aria-expanded") !== "true";
    $("bar-summary").setAttribute("aria-expanded", String(open));
    $("bar-names").hidden = !open || !$("bar-names").children.length;
  });
  $("to-best").addEventListener("click", () => {
    $("best-form").scrollIntoView({ block: "center" });
    $("best-count").focus({ preventScroll: true });
  });
  $("see-booking").addEventListener("click", () => showConfirmation());
  // The page keeps room for the bar below its last content (app.css: --bar-h), so that
  // the bar never covers the map's last row nor the page's end.
  const root = document.documentElement;
  new ResizeObserver(() => {
    root.style.setProperty("--bar-h", `${Math.ceil($("bar").getBoundingClientRect().height)}px`);
  }).observe($("bar"));
}

/** Brings the booking confirmation into view and gives it the focus. */
export function showConfirmation() {
  const el = $("booked");
  if (el.hidden) return;
  el.scrollIntoView({ block: "start" });
  el.focus({ preventScroll: true });
}

function seatItem(model, id, look) {
  const li = document.createElement("li");
  const s = model.seats.get(id);
  li.textContent = s ? seatShort(s) : t("seats.seat.id", { id });
  li.dataset.look = look;
  return li;
}

/** What the bar shows now: `booked` ({booking, seats, total}) once the seats are bought. */
export function drawBar(model, booked = null) {
  const toHold = model.toHold();
  const mine = model.mineIds();
  const bar = $("bar");
  bar.dataset.state = booked ? "booked" : mine.length ? "holding" : toHold.length ? "selecting" : "empty";
  for (const id of ["hold", "release", "book", "to-best"]) $(id).hidden = Boolean(booked);
  $("see-booking").hidden = !booked;
  const names = $("bar-names");
  if (booked) {
    $("bar-count").textContent = t("seats.bar.booked", { id: booked.booking, total: formatWon(booked.total) });
    $("bar-total").textContent = "";
    names.replaceChildren(...bookedNames(booked).map((n) => {
      const li = document.createElement("li");
      li.textContent = n;
      return li;
    }));
  } else {
    const held = mine.length ? t("seats.bar.holding", { count: mine.length }) : "";
    const picked = toHold.length ? t("seats.bar.selected", { count: toHold.length }) : "";
    $("bar-count").textContent = held && picked ? t("seats.bar.both", { held, selected: picked })
      : held || picked || t("seats.bar.nothing");
    $("bar-total").textContent = held || picked ? formatWon(model.total([...mine, ...toHold])) : "";
    names.replaceChildren(...mine.map((id) => seatItem(model, id, "mine")),
      ...toHold.map((id) => seatItem(model, id, "selected")));
  }
  const summary = $("bar-summary");
  summary.disabled = names.children.length === 0;
  if (summary.disabled) summary.setAttribute("aria-expanded", "false");
  names.hidden = summary.getAttribute("aria-expanded") !== "true";
}

/** The hold's clock: `leftMs` until the first held seat is let go, or null (none held). */
export function drawClock(leftMs) {
  const clock = $("bar-clock");
  clock.hidden = leftMs === null;
  if (leftMs === null) return;
  clock.textContent = t("seats.bar.clock", { clock: formatClock(leftMs) });
  clock.classList.toggle("warn", leftMs <= WARN_MS);
}

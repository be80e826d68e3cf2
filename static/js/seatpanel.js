// The side panel of the seat map: the buyer's picks and holds, the buttons, the legend, the
// booking, the limit and the words for refusals.

import { formatWon } from "./common.js";
import { t } from "./i18n.js";
import { gradeColours, seatName, seatShort, stateLabel, swatch } from "./seatmap.js";

const $ = (id) => document.getElementById(id);

/**
 * Refusals in the page's own words (msg/seats.*.js, "seats.err.{code}"): with the seats
 * the server's message names, as the map shows them ("{seats}"), or the "_plain" words
 * when it names none; `{max}` is the per-date limit. Every code a buyer can meet here has
 * words, so the server's text (which names seats by internal id) is only the fallback.
 */
const ERROR_CODES = new Set([
  "seat_taken", "unknown_seat", "not_your_seat", "too_many_seats", "hold_expired", "no_hold",
  "already_booked", "rate_limited", "unavailable", "no_seats_together", "unknown_grade",
]);
/** The codes whose words name the seats, with "_plain" words for when none is named. */
const NAMING = new Set(["seat_taken", "unknown_seat", "not_your_seat"]);

/** The seat ids a server message names ("seat 130"), in order. */
function seatIdsIn(text) {
  return [...String(text).matchAll(/\bseat (\d+)\b/g)].map((m) => Number(m[1]));
}

/** "Section A, row 1, seat 3" for a seat id, or the id itself if the map lacks it. */
function fullName(model, id) {
  const s = model.seats.get(id);
  return s ? seatName(s) : t("seats.seat.id", { id });
}

/** An `error` in words for the buyer, naming seats by section, row and number. */
export function errorWords(e, model) {
  const ids = seatIdsIn(e.message);
  if (!ERROR_CODES.has(e.code)) {
    // A code this page does not know: the server's words, with its seat ids translated.
    const why = String(e.message).replace(/\bseat (\d+)\b/g, (_, id) => fullName(model, Number(id)));
    return t("seats.err.other", { why });
  }
  const key = NAMING.has(e.code) && !ids.length ? `seats.err.${e.code}_plain` : `seats.err.${e.code}`;
  return t(key, { seats: ids.map((id) => fullName(model, id)).join("; "), max: model.maxSeats });
}

function fillList(ul, model, ids) {
  ul.replaceChildren(...ids.map((id) => {
    const li = document.createElement("li");
    const s = model.seats.get(id);
    li.textContent = s
      ? t("seats.seat.list_item", { name: seatShort(s), grade: s.grade, price: formatWon(model.price(id)) })
      : t("seats.seat.id", { id });
    return li;
  }));
}

/**
 * How many seats the buyer may still pick for this date, in words. The snapshot gives the
 * per-date cap, but not the seats bought in earlier sessions: `bought` is what this browser
 * remembers buying (null if nothing), and the words say the cap counts the others too.
 */
export function limitWords(model, bought) {
  const max = model.maxSeats;
  if (bought > 0) {
    const left = Math.max(0, max - bought);
    return left > 0
      ? t("seats.limit.left", { count: left, bought, max })
      : t("seats.limit.none_left", { max });
  }
  return t("seats.limit.max", { max });
}

/** Seats the buyer may still hold: the cap less what this browser knows was bought. */
export function seatsLeft(model, bought) {
  return Math.max(0, model.maxSeats - (bought || 0));
}

/**
 * Lists and buttons; `idle` when no request is on its way and the session goes on.
 * `confirmRelease`: the Release button asks "Release all N?" (nothing was picked).
 */
export function updatePanel(model, idle, finished, { bought = 0, confirmRelease = false, booked = null } = {}) {
  const toHold = model.toHold();
  const toRelease = model.toRelease();
  const mine = model.mineIds();

  // Once booked, the panel says so instead of "Selected: 2" and "You hold no seats" beside
  // the confirmation: the buyer would read those as a failure.
  for (const id of ["selection-list", "mine-summary", "mine-list", "best-form", "end-session"]) {
    $(id).hidden = Boolean(booked);
  }
  if (booked) {
    $("selection-summary").textContent = t("seats.panel.booked", {
      seats: bookedNames(booked).join(t("seats.list_sep")), total: formatWon(booked.total), id: booked.booking,
    });
    return;
  }
  $("selection-summary").textContent = toHold.length
    ? t("seats.panel.selected", { count: toHold.length, total: formatWon(model.total(toHold)), limit: limitWords(model, bought) })
    : t("seats.panel.none_selected");
  fillList($("selection-list"), model, toHold);
  $("mine-summary").textContent = mine.length
    ? t("seats.panel.hold_some", { count: mine.length, total: formatWon(model.total(mine)) })
    : t("seats.panel.hold_none");
  fillList($("mine-list"), model, mine);

  $("hold").disabled = !idle || toHold.length === 0;
  $("hold").textContent = toHold.length ? t("seats.btn.hold_n", { count: toHold.length }) : t("seats.btn.hold");
  $("release").disabled = !idle || mine.length === 0;
  $("release").textContent = toRelease.length ? t("seats.btn.release_n", { count: toRelease.length })
    : confirmRelease ? t("seats.btn.release_all", { count: mine.length }) : t("seats.btn.release");
  $("book").disabled = !idle || mine.length === 0;
  $("best").disabled = !idle || mine.length >= seatsLeft(model, bought);
  $("book").textContent = mine.length ? t("seats.btn.book_n", { count: mine.length }) : t("seats.btn.book");
  $("end-session").disabled = finished;
}

/** Grades with their colour and price, then what each state looks like. */
export function drawLegend(prices) {
  const colours = gradeColours(prices);
  const grades = [...colours.keys()].map((g) => {
    const li = document.createElement("li");
    const name = document.createElement("span");
    name.textContent = g;
    const p = document.createElement("span");
    p.className = "price";
    p.textContent = formatWon(prices[g]);
    li.append(swatch(colours.get(g), "free"), name, p);
    return li;
  });
  $("legend-grades").replaceChildren(...grades);
  // The grades "best available" can ask for, cheapest last.
  const pick = $("best-grade");
  const keep = pick.value;
  const options = [...colours.keys()].map((g) => {
    const o = document.createElement("option");
    o.value = g;
    o.textContent = t("seats.best.option", { grade: g, price: formatWon(prices[g]) });
    return o;
  });
  const any = document.createElement("option");
  any.value = "";
  any.textContent = t("seats.best.any");
  pick.replaceChildren(any, ...options);
  pick.value = keep;
  const anyColour = colours.values().next().value ?? "#cccccc";
  const states = ["free", "selected", "mine", "held", "sold"].map((look) => {
    const li = document.createElement("li");
    const name = document.createElement("span");
    name.textContent = stateLabel(look);
    li.append(swatch(anyColour, look), name);
    return li;
  });
  $("legend-states").replaceChildren(...states);
}

/** The seats of a booking in words: each a {section, row, number} (or a name, as a page
 * before translations stored it). */
export function bookedNames(b) {
  return b.seats.map((s) => (typeof s === "string" ? s : seatShort(s)));
}

/** The booking confirmation: {booking, seats, total}. */
export function showBooking(b) {
  $("booked").hidden = false;
  $("booking-id").textContent = t("seats.booked.id", { id: b.booking });
  $("booked-seats").textContent = bookedNames(b).join("; ");
  $("booked-total").textContent = formatWon(b.total);
}

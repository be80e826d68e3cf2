// The side panel of the seat map: the buyer's picks and holds, the buttons, the legend, the
// booking, and the words for refusals.

import { formatWon } from "./common.js";
import { STATE_LOOK, gradeColours, seatShort, swatch } from "./seatmap.js";

const $ = (id) => document.getElementById(id);

const ERROR_WORDS = {
  seat_taken: "Someone else got that seat first.",
  too_many_seats: "You can have at most {max} seats.",
  hold_expired: "Your hold ran out before the booking went through. Choose your seats again.",
  no_hold: "Hold your seats first, then book.",
  not_your_seat: "You do not hold that seat.",
  already_booked: "You have already booked your seats.",
  rate_limited: "Too many clicks at once: wait a moment and try again.",
  unavailable: "The seat service had a problem. Try again in a moment.",
  no_seats_together: "No seats together like that are left.",
  unknown_grade: "That grade is not on this map.",
};

/** An `error` in words: what it means for the buyer, then the server's own message. */
export function errorWords(e, maxSeats) {
  const lead = (ERROR_WORDS[e.code] || "").replace("{max}", maxSeats);
  return lead ? `${lead} (${e.message})` : e.message;
}

function fillList(ul, model, ids) {
  ul.replaceChildren(...ids.map((id) => {
    const li = document.createElement("li");
    const s = model.seats.get(id);
    li.textContent = s ? `${seatShort(s)} — ${s.grade}, ${formatWon(model.price(id))}` : `seat ${id}`;
    return li;
  }));
}

/** Lists and buttons; `idle` when no request is on its way and the session goes on. */
export function updatePanel(model, idle, finished) {
  const toHold = model.toHold();
  const toRelease = model.toRelease();
  const mine = model.mineIds();

  $("selection-summary").textContent = toHold.length
    ? `Selected: ${toHold.length} (${formatWon(model.total(toHold))}). Up to ${model.maxSeats} seats in all.`
    : "None selected.";
  fillList($("selection-list"), model, toHold);
  $("mine-summary").textContent = mine.length
    ? `You hold ${mine.length} seat${mine.length > 1 ? "s" : ""}: ${formatWon(model.total(mine))} in total.`
    : "You hold no seats.";
  fillList($("mine-list"), model, mine);

  $("hold").disabled = !idle || toHold.length === 0;
  $("hold").textContent = toHold.length ? `Hold ${toHold.length}` : "Hold";
  $("release").disabled = !idle || mine.length === 0;
  $("release").textContent = toRelease.length ? `Release ${toRelease.length}` : "Release";
  $("book").disabled = !idle || mine.length === 0;
  $("best").disabled = !idle || mine.length >= model.maxSeats;
  $("book").textContent = mine.length ? `Book ${mine.length}` : "Book";
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
    o.textContent = `${g} (${formatWon(prices[g])})`;
    return o;
  });
  const any = document.createElement("option");
  any.value = "";
  any.textContent = "Any";
  pick.replaceChildren(any, ...options);
  pick.value = keep;
  const anyColour = colours.values().next().value ?? "#cccccc";
  const states = ["free", "selected", "mine", "held", "sold"].map((look) => {
    const li = document.createElement("li");
    const name = document.createElement("span");
    name.textContent = STATE_LOOK[look].label;
    li.append(swatch(anyColour, look), name);
    return li;
  });
  $("legend-states").replaceChildren(...states);
}

/** The booking confirmation: {booking, seats: [names], total}. */
export function showBooking(b) {
  $("booked").hidden = false;
  $("booking-id").textContent = `#${b.booking}`;
  $("booked-seats").textContent = b.seats.join("; ");
  $("booked-total").textContent = formatWon(b.total);
}

// The side panel of the seat map: the buyer's picks and holds, the buttons, the legend, the
// booking, the limit and the words for refusals.

import { formatWon } from "./common.js";
import { STATE_LOOK, gradeColours, seatName, seatShort, swatch } from "./seatmap.js";

const $ = (id) => document.getElementById(id);

/**
 * A refusal in the page's own words. `{seats}` is the seats the server's message names,
 * as the map shows them; `{max}` the per-date limit. Every code a buyer can meet here has
 * words, so the server's text (which names seats by internal id) is only the fallback.
 */
const ERROR_WORDS = {
  seat_taken: ["Someone else got {seats} first. Pick another seat.", "Someone else got that seat first. Pick another seat."],
  unknown_seat: ["{seats} is not on this map.", "That seat is not on this map."],
  not_your_seat: ["You do not hold {seats}.", "You do not hold that seat."],
  too_many_seats: ["You can have at most {max} seats for this date, counting seats you bought before."],
  hold_expired: ["Your hold ran out before the booking went through. Choose your seats again."],
  no_hold: ["Hold your seats first, then book."],
  already_booked: ["You have already booked your seats."],
  rate_limited: ["Too many clicks at once: wait a moment and try again."],
  unavailable: ["The seat service had a problem. Try again in a moment."],
  no_seats_together: ["No seats together like that are left."],
  unknown_grade: ["That grade is not on this map."],
};

/** The seat ids a server message names ("seat 130"), in order. */
function seatIdsIn(text) {
  return [...String(text).matchAll(/\bseat (\d+)\b/g)].map((m) => Number(m[1]));
}

/** "Section A, row 1, seat 3" for a seat id, or the id itself if the map lacks it. */
function fullName(model, id) {
  const s = model.seats.get(id);
  return s ? seatName(s) : `seat ${id}`;
}

/** An `error` in words for the buyer, naming seats by section, row and number. */
export function errorWords(e, model) {
  const ids = seatIdsIn(e.message);
  const words = ERROR_WORDS[e.code];
  if (!words) {
    // A code this page does not know: the server's words, with its seat ids translated.
    return String(e.message).replace(/\bseat (\d+)\b/g, (_, id) => fullName(model, Number(id)));
  }
  const [named, plain = named] = words;
  const text = ids.length ? named : plain;
  return text
    .replace("{seats}", ids.map((id) => fullName(model, id)).join("; "))
    .replace("{max}", String(model.maxSeats));
}

function fillList(ul, model, ids) {
  ul.replaceChildren(...ids.map((id) => {
    const li = document.createElement("li");
    const s = model.seats.get(id);
    li.textContent = s ? `${seatShort(s)} — ${s.grade}, ${formatWon(model.price(id))}` : `seat ${id}`;
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
      ? `up to ${left} more seat${left > 1 ? "s" : ""} for this date (you bought ${bought} of the ${max} allowed)`
      : `no more seats for this date (you bought the ${max} allowed)`;
  }
  return `up to ${max} seats for this date, including any you bought before`;
}

/** Seats the buyer may still hold: the cap less what this browser knows was bought. */
export function seatsLeft(model, bought) {
  return Math.max(0, model.maxSeats - (bought || 0));
}

/**
 * Lists and buttons; `idle` when no request is on its way and the session goes on.
 * `confirmRelease`: the Release button asks "Release all N?" (nothing was picked).
 */
export function updatePanel(model, idle, finished, { bought = 0, confirmRelease = false } = {}) {
  const toHold = model.toHold();
  const toRelease = model.toRelease();
  const mine = model.mineIds();

  $("selection-summary").textContent = toHold.length
    ? `Selected: ${toHold.length} (${formatWon(model.total(toHold))}). You can have ${limitWords(model, bought)}, held and picked together.`
    : "None selected.";
  fillList($("selection-list"), model, toHold);
  $("mine-summary").textContent = mine.length
    ? `You hold ${mine.length} seat${mine.length > 1 ? "s" : ""}: ${formatWon(model.total(mine))} in total.`
    : "You hold no seats.";
  fillList($("mine-list"), model, mine);

  $("hold").disabled = !idle || toHold.length === 0;
  $("hold").textContent = toHold.length ? `Hold ${toHold.length}` : "Hold";
  $("release").disabled = !idle || mine.length === 0;
  $("release").textContent = toRelease.length ? `Release ${toRelease.length}`
    : confirmRelease ? `Release all ${mine.length}?` : "Release";
  $("book").disabled = !idle || mine.length === 0;
  $("best").disabled = !idle || mine.length >= seatsLeft(model, bought);
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

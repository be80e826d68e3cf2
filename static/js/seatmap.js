// How seats look in SVG: coloured by grade, and a state shown by more than colour: a hatch
// pattern and dashed outline (held by someone else), a dark fill with "×" (sold), a thick
// outline with "✓" (selected) or "★" (yours). The map itself is drawn in seatview.js.

import { t } from "./i18n.js";

const SVG = "http://www.w3.org/2000/svg";

/** Light colours, so that the black symbols on them keep a contrast above 7:1. */
const PALETTE = ["#c9a7ff", "#ff9e9e", "#8fc1ff", "#8fe3a8", "#ffd27a", "#7fe0e0", "#f2a7d8", "#d6dc7a"];

/** What each state looks like, for the seats and the legend (its words: `stateLabel`). */
export const STATE_LOOK = {
  free: { symbol: "" },
  selected: { symbol: "✓" },
  mine: { symbol: "★" },
  release: { symbol: "↺" },
  held: { symbol: "" },
  sold: { symbol: "×" },
};

/** A state's name in the page's language: "Held by you". */
export function stateLabel(look) {
  return t(`seats.state.${look}`);
}

/** A new SVG element with these attributes (and text). */
export function svgEl(name, attrs = {}, text) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Grades, most expensive first, with a colour each. */
export function gradeColours(prices) {
  const grades = Object.keys(prices).sort((a, b) => prices[b] - prices[a] || a.localeCompare(b));
  return new Map(grades.map((g, i) => [g, PALETTE[i % PALETTE.length]]));
}

/** "Section A, row 3, seat 12" (Korean: "A구역 3열 12번"), for screen readers and errors. */
export function seatName(s) {
  return t("seats.seat.name", { section: s.section, row: s.row, number: s.number });
}

/** "A · row 3 · seat 12" (Korean: "A구역 3열 12번"), for lists and messages. */
export function seatShort(s) {
  return t("seats.seat.short", { section: s.section, row: s.row, number: s.number });
}

/** What a screen reader says of a seat: its label (name, grade, price) and its state. */
export function seatAria(label, look) {
  return t("seats.seat.aria", { label, state: stateLabel(look).toLowerCase() });
}

/** How a seat in `state` looks: a picked free seat is "selected", a picked own one "release". */
export function seatLook(state, selected) {
  if (state === "free" && selected) return "selected";
  if (state === "mine" && selected) return "release";
  return state;
}

/**
 * Shows one seat's state: `state` is free, held, mine or sold (the data-state attribute),
 * `selected` whether the buyer picked it (to hold, or to release if it is theirs).
 */
export function paintSeat(g, state, selected) {
  const key = `${state} ${selected}`;
  if (g.usherLook === key) return; // already shows this
  g.usherLook = key;
  g.dataset.state = state;
  g.dataset.selected = selected ? "true" : "false";
  const rect = g.usherRect ?? g.querySelector("rect");
  const mark = g.usherMark ?? g.querySelector("text");
  const look = seatLook(state, selected);
  const fill = state === "held" ? "url(#hatch)" : state === "sold" ? "#5c636e" : g.dataset.colour;
  rect.setAttribute("fill", fill);
  mark.textContent = STATE_LOOK[look].symbol;
  mark.setAttribute("fill", state === "sold" ? "#ffffff" : "#000000");
  const takeable = state === "free" || state === "mine";
  g.setAttribute("aria-disabled", takeable ? "false" : "true");
  g.setAttribute("aria-checked", selected ? "true" : "false");
  g.setAttribute("aria-label", seatAria(g.dataset.label, look));
}

/** One legend swatch (a small SVG) for a colour and a state. */
export function swatch(colour, look) {
  // The hatch pattern comes from the map's own <defs> (one id per document).
  const svg = svgEl("svg", { width: 22, height: 22, viewBox: "0 0 22 22", "aria-hidden": "true" });
  const fill = look === "held" ? "url(#hatch)" : look === "sold" ? "#5c636e" : colour;
  const strokeWidth = ["selected", "mine", "release"].includes(look) ? 3 : 1;
  const rect = svgEl("rect", {
    x: 1.5, y: 1.5, width: 19, height: 19, rx: 4, fill, stroke: look === "held" ? "#4d5562" : "#000",
    "stroke-width": strokeWidth,
  });
  if (look === "held") rect.setAttribute("stroke-dasharray", "3 2");
  svg.append(rect);
  const symbol = STATE_LOOK[look]?.symbol;
  if (symbol) {
    svg.append(svgEl("text", {
      x: 11, y: 11.5, "text-anchor": "middle", "dominant-baseline": "central",
      "font-size": 12, "font-weight": 800, fill: look === "sold" ? "#fff" : "#000",
    }, symbol));
  }
  return svg;
}

/**
 * The seat a key moves to: an arrow along the row, or to the nearest seat number in the
 * row above or below; Home and End to the row's first and last seat. `rows` are seat ids
 * row by row; `seats` maps id → seat. Null for any other key, or past the map's edge.
 */
export function neighbour(rows, seats, id, key) {
  const r = rows.findIndex((row) => row.includes(id));
  if (r < 0) return null;
  const i = rows[r].indexOf(id);
  if (key === "ArrowLeft") return rows[r][i - 1] ?? null;
  if (key === "ArrowRight") return rows[r][i + 1] ?? null;
  if (key === "Home") return rows[r][0];
  if (key === "End") return rows[r][rows[r].length - 1];
  const other = key === "ArrowUp" ? rows[r - 1] : key === "ArrowDown" ? rows[r + 1] : null;
  if (!other) return null;
  const n = seats.get(id).number;
  const dist = (s) => Math.abs(seats.get(s).number - n);
  return other.reduce((best, s) => (dist(s) < dist(best) ? s : best));
}

// Drawing the seat map in SVG: sections, rows, seats coloured by grade. A seat's state is
// shown by more than colour: a hatch pattern and dashed outline (held by someone else), a
// dark fill with "×" (sold), a thick outline with "✓" (selected) or "★" (yours).

import { formatWon } from "./common.js";

const SVG = "http://www.w3.org/2000/svg";
const PITCH = 26; // distance between seat centres
const SIZE = 21; // seat square
const LABEL_W = 44; // row label column
const SECTION_GAP = 22;
const STAGE_H = 34;

/** Light colours, so that the black symbols on them keep a contrast above 7:1. */
const PALETTE = ["#c9a7ff", "#ff9e9e", "#8fc1ff", "#8fe3a8", "#ffd27a", "#7fe0e0", "#f2a7d8", "#d6dc7a"];

/** What each state looks like, for the seats and the legend. */
export const STATE_LOOK = {
  free: { label: "Free", symbol: "" },
  selected: { label: "Selected by you", symbol: "✓" },
  mine: { label: "Held by you", symbol: "★" },
  release: { label: "Yours, marked to release", symbol: "↺" },
  held: { label: "Held by someone else", symbol: "" },
  sold: { label: "Sold", symbol: "×" },
};

function el(name, attrs = {}, text) {
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

/** The hatch pattern of seats held by others; defined once per SVG. */
function defs() {
  const d = el("defs");
  const p = el("pattern", {
    id: "hatch", width: 6, height: 6, patternUnits: "userSpaceOnUse",
    patternTransform: "rotate(45)",
  });
  p.append(el("rect", { width: 6, height: 6, fill: "#e3e7ec" }));
  p.append(el("line", { x1: 0, y1: 0, x2: 0, y2: 6, stroke: "#6b7280", "stroke-width": 2.5 }));
  d.append(p);
  return d;
}

/** Sections in map order, each with its rows in order, each with its seats by number. */
function groupSeats(seats) {
  const sections = new Map();
  for (const s of seats) {
    if (!sections.has(s.section)) sections.set(s.section, new Map());
    const rows = sections.get(s.section);
    if (!rows.has(s.row)) rows.set(s.row, []);
    rows.get(s.row).push(s);
  }
  for (const rows of sections.values()) {
    for (const list of rows.values()) list.sort((a, b) => a.number - b.number);
  }
  return sections;
}

export function seatName(s) {
  return `Section ${s.section}, row ${s.row}, seat ${s.number}`;
}

export function seatShort(s) {
  return `${s.section} · row ${s.row} · seat ${s.number}`;
}

/**
 * Draws every seat into `svg`; returns a Map id → seat <g>, and `rows`, the seat ids row by
 * row in drawing order (for arrow-key moves).
 */
export function drawMap(svg, seats, prices, colours) {
  svg.replaceChildren(defs());
  const sections = groupSeats(seats);
  let width = 0;
  for (const rows of sections.values()) {
    let lo = Infinity;
    let hi = -Infinity;
    for (const list of rows.values()) {
      lo = Math.min(lo, list[0].number);
      hi = Math.max(hi, list[list.length - 1].number);
    }
    rows.lo = lo;
    rows.w = LABEL_W + (hi - lo + 1) * PITCH;
    width = Math.max(width, rows.w);
  }
  width += 16;

  svg.append(el("rect", { class: "stage", x: width * 0.2, y: 4, width: width * 0.6, height: STAGE_H - 8, rx: 6 }));
  svg.append(el("text", {
    class: "stage-label", x: width / 2, y: STAGE_H / 2, "text-anchor": "middle",
    "dominant-baseline": "central", "aria-hidden": "true",
  }, "STAGE"));

  const nodes = new Map();
  const rowOrder = [];
  const markup = [];
  // Formatting a price is slow: once per grade, not once per seat.
  const words = new Map();
  const priceWords = (grade) => {
    if (!words.has(grade)) words.set(grade, prices[grade] === undefined ? undefined : formatWon(prices[grade]));
    return words.get(grade);
  };
  let y = STAGE_H + 14;
  for (const [name, rows] of sections) {
    const x0 = (width - rows.w) / 2;
    const group = el("g", { role: "group", "aria-label": `Section ${name}` });
    group.append(el("text", { class: "section-label", x: x0, y: y + 12 }, `Section ${name}`));
    y += 24;
    for (const [row, list] of rows) {
      group.append(el("text", {
        class: "label", x: x0 + LABEL_W - 8, y: y + SIZE / 2, "text-anchor": "end",
        "dominant-baseline": "central", "aria-hidden": "true",
      }, row));
      const ids = [];
      for (const s of list) {
        const x = x0 + LABEL_W + (s.number - rows.lo) * PITCH;
        markup.push(seatMarkup(s, x, y, colours.get(s.grade) ?? "#cccccc", priceWords(s.grade)));
        ids.push(s.id);
      }
      rowOrder.push(ids);
      y += PITCH;
    }
    // One parse per section instead of four DOM calls per seat: a 100,000-seat map builds
    // several times faster this way.
    group.insertAdjacentHTML("beforeend", markup.join(""));
    markup.length = 0;
    for (const g of group.querySelectorAll(":scope > g.seat")) {
      g.usherRect = g.children[1];
      g.usherMark = g.children[2];
      g.usherLook = "free false";
      nodes.set(Number(g.dataset.seat), g);
    }
    svg.append(group);
    y += SECTION_GAP;
  }
  svg.setAttribute("viewBox", `0 0 ${width} ${y}`);
  // Seats stay at least ~17 px wide on a phone: below that the map scrolls sideways.
  svg.style.minWidth = `${Math.round(width * 0.7)}px`;
  svg.style.maxWidth = `${Math.round(width * 1.6)}px`;
  return { nodes, rows: rowOrder };
}

const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" };
const esc = (t) => String(t).replace(/[&<>"]/g, (c) => ESCAPES[c]);

/** One seat's markup: a group with its title, square and state symbol. */
function seatMarkup(s, x, y, colour, price) {
  const label = `${seatName(s)}, grade ${s.grade}, ${price ?? ""}`;
  const title = `${seatShort(s)} · ${s.grade}${price === undefined ? "" : ` · ${price}`}`;
  // Drawn free and unselected, exactly as paintSeat would: painting a free seat is then a
  // no-op (see usherLook).
  return `<g class="seat" data-seat="${s.id}" data-state="free" data-selected="false" `
    + `data-grade="${esc(s.grade)}" tabindex="0" role="checkbox" aria-checked="false" `
    + `aria-disabled="false" data-colour="${esc(colour)}" data-label="${esc(label)}" `
    + `aria-label="${esc(`${label}, ${STATE_LOOK.free.label.toLowerCase()}`)}">`
    + `<title>${esc(title)}</title>`
    + `<rect x="${x}" y="${y}" width="${SIZE}" height="${SIZE}" rx="4" fill="${esc(colour)}"></rect>`
    + `<text x="${x + SIZE / 2}" y="${y + SIZE / 2 + 0.5}" aria-hidden="true" fill="#000000"></text></g>`;
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
  let look = state;
  if (state === "free" && selected) look = "selected";
  if (state === "mine" && selected) look = "release";
  const fill = state === "held" ? "url(#hatch)" : state === "sold" ? "#5c636e" : g.dataset.colour;
  rect.setAttribute("fill", fill);
  mark.textContent = STATE_LOOK[look].symbol;
  mark.setAttribute("fill", state === "sold" ? "#ffffff" : "#000000");
  const takeable = state === "free" || state === "mine";
  g.setAttribute("aria-disabled", takeable ? "false" : "true");
  g.setAttribute("aria-checked", selected ? "true" : "false");
  g.setAttribute("aria-label", `${g.dataset.label}, ${STATE_LOOK[look].label.toLowerCase()}`);
}

/** One legend swatch (a small SVG) for a colour and a state. */
export function swatch(colour, look) {
  // The hatch pattern comes from the map's own <defs> (one id per document).
  const svg = el("svg", { width: 22, height: 22, viewBox: "0 0 22 22", "aria-hidden": "true" });
  const fill = look === "held" ? "url(#hatch)" : look === "sold" ? "#5c636e" : colour;
  const strokeWidth = ["selected", "mine", "release"].includes(look) ? 3 : 1;
  const rect = el("rect", {
    x: 1.5, y: 1.5, width: 19, height: 19, rx: 4, fill, stroke: look === "held" ? "#4d5562" : "#000",
    "stroke-width": strokeWidth,
  });
  if (look === "held") rect.setAttribute("stroke-dasharray", "3 2");
  svg.append(rect);
  const symbol = STATE_LOOK[look]?.symbol;
  if (symbol) {
    svg.append(el("text", {
      x: 11, y: 11.5, "text-anchor": "middle", "dominant-baseline": "central",
      "font-size": 12, "font-weight": 800, fill: look === "sold" ? "#fff" : "#000",
    }, symbol));
  }
  return svg;
}

/**
 * The seat an arrow key moves to: along the row, or the nearest seat number in the row
 * above or below. `rows` are seat ids row by row; `seats` maps id → seat.
 */
export function neighbour(rows, seats, id, key) {
  const r = rows.findIndex((row) => row.includes(id));
  if (r < 0) return null;
  const i = rows[r].indexOf(id);
  if (key === "ArrowLeft") return rows[r][i - 1] ?? null;
  if (key === "ArrowRight") return rows[r][i + 1] ?? null;
  const other = key === "ArrowUp" ? rows[r - 1] : key === "ArrowDown" ? rows[r + 1] : null;
  if (!other) return null;
  const n = seats.get(id).number;
  const dist = (s) => Math.abs(seats.get(s).number - n);
  return other.reduce((best, s) => (dist(s) < dist(best) ? s : best));
}

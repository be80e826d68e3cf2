// The seat map's SVG at venue scale. Building every seat's nodes (group, title, square,
// symbol) takes seconds for 100,000 seats, so the map is drawn in two steps: first its
// outline (stage, sections, a pale block for every few rows) at its full size, then each
// block's seats. The blocks in view are built before the first paint, the blocks near the
// view as it scrolls towards them, the one the arrow keys move into at once, and the rest
// in idle time, so that after a few seconds the whole map is there for screen readers, as
// it was when it was built in one go. A seat built late is painted from the model at that
// moment (`paintNew`), so no change is lost.
//
// The map is one Tab stop (a roving tabindex): only the current seat has tabindex 0, the
// others -1, and the arrow keys move the current seat (seats.js). Hundreds of Tab stops
// between the top of the page and the Hold button are what keyboard users asked us to end.
//
// On a switch of language (`relabel`) the map's few words (stage, sections) change at once
// and the labels of the seats already built block by block in slices, the blocks in view
// first: 50,000 seats relabelled in one go would freeze the page for a moment. Seats built
// later get the new words as they are built.

import { formatWon } from "./common.js";
import { t } from "./i18n.js";
import { seatAria, seatLook, seatName, seatShort, svgEl as el } from "./seatmap.js";

export const PITCH = 26; // distance between seat centres
export const SIZE = 21; // seat square
export const LABEL_W = 44; // row label column
const SECTION_GAP = 22;
const STAGE_H = 34;

/** A block is whole rows of one section, at least this many seats (or one wider row). */
const BLOCK_SEATS = 200;
/** A map this small is built whole before its first paint. */
const EAGER_SEATS = 2000;
/** How long one slice of building in the background may take, in ms. */
const SLICE_MS = 8;

// Safari has no requestIdleCallback: there the rest is built in slices 50 ms apart.
const whenIdle = window.requestIdleCallback?.bind(window) ?? ((f) => setTimeout(f, 50));
const cancelIdle = window.cancelIdleCallback?.bind(window) ?? clearTimeout;

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

const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" };
const esc = (t) => String(t).replace(/[&<>"]/g, (c) => ESCAPES[c]);

/** A seat's words: `label` for screen readers (name, grade, price), `title` on hover. */
function seatWords(s, price) {
  const label = t("seats.seat.label", { name: seatName(s), grade: s.grade, price: price ?? "" });
  const title = price === undefined
    ? t("seats.seat.title_no_price", { name: seatShort(s), grade: s.grade })
    : t("seats.seat.title", { name: seatShort(s), grade: s.grade, price });
  return { label, title };
}

/** One seat's markup: a group with its title, square and state symbol. */
function seatMarkup(s, x, y, colour, price) {
  const { label, title } = seatWords(s, price);
  // Drawn free and unselected, exactly as paintSeat would: painting a free seat is then a
  // no-op (see usherLook).
  return `<g class="seat" data-seat="${s.id}" data-state="free" data-selected="false" `
    + `data-grade="${esc(s.grade)}" tabindex="-1" role="checkbox" aria-checked="false" `
    + `aria-disabled="false" data-colour="${esc(colour)}" data-label="${esc(label)}" `
    + `aria-label="${esc(seatAria(label, "free"))}">`
    + `<title>${esc(title)}</title>`
    + `<rect x="${x}" y="${y}" width="${SIZE}" height="${SIZE}" rx="4" fill="${esc(colour)}"></rect>`
    + `<text x="${x + SIZE / 2}" y="${y + SIZE / 2 + 0.5}" aria-hidden="true" fill="#000000"></text></g>`;
}

function rowLabelMarkup(label, x, y) {
  return `<text class="label" x="${x}" y="${y + SIZE / 2}" text-anchor="end" `
    + `dominant-baseline="central" aria-hidden="true">${esc(label)}</text>`;
}

/**
 * Draws the map's outline into `svg` and returns its SeatView. Call `start()` once the SVG
 * is shown: it builds the seats in view and watches for the rest. `paintNew(g, id)` paints
 * a seat just built. `options`: `minSeatPx`, the smallest a seat may be drawn (CSS px; the
 * map scrolls sideways below that), and `stage: false` for one section of a big venue.
 */
export function drawMap(svg, seats, prices, colours, paintNew, options = {}) {
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
    rows.span = (hi - lo + 1) * PITCH;
    width = Math.max(width, LABEL_W + rows.span);
  }
  width += 16;

  svg.append(el("rect", { class: "stage", x: width * 0.2, y: 4, width: width * 0.6, height: STAGE_H - 8, rx: 6 }));
  svg.append(el("text", {
    class: "stage-label", x: width / 2, y: STAGE_H / 2, "text-anchor": "middle",
    "dominant-baseline": "central", "aria-hidden": "true",
  }, t("seats.map.stage")));
  // One section of a big venue: the overview shows where the stage is.
  if (options.stage === false) for (const n of svg.querySelectorAll(".stage, .stage-label")) n.remove();

  const view = new SeatView(svg, seats.length, paintNew);
  // Formatting a price is slow: once per grade (and language), not once per seat.
  view.priceWords = (grade) => {
    if (!view.prices.has(grade)) view.prices.set(grade, prices[grade] === undefined ? undefined : formatWon(prices[grade]));
    return view.prices.get(grade);
  };
  let y = options.stage === false ? 0 : STAGE_H + 14;
  for (const [name, rows] of sections) {
    const x0 = (width - LABEL_W - rows.span) / 2;
    const group = el("g", { role: "group", "aria-label": t("seats.map.section", { name }), "data-section": name });
    group.append(el("text", { class: "section-label", x: x0, y: y + 12 }, t("seats.map.section", { name })));
    y += 24;
    let block = null;
    for (const [row, list] of rows) {
      if (!block || block.count >= BLOCK_SEATS) {
        block = { rows: [], count: 0, x0, lo: rows.lo, span: rows.span, y0: y, group: el("g") };
        view.add(block, group);
      }
      block.rows.push({ label: row, y, seats: list });
      block.count += list.length;
      block.y1 = y + SIZE;
      view.rows.push(list.map((s) => s.id));
      for (const s of list) view.blockOf[s.id] = view.blocks.length - 1;
      y += PITCH;
    }
    svg.append(group);
    y += SECTION_GAP;
  }
  for (const b of view.blocks) view.placeholder(b);
  svg.setAttribute("viewBox", `0 0 ${width} ${y}`);
  view.height = y;
  view.markup = (s, x, yy) => seatMarkup(s, x, yy, colours.get(s.grade) ?? "#cccccc", view.priceWords(s.grade));
  view.allSeats = seats;
  // Seats stay at least ~15 px wide (or `minSeatPx`): below that the map scrolls sideways.
  const least = options.minSeatPx ? options.minSeatPx / SIZE : 0.7;
  svg.style.minWidth = `${Math.ceil(width * least)}px`;
  svg.style.maxWidth = `${Math.round(width * Math.max(1.6, least))}px`;
  return view;
}

/** The drawn map: which seats are built (`nodes`), and the building of the others. */
class SeatView {
  constructor(svg, count, paintNew) {
    this.svg = svg;
    this.count = count;
    this.paintNew = paintNew;
    this.nodes = new Map(); // id → the seat's <g>, for the seats built so far
    this.rows = []; // seat ids row by row in drawing order, for arrow-key moves
    this.blocks = [];
    this.blockOf = []; // seat id → index in blocks
    this.todo = 0; // blocks not built yet
    this.next = 0; // where the background building goes on from
    this.soon = new Set(); // blocks near the view, built before the others
    this.timer = null;
    this.idle = null;
    this.observers = [];
    this.current = null; // the seat Tab lands on: the only one with tabindex 0
    this.prices = new Map(); // grade → price in words, in the language shown
    this.words = 0; // the language switches so far: a block built before one is relabelled
    this.relabelTimer = null;
    this.allSeats = [];
    this.seatOf = null;
  }

  /**
   * The page's language changed: the stage and section names now, the built seats' labels
   * block by block (those in view first), in slices that leave the page responsive.
   */
  relabel() {
    this.words += 1;
    this.prices.clear();
    if (!this.seatOf) {
      // Seat id → seat, made on the first switch only (an array: a Map is slow to fill).
      this.seatOf = [];
      for (const s of this.allSeats) this.seatOf[s.id] = s;
    }
    const stage = this.svg.querySelector(".stage-label");
    if (stage) stage.textContent = t("seats.map.stage");
    for (const g of this.svg.querySelectorAll("g[data-section]")) {
      const name = t("seats.map.section", { name: g.dataset.section });
      g.setAttribute("aria-label", name);
      const label = g.querySelector(":scope > .section-label");
      if (label) label.textContent = name;
    }
    const box = this.svg.getBoundingClientRect();
    const scale = box.height / this.height || 0;
    const seen = (b) => box.top + b.y1 * scale >= 0 && box.top + b.y0 * scale <= window.innerHeight;
    const todo = this.blocks.filter((b) => b.built && b.words !== this.words);
    todo.sort((a, b) => Number(seen(b)) - Number(seen(a)));
    clearTimeout(this.relabelTimer);
    const began = performance.now();
    delete this.svg.dataset.relabelMs;
    const step = () => {
      const end = performance.now() + SLICE_MS;
      while (todo.length && performance.now() < end) this.relabelBlock(todo.shift());
      this.relabelTimer = todo.length ? setTimeout(step, 0) : null;
      // How long relabelling took, for measurements (tests/browser_phone.rs).
      if (!todo.length) this.svg.dataset.relabelMs = String(Math.round(performance.now() - began));
    };
    step();
  }

  /** New words on a built block's seats, if it has the old ones. */
  relabelBlock(b) {
    if (!b.built || b.words === this.words) return;
    b.words = this.words;
    for (const g of b.group.querySelectorAll(":scope > g.seat")) {
      const s = this.seatOf[Number(g.dataset.seat)];
      if (!s) continue;
      const { label, title } = seatWords(s, this.priceWords(s.grade));
      g.dataset.label = label;
      g.firstElementChild.textContent = title;
      g.setAttribute("aria-label", seatAria(label, seatLook(g.dataset.state, g.dataset.selected === "true")));
    }
  }

  /** Makes seat `id` the map's one Tab stop (building its block if needed). */
  setCurrent(id) {
    if (this.current === id && this.nodes.get(id)?.tabIndex === 0) return;
    const old = this.nodes.get(this.current);
    if (old) old.setAttribute("tabindex", "-1");
    this.current = id;
    this.ensure(id)?.setAttribute("tabindex", "0");
  }

  add(block, group) {
    block.built = false;
    this.blocks.push(block);
    this.todo += 1;
    group.append(block.group);
  }

  /** A pale block where the rows' seats will be, the size they will take. */
  placeholder(b) {
    b.todoRect = el("rect", {
      class: "seat-block-todo", x: b.x0 + LABEL_W, y: b.y0, width: b.span - (PITCH - SIZE),
      height: b.y1 - b.y0, rx: 4, "aria-hidden": "true",
    });
    b.todoRect.usherBlock = b;
    b.group.append(b.todoRect);
  }

  /** Builds the block holding seat `id` if it is not built yet; returns the seat's node. */
  ensure(id) {
    const b = this.blocks[this.blockOf[id]];
    if (b) {
      this.build(b);
      this.relabelBlock(b); // a keyboard user may reach it before its slice
    }
    return this.nodes.get(id);
  }

  build(b) {
    if (b.built) return;
    b.built = true;
    b.words = this.words;
    this.todo -= 1;
    this.soon.delete(b);
    for (const o of this.observers) o.unobserve(b.todoRect);
    const markup = [];
    for (const r of b.rows) {
      markup.push(rowLabelMarkup(r.label, b.x0 + LABEL_W - 8, r.y));
      for (const s of r.seats) markup.push(this.markup(s, b.x0 + LABEL_W + (s.number - b.lo) * PITCH, r.y));
    }
    // One parse per block instead of four DOM calls per seat: several times faster.
    b.todoRect.remove();
    b.group.insertAdjacentHTML("beforeend", markup.join(""));
    for (const g of b.group.querySelectorAll(":scope > g.seat")) {
      g.usherRect = g.children[1];
      g.usherMark = g.children[2];
      g.usherLook = "free false";
      const id = Number(g.dataset.seat);
      this.nodes.set(id, g);
      if (id === this.current) g.setAttribute("tabindex", "0");
      this.paintNew(g, id);
    }
  }

  /**
   * Builds the seats in view now (the SVG must be shown), then the others: those coming
   * into view at once, those near it soon after, the rest in idle time.
   */
  start() {
    // The first seat is the Tab stop until the buyer moves it.
    if (this.current === null && this.rows.length) this.setCurrent(this.rows[0][0]);
    if (this.count <= EAGER_SEATS) {
      for (const b of this.blocks) this.build(b);
      return;
    }
    const box = this.svg.getBoundingClientRect();
    const scale = box.height / this.height;
    const bottom = window.innerHeight;
    for (const b of this.blocks) {
      // A map not laid out (height 0) builds nothing here: the observers build it later.
      if (scale > 0 && box.top + b.y1 * scale >= 0 && box.top + b.y0 * scale <= bottom) this.build(b);
    }
    const inView = new IntersectionObserver((entries) => {
      for (const e of entries) if (e.isIntersecting) this.build(e.target.usherBlock);
    });
    // A viewport above and below: built in slices, before the buyer scrolls there.
    const near = new IntersectionObserver((entries) => {
      for (const e of entries) if (e.isIntersecting && !e.target.usherBlock.built) this.soon.add(e.target.usherBlock);
      this.schedule();
    }, { rootMargin: "100% 0px" });
    this.observers = [inView, near];
    for (const b of this.blocks) {
      if (b.built) continue;
      inView.observe(b.todoRect);
      near.observe(b.todoRect);
    }
    this.schedule();
  }

  /** Stops building (the map is being replaced). */
  stop() {
    clearTimeout(this.relabelTimer);
    for (const o of this.observers) o.disconnect();
    clearTimeout(this.timer);
    if (this.idle !== null) cancelIdle(this.idle);
  }

  schedule() {
    if (this.todo === 0) {
      for (const o of this.observers) o.disconnect();
      return;
    }
    if (this.soon.size && this.timer === null) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.slice(() => this.soon.values().next().value);
      }, 0);
    } else if (!this.soon.size && this.idle === null) {
      this.idle = whenIdle(() => {
        this.idle = null;
        this.slice(() => this.nextInOrder());
      });
    }
  }

  /** Builds the blocks `pick` gives for about SLICE_MS, then yields to the page. */
  slice(pick) {
    const end = performance.now() + SLICE_MS;
    let b = pick();
    while (b && performance.now() < end) {
      this.build(b);
      b = pick();
    }
    this.schedule();
  }

  nextInOrder() {
    while (this.next < this.blocks.length && this.blocks[this.next].built) this.next += 1;
    return this.blocks[this.next];
  }
}

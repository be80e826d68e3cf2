// A big venue on the seat page: first an overview of its sections (overview.js) with the
// seats each has left, kept live; a press on a section draws that section alone (seatview.js)
// with seats big enough to tap, a way back, and the map's usual keys. A small venue is
// drawn whole, as before.
//
// When is a venue big? With more than OVERVIEW_SEATS seats or more than OVERVIEW_SECTIONS
// sections, and at least two sections. Below that the whole map fits in two or three phone
// screens and is built at once (seatview.js builds 2,000 seats before its first paint), so
// a step through an overview would only slow the buyer down; above it, finding a section by
// scrolling a map of tiny seats is what buyers of big venues complained about. A map of one
// section has nothing to choose between and is always drawn whole.
//
// Counts: a pass over every seat when a snapshot comes (50,000 seats take a millisecond or
// two), then one step per changed seat from the model's `onState`, and one repaint per
// changed section per frame.
//
// A zoomed section's row may be wider than a phone: it scrolls sideways, its row labels
// stay at the left (a sticky column), and a shade at either edge shows that the row goes
// on. Seats are at least 25 CSS px on a touch screen (24 is the least a finger
// hits reliably), 18 px with a mouse.

import { locale, onLanguage, register, t } from "./i18n.js";
import en from "./msg/seatmap.en.js";
import ko from "./msg/seatmap.ko.js";
import { Overview } from "./overview.js";
import { gradeColours } from "./seatmap.js";
import { LABEL_W, SIZE, drawMap } from "./seatview.js";

register({ en, ko });

export const OVERVIEW_SEATS = 1000;
export const OVERVIEW_SECTIONS = 6;

const num = (v) => Number(v).toLocaleString(locale());

/** The model's view while no seat is drawn (the overview is shown). */
function noView() {
  return { nodes: new Map(), rows: [], blocks: [], current: null, start() {}, stop() {}, setCurrent() {}, ensure() {} };
}

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

export class Venue {
  /**
   * `model` is the page's SeatModel (its view, nodes and rows are set here), `svg` the map,
   * `paintNew(g, id)` paints a seat just built.
   */
  constructor(model, svg, paintNew) {
    this.model = model;
    this.svg = svg;
    this.paintNew = paintNew;
    this.big = false;
    this.zoomed = null;
    this.sections = [];

    // The map's scroller goes into a frame that carries the edge shades.
    this.scroll = svg.closest(".map-scroll");
    this.frame = el("div", "map-frame");
    this.scroll.before(this.frame);
    this.frame.append(this.scroll);
    this.rail = el("div", "row-rail");
    this.rail.setAttribute("aria-hidden", "true");
    this.rail.hidden = true;
    this.scroll.prepend(this.rail);

    this.root = el("div");
    this.root.id = "venue";
    this.root.hidden = true;
    this.overview = new Overview(this.root, (i) => this.zoom(i));

    this.bar = el("div", "zoom-bar");
    this.bar.id = "zoom-bar";
    this.bar.hidden = true;
    this.back = el("button", "secondary zoom-back");
    this.back.type = "button";
    this.back.id = "zoom-back";
    this.title = el("h3", "zoom-title");
    this.title.id = "zoom-title";
    this.title.tabIndex = -1;
    this.left = el("p", "zoom-left");
    this.left.id = "zoom-left";
    this.hint = el("p", "explain zoom-hint");
    this.bar.append(this.back, this.title, this.left, this.hint);
    this.frame.before(this.root, this.bar);

    this.back.addEventListener("click", () => this.leave());
    svg.addEventListener("keydown", (e) => {
      if (e.key === "Escape" && this.zoomed !== null) {
        e.preventDefault();
        this.leave();
      }
    });
    // The phone's back button leaves a section as the page's own button does.
    window.addEventListener("popstate", (e) => {
      if (!this.big) return;
      const i = e.state?.usherZoom;
      if (Number.isInteger(i) && this.sections[i]) this.zoom(i, { push: false });
      else if (this.zoomed !== null) this.showOverview(true);
    });
    this.scroll.addEventListener("scroll", () => this.shade(), { passive: true });
    new ResizeObserver(() => {
      this.placeRail();
      this.shade();
    }).observe(this.scroll);
    model.onState = (id, before, after) => this.changed(id, before, after);
    onLanguage(() => this.translate());
    this.dirty = new Set();
    this.frameAsked = false;
  }

  /**
   * Draws a new layout (`seats` expanded, `prices`, and the layout's `body` with its
   * sections and areas): the whole map for a small venue, else the overview. The model's
   * view is then the one to start.
   */
  draw(seats, prices, body) {
    this.model.view?.stop();
    this.seats = seats;
    this.prices = prices;
    this.colours = gradeColours(prices);
    this.grades = [...this.colours.keys()];
    const gradeIndex = new Map(this.grades.map((g, i) => [g, i]));
    this.sections = [];
    this.sectionOf = new Int32Array(seats.length);
    this.gradeOf = new Uint16Array(seats.length);
    for (const [i, s] of body.sections.entries()) {
      let first = Infinity;
      let end = 0;
      for (const row of s.rows) {
        const count = row.numbers ? row.numbers.length : row.count;
        const g = gradeIndex.get(row.grade) ?? 0;
        first = Math.min(first, row.first);
        end = Math.max(end, row.first + count);
        this.sectionOf.fill(i, row.first, row.first + count);
        this.gradeOf.fill(g, row.first, row.first + count);
      }
      this.sections.push({ name: s.name, area: s.area ?? null, first: first === Infinity ? 0 : first, end });
    }
    this.free = new Int32Array(this.sections.length * this.grades.length);
    this.big = this.sections.length >= 2
      && (seats.length > OVERVIEW_SEATS || this.sections.length > OVERVIEW_SECTIONS);
    this.zoomed = null;
    this.svg.closest("section")?.classList.toggle("venue-big", this.big);
    if (!this.big) {
      this.root.hidden = true;
      this.bar.hidden = true;
      this.frame.hidden = false;
      this.scroll.classList.remove("zoomed");
      this.rail.hidden = true;
      this.use(drawMap(this.svg, seats, prices, this.colours, this.paintNew));
      return;
    }
    this.overview.draw(this.sections, body.stage ?? null, this.grades, this.colours, prices);
    this.showOverview(false);
    // After a reload on a zoomed section, the same section again, once the page shows the map.
    const i = history.state?.usherZoom;
    if (Number.isInteger(i) && this.sections[i]) {
      requestAnimationFrame(() => {
        if (this.zoomed === null) this.zoom(i, { push: false, focus: false });
      });
    }
  }

  use(view) {
    this.model.view = view;
    this.model.nodes = view.nodes;
    this.model.rows = view.rows;
  }

  /** Counts every section's seats left again (after each snapshot). */
  recount() {
    if (!this.big) return;
    const G = this.grades.length;
    this.free.fill(0);
    const states = this.model.state.values;
    for (let id = 0; id < this.sectionOf.length; id++) {
      if ((states[id] ?? "free") === "free") this.free[this.sectionOf[id] * G + this.gradeOf[id]] += 1;
    }
    for (let i = 0; i < this.sections.length; i++) this.dirty.add(i);
    this.repaint();
  }

  /** One seat's state changed (a delta, a hold, a booking…): one count moves. */
  changed(id, before, after) {
    if (!this.big || id >= this.sectionOf.length) return;
    const was = (before ?? "free") === "free";
    const is = after === "free";
    if (was === is) return;
    const i = this.sectionOf[id];
    this.free[i * this.grades.length + this.gradeOf[id]] += is ? 1 : -1;
    this.dirty.add(i);
    if (!this.frameAsked) {
      this.frameAsked = true;
      requestAnimationFrame(() => this.repaint());
    }
  }

  /** Shows the counts of the sections that changed since the last frame. */
  repaint() {
    this.frameAsked = false;
    const G = this.grades.length;
    const totals = new Array(G).fill(0);
    for (let k = 0; k < this.free.length; k++) totals[k % G] += this.free[k];
    for (const i of this.dirty) {
      const byGrade = this.free.subarray(i * G, (i + 1) * G);
      this.overview.update(i, byGrade.reduce((a, b) => a + b, 0), byGrade);
    }
    this.dirty.clear();
    this.overview.totals(totals);
    if (this.zoomed !== null) this.words();
  }

  /** Draws section `i` alone. `focus`: its current seat takes the focus. */
  zoom(i, { focus = true, push = true } = {}) {
    if (!this.big || !this.sections[i]) return;
    const sec = this.sections[i];
    this.model.view?.stop();
    this.zoomed = i;
    this.root.hidden = true;
    this.bar.hidden = false;
    this.frame.hidden = false;
    this.scroll.classList.add("zoomed");
    this.bar.dataset.section = String(i);
    const touch = matchMedia("(pointer: coarse)").matches || window.innerWidth < 600;
    const view = drawMap(this.svg, this.seats.slice(sec.first, sec.end), this.prices, this.colours,
      this.paintNew, { minSeatPx: touch ? 25 : 18, stage: false });
    this.use(view);
    this.scroll.scrollLeft = 0;
    view.start();
    this.placeRail();
    this.shade();
    this.words();
    if (push) history.pushState({ ...(history.state ?? {}), usherZoom: i }, "");
    this.bar.scrollIntoView({ block: "nearest" });
    if (focus) view.nodes.get(view.current)?.focus({ preventScroll: true });
  }

  /** Back to the overview, through the history when the zoom put an entry there. */
  leave() {
    if (Number.isInteger(history.state?.usherZoom)) history.back();
    else this.showOverview(true);
  }

  showOverview(focus) {
    const was = this.zoomed;
    this.model.view?.stop();
    this.zoomed = null;
    this.use(noView());
    this.svg.replaceChildren();
    this.frame.hidden = true;
    this.bar.hidden = true;
    this.rail.hidden = true;
    this.scroll.classList.remove("zoomed");
    this.root.hidden = false;
    if (focus && was !== null) this.overview.focus(was);
  }

  /** The seats of a hold (a best-available answer may be anywhere): their section shown. */
  reveal(ids) {
    if (!this.big || !ids.length || id0OutOf(ids[0], this.sectionOf)) return;
    const i = this.sectionOf[ids[0]];
    if (this.zoomed !== i) this.zoom(i, { focus: false });
    this.model.nodes.get(ids[0])?.scrollIntoView({ block: "nearest", inline: "center" });
  }

  /** The zoomed section's name, seats left and hint. */
  words() {
    const i = this.zoomed;
    if (i === null) return;
    const G = this.grades.length;
    const byGrade = this.free.subarray(i * G, (i + 1) * G);
    const left = byGrade.reduce((a, b) => a + b, 0);
    this.back.textContent = `← ${t("seatmap.back")}`;
    this.title.textContent = t("seatmap.section", { name: this.sections[i].name });
    const grades = this.grades
      .map((grade, g) => (byGrade[g] ? t("seatmap.grade_count", { grade, n: num(byGrade[g]) }) : null))
      .filter(Boolean)
      .join(" · ");
    this.left.textContent = left
      ? t("seatmap.zoom_left", { count: left, n: num(left), grades })
      : t("seatmap.sold_out");
    this.hint.textContent = t("seatmap.zoom_hint");
  }

  /** The row labels of the zoomed section in a column that stays put as the rows scroll. */
  placeRail() {
    const view = this.model.view;
    if (this.zoomed === null || !view?.blocks?.length) {
      this.rail.hidden = true;
      return;
    }
    const width = this.svg.viewBox.baseVal?.width || 1;
    const scale = this.svg.getBoundingClientRect().width / width;
    const railW = (view.blocks[0].x0 + LABEL_W - 2) * scale;
    this.rail.hidden = false;
    this.rail.style.width = `${railW}px`;
    this.rail.style.marginRight = `-${railW}px`;
    this.frame.style.setProperty("--rail-w", `${railW}px`);
    const labels = [];
    for (const b of view.blocks) {
      for (const r of b.rows) {
        const s = el("span", "", r.label);
        s.style.top = `${(r.y + SIZE / 2) * scale}px`;
        labels.push(s);
      }
    }
    this.rail.replaceChildren(...labels);
  }

  /** Shades the edges past which the zoomed rows go on. */
  shade() {
    const s = this.scroll;
    const zoomed = this.zoomed !== null;
    this.frame.classList.toggle("cut-left", zoomed && s.scrollLeft > 1);
    this.frame.classList.toggle("cut-right", zoomed && s.scrollLeft + s.clientWidth < s.scrollWidth - 1);
  }

  translate() {
    if (!this.big) return;
    this.overview.translate();
    this.words();
  }
}

function id0OutOf(id, sectionOf) {
  return !(id >= 0 && id < sectionOf.length);
}

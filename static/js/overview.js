// The overview of a big venue: the stage and one button per section, drawn where the
// layout's areas put them (a 1000 x 1000 plan, docs/protocol.md) or, for a map without
// areas, in rows under the stage in map order (the map lists the sections nearest the stage
// first). Each block says how many seats it has left, with a colour chip per grade sized by
// its seats left; a sold-out block is grey and says so. No model here: venue.js counts and
// calls `update` for the blocks whose counts changed.

import { formatWon } from "./common.js";
import { locale, t } from "./i18n.js";

const num = (v) => Number(v).toLocaleString(locale());

/** The smallest box holding every area (and the stage): what the plan shows. */
function bounds(areas) {
  const x0 = Math.min(...areas.map((a) => a.x));
  const y0 = Math.min(...areas.map((a) => a.y));
  const x1 = Math.max(...areas.map((a) => a.x + a.w));
  const y1 = Math.max(...areas.map((a) => a.y + a.h));
  return { x0, y0, w: Math.max(1, x1 - x0), h: Math.max(1, y1 - y0) };
}

/** Places `el` over `a` in percent of the plan's box `b`. */
function place(el, a, b) {
  el.style.left = `${((a.x - b.x0) / b.w) * 100}%`;
  el.style.top = `${((a.y - b.y0) / b.h) * 100}%`;
  el.style.width = `${(a.w / b.w) * 100}%`;
  el.style.height = `${(a.h / b.h) * 100}%`;
}

function span(cls, text = "") {
  const s = document.createElement("span");
  s.className = cls;
  s.textContent = text;
  return s;
}

export class Overview {
  /** Draws into `root`; `onPick(index)` when a section's block is pressed. */
  constructor(root, onPick) {
    this.root = root;
    root.className = "venue";
    root.dataset.testid = "venue";
    this.hint = document.createElement("p");
    this.hint.className = "explain";
    this.plan = document.createElement("div");
    this.plan.setAttribute("role", "group");
    this.total = document.createElement("p");
    this.total.className = "venue-total";
    this.total.dataset.testid = "venue-total";
    this.grades = document.createElement("ul");
    this.grades.className = "legend venue-grades";
    root.append(this.hint, this.plan, this.total, this.grades);
    this.plan.addEventListener("click", (e) => {
      const b = e.target.closest("button[data-section]");
      if (b) onPick(Number(b.dataset.section));
    });
    this.blocks = [];
    this.sections = [];
  }

  /**
   * Draws the plan: `sections` [{name, area}], `stage` (an area or null), `grades` (names,
   * most expensive first) with their `colours` and `prices`.
   */
  draw(sections, stage, grades, colours, prices) {
    this.sections = sections;
    this.gradeNames = grades;
    this.colours = colours;
    this.prices = prices;
    this.counts = sections.map(() => ({ left: 0, byGrade: grades.map(() => 0) }));
    const placed = sections.length > 0 && sections.every((s) => s.area);
    this.plan.className = `venue-plan ${placed ? "placed" : "rows"}`;
    this.plan.replaceChildren();
    this.plan.style.aspectRatio = "";
    this.stage = document.createElement("div");
    this.stage.className = "venue-stage";
    this.stage.setAttribute("aria-hidden", "true");
    this.blocks = sections.map((s, i) => {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "venue-block";
      b.dataset.section = String(i);
      b.dataset.name = s.name;
      const name = span("vb-name", s.name);
      const left = span("vb-left");
      left.dataset.testid = "left";
      const byGrade = span("vb-grades");
      const chips = span("vb-chips");
      for (const part of [name, left, byGrade, chips]) part.setAttribute("aria-hidden", "true");
      b.append(name, left, byGrade, chips);
      return b;
    });
    if (placed) {
      const box = bounds([...sections.map((s) => s.area), ...(stage ? [stage] : [])]);
      this.plan.style.aspectRatio = `${box.w} / ${box.h}`;
      if (stage) {
        place(this.stage, stage, box);
        this.plan.append(this.stage);
      }
      sections.forEach((s, i) => place(this.blocks[i], s.area, box));
      this.plan.append(...this.blocks);
    } else {
      const rows = document.createElement("div");
      rows.className = "venue-rows";
      rows.append(...this.blocks);
      this.plan.append(this.stage, rows);
    }
    this.translate();
  }

  /** Section `i` has `left` seats left, `byGrade[g]` of grade g. */
  update(i, left, byGrade) {
    this.counts[i] = { left, byGrade: [...byGrade] };
    this.paint(i);
  }

  paint(i) {
    const b = this.blocks[i];
    if (!b) return;
    const { left, byGrade } = this.counts[i];
    const name = this.sections[i].name;
    const [, leftEl, gradesEl, chipsEl] = b.children;
    b.classList.toggle("sold-out", left === 0);
    b.dataset.left = String(left);
    leftEl.textContent = left ? num(left) : t("seatmap.sold_out");
    const parts = [];
    const chips = [];
    byGrade.forEach((count, g) => {
      if (!count) return;
      const grade = this.gradeNames[g];
      parts.push(t("seatmap.grade_count", { grade, n: num(count) }));
      const chip = document.createElement("i");
      chip.style.flexGrow = String(count);
      chip.style.background = this.colours.get(grade) ?? "#cccccc";
      chips.push(chip);
    });
    gradesEl.textContent = parts.join(" · ");
    chipsEl.replaceChildren(...chips);
    const label = left
      ? t("seatmap.block", { name, count: left, n: num(left) })
      : t("seatmap.block_sold_out", { name });
    b.setAttribute("aria-label", label);
    // The seats per grade, for a pointer resting on a block too small to show them.
    b.title = parts.length ? `${label}: ${parts.join(" · ")}` : label;
  }

  /** The seats left per grade over the whole venue: `byGrade[g]`. */
  totals(byGrade) {
    this.byGrade = [...byGrade];
    const all = byGrade.reduce((a, b) => a + b, 0);
    this.total.textContent = t("seatmap.total", { count: all, n: num(all) });
    this.grades.replaceChildren(...this.gradeNames.map((grade, g) => {
      const li = document.createElement("li");
      li.dataset.grade = grade;
      const chip = span("venue-chip");
      chip.style.background = this.colours.get(grade) ?? "#cccccc";
      chip.setAttribute("aria-hidden", "true");
      li.append(chip, document.createTextNode(t("seatmap.grade_line", {
        grade, price: formatWon(this.prices[grade] ?? 0), n: num(byGrade[g]),
      })));
      return li;
    }));
  }

  /** Redoes every text (after a switch of language). */
  translate() {
    this.hint.textContent = t("seatmap.pick");
    this.plan.setAttribute("aria-label", t("seatmap.plan"));
    this.stage.textContent = t("seatmap.stage");
    this.blocks.forEach((_, i) => this.paint(i));
    if (this.byGrade) this.totals(this.byGrade);
  }

  focus(i) {
    this.blocks[i]?.focus();
  }
}

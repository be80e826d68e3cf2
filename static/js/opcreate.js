// The operator page's "Create an event" form: the event's fields, its performances (rows
// of date-times with labels) and a seat map made of grid sections (name, grade, rows,
// seats per row) with a price per grade. It builds the NewEvent of docs/protocol.md; the
// server checks it and its words are shown next to the form.

import { formatWon } from "./common.js";
import { api, localToRfc3339, msToLocalInput, plural, result } from "./opkit.js";

const $ = (id) => document.getElementById(id);
let seq = 0; // makes every row's input ids unique
const prices = new Map(); // grade -> what was typed, kept while a grade is renamed

/** An input with its label, inside `parent`: `<div class="field"><label><input>`. */
function field(parent, labelText, className, attrs = {}) {
  const wrap = document.createElement("div");
  wrap.className = `field field-${className}`;
  const label = document.createElement("label");
  const input = document.createElement("input");
  input.id = `${className}-${++seq}`;
  input.className = className;
  for (const [k, v] of Object.entries(attrs)) input.setAttribute(k, v);
  label.htmlFor = input.id;
  label.textContent = labelText;
  wrap.append(label, input);
  parent.append(wrap);
  return input;
}

/** A row of the form: a fieldset with a numbered legend and a remove button. */
function formRow(list, className, what) {
  const li = document.createElement("li");
  li.className = className;
  const fs = document.createElement("fieldset");
  const legend = document.createElement("legend");
  const fields = document.createElement("div");
  fields.className = "fields";
  const remove = document.createElement("button");
  remove.type = "button";
  remove.className = "secondary remove";
  remove.textContent = "Remove";
  remove.addEventListener("click", () => {
    li.remove();
    renumber(list, what);
    changed();
    $(list.dataset.add).focus(); // focus stays in the form, not on a removed button
  });
  fs.append(legend, fields, remove);
  li.append(fs);
  list.append(li);
  renumber(list, what);
  return fields;
}

/** Legends and remove buttons say which row they are: "Performance 2". */
function renumber(list, what) {
  const rows = [...list.children];
  rows.forEach((li, i) => {
    li.querySelector("legend").textContent = `${what} ${i + 1}`;
    const remove = li.querySelector(".remove");
    remove.setAttribute("aria-label", `Remove ${what.toLowerCase()} ${i + 1}`);
    // An event has at least one performance; a map may have no section (no seats).
    remove.disabled = list.id === "perf-rows" && rows.length === 1;
  });
}

function addPerformance(at = "", label = "") {
  const fields = formRow($("perf-rows"), "perf-row", "Performance");
  field(fields, "Date and time", "perf-at", { type: "datetime-local" }).value = at;
  field(fields, "Label (optional)", "perf-label", { maxlength: "100", placeholder: "Matinee" }).value = label;
  changed();
}

function addSection() {
  const fields = formRow($("section-rows"), "section-row", "Section");
  field(fields, "Name", "sec-name", { maxlength: "50", placeholder: "Floor", autocomplete: "off" });
  field(fields, "Grade", "sec-grade", { maxlength: "20", placeholder: "R", autocomplete: "off" });
  const num = { type: "number", min: "1", step: "1", inputmode: "numeric" };
  field(fields, "Rows", "sec-rows", num);
  field(fields, "Seats per row", "sec-seats", num);
  changed();
}

/** The form's sections, as typed. */
function sections() {
  return [...$("section-rows").children].map((li) => ({
    name: li.querySelector(".sec-name").value.trim(),
    grade: li.querySelector(".sec-grade").value.trim(),
    rows: li.querySelector(".sec-rows").value.trim(),
    seats: li.querySelector(".sec-seats").value.trim(),
  }));
}

/** A whole number typed into a count (a blank is 0: the server names the field). */
const count = (s) => (s === "" ? 0 : Number(s));

/** Seats in one section as typed, 0 unless both counts are whole and positive. */
function seatsOf(s) {
  const rows = count(s.rows);
  const per = count(s.seats);
  return Number.isInteger(rows) && Number.isInteger(per) && rows > 0 && per > 0 ? rows * per : 0;
}

/** The grades the sections use, in order, once each. */
function grades() {
  return [...new Set(sections().map((s) => s.grade).filter(Boolean))];
}

/** One price input per grade in use; typed prices survive a redraw. */
function drawPrices() {
  const list = $("price-rows");
  const want = grades();
  const have = [...list.querySelectorAll(".price")].map((i) => i.dataset.grade);
  if (JSON.stringify(want) === JSON.stringify(have)) return;
  list.replaceChildren();
  for (const g of want) {
    const input = field(list, `Price of grade ${g} (won)`, "price", {
      type: "number", min: "0", step: "1", inputmode: "numeric",
    });
    input.dataset.grade = g;
    input.value = prices.get(g) ?? "";
  }
  $("prices-empty").hidden = want.length > 0;
}

/** Redraws what depends on the rows: the prices and the summary. */
function changed() {
  drawPrices();
  const perfs = $("perf-rows").children.length;
  const list = sections();
  const seats = list.reduce((n, s) => n + seatsOf(s), 0);
  let text;
  if (list.length === 0) {
    text = `${plural(perfs, "performance")}, no seat map: a waiting room only.`;
  } else {
    text = `${plural(perfs, "performance")} × ${plural(seats, "seat")}`;
    if (perfs > 1) text += ` = ${plural(perfs * seats, "seat")} to sell`;
    const priced = grades().map((g) => [g, prices.get(g)]).filter(([, p]) => p !== undefined && p !== "");
    if (priced.length) text += ` (${priced.map(([g, p]) => `${g} ${formatWon(p)}`).join(", ")})`;
    text += ".";
  }
  $("create-summary").textContent = text;
}

/**
 * The NewEvent the form describes, or a string saying what to fill in first (only what
 * JSON cannot say: a blank date or price; every rule is the server's).
 */
function newEvent() {
  const perfs = [...$("perf-rows").children].map((li) => ({
    at: li.querySelector(".perf-at").value,
    label: li.querySelector(".perf-label").value.trim(),
  }));
  const blank = perfs.findIndex((p) => !localToRfc3339(p.at));
  if (blank >= 0) return `Performance ${blank + 1} needs a date and time.`;
  const body = {
    name: $("new-name").value.trim(),
    kind: $("new-kind").value.trim(),
    venue: $("new-venue").value.trim(),
    starts_at: localToRfc3339(perfs[0].at),
  };
  const opens = localToRfc3339($("new-opens").value);
  if (opens) body.sale_opens_at = opens;
  // A blank number is left out: the server's default (the placeholder says which).
  for (const [id, name] of [["new-rate", "admission_rate"], ["new-max", "max_active"], ["new-hold", "hold_secs"]]) {
    const input = $(id);
    // A number input reads "" for what is not a number: say so rather than use the default.
    if (input.validity.badInput) return `${input.labels[0].textContent}: give a number.`;
    const v = input.value.trim();
    if (v !== "") body[name] = Number(v);
  }
  const list = sections();
  if (list.length > 0) {
    const map = { prices: {}, sections: [] };
    for (const g of grades()) {
      const p = (prices.get(g) ?? "").trim();
      if (p === "") return `Give grade ${g} a price in won (0 for free seats).`;
      map.prices[g] = Number(p);
    }
    map.sections = list.map((s) => ({ name: s.name, grade: s.grade, rows: count(s.rows), seats_per_row: count(s.seats) }));
    body.seat_map = map;
  }
  // Without a seat map a single date is just the start (performances need seats).
  if (list.length > 0 || perfs.length > 1) {
    body.performances = perfs.map((p) => {
      const one = { starts_at: localToRfc3339(p.at) };
      if (p.label) one.label = p.label;
      return one;
    });
  }
  return body;
}

/** Sets up the form; `onCreated(view)` runs after a 201 with the new event's view. */
export function initCreateForm(onCreated) {
  $("new-opens").value = msToLocalInput(Date.now());
  addPerformance();
  addSection();
  $("add-perf").addEventListener("click", () => {
    addPerformance();
    $("perf-rows").lastElementChild.querySelector(".perf-at").focus();
  });
  $("add-section").addEventListener("click", () => {
    addSection();
    $("section-rows").lastElementChild.querySelector(".sec-name").focus();
  });
  $("create-form").addEventListener("input", (e) => {
    if (e.target.classList.contains("price")) prices.set(e.target.dataset.grade, e.target.value);
    changed();
  });
  $("create-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const out = $("create-result");
    const body = newEvent();
    if (typeof body === "string") {
      result(out, body, "error");
      return;
    }
    const submit = $("create-submit");
    submit.disabled = true; // one event per click, however eager the click
    result(out, "Creating…");
    try {
      const view = await api("POST", "/api/admin/events", body);
      const n = (view.performances || []).length;
      const seats = view.seats ? `, ${plural(n, "performance")} × ${plural(view.seats.total / Math.max(n, 1), "seat")}` : "";
      result(out, `Created event #${view.id} “${view.name}”${seats}.`, "ok");
      await onCreated(view);
    } catch (err) {
      result(out, `Not created: ${err.message}`, "error");
    } finally {
      submit.disabled = false;
    }
  });
}

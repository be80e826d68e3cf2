// The operator page's "Create an event" form: the event's fields, its performances (rows
// of date-times with labels) and a seat map made of grid sections (name, grade, rows,
// seats per row) with a price per grade. It builds the NewEvent of docs/protocol.md; the
// server checks it and its words are shown next to the form.

import { formatWon } from "./common.js";
import { t } from "./i18n.js";
import { api, counted, localToRfc3339, msToLocalInput, result, why } from "./opkit.js";

const $ = (id) => document.getElementById(id);
let seq = 0; // makes every row's input ids unique
const prices = new Map(); // grade -> what was typed, kept while a grade is renamed

/**
 * An input with its label, inside `parent`: `<div class="field"><label><input>`. The label
 * is the words of key `labelKey` (with `vars`); a `placeholder` attribute is a key too.
 */
function field(parent, labelKey, className, attrs = {}, vars = undefined) {
  const wrap = document.createElement("div");
  wrap.className = `field field-${className}`;
  const label = document.createElement("label");
  const input = document.createElement("input");
  input.id = `${className}-${++seq}`;
  input.className = className;
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "placeholder") {
      input.dataset.i18nAttr = `placeholder:${v}`;
      input.setAttribute(k, t(v));
    } else {
      input.setAttribute(k, v);
    }
  }
  label.htmlFor = input.id;
  // Without vars the label is static words, redone by `translate` on a switch.
  if (vars === undefined) label.dataset.i18n = labelKey;
  label.textContent = t(labelKey, vars);
  wrap.append(label, input);
  parent.append(wrap);
  return input;
}

/** A row of the form: a fieldset with a numbered legend and a remove button; `what` is
 * the row's kind ("perf" or "section"). */
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
  remove.dataset.i18n = "operator.remove";
  remove.textContent = t("operator.remove");
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
    li.querySelector("legend").textContent = t(`operator.${what}_n`, { n: i + 1 });
    const remove = li.querySelector(".remove");
    remove.setAttribute("aria-label", t(`operator.remove_${what}`, { n: i + 1 }));
    // An event has at least one performance; a map may have no section (no seats).
    remove.disabled = list.id === "perf-rows" && rows.length === 1;
  });
}

function addPerformance(at = "", label = "") {
  const fields = formRow($("perf-rows"), "perf-row", "perf");
  field(fields, "operator.perf_at", "perf-at", { type: "datetime-local" }).value = at;
  field(fields, "operator.perf_label", "perf-label", { maxlength: "100", placeholder: "operator.perf_label_ph" }).value = label;
  changed();
}

function addSection() {
  const fields = formRow($("section-rows"), "section-row", "section");
  field(fields, "operator.sec_name", "sec-name", { maxlength: "50", placeholder: "operator.sec_name_ph", autocomplete: "off" });
  field(fields, "operator.sec_grade", "sec-grade", { maxlength: "20", autocomplete: "off" }).placeholder = "R";
  const num = { type: "number", min: "1", step: "1", inputmode: "numeric" };
  field(fields, "operator.sec_rows", "sec-rows", num);
  field(fields, "operator.sec_seats", "sec-seats", num);
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
function drawPrices(again = false) {
  const list = $("price-rows");
  const want = grades();
  const have = [...list.querySelectorAll(".price")].map((i) => i.dataset.grade);
  if (!again && JSON.stringify(want) === JSON.stringify(have)) return;
  const focused = document.activeElement?.classList.contains("price") ? document.activeElement.dataset.grade : null;
  list.replaceChildren();
  for (const g of want) {
    const input = field(list, "operator.price_of", "price", {
      type: "number", min: "0", step: "1", inputmode: "numeric",
    }, { grade: g });
    input.dataset.grade = g;
    input.value = prices.get(g) ?? "";
    if (g === focused) input.focus();
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
  const perfWords = counted("operator.n_perfs", perfs);
  if (list.length === 0) {
    text = t("operator.sum_no_map", { perfs: perfWords });
  } else {
    const priced = grades().map((g) => [g, prices.get(g)]).filter(([, p]) => p !== undefined && p !== "");
    const listed = priced.map(([grade, p]) => t("operator.sum_price", { grade, price: formatWon(p) })).join(t("operator.list_sep"));
    const vars = {
      perfs: perfWords,
      seats: counted("operator.n_seats", seats),
      total: counted("operator.n_seats", perfs * seats),
      prices: priced.length ? t("operator.sum_prices", { list: listed }) : "",
    };
    text = t(perfs > 1 ? "operator.sum_many" : "operator.sum_one", vars);
  }
  $("create-summary").textContent = text;
}

/**
 * The NewEvent the form describes, or the words (a function) saying what to fill in first (only what
 * JSON cannot say: a blank date or price; every rule is the server's).
 */
function newEvent() {
  const perfs = [...$("perf-rows").children].map((li) => ({
    at: li.querySelector(".perf-at").value,
    label: li.querySelector(".perf-label").value.trim(),
  }));
  const blank = perfs.findIndex((p) => !localToRfc3339(p.at));
  if (blank >= 0) return () => t("operator.perf_needs_time", { n: blank + 1 });
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
    if (input.validity.badInput) return () => t("operator.give_number", { label: t(input.labels[0].dataset.i18n) });
    const v = input.value.trim();
    if (v !== "") body[name] = Number(v);
  }
  const list = sections();
  if (list.length > 0) {
    const map = { prices: {}, sections: [] };
    for (const g of grades()) {
      const p = (prices.get(g) ?? "").trim();
      if (p === "") return () => t("operator.grade_price", { grade: g });
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

/** A switch of language: the rows' legends, the price labels and the summary. */
export function relabelCreateForm() {
  renumber($("perf-rows"), "perf");
  renumber($("section-rows"), "section");
  drawPrices(true);
  changed();
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
    if (typeof body === "function") {
      result(out, body, "error");
      return;
    }
    const submit = $("create-submit");
    submit.disabled = true; // one event per click, however eager the click
    result(out, () => t("operator.creating"));
    try {
      const view = await api("POST", "/api/admin/events", body);
      const n = (view.performances || []).length;
      const seats = () => (view.seats
        ? t("operator.created_seats", { perfs: counted("operator.n_perfs", n), seats: counted("operator.n_seats", view.seats.total / Math.max(n, 1)) })
        : "");
      result(out, () => t("operator.created", { id: view.id, name: view.name, seats: seats() }), "ok");
      await onCreated(view);
    } catch (err) {
      result(out, () => t("operator.create_failed", { why: why(err) }), "error");
    } finally {
      submit.disabled = false;
    }
  });
}

// The operator page's orders table: a page of orders at a time, filtered by status and
// performance, each row with the one action its order allows (refund or cancel), and
// the CSV of paid orders.

import { formatWon } from "./common.js";
import { locale, t } from "./i18n.js";
import { adminKey, api, confirmed, counted, named, performanceName, result, why } from "./opkit.js";

/** Orders per page of the table. */
const ORDERS_PAGE = 50;

const $ = (id) => document.getElementById(id);
let eventId = null;
let performances = []; // the event's, from its admin view
let nextAfter = null;
let ordersFor = null; // the event and filters the table shows

/** What the table is filtered by, as one string (to notice the operator moving on). */
function filters() {
  return `${eventId}|${$("orders-status").value}|${$("orders-performance").value}`;
}

/** Shows the orders of event `id` (from the first page). */
export function showOrdersOf(id) {
  eventId = id;
  performances = [];
  fillPerformanceFilter();
  loadOrders();
}

/**
 * The event's performances (from each poll of its view): the table names each order's
 * date, and the filter offers every date when there are several.
 */
export function setPerformances(list) {
  const next = list || [];
  if (JSON.stringify(next.map(perfKey)) === JSON.stringify(performances.map(perfKey))) return;
  performances = next;
  fillPerformanceFilter();
  for (const tr of $("orders-body").rows) nameDate(tr);
}

const perfKey = (p) => [p.index, p.starts_at_ms, p.label];

function fillPerformanceFilter() {
  const sel = $("orders-performance");
  const was = sel.value;
  sel.replaceChildren(new Option(t("operator.all_dates"), ""), ...performances.map((p) => new Option(performanceName(p), String(p.index))));
  sel.value = performances.some((p) => String(p.index) === was) ? was : "";
  $("orders-performance-field").hidden = performances.length < 2;
}

/** Loads the first page of orders again (`more`: the page after the last one shown). */
async function loadOrders(more = false) {
  if (eventId === null) return;
  const wanted = filters();
  const q = new URLSearchParams({ event: eventId, limit: String(ORDERS_PAGE) });
  const status = $("orders-status").value;
  const perf = $("orders-performance").value;
  if (status) q.set("status", status);
  if (perf) q.set("performance", perf);
  if (more && nextAfter !== null) q.set("after", String(nextAfter));
  if (!more) {
    $("orders-body").replaceChildren();
    $("orders-more").hidden = true;
    result($("orders-result"), () => t("operator.orders_loading"));
  }
  let page;
  try {
    page = await api("GET", `/api/admin/orders?${q}`);
  } catch (e) {
    result($("orders-result"), () => t("operator.orders_failed", { why: why(e) }), "error");
    return;
  }
  if (filters() !== wanted) return; // the operator moved on
  ordersFor = wanted;
  $("orders-body").append(...page.orders.map(orderRow));
  nextAfter = page.next_after;
  $("orders-more").hidden = nextAfter === null;
  const shown = $("orders-body").rows.length;
  const further = nextAfter !== null;
  result($("orders-result"), () => (shown === 0
    ? t("operator.orders_none")
    : counted(further ? "operator.orders_shown_more" : "operator.orders_shown", shown)));
}

$("orders-status").addEventListener("change", () => loadOrders());
$("orders-performance").addEventListener("change", () => loadOrders());
$("orders-reload").addEventListener("click", () => loadOrders());
$("orders-more").addEventListener("click", () => {
  if (ordersFor === filters()) loadOrders(true);
});

function cell(tr, text, className) {
  const td = tr.insertCell();
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

/** One order's row: its figures, then its action and that action's result. */
function orderRow(o) {
  const tr = document.createElement("tr");
  tr.dataset.order = String(o.id);
  tr.order = o;
  tr.dataset.performance = String(o.performance ?? 0);
  cell(tr, `#${o.id}`);
  cell(tr, "", "status");
  const buyer = cell(tr, `${o.buyer.slice(0, 8)}…`);
  buyer.title = o.buyer;
  cell(tr, "", "perf");
  cell(tr, o.seats.map((s) => s.id).join(", "), "seats");
  cell(tr, formatWon(o.total), "num");
  cell(tr, o.booking === null ? "–" : `#${o.booking}`);
  const act = cell(tr, "", "action");
  const note = document.createElement("span");
  note.className = "note";
  note.setAttribute("aria-live", "polite");
  act.append(note);
  nameDate(tr);
  setOrder(tr, o);
  return tr;
}

/** The row's performance in words, once the event's performances are known. */
function nameDate(tr) {
  const index = Number(tr.dataset.performance);
  const p = performances.find((x) => x.index === index);
  tr.querySelector(".perf").textContent = p ? performanceName(p) : t("operator.date_n", { n: index + 1 });
}

/** Shows an order's status and the one action it allows (refund if paid, cancel if pending). */
function setOrder(tr, o) {
  tr.order = o;
  tr.dataset.status = o.status;
  tr.querySelector(".status").textContent = statusWords(o.status);
  const act = tr.querySelector(".action");
  act.querySelector("button")?.remove();
  const note = act.querySelector(".note");
  let button = null;
  if (o.status === "paid" && o.booking !== null) {
    button = actionButton(o.id, "operator.refund", "operator.refund_really", () => refund(tr, o, note));
  } else if (o.status === "pending_payment") {
    button = actionButton(o.id, "operator.cancel_order", "operator.cancel_really", () => cancel(tr, o, note));
  }
  if (button) act.prepend(button);
}

/** An order's status in words ("paid"), or as the API says it when we have no words. */
function statusWords(status) {
  const key = `operator.order_status.${status}`;
  const words = t(key);
  return words === key ? status : words;
}

/** A row's action button, labelled by key `label` (static words: `translate` redoes them). */
function actionButton(order, label, really, action) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = "secondary";
  b.dataset.i18n = label;
  b.textContent = t(label);
  b.dataset.order = String(order);
  named(b);
  confirmed(b, really, action);
  return b;
}

/** A switch of language: the dates filter, and each row's status, date and action name. */
export function relabelOrders() {
  fillPerformanceFilter();
  for (const tr of $("orders-body").rows) {
    tr.querySelector(".status").textContent = statusWords(tr.dataset.status);
    tr.querySelector("td:nth-child(6)").textContent = formatWon(tr.order.total);
    nameDate(tr);
    const b = tr.querySelector(".action button");
    if (b) named(b);
  }
}

async function refund(tr, o, note) {
  try {
    const r = await api("POST", `/api/admin/bookings/${encodeURIComponent(o.booking)}/refund`);
    setOrder(tr, { ...o, status: "refunded" });
    result(note, () => (r.already_refunded
      ? t("operator.refund_already")
      : t("operator.refunded", { total: formatWon(r.total), seats: r.seats.join(", ") })), "ok");
  } catch (e) {
    result(note, () => t("operator.refund_failed", { why: why(e) }), "error");
  }
}

async function cancel(tr, o, note) {
  try {
    setOrder(tr, await api("POST", `/api/admin/orders/${encodeURIComponent(o.id)}/cancel`));
    result(note, () => t("operator.cancelled"), "ok");
  } catch (e) {
    result(note, () => t("operator.cancel_failed", { why: why(e) }), "error");
  }
}

$("orders-csv").addEventListener("click", async () => {
  const out = $("orders-result");
  const id = eventId;
  let blob;
  try {
    const res = await fetch(`/api/admin/events/${encodeURIComponent(id)}/orders.csv`, {
      headers: { Authorization: `Bearer ${adminKey()}` },
    });
    if (res.status === 401) throw Object.assign(new Error(t("operator.key_wrong")), { i18n: "operator.key_wrong" });
    if (!res.ok) {
      const body = await res.json().catch(() => null);
      throw new Error((body && body.message) || `${res.status} ${res.statusText}`);
    }
    blob = await res.blob();
  } catch (e) {
    result(out, () => t("operator.csv_failed", { why: why(e) }), "error");
    return;
  }
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = `event-${id}-orders.csv`;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 60000);
  const file = a.download;
  result(out, () => t("operator.csv_done", { file, bytes: blob.size.toLocaleString(locale()) }), "ok");
});

// What one buyer knows of the seat map: every seat, its state as everyone sees it, the
// buyer's own holds and picks. No DOM here.

import { t } from "./i18n.js";
import { seatShort } from "./seatmap.js";
import { decodeStates } from "./seatwire.js";

/**
 * Seat id (0 … seat_count-1) → value, kept in an array: a Map of 100,000 seats takes tens
 * of milliseconds to fill, all of it before the map's first paint.
 */
class ById {
  constructor(values = []) {
    this.values = values;
  }

  get(id) {
    return this.values[id];
  }

  has(id) {
    return this.values[id] !== undefined;
  }

  set(id, value) {
    this.values[id] = value;
    return this;
  }
}

/** Seat states that tell `onChange(id, before, after)` of each change (seats' counts per
 * section follow the deltas this way, without a rescan of the whole map per message). */
class States extends ById {
  constructor(values, onChange) {
    super(values);
    this.onChange = onChange;
  }

  set(id, value) {
    const before = this.values[id];
    super.set(id, value);
    if (before !== value) this.onChange(id, before, value);
    return this;
  }
}

export class SeatModel {
  constructor() {
    this.seats = new ById(); // id → {id, section, row, number, grade}
    this.state = new ById(); // id → "free" | "held" | "sold", as everyone sees it
    this.mine = new Map(); // id → hold expiry (server ms)
    this.selected = new Set(); // picked: free seats to hold, own seats to release
    this.prices = {};
    this.maxSeats = 4;
    this.bought = 0; // seats of this date bought already (the snapshot's `bought`)
    this.sessionEnds = 0;
    this.offset = 0; // server clock − local clock
    this.view = null; // the drawn map (seatview.js)
    this.nodes = new Map(); // id → the seat's SVG element, for the seats built so far
    this.rows = []; // seat ids row by row, for arrow keys
    this.drawnFor = null;
    this.seatsFor = null; // the layout ETag `seats` came from
    this.onState = null; // (id, before, after) on each change of a seat's state
  }

  /**
   * Takes a `snapshot` with the layout it names (`seats` expanded from it, `prices`);
   * keeps the picks that are still possible (after a reconnect).
   */
  load(m, seats, prices) {
    this.offset = m.server_time_ms - Date.now();
    this.prices = prices;
    this.maxSeats = m.max_seats;
    this.bought = Number(m.bought) || 0;
    this.sessionEnds = m.session_expires_at_ms;
    if (this.seatsFor !== m.layout_etag) {
      const byId = new Array(seats.length);
      for (const s of seats) byId[s.id] = s;
      this.seats = new ById(byId);
      this.seatsFor = m.layout_etag;
    }
    this.state = new States(decodeStates(m.states, m.seat_count), (id, a, b) => this.onState?.(id, a, b));
    this.mine = new Map(m.mine.map((id) => [id, m.hold_expires_at_ms ?? 0]));
    for (const id of [...this.selected]) {
      if (!this.takeable(id)) this.selected.delete(id);
    }
  }

  /** free, held (by someone else), mine or sold: the seat's data-state. */
  viewState(id) {
    const s = this.state.get(id) ?? "free";
    if (s === "sold") return "sold";
    if (this.mine.has(id)) return "mine";
    return s;
  }

  /** Whether this buyer can act on the seat (hold it, or release it). */
  takeable(id) {
    return ["free", "mine"].includes(this.viewState(id));
  }

  price(id) {
    return this.prices[this.seats.get(id)?.grade] ?? 0;
  }

  total(ids) {
    return ids.reduce((t, id) => t + this.price(id), 0);
  }

  /** Picked free seats, to hold. */
  toHold() {
    return [...this.selected].filter((id) => this.viewState(id) === "free").sort((a, b) => a - b);
  }

  /** Picked own seats, to release. */
  toRelease() {
    return [...this.selected].filter((id) => this.viewState(id) === "mine").sort((a, b) => a - b);
  }

  mineIds() {
    return [...this.mine.keys()].sort((a, b) => a - b);
  }

  /** "A · row 1 · seat 3, A · row 1 · seat 4" (in the page's language). */
  names(ids) {
    return ids.map((id) => (this.seats.has(id) ? seatShort(this.seats.get(id)) : t("seats.seat.id", { id })))
      .join(t("seats.list_sep"));
  }

  serverNow() {
    return Date.now() + this.offset;
  }
}

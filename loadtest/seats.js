// Seat rush and broadcast (k6). Every VU is a buyer of an event that admits at once: it
// joins the queue, takes the token from `admitted`, opens the seat channel and sends
// `auth`. Then:
//   - `rush` buyers hold 1 to 4 random seats, release them, and again, paced under usher's
//     10 messages/s per socket; they record the hold round trip and the time until their
//     own change comes back as a `seats` delta (the broadcast path, seen by one viewer);
//   - `viewers` only watch and count `seats` deltas.
// The event has PERFORMANCES performances (default 1); VU n opens performance n % that
// (`auth` names it). k6 VUs share no memory, so double holds are not checked here:
// usher-load seat-rush checks them. See loadtest/README.md.
//
//   k6 run -e USHER_URL=http://127.0.0.1:8080 -e USHER_ADMIN_KEY=secret \
//          -e BUYERS=200 -e VIEWERS=2000 loadtest/seats.js
//
// Every message is checked against docs/protocol.md; any failed check fails the run
// (threshold `checks: rate==1`). LATENCY_THRESHOLDS=0 drops the latency threshold (CI).
import http from 'k6/http';
import ws from 'k6/ws';
import { check } from 'k6';
import { Counter, Trend } from 'k6/metrics';

const BASE = __ENV.USHER_URL || 'http://127.0.0.1:8080';
const WS_BASE = BASE.replace(/^http/, 'ws');
const KEY = __ENV.USHER_ADMIN_KEY || '';
const SECONDS = Number(__ENV.SECONDS || 30);
const ROWS = Number(__ENV.ROWS || 20);
const PER_ROW = Number(__ENV.SEATS_PER_ROW || 25);
const GAP_MS = Number(__ENV.GAP_MS || 125); // between two requests of one buyer
const PERFORMANCES = Number(__ENV.PERFORMANCES || 1);
const LATENCY = __ENV.LATENCY_THRESHOLDS !== '0';
const STATES = ['free', 'held', 'sold'];

const holdMs = new Trend('usher_hold_rtt_ms', true);
const ownDeltaMs = new Trend('usher_own_delta_ms', true);
const held = new Counter('usher_held');
const taken = new Counter('usher_seat_taken');
const deltas = new Counter('usher_seat_deltas');
const errors = new Counter('usher_errors');

export const options = {
  scenarios: {
    rush: { executor: 'per-vu-iterations', exec: 'rush', vus: Number(__ENV.BUYERS || 100), iterations: 1, maxDuration: `${SECONDS + 60}s` },
    viewers: { executor: 'per-vu-iterations', exec: 'view', vus: Number(__ENV.VIEWERS || 500), iterations: 1, maxDuration: `${SECONDS + 60}s` },
  },
  thresholds: {
    checks: ['rate==1'],
    usher_errors: ['count==0'],
    ...(LATENCY ? { usher_hold_rtt_ms: ['p(99)<500'] } : {}),
  },
};

const admin = { headers: { Authorization: `Bearer ${KEY}`, 'Content-Type': 'application/json' } };

// A handler that throws would only log: count it as a failed check instead.
function safely(fn) {
  return (...args) => {
    try {
      fn(...args);
    } catch (e) {
      console.error(`handler failed: ${e}`);
      check(null, { 'handlers run without an exception': () => false });
    }
  };
}

export function setup() {
  if (__ENV.EVENT) return { event: Number(__ENV.EVENT) };
  const body = {
    name: 'k6 seats',
    starts_at_ms: Date.now() + 86400000,
    admission_rate: 100000,
    max_active: 10000000,
    session_secs: 3600,
    hold_secs: 3600,
    seat_map: { prices: { R: 100 }, sections: [{ name: 'A', grade: 'R', rows: ROWS, seats_per_row: PER_ROW }] },
    performances: Array.from({ length: PERFORMANCES }, (_, i) => ({
      starts_at_ms: Date.now() + 86400000 * (i + 1),
      label: `k6 night ${i + 1}`,
    })),
  };
  const res = http.post(`${BASE}/api/admin/events`, JSON.stringify(body), admin);
  check(res, { 'event created (201)': (r) => r.status === 201 });
  const event = res.json('id');
  const layout = http.get(`${BASE}/api/events/${event}/seats/layout`);
  check(layout, { 'layout: every seat of the map': (r) => r.status === 200 && r.json('seat_count') === ROWS * PER_ROW });
  return { event };
}

// Joins the queue and returns the entry token (the event admits at once).
function admittedToken(event) {
  let token = null;
  ws.connect(`${WS_BASE}/ws/events/${event}/queue`, {}, (socket) => {
    socket.on('open', () => socket.send(JSON.stringify({ type: 'join' })));
    socket.on('message', safely((raw) => {
      const msg = JSON.parse(raw);
      if (msg.type === 'admitted') token = msg.token;
      if (msg.type === 'error') errors.add(1, { code: msg.code });
    }));
    socket.setTimeout(() => socket.close(), 30000);
  });
  if (!token) errors.add(1, { stage: 'admission' });
  check(token, { 'admitted with a token': (t) => !!t });
  return token;
}

// The states of a snapshot: 2 bits a seat, base64 (docs/protocol.md, "Decoding states").
function decodedSeats(states) {
  const pad = (states.match(/=*$/) || [''])[0].length;
  return ((states.length * 3) / 4 - pad) * 4;
}

// Opens the seat channel on this VU's performance; `onReady(socket, seatCount)` runs
// after the snapshot.
function seatChannel(event, token, onReady, onMessage) {
  const performance = __VU % PERFORMANCES;
  let snapshots = 0;
  const res = ws.connect(`${WS_BASE}/ws/events/${event}/seats`, {}, (socket) => {
    socket.on('open', () => socket.send(JSON.stringify({ type: 'auth', token, performance })));
    socket.on('message', safely((raw) => {
      const msg = JSON.parse(raw);
      if (msg.type === 'snapshot') {
        check(msg, {
          'snapshot: of the event and the performance asked for': (m) =>
            m.event === event && m.performance === performance,
          'snapshot: seat_count and 2-bit states of every seat': (m) =>
            m.seat_count === ROWS * PER_ROW && decodedSeats(m.states) >= m.seat_count &&
            decodedSeats(m.states) < m.seat_count + 4,
          'snapshot: the layout to fetch': (m) =>
            m.layout_url.startsWith(`/api/events/${event}/seats/layout`) && !!m.layout_etag,
          'snapshot: holds nothing yet, at most 4 seats': (m) =>
            Array.isArray(m.mine) && m.mine.length === 0 && m.max_seats === 4,
        });
        snapshots += 1;
        onReady(socket, msg.seat_count);
      } else if (msg.type === 'seats') {
        deltas.add(1);
        check(msg, {
          'seats: changes of seats of the map': (m) => m.changes.length > 0 && m.changes.every(
            (c) => Number.isInteger(c.seat) && c.seat >= 0 && c.seat < ROWS * PER_ROW && STATES.includes(c.state)),
        });
      } else if (msg.type === 'error' && msg.code !== 'seat_taken') {
        errors.add(1, { code: msg.code });
        check(msg, { 'no error but seat_taken': () => false });
      }
      onMessage(msg);
    }));
    socket.setTimeout(() => socket.close(), SECONDS * 1000 + 5000);
  });
  check(res, { 'seat channel upgraded (101)': (r) => r && r.status === 101 });
  check(snapshots, { 'a snapshot after auth': (n) => n >= 1 });
}

export function rush(data) {
  const token = admittedToken(data.event);
  if (!token) return;
  let nseats = 0;
  let sentAt = 0;
  let pending = null; // seats of the hold in flight, until its delta comes back
  let asked = []; // seats of the last hold sent
  let mine = null;
  const next = (socket) => {
    const k = 1 + Math.floor(Math.random() * 4);
    const want = new Set();
    while (want.size < k) want.add(Math.floor(Math.random() * nseats));
    pending = [...want];
    asked = pending;
    sentAt = Date.now();
    socket.send(JSON.stringify({ type: 'hold', seats: pending }));
  };
  let sock = null;
  seatChannel(data.event, token, (socket, n) => {
    sock = socket;
    nseats = n;
    socket.setTimeout(() => next(socket), GAP_MS);
  }, (msg) => {
    if (msg.type === 'held') {
      holdMs.add(Date.now() - sentAt);
      held.add(1);
      check(msg, {
        'held: the seats asked for, until a later time': (m) =>
          m.seats.length === asked.length && m.seats.every((x) => asked.includes(x)) &&
          m.expires_at_ms > Date.now(),
      });
      mine = msg.seats;
      sock.setTimeout(() => sock.send(JSON.stringify({ type: 'release', seats: mine })), GAP_MS);
    } else if (msg.type === 'seats' && pending && msg.changes.some((c) => c.seat === pending[0] && c.state === 'held')) {
      ownDeltaMs.add(Date.now() - sentAt);
      pending = null;
    } else if (msg.type === 'released') {
      check(msg, { 'released: the seats held': (m) => m.seats.length === mine.length });
      sock.setTimeout(() => next(sock), GAP_MS);
    } else if (msg.type === 'error') {
      if (msg.code === 'seat_taken') {
        holdMs.add(Date.now() - sentAt);
        taken.add(1);
      }
      pending = null;
      sock.setTimeout(() => next(sock), GAP_MS * 2);
    }
  });
}

export function view(data) {
  const token = admittedToken(data.event);
  if (token) seatChannel(data.event, token, () => {}, () => {});
}

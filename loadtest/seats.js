// Seat rush and broadcast (k6). Every VU is a buyer of an event that admits at once: it
// joins the queue, takes the token from `admitted`, opens the seat channel and sends
// `auth`. Then:
//   - `rush` buyers hold 1 to 4 random seats, release them, and again, paced under usher's
//     10 messages/s per socket; they record the hold round trip and the time until their
//     own change comes back as a `seats` delta (the broadcast path, seen by one viewer);
//   - `viewers` only watch and count `seats` deltas.
// k6 VUs share no memory, so double holds are not checked here: usher-load seat-rush
// checks them. See loadtest/README.md.
//
//   k6 run -e USHER_URL=http://127.0.0.1:8080 -e USHER_ADMIN_KEY=secret \
//          -e BUYERS=200 -e VIEWERS=2000 loadtest/seats.js
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
  thresholds: { usher_errors: ['count==0'], usher_hold_rtt_ms: ['p(99)<500'] },
};

const admin = { headers: { Authorization: `Bearer ${KEY}`, 'Content-Type': 'application/json' } };

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
  };
  const res = http.post(`${BASE}/api/admin/events`, JSON.stringify(body), admin);
  check(res, { 'event created': (r) => r.status === 201 });
  return { event: res.json('id') };
}

// Joins the queue and returns the entry token (the event admits at once).
function admittedToken(event) {
  let token = null;
  ws.connect(`${WS_BASE}/ws/events/${event}/queue`, {}, (socket) => {
    socket.on('open', () => socket.send(JSON.stringify({ type: 'join' })));
    socket.on('message', (raw) => {
      const msg = JSON.parse(raw);
      if (msg.type === 'admitted') token = msg.token;
      if (msg.type === 'error') errors.add(1, { code: msg.code });
    });
    socket.setTimeout(() => socket.close(), 30000);
  });
  if (!token) errors.add(1, { stage: 'admission' });
  return token;
}

// Opens the seat channel; `onReady(socket, seatCount)` runs after the snapshot.
function seatChannel(event, token, onReady, onMessage) {
  ws.connect(`${WS_BASE}/ws/events/${event}/seats`, {}, (socket) => {
    socket.on('open', () => socket.send(JSON.stringify({ type: 'auth', token })));
    socket.on('message', (raw) => {
      const msg = JSON.parse(raw);
      if (msg.type === 'snapshot') onReady(socket, msg.seats.length);
      else if (msg.type === 'seats') deltas.add(1);
      else if (msg.type === 'error' && msg.code !== 'seat_taken') errors.add(1, { code: msg.code });
      onMessage(msg);
    });
    socket.setTimeout(() => socket.close(), SECONDS * 1000 + 5000);
  });
}

export function rush(data) {
  const token = admittedToken(data.event);
  if (!token) return;
  let nseats = 0;
  let sentAt = 0;
  let pending = null; // seats of the hold in flight, until its delta comes back
  let mine = null;
  const next = (socket) => {
    const k = 1 + Math.floor(Math.random() * 4);
    const want = new Set();
    while (want.size < k) want.add(Math.floor(Math.random() * nseats));
    pending = [...want];
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
      mine = msg.seats;
      sock.setTimeout(() => sock.send(JSON.stringify({ type: 'release', seats: mine })), GAP_MS);
    } else if (msg.type === 'seats' && pending && msg.changes.some((c) => c.seat === pending[0] && c.state === 'held')) {
      ownDeltaMs.add(Date.now() - sentAt);
      pending = null;
    } else if (msg.type === 'released') {
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

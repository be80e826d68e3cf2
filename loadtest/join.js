// Join storm and live position (k6). Each iteration is one buyer: open the queue socket,
// send `join`, time the `joined`, then stay HOLD_S seconds counting `status` messages and
// checking that the position never goes up. See loadtest/README.md.
//
//   k6 run -e USHER_URL=http://127.0.0.1:8080 -e USHER_ADMIN_KEY=secret loadtest/join.js
//
// Start usher with USHER_JOIN_RATE_PER_IP / USHER_JOIN_BURST_PER_IP raised (e.g. 1000000):
// every k6 connection comes from one address, and the default allows 20 joins/s.
// Every message is checked against docs/protocol.md; any failed check fails the run
// (threshold `checks: rate==1`). LATENCY_THRESHOLDS=0 drops the latency threshold (CI).
import http from 'k6/http';
import ws from 'k6/ws';
import { check } from 'k6';
import { Counter, Trend } from 'k6/metrics';

const BASE = __ENV.USHER_URL || 'http://127.0.0.1:8080';
const WS_BASE = BASE.replace(/^http/, 'ws');
const KEY = __ENV.USHER_ADMIN_KEY || '';
const RATE = Number(__ENV.JOIN_RATE || 200); // buyers arriving per second
const HOLD_S = Number(__ENV.HOLD_S || 30); // how long each buyer stays in line
const LATENCY = __ENV.LATENCY_THRESHOLDS !== '0';
const STATES = ['pre_queue', 'open', 'paused', 'sold_out', 'unavailable', 'ended'];

const joinMs = new Trend('usher_join_ms', true);
const statusMsgs = new Counter('usher_status_messages');
const positionUp = new Counter('usher_position_went_up');
const errors = new Counter('usher_errors');

export const options = {
  scenarios: {
    storm: {
      executor: 'constant-arrival-rate',
      rate: RATE,
      timeUnit: '1s',
      duration: __ENV.DURATION || '30s',
      preAllocatedVUs: Math.ceil(RATE * (HOLD_S + 2)),
    },
  },
  thresholds: {
    checks: ['rate==1'],
    usher_errors: ['count==0'],
    usher_position_went_up: ['count==0'],
    ...(LATENCY ? { usher_join_ms: ['p(99)<1000'] } : {}),
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

// A paused event of its own (or EVENT=id): buyers stay in line.
export function setup() {
  if (__ENV.EVENT) return { event: Number(__ENV.EVENT) };
  const body = { name: 'k6 join storm', starts_at_ms: Date.now() + 86400000, max_active: 10000000 };
  const res = http.post(`${BASE}/api/admin/events`, JSON.stringify(body), admin);
  check(res, { 'event created (201)': (r) => r.status === 201 });
  const event = res.json('id');
  const paused = http.post(`${BASE}/api/admin/events/${event}/pause`, null, admin);
  check(paused, { 'event paused (2xx)': (r) => r.status >= 200 && r.status < 300 });
  return { event };
}

const isCount = (v) => Number.isInteger(v) && v >= 0;

export default function (data) {
  const started = Date.now();
  let last = Infinity;
  let joined = false;
  let statuses = 0;
  const res = ws.connect(`${WS_BASE}/ws/events/${data.event}/queue`, {}, (socket) => {
    socket.on('open', () => socket.send(JSON.stringify({ type: 'join' })));
    socket.on('message', safely((raw) => {
      const msg = JSON.parse(raw);
      if (msg.type === 'joined') {
        joinMs.add(Date.now() - started);
        joined = true;
        check(msg, {
          'joined: event, buyer, credential': (m) =>
            m.event && m.event.id === data.event && /^[0-9a-f]{32}$/.test(m.buyer) &&
            typeof m.credential === 'string' && m.credential.length >= 64,
          'joined: a new place (resumed false)': (m) => m.resumed === false,
        });
      } else if (msg.type === 'status') {
        statusMsgs.add(1);
        statuses += 1;
        check(msg, {
          'status: after joined': () => joined,
          'status: known state': (m) => STATES.includes(m.state),
          'status: position is ahead + 1': (m) =>
            m.position === null || (isCount(m.ahead) && m.position === m.ahead + 1),
          'status: server time': (m) => Number.isInteger(m.server_time_ms),
        });
        const up = msg.position !== null && msg.position > last;
        if (up) positionUp.add(1);
        check(msg, { 'status: position never goes up': () => !up });
        if (msg.position !== null) last = msg.position;
      } else if (msg.type === 'error') {
        errors.add(1, { code: msg.code });
        check(msg, { 'no error message': () => false });
      }
    }));
    socket.on('close', (code) => {
      const bad = code !== undefined && code >= 4000;
      if (bad) errors.add(1, { close: String(code) });
      check(code, { 'no 4xxx close': () => !bad });
    });
    socket.setTimeout(() => socket.close(), HOLD_S * 1000);
  });
  check(res, { 'upgraded (101)': (r) => r && r.status === 101 });
  check(statuses, { 'joined, then at least one status': (n) => joined && n > 0 });
}

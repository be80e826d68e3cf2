// Join storm and live position (k6). Each iteration is one buyer: open the queue socket,
// send `join`, time the `joined`, then stay HOLD_S seconds counting `status` messages and
// checking that the position never goes up. See loadtest/README.md.
//
//   k6 run -e USHER_URL=http://127.0.0.1:8080 -e USHER_ADMIN_KEY=secret loadtest/join.js
//
// Start usher with USHER_JOIN_RATE_PER_IP / USHER_JOIN_BURST_PER_IP raised (e.g. 1000000):
// every k6 connection comes from one address, and the default allows 20 joins/s.
import http from 'k6/http';
import ws from 'k6/ws';
import { check } from 'k6';
import { Counter, Trend } from 'k6/metrics';

const BASE = __ENV.USHER_URL || 'http://127.0.0.1:8080';
const WS_BASE = BASE.replace(/^http/, 'ws');
const KEY = __ENV.USHER_ADMIN_KEY || '';
const RATE = Number(__ENV.JOIN_RATE || 200); // buyers arriving per second
const HOLD_S = Number(__ENV.HOLD_S || 30); // how long each buyer stays in line

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
    usher_join_ms: ['p(99)<1000'],
    usher_errors: ['count==0'],
    usher_position_went_up: ['count==0'],
  },
};

const admin = { headers: { Authorization: `Bearer ${KEY}`, 'Content-Type': 'application/json' } };

// A paused event of its own (or EVENT=id): buyers stay in line.
export function setup() {
  if (__ENV.EVENT) return { event: Number(__ENV.EVENT) };
  const body = { name: 'k6 join storm', starts_at_ms: Date.now() + 86400000, max_active: 10000000 };
  const res = http.post(`${BASE}/api/admin/events`, JSON.stringify(body), admin);
  check(res, { 'event created': (r) => r.status === 201 });
  const event = res.json('id');
  http.post(`${BASE}/api/admin/events/${event}/pause`, null, admin);
  return { event };
}

export default function (data) {
  const started = Date.now();
  let last = Infinity;
  const res = ws.connect(`${WS_BASE}/ws/events/${data.event}/queue`, {}, (socket) => {
    socket.on('open', () => socket.send(JSON.stringify({ type: 'join' })));
    socket.on('message', (raw) => {
      const msg = JSON.parse(raw);
      if (msg.type === 'joined') {
        joinMs.add(Date.now() - started);
      } else if (msg.type === 'status') {
        statusMsgs.add(1);
        if (msg.position !== null && msg.position > last) positionUp.add(1);
        if (msg.position !== null) last = msg.position;
      } else if (msg.type === 'error') {
        errors.add(1, { code: msg.code });
      }
    });
    socket.on('close', (code) => {
      if (code !== undefined && code >= 4000) errors.add(1, { close: String(code) });
    });
    socket.setTimeout(() => socket.close(), HOLD_S * 1000);
  });
  check(res, { 'upgraded (101)': (r) => r && r.status === 101 });
}

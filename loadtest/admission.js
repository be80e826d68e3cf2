// Admission (k6). BUYERS buyers join an event whose sale opens OPEN_IN_S seconds after the
// start, so they all wait in the pre-queue and are drawn into line at the opening; usher
// then admits ADMISSION_RATE per second. For each `admitted` the script records the push
// latency, (time received) - (admission time = expires_at_ms - SESSION_S * 1000), which
// needs the k6 machine's clock to match usher's (same host, or NTP), and the total wait.
//
//   k6 run -e USHER_URL=http://127.0.0.1:8080 -e USHER_ADMIN_KEY=secret \
//          -e BUYERS=2000 -e ADMISSION_RATE=200 loadtest/admission.js
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
const BUYERS = Number(__ENV.BUYERS || 1000);
const RATE = Number(__ENV.ADMISSION_RATE || 100);
const SESSION_S = Number(__ENV.SESSION_S || 600);
const OPEN_IN_S = Number(__ENV.OPEN_IN_S || 20);
const MAX_WAIT_S = OPEN_IN_S + Math.ceil(BUYERS / RATE) + 60;
const LATENCY = __ENV.LATENCY_THRESHOLDS !== '0';

const pushMs = new Trend('usher_admit_push_ms', true);
const waitMs = new Trend('usher_wait_ms', true);
const admitted = new Counter('usher_admitted');
const errors = new Counter('usher_errors');

export const options = {
  scenarios: {
    buyers: {
      executor: 'per-vu-iterations',
      vus: BUYERS,
      iterations: 1,
      maxDuration: `${MAX_WAIT_S + 30}s`,
    },
  },
  thresholds: {
    checks: ['rate==1'],
    usher_admitted: [`count==${BUYERS}`],
    usher_errors: ['count==0'],
    ...(LATENCY ? { usher_admit_push_ms: ['p(99)<500'] } : {}),
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
    name: 'k6 admission',
    starts_at_ms: Date.now() + 86400000,
    sale_opens_at_ms: Date.now() + OPEN_IN_S * 1000,
    admission_rate: RATE,
    max_active: 10000000,
    session_secs: SESSION_S,
  };
  const res = http.post(`${BASE}/api/admin/events`, JSON.stringify(body), admin);
  check(res, { 'event created (201)': (r) => r.status === 201 });
  return { event: res.json('id') };
}

export default function (data) {
  const joinedAt = Date.now();
  let credential = null;
  let gotAdmitted = false;
  const res = ws.connect(`${WS_BASE}/ws/events/${data.event}/queue`, {}, (socket) => {
    socket.on('open', () => socket.send(JSON.stringify({ type: 'join' })));
    socket.on('message', safely((raw) => {
      const msg = JSON.parse(raw);
      if (msg.type === 'joined') {
        credential = msg.credential;
        check(msg, { 'joined: buyer and credential': (m) => /^[0-9a-f]{32}$/.test(m.buyer) && !!m.credential });
      } else if (msg.type === 'credential') {
        // At the draw, a pre-queue buyer gets a number and a credential that carries it.
        check(msg, { 'credential: a new one, longer (carries the number)': (m) =>
          typeof m.credential === 'string' && m.credential !== credential && m.credential.length > 64 });
        credential = msg.credential;
      } else if (msg.type === 'status') {
        check(msg, {
          'status: pre_queue has no position, a count and a countdown': (m) =>
            m.state !== 'pre_queue' || (m.position === null && m.pre_queue >= 1 && m.opens_in_ms >= 0),
          'status: open has a position': (m) => m.state !== 'open' || m.position >= 1,
        });
      } else if (msg.type === 'admitted') {
        const now = Date.now();
        gotAdmitted = true;
        pushMs.add(now - (msg.expires_at_ms - SESSION_S * 1000));
        waitMs.add(now - joinedAt);
        admitted.add(1);
        check(msg, {
          'admitted: a JWT, its expiry, the seat map': (m) =>
            m.token.split('.').length === 3 && m.expires_at_ms > now &&
            m.seat_map_url === `/events/${data.event}/seats`,
        });
      } else if (msg.type === 'error') {
        errors.add(1, { code: msg.code });
        check(msg, { 'no error message': () => false });
      }
    }));
    socket.on('close', (code) => {
      check(code, { 'closed 1000 after admitted': (c) => gotAdmitted && (c === 1000 || c === undefined) });
    });
    socket.setTimeout(() => socket.close(), MAX_WAIT_S * 1000);
  });
  check(res, { 'upgraded (101)': (r) => r && r.status === 101 });
}

// The waiting room: one WebSocket to /ws/events/{id}/queue (docs/protocol.md).
//
// join (with the stored credential) → joined → status … → admitted → seat map.
// Close codes 4000-4499 and closes without a code mean "reconnect with backoff and join
// again with the credential": the place is kept for the event's grace period. 4500-4999
// mean "do not retry as is".
//
// The page is honest about its connection (static/js/queuelink.js): figures that stopped
// being live are greyed with their age, the place is promised only while the grace period
// can still hold it, and a rejoin that got a new place says so.

import {
  Announcer, Backoff, eventIdFromPath, fetchJson, formatClock, formatDate, formatDuration,
  notice, num, setText, socketUrl,
} from "./common.js";
import { announceTurn, setupNotify } from "./notify.js";
import { STATES, fatalWords } from "./queuewords.js";
import { STALE_MS, renderLink, tabTitle } from "./queuelink.js";

const eventId = eventIdFromPath();
const credKey = `usher.cred.${eventId}`;
const tokenKey = `usher.token.${eventId}`;
const maxAheadKey = `usher.maxahead.${eventId}`;
/** No message for this long while in line: the connection is dead even if no close came. */
const SILENCE_MS = 10000;

const $ = (id) => document.getElementById(id);
const announcer = new Announcer($("announce"));
const backoff = new Backoff();

let ws = null;
let lastError = null; // the `error` that came right before a close, for its words
let admitted = false;
let reconnectTimer = null;
let reconnectAt = 0;
let watchdog = null;
let opensAt = null; // local time of the sale opening, from the last pre-queue status
let lastState = null;
let spokenPosition = null;
let eventName = null;
let position = null; // the last position shown (null in the pre-queue)
let heardAt = 0; // Date.now() of the last message from the server (0: none yet)
let joinedHere = false; // the current socket has had its `joined`
let graceSecs = null; // how long the place is kept once disconnected (from `joined`)
let hadPlace = false; // the buyer was in line (or the pre-queue) on this page
let sentCredential = false; // the current socket's join carried a stored credential
let placeLost = false; // the next status is of a new place: say so with its number
let pinged = false; // a ping went out in the current silence


function showState(state, explain) {
  const [title, words] = STATES[state];
  const el = $("state");
  el.textContent = title;
  el.dataset.state = state;
  $("explain").textContent = explain ?? words;
  $("pre").hidden = state !== "pre_queue";
  $("line").hidden = !["open", "paused", "sold_out", "unavailable"].includes(state);
  $("leave").hidden = !["pre_queue", "open", "paused", "sold_out"].includes(state);
  $("rejoin").hidden = !["left", "gone"].includes(state);
  $("keep-open").hidden = ["left", "gone", "stopped", "ended"].includes(state);
  if (["left", "gone", "stopped", "ended", "admitted"].includes(state)) {
    position = null;
    document.title = tabTitle(eventName, null);
  }
  if (state !== lastState && !["open", "connecting"].includes(state)) {
    announcer.say(`${title}. ${explain ?? words}`, { now: true });
  }
  lastState = state;
}

// ---- event details ----------------------------------------------------------------------

function showEvent(ev) {
  $("event-name").textContent = ev.name;
  $("event-kind").textContent = ev.kind;
  $("event-meta").textContent = [ev.venue, formatDate(ev.starts_at_ms)].filter(Boolean).join(" · ");
  eventName = ev.name;
  document.title = tabTitle(eventName, position);
}

async function loadEvent() {
  try {
    showEvent(await fetchJson(`/api/events/${encodeURIComponent(eventId)}`));
    return true;
  } catch (e) {
    if (e.status === 404) {
      stop("There is no such event. Check the link, or pick an event from the list.");
      return false;
    }
    return true; // the socket says more; do not block the line on this request
  }
}

// ---- status -----------------------------------------------------------------------------

function waitText(s) {
  if (s.expected_wait_secs !== null && s.expected_wait_secs !== undefined) {
    return `about ${formatDuration(s.expected_wait_secs)}`;
  }
  if (s.state === "paused") return "paused";
  if (s.state === "sold_out" || s.state === "unavailable") return "–";
  return "estimating…";
}

/** "between 1 min 40 s and 2 min 30 s · in around 14:05", from the server's range and
 * expected entry time (on the server's clock, moved to this device's). */
function rangeText(s) {
  const r = s.expected_wait_range_secs;
  if (!Array.isArray(r) || s.expected_entry_at_ms == null) return "";
  const entry = new Date(s.expected_entry_at_ms - (s.server_time_ms - Date.now()));
  const at = entry.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
  return `between ${formatDuration(r[0])} and ${formatDuration(r[1])} · in around ${at}`;
}

function showProgress(ahead) {
  const max = Math.max(Number(sessionStorage.getItem(maxAheadKey)) || 0, ahead);
  sessionStorage.setItem(maxAheadKey, String(max));
  const p = max > 0 ? 1 - ahead / max : 1;
  const pct = Math.round(p * 100);
  $("progress").value = pct;
  $("progress").dataset.progress = p.toFixed(3);
  setText("progress-percent", `${pct}%`);
}

function onStatus(s) {
  showState(STATES[s.state] ? s.state : "open", s.message);
  const inLine = s.state === "pre_queue" || s.position != null;
  if (placeLost && inLine) {
    placeLost = false;
    const now = s.position != null
      ? `you are now number ${num(s.position)} in line`
      : "you are back in the pre-queue";
    notice($("notice"), `You were away too long and lost your place; ${now}.`, "error");
  }
  hadPlace = hadPlace || inLine;
  position = s.state === "pre_queue" ? null : s.position;
  document.title = tabTitle(eventName, position);
  if (s.state === "pre_queue") {
    opensAt = Date.now() + (s.opens_in_ms ?? 0);
    tickCountdown();
    setText("pre-count", num(s.pre_queue));
    setText("pre-count-label", s.pre_queue === 1 ? "person is" : "people are");
    return;
  }
  opensAt = null;
  setText("position", num(s.position));
  setText("ahead", num(s.ahead));
  setText("behind", num(s.behind));
  setText("wait", waitText(s));
  setText("wait-range", rangeText(s));
  if (s.ahead !== null) showProgress(s.ahead);
  // Spoken only when the place changes (throttled), not on every periodic update.
  if (s.state === "open" && s.position !== spokenPosition) {
    spokenPosition = s.position;
    const wait = s.expected_wait_secs !== null ? ` Expected wait ${waitText(s)}.` : "";
    announcer.say(`You are number ${num(s.position)} in line, ${num(s.ahead)} ahead of you.${wait}`);
  }
}

function tickCountdown() {
  if (opensAt === null) return;
  const left = opensAt - Date.now();
  setText("opens-in", left > 0 ? formatClock(left) : "opening…");
}

// ---- the socket -------------------------------------------------------------------------

function connect() {
  clearTimeout(reconnectTimer);
  reconnectTimer = null;
  lastError = null;
  joinedHere = false;
  // A socket still open or opening (silent, or a slow attempt) gives way to this one.
  const old = ws;
  ws = null;
  if (old && old.readyState <= WebSocket.OPEN) old.close();
  // Figures already on screen stay there, greyed, until the new socket brings fresh ones.
  if (!hadPlace && lastState !== "connecting" && !$("notice").textContent) showState("connecting");
  const sock = new WebSocket(socketUrl(`/ws/events/${encodeURIComponent(eventId)}/queue`));
  ws = sock;
  sock.onopen = () => {
    const join = { type: "join" };
    const credential = localStorage.getItem(credKey);
    if (credential) join.credential = credential;
    sentCredential = Boolean(credential);
    sock.send(JSON.stringify(join));
    feedWatchdog();
  };
  sock.onmessage = (e) => {
    if (sock !== ws) return;
    heardAt = Date.now();
    pinged = false;
    feedWatchdog();
    let msg;
    try {
      msg = JSON.parse(e.data);
    } catch {
      return;
    }
    onMessage(msg);
  };
  sock.onclose = (e) => {
    if (sock !== ws) return;
    onClose(e.code, e.reason);
  };
}

function onMessage(msg) {
  switch (msg.type) {
    case "joined":
      localStorage.setItem(credKey, msg.credential);
      joinedHere = true;
      if (typeof msg.grace_secs === "number") graceSecs = msg.grace_secs;
      // The same buyer, but not the same place: the one held on this page is gone.
      if (!msg.resumed && sentCredential && hadPlace) placeLost = true;
      if (!msg.resumed) {
        sessionStorage.removeItem(maxAheadKey);
        spokenPosition = null;
      }
      if (msg.event) showEvent(msg.event);
      backoff.reset();
      notice($("notice"), "");
      showLink();
      break;
    case "credential":
      // It now carries the queue number: keep the latest.
      localStorage.setItem(credKey, msg.credential);
      break;
    case "status":
      onStatus(msg);
      break;
    case "admitted": {
      admitted = true;
      clearTimeout(watchdog);
      sessionStorage.setItem(tokenKey, JSON.stringify({
        token: msg.token, expires_at_ms: msg.expires_at_ms,
      }));
      sessionStorage.removeItem(maxAheadKey);
      showState("admitted");
      showLink();
      const url = msg.seat_map_url || `/events/${encodeURIComponent(eventId)}/seats`;
      // Long enough for the beep, when the buyer asked for one.
      const wait = announceTurn("It's your turn!", `${eventName || "Your event"}: pick your seats now.`);
      setTimeout(() => location.assign(url), wait);
      break;
    }
    case "error":
      lastError = msg;
      if (msg.code === "rate_limited") console.warn(msg.message);
      break;
    default:
      break;
  }
}

function onClose(code, reason) {
  clearTimeout(watchdog);
  ws = null;
  if (admitted) return;
  if (code === 1000) {
    showState(reason === "left the line" ? "left" : "gone");
    return;
  }
  if (code >= 4500 && code <= 4999) {
    if (code === 4501) localStorage.removeItem(credKey);
    stop(fatalWords(code, (lastError && lastError.message) || reason));
    $("new-buyer").hidden = code !== 4501;
    return;
  }
  if (code === 4014) {
    // The place was lost while connected: joining again gives a new place at the back.
    notice($("notice"), (lastError && lastError.message) || "Your place in line was lost.", "error");
    placeLost = hadPlace;
  }
  // 4000-4499, or a connection that ended without a close frame: reconnect.
  scheduleReconnect(code === 4000 ? Math.round(Math.random() * 1000) : backoff.next());
}

function stop(words) {
  clearTimeout(reconnectTimer);
  reconnectTimer = null;
  showState("stopped");
  notice($("notice"), words, "error");
  showLink();
}

function scheduleReconnect(delayMs) {
  clearTimeout(reconnectTimer);
  reconnectAt = Date.now() + delayMs;
  reconnectTimer = setTimeout(connect, delayMs);
  showLink();
}

/** The server pushes at least every second; a long silence means a dead connection. */
function feedWatchdog() {
  clearTimeout(watchdog);
  watchdog = setTimeout(() => {
    const dead = ws;
    ws = null;
    if (dead) dead.close();
    scheduleReconnect(backoff.next());
  }, SILENCE_MS);
}

// ---- connection state on screen ---------------------------------------------------------

/** The page still wants a connection: not admitted, not stopped, not out of line. */
function wantsLink() {
  return !admitted && !["left", "gone", "stopped", "ended", "admitted"].includes(lastState);
}

/**
 * Shows what is known about the connection, at once and then every 250 ms: the banner
 * with its promise and "Reconnect now", and the figures greyed with their age.
 */
function showLink() {
  const now = Date.now();
  const open = ws !== null && ws.readyState === WebSocket.OPEN && joinedHere;
  const silent = open && now - heardAt > STALE_MS;
  const live = open && !silent;
  const wanted = wantsLink();
  const stale = wanted && !live && heardAt > 0;
  if (silent && !pinged) {
    // Any answer (or the status behind it) ends the silence; a dead link stays silent.
    pinged = true;
    ws.send(JSON.stringify({ type: "ping" }));
  }
  const retrySecs = reconnectTimer !== null ? Math.ceil((reconnectAt - now) / 1000) : 0;
  renderLink({
    stale, banner: wanted && !live && (heardAt > 0 || reconnectTimer !== null),
    silent, hadPlace, heardAt, graceSecs, now, retrySecs,
  });
}

/** Reconnect at once: the backoff's timer is cancelled, and a silent socket given up. */
function reconnectNow() {
  if (!wantsLink()) return;
  connect();
  showLink();
}

// ---- buttons and browser events ------------------------------------------------------------

$("leave").addEventListener("click", () => {
  if (!ws || ws.readyState !== WebSocket.OPEN) return;
  if (window.confirm("Leave the line? Your place is given up.")) {
    ws.send(JSON.stringify({ type: "leave" }));
  }
});
$("rejoin").addEventListener("click", () => connect());
$("reconnect-now").addEventListener("click", reconnectNow);
$("new-buyer").addEventListener("click", () => {
  localStorage.removeItem(credKey);
  $("new-buyer").hidden = true;
  notice($("notice"), "");
  connect();
});
window.addEventListener("online", () => {
  if (reconnectTimer) connect();
});
setupNotify($("notify"), $("notify-note"));
setInterval(() => {
  tickCountdown();
  showLink();
}, 250);

async function main() {
  if (!eventId) {
    stop("This page needs an event in its address, like /events/1.");
    return;
  }
  if (await loadEvent()) connect();
}

main();

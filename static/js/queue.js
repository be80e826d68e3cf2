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
//
// Every text is in the page's language (msg/queue.{en,ko}.js). A switch of language
// redraws the page from what it last heard (`redraw`); the socket is left alone, so the
// buyer stays in line, in the same place.

import {
  Announcer, Backoff, eventIdFromPath, fetchJson, formatClock, formatDate, notice, num,
  setText, socketUrl,
} from "./common.js";
import { mountSwitcher, onLanguage, t, translate } from "./i18n.js";
import { announceTurn, redrawNotify, setupNotify } from "./notify.js";
import {
  STATES, fatalWords, rangeText, stateWords, tabTitle, waitWords,
} from "./queuewords.js";
import { STALE_MS, renderLink } from "./queuelink.js";

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
let lastEvent = null; // the event's details, to write them again after a switch
let lastStatus = null; // the last status, to write its figures again after a switch
let noticeWords = null; // () => the notice's words, to write them again after a switch

/** Shows a notice whose words `words()` gives (null: no notice), in the page's language. */
function say(words, kind = "error") {
  noticeWords = words ? { words, kind } : null;
  notice($("notice"), words ? words() : "", words ? kind : "");
}

/** Shows `state` with its words; announced when it is new, unless `quiet`. */
function showState(state, { quiet = false } = {}) {
  const [title, words] = stateWords(state);
  const el = $("state");
  el.textContent = title;
  el.dataset.state = state;
  $("explain").textContent = words;
  $("pre").hidden = state !== "pre_queue";
  $("line").hidden = !["open", "paused", "sold_out", "unavailable"].includes(state);
  $("leave").hidden = !["pre_queue", "open", "paused", "sold_out"].includes(state);
  $("rejoin").hidden = !["left", "gone"].includes(state);
  $("keep-open").hidden = ["left", "gone", "stopped", "ended"].includes(state);
  if (["left", "gone", "stopped", "ended", "admitted"].includes(state)) {
    position = null;
    document.title = tabTitle(eventName, null);
  }
  if (!quiet && state !== lastState && !["open", "connecting"].includes(state)) {
    announcer.say(`${title} ${words}`, { now: true });
  }
  lastState = state;
}

// ---- event details ----------------------------------------------------------------------

/** An event's kind in the page's language when it is a common one ("musical" → 뮤지컬),
 * else as the organiser wrote it. */
function kindWords(kind) {
  const key = `common.kind.${String(kind).toLowerCase()}`;
  const words = t(key);
  return words === key ? kind : words;
}

function showEvent(ev) {
  lastEvent = ev;
  $("event-name").textContent = ev.name;
  $("event-kind").textContent = ev.kind ? kindWords(ev.kind) : "";
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
      stop(() => fatalWords(4500));
      return false;
    }
    return true; // the socket says more; do not block the line on this request
  }
}

// ---- status -----------------------------------------------------------------------------

function showProgress(ahead) {
  const max = Math.max(Number(sessionStorage.getItem(maxAheadKey)) || 0, ahead);
  sessionStorage.setItem(maxAheadKey, String(max));
  const p = max > 0 ? 1 - ahead / max : 1;
  const pct = Math.round(p * 100);
  $("progress").value = pct;
  $("progress").dataset.progress = p.toFixed(3);
  showProgressLabel(pct);
}

/** "Progress since you joined: 33%", the percentage in its own span. */
function showProgressLabel(pct) {
  const span = document.createElement("span");
  span.id = "progress-percent";
  span.textContent = `${pct}%`;
  fillIn($("progress-label"), t("queue.progress", { percent: "{percent}" }), "{percent}", span);
}

/** Writes `text` into `el` with `node` in place of `marker`: for a figure inside a sentence
 * whose word order depends on the language. */
function fillIn(el, text, marker, node) {
  const at = text.indexOf(marker);
  if (at < 0) {
    el.replaceChildren(text, node);
    return;
  }
  el.replaceChildren(text.slice(0, at), node, text.slice(at + marker.length));
}

/** "you are now number 4 in line": said once, after a rejoin that got a new place. */
function lostPlaceWords(s) {
  return s.position != null
    ? () => t("queue.lost_place_line", { n: num(s.position) })
    : () => t("queue.lost_place_pre");
}

/** A figure in words: "3" in English, "3번째" or "2명" in Korean. */
function figure(key, v) {
  return v === null || v === undefined ? t("common.none") : t(key, { n: num(v) });
}

function onStatus(s) {
  // The state's words are the page's own: the server's `message` is in English.
  showState(STATES.includes(s.state) ? s.state : "open");
  const inLine = s.state === "pre_queue" || s.position != null;
  if (placeLost && inLine) {
    placeLost = false;
    say(lostPlaceWords(s));
  }
  hadPlace = hadPlace || inLine;
  position = s.state === "pre_queue" ? null : s.position;
  if (s.state === "pre_queue") {
    opensAt = Date.now() + (s.opens_in_ms ?? 0);
  } else {
    opensAt = null;
    if (s.ahead !== null) showProgress(s.ahead);
  }
  lastStatus = s;
  showFigures(s);
  // Spoken only when the place changes (throttled), not on every periodic update.
  if (s.state === "open" && s.position !== spokenPosition) {
    spokenPosition = s.position;
    const place = t("queue.said_place", { n: num(s.position), ahead: num(s.ahead) });
    const wait = s.expected_wait_secs !== null ? ` ${t("queue.said_wait", { wait: waitWords(s) })}` : "";
    announcer.say(`${place}${wait}`);
  }
}

/** Writes a status's figures, in the page's language. */
function showFigures(s) {
  document.title = tabTitle(eventName, position);
  if (s.state === "pre_queue") {
    tickCountdown();
    const count = document.createElement("strong");
    count.id = "pre-count";
    count.dataset.testid = "pre-count";
    count.className = $("pre-count").className;
    count.textContent = num(s.pre_queue);
    const n = Number(s.pre_queue) || 0;
    fillIn($("pre-line"), t("queue.pre_waiting", { count: n, n: "{n}" }), "{n}", count);
    return;
  }
  setText("position", figure("queue.position", s.position));
  setText("ahead", figure("queue.people", s.ahead));
  setText("behind", figure("queue.people", s.behind));
  setText("wait", waitWords(s));
  setText("wait-range", rangeText(s));
}

function tickCountdown() {
  if (opensAt === null) return;
  const left = opensAt - Date.now();
  setText("opens-in", left > 0 ? formatClock(left) : t("queue.opening"));
}

// ---- the socket -------------------------------------------------------------------------

function connect() {
  clearTimeout(reconnectTimer);
  reconnectTimer = null;
  joinedHere = false;
  // A socket still open or opening (silent, or a slow attempt) gives way to this one.
  const old = ws;
  ws = null;
  if (old && old.readyState <= WebSocket.OPEN) old.close();
  // Figures already on screen stay there, greyed, until the new socket brings fresh ones.
  if (!hadPlace && lastState !== "connecting" && !noticeWords) showState("connecting");
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
      say(null);
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
      const body = eventName ? t("queue.turn_body", { event: eventName }) : t("queue.turn_body_plain");
      const wait = announceTurn(t("queue.turn_title"), body);
      setTimeout(() => location.assign(url), wait);
      break;
    }
    case "error":
      // A close follows the errors that matter, and its code picks the words.
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
    stop(() => fatalWords(code));
    $("new-buyer").hidden = code !== 4501;
    return;
  }
  if (code === 4014) {
    // The place was lost while connected: joining again gives a new place at the back.
    say(() => t("queue.place_lost"));
    placeLost = hadPlace;
  }
  // 4000-4499, or a connection that ended without a close frame: reconnect.
  scheduleReconnect(code === 4000 ? Math.round(Math.random() * 1000) : backoff.next());
}

/** Stops for good, with the notice `words()`. */
function stop(words) {
  clearTimeout(reconnectTimer);
  reconnectTimer = null;
  showState("stopped");
  say(words);
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
  if (window.confirm(t("queue.leave_confirm"))) {
    ws.send(JSON.stringify({ type: "leave" }));
  }
});
$("rejoin").addEventListener("click", () => connect());
$("reconnect-now").addEventListener("click", reconnectNow);
$("new-buyer").addEventListener("click", () => {
  localStorage.removeItem(credKey);
  $("new-buyer").hidden = true;
  say(null);
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

/**
 * After a switch of language: every text the page wrote itself, written again from what
 * it last heard. Nothing here touches the socket: the buyer stays in line.
 */
function redraw() {
  // Said already (in the other language): a switch is not news for a screen reader.
  showState(lastState ?? "connecting", { quiet: true });
  if (lastEvent) showEvent(lastEvent);
  else $("event-name").textContent = t("queue.heading");
  if (lastStatus) showFigures(lastStatus);
  showProgressLabel(Number($("progress").value) || 0);
  document.title = tabTitle(eventName, position);
  if (noticeWords) notice($("notice"), noticeWords.words(), noticeWords.kind);
  redrawNotify();
  showLink();
}

async function main() {
  if (!eventId) {
    stop(() => t("queue.no_event_in_path"));
    return;
  }
  if (await loadEvent()) connect();
}

translate();
mountSwitcher();
onLanguage(redraw);
redraw();
main();

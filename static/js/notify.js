// "Notify me when it's my turn": a system notification and a short beep on admission,
// only when the buyer asked for them. The sound is made with the Web Audio API (no sound
// file). Browsers let a page start sound only after a click or a key press, so the audio
// context is made (or woken) on the buyer's own gestures, long before the turn comes.

import { t } from "./i18n.js";

const KEY = "usher.notify";
/** The service worker that shows the notification (static/js/notify-sw.js). */
const WORKER = "/static/js/notify-sw.js";
let audio = null;
let worker = null; // its registration, once registered
let shown = null; // the permission the note explains (null: no note), to redo it on a switch
let noteEl = null;

function wanted() {
  return localStorage.getItem(KEY) === "1";
}

/** Makes or wakes the audio context; called from a gesture of the buyer. */
function unlockAudio() {
  const Ctx = window.AudioContext || window.webkitAudioContext;
  if (!Ctx) return;
  try {
    audio = audio || new Ctx();
    if (audio.state === "suspended") audio.resume().catch(() => {});
  } catch {
    audio = null;
  }
}

function permissionWords(permission) {
  if (permission === "granted") return t("queue.notify_granted");
  if (permission === "unsupported") return t("queue.notify_unsupported");
  return t("queue.notify_blocked");
}

/** Writes the note for `permission` (null: no note), in the page's language. */
function explain(permission) {
  shown = permission;
  if (noteEl) noteEl.textContent = permission === null ? "" : permissionWords(permission);
}

/** Writes the note again in the language now shown (after a switch). */
export function redrawNotify() {
  explain(shown);
}

/**
 * Registers the notification's service worker (where there are service workers: a secure
 * page). Without it Chrome on Android shows no notification at all.
 */
async function registerWorker() {
  if (worker || !("serviceWorker" in navigator)) return worker;
  try {
    worker = await navigator.serviceWorker.register(WORKER, { scope: "/static/js/" });
  } catch {
    worker = null; // not a secure page, or blocked: `new Notification` is tried instead
  }
  return worker;
}

/** Wires the checkbox `box` and its explaining line `note`. */
export function setupNotify(box, note) {
  const supported = "Notification" in window;
  noteEl = note;
  box.checked = wanted();
  if (box.checked) explain(supported ? Notification.permission : "unsupported");
  if (box.checked && supported) registerWorker();
  // A remembered choice still needs a gesture on this page before any sound can play.
  const wake = () => {
    if (wanted()) unlockAudio();
  };
  document.addEventListener("pointerdown", wake);
  document.addEventListener("keydown", wake);
  box.addEventListener("change", async () => {
    if (!box.checked) {
      localStorage.removeItem(KEY);
      explain(null);
      return;
    }
    localStorage.setItem(KEY, "1");
    unlockAudio();
    if (!supported) {
      explain("unsupported");
      return;
    }
    let permission = Notification.permission;
    if (permission === "default") {
      try {
        permission = await Notification.requestPermission();
      } catch {
        permission = "denied";
      }
    }
    explain(permission);
    if (permission === "granted") registerWorker();
  });
}

/** Two short rising tones; returns how long they last in ms (0 when no sound can play). */
function beep() {
  if (!audio || audio.state !== "running") return 0;
  const t = audio.currentTime;
  [[880, 0, 0.15], [1320, 0.18, 0.22]].forEach(([freq, start, length]) => {
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.type = "sine";
    osc.frequency.value = freq;
    gain.gain.setValueAtTime(0.0001, t + start);
    gain.gain.exponentialRampToValueAtTime(0.3, t + start + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, t + start + length);
    osc.connect(gain).connect(audio.destination);
    osc.start(t + start);
    osc.stop(t + start + length + 0.02);
  });
  return 450;
}

/**
 * The buyer's turn has come: a notification (if permitted) and a beep (if asked for).
 * Returns how many ms to wait before leaving the page, so that the beep is heard.
 */
export function announceTurn(title, body) {
  if (!wanted()) return 0;
  if ("Notification" in window && Notification.permission === "granted") {
    const options = { body, tag: "usher-turn", data: { url: location.href } };
    if (worker) {
      // Chrome on Android: only a service worker may show it.
      worker.showNotification(title, options).catch(() => {});
    } else {
      try {
        new Notification(title, options);
      } catch {
        // No notification on this browser; the sound still plays.
      }
    }
  }
  return beep();
}

// "Notify me when it's my turn": a system notification and a short beep on admission,
// only when the buyer asked for them. The sound is made with the Web Audio API (no sound
// file). Browsers let a page start sound only after a click or a key press, so the audio
// context is made (or woken) on the buyer's own gestures, long before the turn comes.

const KEY = "usher.notify";
let audio = null;

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
  if (permission === "granted") return "You will get a notification and a sound when it's your turn.";
  if (permission === "unsupported") return "This browser cannot show notifications: you will hear a sound.";
  return "Notifications are blocked for this site, so you will only hear a sound. Keep this tab open.";
}

/** Wires the checkbox `box` and its explaining line `note`. */
export function setupNotify(box, note) {
  const supported = "Notification" in window;
  box.checked = wanted();
  if (box.checked) note.textContent = permissionWords(supported ? Notification.permission : "unsupported");
  // A remembered choice still needs a gesture on this page before any sound can play.
  const wake = () => {
    if (wanted()) unlockAudio();
  };
  document.addEventListener("pointerdown", wake);
  document.addEventListener("keydown", wake);
  box.addEventListener("change", async () => {
    if (!box.checked) {
      localStorage.removeItem(KEY);
      note.textContent = "";
      return;
    }
    localStorage.setItem(KEY, "1");
    unlockAudio();
    if (!supported) {
      note.textContent = permissionWords("unsupported");
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
    note.textContent = permissionWords(permission);
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
    try {
      // Chrome on Android allows notifications only from a service worker and throws
      // here; the sound still plays.
      new Notification(title, { body, tag: "usher-turn" });
    } catch {
      // No notification on this browser.
    }
  }
  return beep();
}

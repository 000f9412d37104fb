/* Talking to Vox: push-to-talk (hold the mic button or the push-to-talk key; a global hotkey reaches the page
 * through /api/live) and hands-free (the server's VAD ends a turn after a pause). The microphone's frames
 * (mic.js) go to the server as they are captured, one small POST every ~20 ms to the turn's stream; each
 * answer says what the server heard: speech started, words so far (shown in the chat as they come), a
 * barge-in (Vox stops at once, and the page says how much of the reply was heard), a finished turn (sent
 * to the LLM like a typed message, and the reply is spoken as usual), or the end of listening and why.
 *
 * Each POST also carries how loud Vox is playing (echo-level.js), so the server can tell Vox's own voice in the
 * microphone from the user's.
 */

import { api } from "./api.js";
import * as chat from "./chat.js";
import { $ } from "./dom.js";
import { forgetLevels, playbackLevel, recentLevel, sampleLevel } from "./echo-level.js";
import { emit, on } from "./events.js";
import { matches, parseHotkey } from "./hotkeys.js";
import { hideBubble, showBubble } from "./listen-view.js";
import { Mic } from "./mic.js";
import { setMode } from "./modes.js";
import { showMessage } from "./notice.js";
import { cancelCurrent, player } from "./speech.js";

const KEEP_MIC_MS = 60000; // after push-to-talk, the microphone stays open this long for the next press
const TAIL_MS = 150; // audio still sent after the key goes up (people release a hair early)
const MAX_POST_FRAMES = 90; // 1.8 s: the server takes at most 2 s per POST
const MAX_QUEUE_FRAMES = 500; // 10 s behind: the server is gone or stuck; the oldest frames are dropped
const SEND_WAIT_MS = 6000; // a finished turn waits this long for the previous reply's stream to end

const mic = new Mic();
const state = { mode: "off", stream: null, pressed: false, closeTimer: 0, log: [], turns: [] };
const ui = { button: null, handsFree: null, status: null };

// ---- the stream to the server ---------------------------------------------------------------------------

function record(kind, detail = {}) {
  const entry = { kind, t: performance.now(), ctx: player.ctx ? player.ctx.currentTime : null, ...detail };
  state.log.push(entry);
  if (state.log.length > 500) state.log.shift();
  emit("listen", entry);
  return entry;
}

/** Open a stream of `mode` and start sending the microphone's frames to it. */
async function openStream(mode) {
  const s = { id: null, mode, queue: mic.takePreroll(), wake: null, ending: false, closed: false, done: null };
  state.stream = s;
  mic.onframe = (frame) => {
    sampleLevel();
    s.queue.push(frame);
    if (s.queue.length > MAX_QUEUE_FRAMES) s.queue.splice(0, s.queue.length - MAX_QUEUE_FRAMES);
    if (s.wake) s.wake();
  };
  let info;
  try {
    info = await api.listen.open(mode);
  } catch (e) {
    closeLocal(s);
    throw e;
  }
  s.id = info.id;
  record("open", { id: s.id, mode });
  s.done = pump(s);
  return s;
}

async function pump(s) {
  while (!s.closed) {
    if (!s.queue.length) {
      if (s.ending) return;
      await new Promise((resolve) => (s.wake = resolve));
      s.wake = null;
      continue;
    }
    const frames = s.queue.splice(0, MAX_POST_FRAMES);
    const body = new Int16Array(frames.reduce((n, f) => n + f.length, 0));
    let at = 0;
    for (const f of frames) {
      body.set(f, at);
      at += f.length;
    }
    let answer;
    try {
      answer = await api.listen.audio(s.id, body, recentLevel());
    } catch (e) {
      if (!s.closed) ended(s, e.message);
      return;
    }
    for (const event of answer.events || []) handle(s, event);
  }
}

function handle(s, event) {
  if (event.speech) {
    record("speech", { turn: event.turn });
    showBubble("…");
  } else if (event.partial != null) {
    record("partial", { turn: event.turn, text: event.partial });
    showBubble(event.partial);
  } else if (event.barge_in) {
    record("barge_in", { turn: event.turn, stopped: event.stopped, level: event.level, playback: event.playback });
    interrupt();
  } else if (event.final != null) {
    final(event);
  } else if (event.discarded) {
    record("discarded", { turn: event.turn });
    hideBubble();
  } else if (event.notice) {
    showMessage(event.notice, "info");
  } else if (event.ended) {
    if (!s.closed) ended(s, event.message || "");
  }
}

function final(event) {
  const text = (event.final || "").trim();
  record("final", { turn: event.turn, text, sent: !!event.sent });
  state.turns.push(text);
  hideBubble();
  if (text && event.sent) deliver(text);
  else if (event.message) showMessage(event.message, "info");
}

/** A finished turn goes to the LLM like a typed message (once the previous reply's stream has ended). */
async function deliver(text) {
  setMode("chat");
  const deadline = performance.now() + SEND_WAIT_MS;
  while (chat.activeTurn() && performance.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  record("send", { text });
  return chat.send(text);
}

function closeLocal(s) {
  s.closed = true;
  if (s.wake) s.wake();
  if (state.stream === s) {
    state.stream = null;
    mic.onframe = null;
  }
}

/** The server ended the stream (or it failed): say why, and stop listening. */
function ended(s, message) {
  closeLocal(s);
  record("ended", { message });
  hideBubble();
  if (s.mode === "hands_free") setHandsFree(false, { quiet: true });
  if (message) showMessage(message);
  setStatus();
}

// ---- barge-in: stop now (chat.js tells the server how much was heard) -----------------------------------

function interrupt() {
  // The reply ends as stopped: chat.js keeps how much of it was heard and, once the server has ended the turn,
  // tells it (the same path as Shift+Esc).
  cancelCurrent("stopped");
  forgetLevels();
  emit("stop", { all: true, bargeIn: true });
}

// ---- push-to-talk ---------------------------------------------------------------------------------------

export async function press() {
  if (state.pressed || state.mode === "hands_free") return;
  state.pressed = true;
  clearTimeout(state.closeTimer);
  setStatus("Opening the microphone…");
  try {
    await mic.start();
    if (!state.pressed) return setStatus();
    if (player.playing) interrupt(); // pressing to talk while Vox speaks is an interruption
    state.mode = "push";
    record("press");
    setStatus("Listening… release to send");
    showBubble("…");
    await openStream("push");
  } catch (e) {
    state.pressed = false;
    state.mode = "off";
    hideBubble();
    setStatus();
    showMessage(e.message);
  }
}

export async function release() {
  if (!state.pressed) return;
  state.pressed = false;
  record("release");
  await new Promise((r) => setTimeout(r, TAIL_MS));
  const s = state.stream;
  if (s && s.mode === "push") {
    mic.onframe = null;
    s.ending = true;
    if (s.wake) s.wake();
    setStatus("Recognising…");
    try {
      while (s.id === null && !s.closed) await new Promise((r) => setTimeout(r, 20));
      if (s.done) await s.done;
      if (!s.closed) {
        const answer = await api.listen.end(s.id);
        for (const event of answer.events || []) if (event.final == null) handle(s, event);
        final({ final: answer.final.text, turn: answer.final.turn, sent: answer.final.sent, message: answer.final.message });
      }
    } catch (e) {
      showMessage(e.message);
      hideBubble();
    } finally {
      closeLocal(s);
    }
  }
  if (state.mode === "push") state.mode = "off";
  setStatus();
  state.closeTimer = setTimeout(() => state.mode === "off" && mic.stop(), KEEP_MIC_MS);
}

// ---- hands-free -------------------------------------------------------------------------------------------

export async function setHandsFree(on, { quiet = false } = {}) {
  if (ui.handsFree) ui.handsFree.checked = on;
  if (!on) {
    const s = state.stream;
    if (state.mode === "hands_free") state.mode = "off";
    if (s && s.mode === "hands_free") {
      closeLocal(s);
      if (s.id && !quiet) api.listen.close(s.id).catch(() => {});
    }
    mic.stop();
    setStatus();
    return false;
  }
  if (state.mode === "hands_free") return true;
  setStatus("Opening the microphone…");
  try {
    await mic.start();
    state.mode = "hands_free";
    await openStream("hands_free");
    setStatus("Hands-free: listening");
    return true;
  } catch (e) {
    state.mode = "off";
    if (ui.handsFree) ui.handsFree.checked = false;
    mic.stop();
    setStatus();
    showMessage(e.message);
    return false;
  }
}

// ---- the view ----------------------------------------------------------------------------------------------

function setStatus(text) {
  if (!ui.status) return;
  const idle = state.mode === "hands_free" ? "Hands-free: listening" : "";
  ui.status.textContent = text || idle;
  ui.status.hidden = !(text || idle);
  if (ui.button) ui.button.setAttribute("aria-pressed", String(state.pressed));
  document.body.dataset.listening = state.mode;
}

function onMicLost() {
  const s = state.stream;
  if (s) {
    closeLocal(s);
    if (s.id) api.listen.close(s.id).catch(() => {});
  }
  state.pressed = false;
  state.mode = "off";
  if (ui.handsFree) ui.handsFree.checked = false;
  hideBubble();
  setStatus();
  record("lost");
  showMessage("The microphone was disconnected, so Vox stopped listening. Connect it and turn it on again.");
}

let prepared = false;

/** Ask the server to load speech recognition now; a missing model is said when the user talks. */
function prepare() {
  if (prepared) return;
  prepared = true;
  api.listen.loadRecogniser().catch(() => {});
}

export function setupListen() {
  ui.button = $("#mic-button");
  ui.handsFree = $("#hands-free");
  ui.status = $("#listen-status");
  mic.onlost = onMicLost;
  const key = parseHotkey(document.body.dataset.hotkeyPushToTalk);
  if (ui.button) {
    ui.button.addEventListener("pointerdown", (e) => {
      e.preventDefault();
      ui.button.setPointerCapture?.(e.pointerId);
      press();
    });
    for (const type of ["pointerup", "pointercancel"]) ui.button.addEventListener(type, () => release());
    if (key) ui.button.title = `Hold to talk (or hold ${key.parts.join("+")})`;
  }
  if (ui.handsFree) ui.handsFree.addEventListener("change", () => setHandsFree(ui.handsFree.checked));
  if (key) {
    document.addEventListener("keydown", (e) => {
      if (e.repeat && state.pressed) return e.preventDefault();
      if (!e.isComposing && matches(key, e)) {
        e.preventDefault();
        press();
      }
    });
    document.addEventListener("keyup", (e) => {
      const k = e.key.length === 1 ? e.key.toLowerCase() : e.key;
      const want = key.key.length === 1 ? key.key.toLowerCase() : key.key;
      if (state.pressed && (k === want || e.key === "Control" || e.key === "Alt" || e.key === "Shift")) release();
    });
  }
  window.addEventListener("blur", () => release());
  // Load the recogniser ahead of the first turn (seconds on a slow machine), once the Chat tab is in use.
  const chatTab = $("#mode-chat");
  if (chatTab) chatTab.addEventListener("click", prepare, { once: true });
  if ($("#chat") && !$("#chat").hidden) prepare();
  on("remote-listen", (msg) => (msg.listen === "press" ? press() : release()));
  setStatus();
}

/** The automation handle (window.vox.listen): tests and the benchmark drive and observe listening here. */
export const listenHandle = Object.freeze({
  press,
  release,
  handsFree: setHandsFree,
  get mode() {
    return state.mode;
  },
  get log() {
    return state.log;
  },
  get turns() {
    return state.turns;
  },
  get micOpen() {
    return mic.open;
  },
  /** When each 20 ms frame arrived since the microphone opened (frame k holds capture time 20k..20k+20 ms). */
  get frameTimes() {
    return mic.arrivals.slice();
  },
  playbackLevel,
});

/* What the top bar says: the engine's state (polled from the server: every second, every 300 ms while an
 * engine loads, every 1.5 s while the server is away) and what the voice is doing (speaking, buffering because
 * the audio is late, paused, on the host's speakers). Each answer is announced as an "engine" event for the
 * controls that depend on the engine.
 *
 * The visible pill updates with every answer; screen readers hear it through a separate polite live region,
 * at most once every ANNOUNCE_MS while an engine loads (a change of state is said at once).
 */

import { api } from "./api.js";
import { $ } from "./dom.js";
import { ENGINE_NAMES } from "./engines.js";
import { emit, on } from "./events.js";
import { showMessage } from "./notice.js";
import { isSpeaking, player } from "./speech.js";

const ANNOUNCE_MS = 5000;
const ui = { status: $("#status"), progress: $("#status-progress"), speaking: $("#speaking"), announce: $("#announce") };
const state = { engine: document.body.dataset.engine || "piper", serverSpeaking: false, online: null };
const said = { kind: "", at: 0, timer: 0, pending: "" };
let pollTimer = 0;
let reconnected = () => {};

/** The engine the server has (or is loading). */
export const currentEngine = () => state.engine;

/** Whether the server says it is speaking (the speakers, another page, a pushed reply). */
export const serverSpeaking = () => state.serverSpeaking;

/** Say `text` in the live region: at once when the kind of state changed, else at most every ANNOUNCE_MS. */
function announce(kind, text) {
  clearTimeout(said.timer);
  const now = performance.now();
  const wait = kind === said.kind ? said.at + ANNOUNCE_MS - now : 0;
  const put = () => {
    said.kind = kind;
    said.at = performance.now();
    if (ui.announce.textContent !== text) ui.announce.textContent = text;
  };
  if (wait <= 0) put();
  else said.timer = setTimeout(put, wait);
}

export function setStatus(kind, text) {
  if (ui.status.dataset.state !== kind) ui.status.dataset.state = kind;
  const t = $(".status-text", ui.status);
  if (t.textContent !== text) t.textContent = text;
  announce(kind, text);
}

/** What the voice is doing, for the pill: [state, label]. */
function voiceNow() {
  if (isSpeaking()) {
    if (player.paused) return ["paused", "Paused"];
    if (player.buffering) return ["buffering", "Buffering…"];
    return ["speaking", "Speaking"];
  }
  if (state.serverSpeaking) return ["speaking", "Speaking on the speakers"];
  return ["idle", ""];
}

export function refreshSpeaking() {
  const [now, label] = voiceNow();
  if (ui.speaking.dataset.state !== now) ui.speaking.dataset.state = now;
  const labelEl = $(".speaking-label", ui.speaking);
  if (labelEl.textContent !== label) labelEl.textContent = label;
}

/** Ask the server now (and keep asking). Resolves once this answer (or its absence) is shown. */
export async function pollStatus() {
  clearTimeout(pollTimer);
  let next = 1000;
  try {
    const s = await api.status();
    if (state.online === false) {
      showMessage("Reconnected to the Vox server.", "info");
      reconnected();
    }
    state.online = true;
    showEngine(s);
    if (s.state === "loading") next = 300;
  } catch (e) {
    if (state.online !== false) {
      state.online = false;
      setStatus("offline", "The Vox server does not answer. Trying again…");
      ui.progress.hidden = true;
      state.serverSpeaking = false;
      refreshSpeaking();
    }
    next = 1500;
  }
  pollTimer = setTimeout(pollStatus, next);
}

/** Where an engine runs, in words ("" for Piper, which always runs on the processor and is quick there). */
function where(s) {
  if (!s.device || s.engine === "piper") return "";
  return /cuda|gpu/i.test(s.device) ? " on the graphics card" : " on the processor (slow)";
}

function showEngine(s) {
  const name = ENGINE_NAMES[s.loading || s.engine] || s.engine || "The voice engine";
  state.engine = s.engine || state.engine;
  state.serverSpeaking = !!s.speaking;
  if (s.sample_rate && s.state === "ready") player.sampleRate = s.sample_rate;
  if (s.state === "loading") {
    const pct = Math.round((s.progress || 0) * 100);
    setStatus("loading", `Loading ${name}… ${pct}%`);
    ui.progress.hidden = false;
    ui.progress.value = s.progress || 0;
  } else {
    ui.progress.hidden = true;
    if (s.state === "ready") setStatus("ready", `${name} is ready${where(s)}`);
    else if (s.state === "error") setStatus("error", s.error || `${name} could not be loaded. Try again from the Voices panel.`);
    else setStatus("unloaded", `${name} is not loaded yet`);
  }
  emit("engine", { status: s, engine: state.engine });
  refreshSpeaking();
}

/** Start polling; `onReconnect` runs when the server answers again after being away. */
export function setupStatus({ onReconnect }) {
  reconnected = onReconnect;
  for (const type of ["replystart", "playing", "replyend", "error", "buffering", "pause"]) on(type, refreshSpeaking);
  return pollStatus();
}

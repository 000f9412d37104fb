/* What the top bar says: the engine's state (polled from the server: every second, every 300 ms while an
 * engine loads, every 1.5 s while the server is away) and whether Vox is speaking, in the page or on the
 * host's speakers. Each answer is announced as an "engine" event for the controls that depend on the engine.
 */

import { api } from "./api.js";
import { $ } from "./dom.js";
import { ENGINE_NAMES } from "./engines.js";
import { emit, on } from "./events.js";
import { showMessage } from "./notice.js";
import { isSpeaking, player } from "./speech.js";

const ui = { status: $("#status"), progress: $("#status-progress"), speaking: $("#speaking") };
const state = { engine: document.body.dataset.engine || "piper", serverSpeaking: false, online: null };
let pollTimer = 0;
let reconnected = () => {};

/** The engine the server has (or is loading). */
export const currentEngine = () => state.engine;

export function setStatus(kind, text) {
  if (ui.status.dataset.state !== kind) ui.status.dataset.state = kind;
  const t = $(".status-text", ui.status);
  if (t.textContent !== text) t.textContent = text;
}

export function refreshSpeaking() {
  const page = isSpeaking();
  const on = page || state.serverSpeaking;
  const label = page ? "Speaking" : state.serverSpeaking ? "Speaking on the speakers" : "Quiet";
  if (ui.speaking.dataset.state !== (on ? "speaking" : "idle")) ui.speaking.dataset.state = on ? "speaking" : "idle";
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
      setStatus("offline", "Server unreachable — retrying…");
      ui.progress.hidden = true;
      state.serverSpeaking = false;
      refreshSpeaking();
    }
    next = 1500;
  }
  pollTimer = setTimeout(pollStatus, next);
}

function showEngine(s) {
  const name = ENGINE_NAMES[s.loading || s.engine] || s.engine || "engine";
  state.engine = s.engine || state.engine;
  state.serverSpeaking = !!s.speaking;
  if (s.sample_rate && s.state === "ready") player.sampleRate = s.sample_rate;
  if (s.state === "loading") {
    const pct = Math.round((s.progress || 0) * 100);
    setStatus("loading", `Loading ${name}… ${pct}%${s.message ? ` — ${s.message}` : ""}`);
    ui.progress.hidden = false;
    ui.progress.value = s.progress || 0;
  } else {
    ui.progress.hidden = true;
    if (s.state === "ready") setStatus("ready", `${name} ready${s.device ? ` · ${s.device}` : ""}`);
    else if (s.state === "error") setStatus("error", `${name}: ${s.error || s.message || "failed to load"}`);
    else setStatus("unloaded", `${name} · loads on first use`);
  }
  emit("engine", { status: s, engine: state.engine });
  refreshSpeaking();
}

/** Start polling; `onReconnect` runs when the server answers again after being away. */
export function setupStatus({ onReconnect }) {
  reconnected = onReconnect;
  for (const type of ["replystart", "playing", "replyend", "error"]) on(type, refreshSpeaking);
  return pollStatus();
}

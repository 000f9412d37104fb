/* The Speak tab's controls: the text box, Voice, Speed, Language, "Play on speakers", and the Speak, Pause,
 * Stop and Stop all buttons. speak() is what the Speak button and its hotkey do: in the page, or on the host's
 * speakers when that box is ticked. The Voice menu's options are the voice library's (voices.js).
 *
 * The text box keeps its text until the reply is heard (a failed Speak loses nothing). Pause is enabled while
 * the page plays; Stop while anything speaks; Stop all while anything at all runs (speech here or on the
 * server, a chat reply being written, a recording).
 */

import { cardOf } from "./conversation.js";
import { $, el } from "./dom.js";
import { LANGUAGES } from "./engines.js";
import { on } from "./events.js";
import { currentMode } from "./modes.js";
import { showMessage } from "./notice.js";
import { prefs } from "./prefs.js";
import { replies, settle } from "./replies.js";
import * as speech from "./speech.js";
import { currentEngine, pollStatus, serverSpeaking } from "./status.js";
import { voiceProblem } from "./voices.js";

const ui = {
  form: $("#composer"),
  text: $("#text"),
  speak: $("#speak"),
  pause: $("#pause"),
  stop: $("#stop"),
  stopAll: $("#stop-all"),
  voice: $("#voice"),
  speed: $("#speed"),
  speedValue: $("#speed-value"),
  lang: $("#lang"),
  langField: $("#lang-field"),
  speakers: $("#speakers"),
};
const busy = { turn: false, recording: false };
let seq = 0;

/** The voice, speed and language chosen (the chat and replays speak with them too). */
export function options() {
  const lang = currentEngine() === "multilingual" ? ui.lang.value : undefined;
  return { voice: ui.voice.value || undefined, speed: Number(ui.speed.value), lang };
}

/** Whether the chosen voice can be spoken now; if not, say why and what to do (nothing is sent). */
function voiceReady() {
  const problem = voiceProblem(ui.voice.value);
  if (problem) showMessage(problem.message, "warn");
  return !problem;
}

/** Speak `text` (default: the text box's) the way the Speak button does. */
export function speak(text) {
  text = text == null ? ui.text.value : text;
  if (!text.trim()) {
    showMessage("There is nothing to say: type some text first.", "info");
    ui.text.focus();
    return;
  }
  if (!voiceReady()) return;
  if (ui.speakers.checked) speakOnHost(text);
  else speech.speak(text, options());
}

/** Speak a Speak-tab reply again (on the speakers if it went there) or download it. */
export function replay(record) {
  if (!voiceReady()) return;
  if (record.kind === "speakers") speakOnHost(record.text, record);
  else speech.replay(record, options());
}

export const download = (record) => speech.download(record, options());

async function speakOnHost(text, again) {
  const record = again || replies.add({ id: `s${++seq}`, kind: "speakers", text, ...options(), status: "pending" });
  record.status = "streaming";
  record.voiceState = "waiting";
  const card = cardOf(record, "speakers");
  card.setLoading("Playing on the speakers…", 0, record);
  const result = await speech.speakOnSpeakers(text, options());
  card.setLoading("", 0);
  if (result.ok) {
    settle(record, "done");
    record.voiceState = "done";
    if (ui.text.value === text) ui.text.value = "";
  } else {
    settle(record, "error", result.error);
    record.voiceState = "failed";
    card.showError("The speakers could not play this.", result.error);
  }
  card.show(record);
  pollStatus();
}

export function stop() {
  speech.stop();
  setTimeout(pollStatus, 150);
}

export function stopAll() {
  speech.stopAll();
  setTimeout(pollStatus, 150);
}

/** Space: pause or resume what the page plays. */
export function togglePause() {
  if (!speech.togglePause()) return false;
  refreshButtons();
  return true;
}

/** The buttons hotkeys.js labels with their keys. */
export const buttons = { speak: ui.speak, stop: ui.stop, stop_all: ui.stopAll, pause: ui.pause };

/** Enable what can act now. */
export function refreshButtons() {
  const page = speech.isSpeaking();
  const speaking = page || serverSpeaking();
  ui.pause.disabled = !speech.player.playing;
  const paused = speech.player.paused;
  ui.pause.textContent = paused ? "Resume" : "Pause";
  ui.pause.setAttribute("aria-pressed", String(paused));
  ui.stop.disabled = !speaking;
  ui.stopAll.disabled = !(speaking || busy.turn || busy.recording);
}

function showSpeed() {
  const label = `${Number(ui.speed.value).toFixed(2)}×`;
  ui.speedValue.textContent = label;
  ui.speed.setAttribute("aria-valuetext", label);
}

export function setupComposer() {
  ui.form.addEventListener("submit", (e) => {
    e.preventDefault();
    if (currentMode() === "speak") speak(); // in the Chat tab the text box is hidden: nothing to speak
  });
  ui.pause.addEventListener("click", togglePause);
  ui.stop.addEventListener("click", stop);
  ui.stopAll.addEventListener("click", stopAll);
  // Once a typed reply is heard, the text box is emptied (unless the user already typed something else).
  on("firstaudio", ({ replyId }) => {
    const record = replies.get(replyId);
    if (record && record.kind === "speak" && !record.replays && ui.text.value === record.text) ui.text.value = "";
  });
  on("engine", ({ engine }) => {
    ui.langField.hidden = engine !== "multilingual";
  });
  on("turn", ({ active }) => (busy.turn = active));
  on("recording", ({ on: recording }) => (busy.recording = recording));
  for (const type of ["replystart", "playing", "replyend", "pause", "engine", "turn", "recording", "replyerror"]) {
    on(type, refreshButtons);
  }
  ui.speed.value = prefs.get("speed", ui.speed.value);
  showSpeed();
  ui.speed.addEventListener("input", () => {
    showSpeed();
    prefs.set("speed", Number(ui.speed.value));
  });
  ui.speakers.checked = !!prefs.get("speakers", false);
  ui.speakers.addEventListener("change", () => prefs.set("speakers", ui.speakers.checked));
  const names = new Intl.DisplayNames(["en"], { type: "language" });
  ui.lang.replaceChildren(...LANGUAGES.map((code) => el("option", { value: code, textContent: names.of(code) })));
  ui.lang.value = "en";
  refreshButtons();
  ui.text.focus();
}

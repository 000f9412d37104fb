/* The Speak tab's controls: the text box, Voice, Speed, Language, "Play on speakers", and the Speak, Stop and
 * Stop all buttons. speak() is what the Speak button and its hotkey do: in the page, or on the host's
 * speakers when that box is ticked. The Voice menu's options are the voice library's (voices.js). */

import { addBubble, setBubbleState } from "./conversation.js";
import { $, el } from "./dom.js";
import { LANGUAGES } from "./engines.js";
import { on } from "./events.js";
import { currentMode } from "./modes.js";
import { showMessage } from "./notice.js";
import { prefs } from "./prefs.js";
import * as speech from "./speech.js";
import { currentEngine, pollStatus } from "./status.js";

const ui = {
  form: $("#composer"),
  text: $("#text"),
  speak: $("#speak"),
  stop: $("#stop"),
  stopAll: $("#stop-all"),
  voice: $("#voice"),
  speed: $("#speed"),
  speedValue: $("#speed-value"),
  lang: $("#lang"),
  langField: $("#lang-field"),
  speakers: $("#speakers"),
};

/** The voice and speed chosen (the chat speaks with them too). */
export function options() {
  return { voice: ui.voice.value || undefined, speed: Number(ui.speed.value) };
}

/** Speak `text` (default: the text box's) the way the Speak button does. */
export function speak(text) {
  text = text == null ? ui.text.value : text;
  if (!text.trim()) {
    showMessage("There is nothing to say: type some text first.", "info");
    ui.text.focus();
    return;
  }
  const lang = currentEngine() === "multilingual" ? ui.lang.value : undefined;
  if (ui.speakers.checked) speakOnHost(text);
  else speech.speak(text, { ...options(), lang });
}

async function speakOnHost(text) {
  const bubble = addBubble(`s${Date.now()}`, text, { ...options(), where: "speakers" });
  setBubbleState(bubble, "streaming", "Playing on the speakers…");
  const result = await speech.speakOnSpeakers(text, options());
  if (result.ok) setBubbleState(bubble, "done", "Sent to the speakers");
  else setBubbleState(bubble, "error", result.error);
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

/** The buttons hotkeys.js labels with their keys. */
export const buttons = { speak: ui.speak, stop: ui.stop, stop_all: ui.stopAll };

function showSpeed() {
  ui.speedValue.textContent = `${Number(ui.speed.value).toFixed(2)}×`;
}

export function setupComposer() {
  ui.form.addEventListener("submit", (e) => {
    e.preventDefault();
    if (currentMode() === "speak") speak(); // in the Chat tab the text box is hidden: nothing to speak
  });
  ui.stop.addEventListener("click", stop);
  ui.stopAll.addEventListener("click", stopAll);
  // A typed reply that started clears the text box (unless the user already typed something else).
  on("replystart", ({ text }) => {
    if (ui.text.value === text) ui.text.value = "";
  });
  on("engine", ({ engine }) => {
    ui.langField.hidden = engine !== "multilingual";
  });
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
  ui.text.focus();
}

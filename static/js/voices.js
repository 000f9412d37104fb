/* The voices panel: the voice library (list, preview, rename, delete, upload), the Voice menu it fills, the
 * engine choice, and opening and closing the panel. Recording a voice is recorder.js; it saves through
 * uploadVoice here. */

import { api } from "./api.js";
import { $, el } from "./dom.js";
import { ENGINE_BADGES, ENGINE_NAMES } from "./engines.js";
import { on } from "./events.js";
import { showMessage } from "./notice.js";
import { prefs } from "./prefs.js";
import { pollStatus, setStatus } from "./status.js";

const ui = {
  select: $("#voice"),
  list: $("#voice-list"),
  panel: $("#voices-panel"),
  toggle: $("#voices-toggle"),
  engine: $("#engine"),
};
let library = [];

/** The name of voice `id` as the library lists it. */
export function voiceName(id) {
  const v = library.find((x) => x.id === id);
  return v ? v.name : id || "Default voice";
}

/** Fetch the library and show it (the menu keeps the remembered choice when it still exists). */
export async function loadVoices() {
  let body;
  try {
    body = await api.voices();
  } catch (e) {
    ui.list.replaceChildren(el("li", { className: "hint", textContent: `The voice library could not be loaded. ${e.message}` }));
    return;
  }
  library = Array.isArray(body.voices) ? body.voices : [];
  const def = body.default || (library[0] && library[0].id) || "";
  const wanted = prefs.get("voice", "") || ui.select.value || def;
  ui.select.replaceChildren(
    ...library.map((v) => {
      const clone = !(v.engines || []).includes("piper");
      return el("option", { value: v.id, textContent: clone ? `${v.name} · Chatterbox` : v.name });
    })
  );
  ui.select.value = library.some((v) => v.id === wanted) ? wanted : def;
  ui.list.replaceChildren(...library.map(voiceItem));
}

const duration = (s) => (s ? `${Number(s).toFixed(1)} s` : "");

function voiceItem(v) {
  const builtin = v.builtin || v.id === "joe";
  const badges = el(
    "span",
    { className: "badges" },
    ...(v.engines || []).map((e) => el("span", { className: "badge", textContent: ENGINE_BADGES[e] || e }))
  );
  const preview = el("button", { type: "button", className: "small", textContent: "▶ Preview" });
  preview.setAttribute("aria-label", `Preview ${v.name}`);
  preview.addEventListener("click", () => previewVoice(v));
  const actions = el("span", { className: "actions" }, preview);
  const li = el(
    "li",
    { className: "voice" },
    el(
      "div",
      { className: "voice-head" },
      el("span", { className: "voice-name", textContent: v.name }),
      el("code", { textContent: v.id }),
      v.duration ? el("span", { className: "duration", textContent: duration(v.duration) }) : null
    ),
    badges,
    actions
  );
  li.dataset.voice = v.id;
  if (!builtin) {
    const rename = el("button", { type: "button", className: "small", textContent: "Rename" });
    rename.setAttribute("aria-label", `Rename ${v.name}`);
    rename.addEventListener("click", () => startRename(li, v));
    const del = el("button", { type: "button", className: "small danger", textContent: "Delete" });
    del.setAttribute("aria-label", `Delete ${v.name}`);
    del.addEventListener("click", () => deleteVoice(v));
    actions.append(rename, del);
  }
  return li;
}

let previewAudio = null;
/** A clip voice plays its clip; a Piper voice says a short sample. */
function previewVoice(v) {
  if (previewAudio) previewAudio.pause();
  previewAudio = new Audio(api.voiceAudioUrl(v.id));
  previewAudio.play().catch(() => showMessage(`The preview of ${v.name} could not be played. Try again.`));
}

function startRename(li, v) {
  const input = el("input", { type: "text", value: v.name, maxLength: 64 });
  input.setAttribute("aria-label", `New name for ${v.name}`);
  const save = el("button", { type: "submit", className: "small primary", textContent: "Save" });
  const cancel = el("button", { type: "button", className: "small", textContent: "Cancel" });
  const form = el("form", { className: "rename" }, input, save, cancel);
  cancel.addEventListener("click", () => li.replaceWith(voiceItem(v)));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const name = input.value.trim();
    if (!name) return input.focus();
    try {
      await api.renameVoice(v.id, name);
    } catch (err) {
      return showMessage(err.message);
    }
    showMessage(`Renamed to ${name}.`, "info");
    await loadVoices();
    const again = $(`[data-voice="${CSS.escape(v.id)}"] button`);
    if (again) again.focus();
  });
  li.replaceChildren(form);
  input.focus();
  input.select();
}

async function deleteVoice(v) {
  if (!window.confirm(`Delete the voice “${v.name}”? Its clip is removed from the voices folder.`)) return;
  try {
    await api.deleteVoice(v.id);
  } catch (e) {
    return showMessage(e.message);
  }
  showMessage(`Deleted ${v.name}.`, "info");
  if (ui.select.value === v.id) prefs.set("voice", "");
  await loadVoices();
}

/** Add a clip to the library and choose it; returns the new voice, or null after showing why not. */
export async function uploadVoice(file, name) {
  let body;
  try {
    body = await api.uploadVoice(file, name);
  } catch (e) {
    showMessage(e.message);
    return null;
  }
  const voice = body.voice || {};
  showMessage(`Added the voice ${voice.name || name || ""}.`, "info");
  if (voice.id) prefs.set("voice", voice.id);
  await loadVoices();
  return voice;
}

async function loadEngine() {
  const engine = ui.engine.value;
  setStatus("loading", `Loading ${ENGINE_NAMES[engine]}…`);
  setTimeout(pollStatus, 100);
  try {
    await api.loadEngine(engine);
    showMessage(`${ENGINE_NAMES[engine]} is ready.`, "info");
  } catch (e) {
    showMessage(e.message);
  }
  pollStatus();
  loadVoices();
}

export function setPanel(open) {
  ui.panel.hidden = !open;
  ui.toggle.setAttribute("aria-expanded", String(open));
  document.body.classList.toggle("panel-open", open);
  prefs.set("panel", open);
  if (open) $("#voices-title").focus();
}

export function setupVoices() {
  ui.select.addEventListener("change", () => prefs.set("voice", ui.select.value));
  $("#voice-upload").addEventListener("submit", async (e) => {
    e.preventDefault();
    const file = $("#voice-file").files[0];
    if (!file) {
      showMessage("Choose an audio clip to upload first.", "info");
      return $("#voice-file").focus();
    }
    if (await uploadVoice(file, $("#voice-name").value.trim())) e.target.reset();
  });
  $("#engine-load").addEventListener("click", loadEngine);
  // The engine menu follows the server, except while the user is choosing in it.
  on("engine", ({ engine }) => {
    if (document.activeElement !== ui.engine && ENGINE_NAMES[engine]) ui.engine.value = engine;
  });
  $("#voices-title").tabIndex = -1;
  ui.toggle.addEventListener("click", () => setPanel(ui.panel.hidden));
  $("#voices-close").addEventListener("click", () => {
    setPanel(false);
    ui.toggle.focus();
  });
  if (prefs.get("panel", false)) setPanel(true);
  return loadVoices();
}

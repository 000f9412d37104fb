/* The voices panel: the voice library (list, preview, rename, delete, upload), the Voice menu it fills, the
 * engine choice and loading (Piper as soon as the page opens), and opening and closing the panel. Recording a
 * voice is recorder.js; it saves through uploadVoice here.
 *
 * The Voice menu lists first the voices the loaded engine speaks, then the others, each saying which engine
 * it needs; choosing one of those shows what it needs with a one-click action (load that engine), or why
 * that engine cannot run here (GET /api/engines, embedded in the page). */

import { api } from "./api.js";
import { onEscape } from "./dismiss.js";
import { confirmDialog } from "./dialog.js";
import { $, el } from "./dom.js";
import { ENGINE_BADGES, ENGINE_NAMES, ENGINES } from "./engines.js";
import { emit, on } from "./events.js";
import { showMessage } from "./notice.js";
import { prefs } from "./prefs.js";
import { currentEngine, pollStatus, setStatus } from "./status.js";

const ui = {
  select: $("#voice"),
  list: $("#voice-list"),
  panel: $("#voices-panel"),
  toggle: $("#voices-toggle"),
  engine: $("#engine"),
  engineLoad: $("#engine-load"),
  engineReason: $("#engine-reason"),
  need: $("#voice-need"),
};
let library = [];
let shownFor = null; // the engine the menu was built for
let autoLoaded = false;

const title = (engine) => ENGINE_NAMES[engine] || engine;

/** The engine a voice needs when the loaded one cannot speak it: the first that can run here, else the first. */
function neededEngine(v) {
  const engines = v.engines || [];
  return engines.find((e) => ENGINES[e] && ENGINES[e].available) || engines[0] || null;
}

/** Why voice `id` cannot be spoken now, as {voice, engine, available, message}, or null when it can. */
export function voiceProblem(id) {
  const v = library.find((x) => x.id === id);
  const engine = currentEngine();
  if (!v || (v.engines || []).includes(engine)) return null;
  const need = neededEngine(v);
  const info = ENGINES[need] || {};
  const message = info.available
    ? `${v.name} needs ${title(need)}, and ${title(engine)} is loaded. Load ${title(need)} to use this voice, or choose another voice.`
    : `${v.name} needs ${title(need)}, which cannot run here: ${info.reason || "it is not installed."} Choose another voice meanwhile.`;
  return { voice: v, engine: need, available: !!info.available, message };
}
/** The name of voice `id` as the library lists it. */
export function voiceName(id) {
  const v = library.find((x) => x.id === id);
  return v ? v.name : id || "Default voice";
}

let defaultVoice = "";

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
  defaultVoice = body.default || (library[0] && library[0].id) || "";
  showLibrary();
}

/** The Voice menu and the panel's list, for the engine loaded now. */
function showLibrary() {
  const engine = currentEngine();
  shownFor = engine;
  const wanted = prefs.get("voice", "") || ui.select.value || defaultVoice;
  const usable = library.filter((v) => (v.engines || []).includes(engine));
  const others = library.filter((v) => !(v.engines || []).includes(engine));
  const groups = [];
  if (usable.length) {
    const group = el("optgroup", { label: `Voices for ${title(engine)}` });
    group.append(...usable.map((v) => el("option", { value: v.id, textContent: v.name })));
    groups.push(group);
  }
  if (others.length) {
    const group = el("optgroup", { label: "Need another engine" });
    group.append(...others.map((v) => el("option", { value: v.id, textContent: `${v.name} (needs ${title(neededEngine(v))})` })));
    groups.push(group);
  }
  ui.select.replaceChildren(...groups);
  ui.select.value = library.some((v) => v.id === wanted) ? wanted : usable[0]?.id || defaultVoice;
  ui.list.replaceChildren(...library.map(voiceItem));
  showNeed();
}

/** Under the controls: what the chosen voice needs, with the one-click action (or nothing). */
function showNeed() {
  const problem = voiceProblem(ui.select.value);
  ui.need.hidden = !problem;
  if (!problem) return;
  const text = el("span", { textContent: problem.message });
  const children = [text];
  if (problem.available) children.push(loadButton(problem.engine, problem.voice.name));
  ui.need.replaceChildren(...children);
}

/** A button that loads `engine` (for voice `voiceName`, when given). */
function loadButton(engine, voiceName) {
  const b = el("button", { type: "button", className: "small primary", textContent: `Load ${title(engine)}` });
  if (voiceName) b.setAttribute("aria-label", `Load ${title(engine)} for ${voiceName}`);
  b.addEventListener("click", () => loadEngine(engine));
  return b;
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
  const problem = voiceProblem(v.id);
  let need = null;
  if (problem) {
    need = el("p", { className: "hint need", textContent: problem.available ? `Needs ${title(problem.engine)}.` : problem.message });
    if (problem.available) actions.append(loadButton(problem.engine, v.name));
  }
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
    need,
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
  save.setAttribute("aria-label", `Save the new name for ${v.name}`);
  const cancel = el("button", { type: "button", className: "small", textContent: "Cancel" });
  cancel.setAttribute("aria-label", `Cancel renaming ${v.name}`);
  const form = el("form", { className: "rename" }, input, save, cancel);
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    done();
    const item = voiceItem(v);
    li.replaceWith(item);
    item.querySelector("button")?.focus();
  };
  const done = onEscape(close); // Esc closes the rename box before it means stop
  cancel.addEventListener("click", close);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const name = input.value.trim();
    if (!name) return input.focus();
    try {
      await api.renameVoice(v.id, name);
    } catch (err) {
      return showMessage(err.message);
    }
    closed = true;
    done();
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
  const sure = await confirmDialog({
    title: `Delete the voice ${v.name}?`,
    message: "Its clip is removed from the voices folder. This cannot be undone.",
    confirm: "Delete",
  });
  if (!sure) return;
  try {
    await api.deleteVoice(v.id);
  } catch (e) {
    return showMessage(e.message);
  }
  showMessage(`Deleted ${v.name}.`, "info");
  if (ui.select.value === v.id) prefs.set("voice", "");
  await loadVoices();
}

/** Add a clip to the library; it is chosen only when the loaded engine can speak it (a clip voice while
 * Piper is loaded would make the next Speak fail). Returns the new voice, or null after showing why not. */
export async function uploadVoice(file, name) {
  let body;
  try {
    body = await api.uploadVoice(file, name);
  } catch (e) {
    showMessage(e.message);
    return null;
  }
  const voice = body.voice || {};
  const usable = (voice.engines || []).includes(currentEngine());
  if (voice.id && usable) prefs.set("voice", voice.id);
  await loadVoices();
  const needs = voice.engines && voice.engines.length ? title(neededEngine(voice)) : "";
  showMessage(
    usable || !needs
      ? `Added the voice ${voice.name || name || ""}.`
      : `Added the voice ${voice.name || name || ""}. It needs ${needs}: load it in the Voices panel to use this voice.`,
    "info"
  );
  return voice;
}

/** Load `engine` (default: the panel's choice); the status line and the reply cards show its progress. */
export async function loadEngine(engine = ui.engine.value) {
  const info = ENGINES[engine];
  if (info && !info.available) {
    showMessage(`${title(engine)} cannot run here: ${info.reason}`);
    return false;
  }
  setStatus("loading", `Loading ${title(engine)}…`);
  setTimeout(pollStatus, 100);
  let ok = true;
  try {
    await api.loadEngine(engine);
    showMessage(`${title(engine)} is ready.`, "info");
  } catch (e) {
    ok = false;
    showMessage(e.message);
  }
  await pollStatus();
  await loadVoices();
  return ok;
}

/** The engine menu: what the chosen engine needs when it cannot run here (shown before anyone tries). */
function showEngineChoice() {
  const info = ENGINES[ui.engine.value] || {};
  ui.engineLoad.disabled = !info.available;
  ui.engineReason.hidden = !!info.available;
  ui.engineReason.textContent = info.available ? "" : info.reason || "";
}

/** On the first status: load the engine if none is loaded yet and it is Piper (cheap), so the first Speak does
 * not wait for it; a large engine is loaded only when the user asks. Later: rebuild the menu per engine. */
function onEngine({ status, engine }) {
  if (!autoLoaded && status.state === "unloaded" && engine === "piper" && ENGINES.piper?.available) {
    autoLoaded = true;
    api.loadEngine("piper").catch((e) => showMessage(e.message)).finally(pollStatus);
  }
  autoLoaded = true;
  if (engine !== shownFor && library.length) showLibrary();
}

export function setPanel(open) {
  ui.panel.hidden = !open;
  ui.toggle.setAttribute("aria-expanded", String(open));
  document.body.classList.toggle("panel-open", open);
  prefs.set("panel", open);
  if (open) $("#voices-title").focus();
}

export function setupVoices() {
  ui.select.addEventListener("change", () => {
    prefs.set("voice", ui.select.value);
    showNeed();
    emit("voice", { voice: ui.select.value });
  });
  for (const option of ui.engine.options) {
    const info = ENGINES[option.value];
    if (info && !info.available) option.textContent = `${info.title} (cannot run here)`;
  }
  ui.engine.addEventListener("change", showEngineChoice);
  $("#voice-upload").addEventListener("submit", async (e) => {
    e.preventDefault();
    const file = $("#voice-file").files[0];
    if (!file) {
      showMessage("Choose an audio clip to upload first.", "info");
      return $("#voice-file").focus();
    }
    if (await uploadVoice(file, $("#voice-name").value.trim())) e.target.reset();
  });
  ui.engineLoad.addEventListener("click", () => loadEngine());
  // The engine menu follows the server when the server's engine changes; a choice the user made in the menu
  // stays until then (a status poll does not take it back).
  let serverEngine = null;
  on("engine", (detail) => {
    if (detail.engine !== serverEngine && document.activeElement !== ui.engine && ENGINE_NAMES[detail.engine]) {
      serverEngine = detail.engine;
      ui.engine.value = detail.engine;
      showEngineChoice();
    }
    onEngine(detail);
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

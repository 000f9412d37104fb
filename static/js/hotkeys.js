/* The in-page hotkeys: the one parser of a key spec ("Ctrl+Enter", "Shift+Esc"; from config.toml [hotkeys],
 * rendered by the template into <body data-hotkey-*>), the hint that shows them, and the one keydown listener
 * that runs an action. What an action means (speak, or send in the Chat tab) is the entry module's choice.
 *
 * Two keys are the page's own: Space pauses and resumes, unless the focus is on something Space already
 * works (a text box, a button, a menu); and a plain Esc first closes what is open (a dialog, a rename box:
 * dismiss.js) and only means "stop" when nothing is. */

import { dismissNewest } from "./dismiss.js";
import { $, el } from "./dom.js";

const KEY_ALIASES = { esc: "Escape", return: "Enter", space: " ", ctrl: "Control", cmd: "Meta", super: "Meta" };
const KEY_LABELS = { Control: "Ctrl", Escape: "Esc", Meta: "Super", " ": "Space" };
const ACTIONS = ["stop_all", "stop", "speak", "pause"]; // matched in this order: Shift+Esc before Esc
const PAUSE = "Space";

/** Whether Space on `target` already does something (types, clicks, opens): then it is not "pause". */
const spaceIsTaken = (target) =>
  !!(target && target.closest && target.closest("input, textarea, select, button, a[href], summary, [contenteditable], [role=tab], [role=button], dialog"));

/** {key, mods: {Control, Shift, Alt, Meta}, parts} of a spec like "Ctrl+Alt+S", or null for none. */
export function parseHotkey(spec) {
  const parts = String(spec || "").split("+").map((p) => p.trim()).filter(Boolean);
  const mods = { Control: false, Shift: false, Alt: false, Meta: false };
  let key = "";
  for (const raw of parts) {
    const p = KEY_ALIASES[raw.toLowerCase()] || raw;
    const mod = Object.keys(mods).find((m) => m.toLowerCase() === p.toLowerCase());
    if (mod) mods[mod] = true;
    else key = p;
  }
  return key ? { key, mods, parts: [...Object.keys(mods).filter((m) => mods[m]), key] } : null;
}

/** Whether keydown event `e` is hotkey `hk` (exactly those modifiers). */
export function matches(hk, e) {
  if (!hk) return false;
  const key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
  const want = hk.key.length === 1 ? hk.key.toLowerCase() : hk.key;
  const m = hk.mods;
  return key === want && e.ctrlKey === m.Control && e.shiftKey === m.Shift && e.altKey === m.Alt && e.metaKey === m.Meta;
}

const label = (part) => KEY_LABELS[part] || part;

/**
 * Read the configured keys, show them in the hint ([data-hotkey=name]) and on `buttons[name]` (title and
 * aria-keyshortcuts), and call `actions[name]()` when one is pressed. Returns the parsed keys.
 */
export function installHotkeys(actions, buttons) {
  const data = document.body.dataset;
  const keys = {
    stop_all: parseHotkey(data.hotkeyStopAll),
    stop: parseHotkey(data.hotkeyStop),
    speak: parseHotkey(data.hotkeySpeak),
    pause: parseHotkey(PAUSE),
  };
  for (const [name, hk] of Object.entries(keys)) {
    const slot = $(`[data-hotkey="${name}"]`);
    if (!slot) continue;
    if (!hk) {
      slot.closest(".hk").hidden = true; // no key configured for this action
      continue;
    }
    slot.replaceChildren(...hk.parts.flatMap((p, i) => [i ? "+" : null, el("kbd", { textContent: label(p) })]).filter((x) => x));
    const button = buttons[name];
    button.title = `${button.textContent} (${hk.parts.map(label).join("+")})`;
    button.setAttribute("aria-keyshortcuts", hk.parts.join("+"));
  }
  document.addEventListener("keydown", (e) => {
    if (e.isComposing || e.repeat) return;
    if (e.key === "Escape" && !e.shiftKey && !e.ctrlKey && !e.altKey && !e.metaKey && dismissNewest()) {
      e.preventDefault(); // Esc closed a dialog or a rename box; it does not stop speech too
      return;
    }
    const action = ACTIONS.find((name) => matches(keys[name], e));
    if (!action) return;
    if (action === "pause" && spaceIsTaken(e.target)) return;
    if (action === "pause" && actions.pause() === false) return; // nothing plays: Space scrolls as usual
    e.preventDefault();
    if (action !== "pause") actions[action]();
  });
  return keys;
}

/* The two tabs above the text box: "Speak text" (the conversation view and its text box) or "Chat" (the LLM
 * chat and its message box). Each tab controls its panel (the conversation, or the chat section); the text
 * boxes below belong to the mode too. The mode is body[data-mode] (the CSS shows what belongs to it) and is
 * remembered across reloads. */

import { $ } from "./dom.js";
import { prefs } from "./prefs.js";

const tabs = { speak: $("#mode-speak"), chat: $("#mode-chat") };
let mode = "speak";
let changed = () => {};

export const currentMode = () => mode;

export function setMode(next, focus = false) {
  mode = next === "chat" ? "chat" : "speak";
  const chat = mode === "chat";
  document.body.dataset.mode = mode;
  $("#chat").hidden = !chat;
  $("#conversation").hidden = chat;
  for (const [name, tab] of Object.entries(tabs)) {
    const on = name === mode;
    tab.setAttribute("aria-selected", String(on));
    tab.tabIndex = on ? 0 : -1;
  }
  prefs.set("mode", mode);
  const skip = $(".skip");
  skip.href = chat ? "#chat-input" : "#text";
  skip.textContent = chat ? "Skip to the message box" : "Skip to the text box";
  changed(mode);
  if (focus) (chat ? $("#chat-input") : $("#text")).focus();
}

/** Wire the tabs (click, arrow keys) and restore the remembered mode; `onChange(mode)` runs on each switch. */
export function setupModes({ onChange }) {
  changed = onChange;
  for (const [name, tab] of Object.entries(tabs)) {
    tab.addEventListener("click", () => setMode(name, true));
    tab.addEventListener("keydown", (e) => {
      if (!["ArrowLeft", "ArrowRight", "Home", "End"].includes(e.key)) return;
      e.preventDefault();
      const next = name === "speak" ? "chat" : "speak";
      const target = e.key === "Home" ? "speak" : e.key === "End" ? "chat" : next;
      setMode(target);
      tabs[target].focus();
    });
  }
  const remembered = prefs.get("mode", "speak");
  setMode(remembered, remembered === "chat");
}

/* The words of the turn being spoken, shown in the chat as the server recognises them (listen.js feeds it):
 * one "listening" message at the end of the log, replaced by the real message once the turn is sent. */

import { $, el } from "./dom.js";

let bubble = null;

export function showBubble(text) {
  const log = $("#chat-log");
  if (!log) return;
  if (!bubble) {
    bubble = el("article", { className: "msg user listening" }, el("div", { className: "msg-body" }));
    bubble.setAttribute("aria-live", "polite");
    log.append(bubble);
  }
  bubble.querySelector(".msg-body").textContent = text;
  log.scrollTop = log.scrollHeight;
}

export function hideBubble() {
  if (bubble) bubble.remove();
  bubble = null;
}


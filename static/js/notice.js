/* The message bar under the top bar: errors and warnings stay until dismissed or replaced, info fades. Every
 * module's user-facing message ends up here (the "error" and "notice" events included). */

import { $ } from "./dom.js";
import { on } from "./events.js";

const bar = $("#message");
let fadeTimer = 0;

export function showMessage(text, kind = "error") {
  clearTimeout(fadeTimer);
  bar.dataset.kind = kind;
  $(".message-text", bar).textContent = text;
  bar.hidden = false;
  if (kind === "info") fadeTimer = setTimeout(hideMessage, 5000);
}

export function hideMessage() {
  bar.hidden = true;
}

export function setupNotices() {
  $(".message-close", bar).addEventListener("click", hideMessage);
  on("notice", (d) => showMessage(d.message, "warn"));
  on("error", (d) => showMessage(d.message, "error"));
}

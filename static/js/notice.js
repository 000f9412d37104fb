/* The message bar under the top bar: errors and warnings stay until dismissed or replaced, info fades. Every
 * module's user-facing message ends up here (the "error" and "notice" events included). An error is read out
 * at once (role=alert); information and warnings politely (role=status), each in its own live region. */

import { $ } from "./dom.js";
import { on } from "./events.js";

const bar = $("#message");
const regions = { alert: $("#message-alert"), status: $("#message-status") };
let fadeTimer = 0;

export function showMessage(text, kind = "error") {
  clearTimeout(fadeTimer);
  bar.dataset.kind = kind;
  const [speak, quiet] = kind === "error" ? [regions.alert, regions.status] : [regions.status, regions.alert];
  quiet.textContent = "";
  speak.textContent = text;
  bar.hidden = false;
  if (kind === "info") fadeTimer = setTimeout(hideMessage, 6000);
}

export function hideMessage() {
  bar.hidden = true;
}

export function setupNotices() {
  $(".message-close", bar).addEventListener("click", hideMessage);
  on("notice", (d) => showMessage(d.message, "warn"));
  on("error", (d) => showMessage(d.message, "error"));
}

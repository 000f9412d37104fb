/* The page's one confirmation dialog (a native <dialog>, modal): Clear and Delete ask here instead of with
 * window.confirm, so the question looks like the page, is read out as a dialog, and Esc closes it (without
 * stopping speech: dismiss.js). */

import { $ } from "./dom.js";
import { onEscape } from "./dismiss.js";

const ui = { dialog: $("#confirm"), title: $("#confirm-title"), text: $("#confirm-text"), ok: $("#confirm-ok") };

/** Ask `title` / `message`; resolves true when the user confirms with the `confirm` button. */
export function confirmDialog({ title, message, confirm }) {
  return new Promise((resolve) => {
    const back = document.activeElement;
    ui.title.textContent = title;
    ui.text.textContent = message;
    ui.ok.textContent = confirm;
    const done = onEscape(() => ui.dialog.close("cancel"));
    ui.dialog.addEventListener(
      "close",
      () => {
        done();
        if (back && back.isConnected) back.focus();
        resolve(ui.dialog.returnValue === "ok");
      },
      { once: true }
    );
    ui.dialog.returnValue = "cancel";
    ui.dialog.showModal();
    $("#confirm-cancel").focus();
  });
}

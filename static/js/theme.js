/* Light or dark: the system's setting by default, or the one the user chose with the theme button (System ->
 * Light -> Dark -> System), remembered across reloads. The stylesheet's colours follow <html data-theme>
 * (light-dark() with color-scheme), so there is one list of colours. */

import { $ } from "./dom.js";
import { prefs } from "./prefs.js";

const ORDER = ["system", "light", "dark"];
const LABELS = { system: "System theme", light: "Light theme", dark: "Dark theme" };
const ICONS = { system: "◐", light: "☀", dark: "☾" };

let theme = "system";

export const currentTheme = () => theme;

export function setTheme(next) {
  theme = ORDER.includes(next) ? next : "system";
  const root = document.documentElement;
  if (theme === "system") delete root.dataset.theme;
  else root.dataset.theme = theme;
  prefs.set("theme", theme);
  const button = $("#theme");
  const after = ORDER[(ORDER.indexOf(theme) + 1) % ORDER.length];
  $(".theme-icon", button).textContent = ICONS[theme];
  $(".theme-label", button).textContent = LABELS[theme].replace(" theme", "");
  button.setAttribute("aria-label", `${LABELS[theme]}; switch to ${LABELS[after].toLowerCase()}`);
  button.title = `${LABELS[theme]} (click for ${LABELS[after].toLowerCase()})`;
}

export function setupTheme() {
  setTheme(prefs.get("theme", "system"));
  $("#theme").addEventListener("click", () => setTheme(ORDER[(ORDER.indexOf(theme) + 1) % ORDER.length]));
}

/* What the page knows about the engines, from the server (the template embeds GET /api/engines' list): their
 * names, the badge a voice gets for each, their languages, and whether they can run here. The one copy of
 * these lists is the server's engine registry (vox/engines/registry.py). */

const list = JSON.parse(document.getElementById("vox-engines")?.textContent || "[]");

export const ENGINES = Object.fromEntries(list.map((e) => [e.name, e]));
export const ENGINE_NAMES = Object.fromEntries(list.map((e) => [e.name, e.title]));
export const ENGINE_BADGES = Object.fromEntries(list.map((e) => [e.name, e.badge || e.title]));
export const LANGUAGES = [...new Set(list.flatMap((e) => e.languages))].sort();

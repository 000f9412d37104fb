/* What the page says about the engines: their names, the badge a voice gets for each, and the languages of
 * Chatterbox Multilingual. The page's one copy of these lists (the engine select in the template lists the
 * same engines); once the server hands them to the page, this is the module to change. */

export const ENGINE_NAMES = { piper: "Piper", turbo: "Chatterbox Turbo", multilingual: "Chatterbox Multilingual" };
export const ENGINE_BADGES = { piper: "Piper", turbo: "Turbo", multilingual: "Multilingual" };
export const LANGUAGES = "ar da de el en es fi fr he hi it ja ko ms nl no pl pt ru sv sw tr zh".split(" ");

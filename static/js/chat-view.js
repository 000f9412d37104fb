/* The Chat tab's view: the log of messages (the user's, and the assistant's as reply cards), which stays
 * scrolled to the end unless the reader scrolled up; the message box that grows with what is typed; Send and
 * Clear; the LLM server's pill; and the highlight of the words being heard. chat.js decides what to show. */

import { $, clock, el } from "./dom.js";
import { clearSpoken } from "./highlight.js";
import { prefs } from "./prefs.js";
import { ReplyCard } from "./reply-card.js";

const ui = {
  section: $("#chat"),
  log: $("#chat-log"),
  empty: $("#chat-empty"),
  input: $("#chat-input"),
  send: $("#chat-send"),
  clear: $("#chat-clear"),
  speakReplies: $("#chat-speak"),
  llm: $("#chat-llm"),
};
/** The LLM server from [llm] in config.toml, as the template put it on the section. */
export const llm = { model: ui.section.dataset.llmModel || "", url: ui.section.dataset.llmUrl || "" };

const cards = new WeakMap(); // record -> ReplyCard
let stick = true; // follow the end of the log (false once the reader scrolled up)
let heard = null; // {record, idx, text} of the chunk being heard

export function scrollToEnd(force) {
  if (force || stick) ui.log.scrollTop = ui.log.scrollHeight;
}

export function addUser(text) {
  ui.empty.hidden = true;
  const article = el(
    "article",
    { className: "msg user" },
    el("div", { className: "msg-body", textContent: text }),
    el("div", { className: "msg-meta" }, el("span", { className: "who", textContent: "You" }), el("time", { textContent: clock() }))
  );
  article.dataset.role = "user";
  ui.log.append(article);
  scrollToEnd(true);
}

export function addAssistant(record) {
  ui.empty.hidden = true;
  const card = new ReplyCard({
    who: llm.model || "Assistant",
    onRender: () => {
      highlight();
      scrollToEnd();
    },
  });
  cards.set(record, card);
  ui.log.append(card.article);
  card.show(record);
  return card;
}

/** Bring a reply's card up to date; `busy` (a reply is being written) disables Send and Clear. */
export function show(record, busy) {
  const card = cards.get(record);
  if (card) card.show(record);
  ui.send.disabled = busy;
  ui.clear.disabled = busy;
}

export const render = (record) => cards.get(record)?.render(record);
export const renderSoon = (record) => cards.get(record)?.renderSoon(record);
export const showError = (record, title, message, onRetry) => cards.get(record)?.showError(title, message, onRetry);

/** The chunk being heard changed ({record, idx, text}, or null when none is). */
export function setHeard(next) {
  heard = next;
  highlight();
}

function highlight() {
  const card = heard && cards.get(heard.record);
  if (card) card.highlight(heard);
  else clearSpoken();
}

export function clearLog() {
  for (const node of ui.log.querySelectorAll(".msg")) node.remove();
  ui.empty.hidden = false;
  setHeard(null);
}

export const hasMessages = () => !!ui.log.querySelector(".msg");

export function setLlmState(kind, title) {
  ui.llm.dataset.state = kind;
  if (title) ui.llm.title = title;
}

/** The message box: its text, emptied; whether replies are to be spoken. */
export const input = {
  text: () => ui.input.value,
  take() {
    const text = ui.input.value;
    ui.input.value = "";
    fitInput();
    return text;
  },
  focus: () => ui.input.focus(),
  /** After Send, the focus goes back to the box (the button is disabled while the reply streams). */
  refocus() {
    if (document.activeElement === ui.send) ui.input.focus();
  },
  speakReplies: () => ui.speakReplies.checked,
};

/** The message box grows with what is typed (up to its max-height), and shrinks back once sent. */
function fitInput() {
  ui.input.style.height = "";
  if (ui.input.scrollHeight > ui.input.clientHeight) ui.input.style.height = `${ui.input.scrollHeight + 2}px`;
}

export function setupChatView({ onSend, onClear }) {
  ui.log.addEventListener("scroll", () => (stick = ui.log.scrollHeight - ui.log.scrollTop - ui.log.clientHeight < 80), {
    passive: true,
  });
  ui.input.addEventListener("keydown", (e) => {
    if (e.key !== "Enter" || e.shiftKey || e.ctrlKey || e.altKey || e.metaKey || e.isComposing) return;
    e.preventDefault(); // Enter sends, Shift+Enter is a new line
    onSend();
  });
  ui.input.addEventListener("input", fitInput);
  ui.send.addEventListener("click", () => onSend());
  ui.send.title = "Send (Enter)";
  ui.send.setAttribute("aria-keyshortcuts", "Enter");
  ui.clear.addEventListener("click", onClear);
  ui.speakReplies.checked = prefs.get("chatSpeak", true);
  ui.speakReplies.addEventListener("change", () => prefs.set("chatSpeak", ui.speakReplies.checked));
  ui.llm.title = `Replies come from ${llm.model} at ${llm.url} ([llm] in config.toml)`;
}

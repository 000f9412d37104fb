/* The Chat tab's view: the log of messages (the user's, and the assistant's as reply cards), which stays
 * scrolled to the end unless the reader scrolled up; the message box that grows with what is typed; Send,
 * which turns into Stop while a reply is being written, and Clear; the LLM server's pill; and the highlight
 * of the sentence being heard. chat.js decides what to show. */

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
let heard = null; // {record, sentence} being heard
let answers = 0;
let actions = { replay: () => {}, download: () => {} };

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

/** Scroll the log so that `range` (the sentence heard) is in view, unless it is following the end. */
function reveal(range) {
  if (stick && heard && heard.record.status !== "done") return;
  const box = ui.log.getBoundingClientRect();
  const r = range.getBoundingClientRect();
  if (r.top < box.top + 8 || r.bottom > box.bottom - 8) {
    ui.log.scrollBy({ top: r.top - box.top - box.height / 3, behavior: "smooth" });
  }
}

export function addAssistant(record) {
  ui.empty.hidden = true;
  const card = new ReplyCard({
    kind: "chat",
    who: llm.model || "Assistant",
    number: ++answers,
    noun: "answer",
    actions: { replay: () => actions.replay(record), download: () => actions.download(record) },
    onRender: () => scrollToEnd(),
    reveal,
  });
  cards.set(record, card);
  ui.log.append(card.article);
  card.show(record);
  return card;
}

/** Bring a reply's card up to date; while `busy` (a reply is being written) Send is Stop and Clear waits. */
export function show(record, busy) {
  const card = cards.get(record);
  if (card) card.show(record);
  setBusy(busy);
}

function setBusy(busy) {
  if (ui.send.dataset.busy === String(busy)) return;
  ui.send.dataset.busy = String(busy);
  ui.send.textContent = busy ? "Stop reply" : "Send";
  ui.send.classList.toggle("primary", !busy);
  ui.send.classList.toggle("danger", busy);
  ui.send.title = busy ? "Stop the reply (Shift+Esc)" : "Send (Enter)";
  ui.send.setAttribute("aria-keyshortcuts", busy ? "Shift+Escape" : "Enter");
  ui.clear.disabled = busy;
}

export const cardOf = (record) => cards.get(record);

export const render = (record) => cards.get(record)?.render(record);
export const renderSoon = (record) => cards.get(record)?.renderSoon(record);
export const showError = (record, title, message, onRetry) => cards.get(record)?.showError(title, message, onRetry);

/** The sentence being heard changed ({record, sentence}, or null when none is). */
export function setHeard(next) {
  const was = heard && cards.get(heard.record);
  heard = next;
  const card = heard && cards.get(heard.record);
  if (card) card.highlight(heard.record, heard.sentence);
  else {
    if (was) was.sentence = null;
    clearSpoken();
  }
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
  /** After Send, the focus goes back to the box (the button is Stop while the reply streams). */
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

export function setupChatView({ onSend, onStop, onClear, onReplay, onDownload }) {
  actions = { replay: onReplay, download: onDownload };
  ui.log.addEventListener("scroll", () => (stick = ui.log.scrollHeight - ui.log.scrollTop - ui.log.clientHeight < 80), {
    passive: true,
  });
  ui.input.addEventListener("keydown", (e) => {
    if (e.key !== "Enter" || e.shiftKey || e.ctrlKey || e.altKey || e.metaKey || e.isComposing) return;
    e.preventDefault(); // Enter sends, Shift+Enter is a new line
    onSend();
  });
  ui.input.addEventListener("input", fitInput);
  ui.send.addEventListener("click", () => (ui.send.dataset.busy === "true" ? onStop() : onSend()));
  setBusy(false);
  ui.clear.addEventListener("click", onClear);
  ui.speakReplies.checked = prefs.get("chatSpeak", true);
  ui.speakReplies.addEventListener("change", () => prefs.set("chatSpeak", ui.speakReplies.checked));
  ui.llm.title = `Replies come from ${llm.model} at ${llm.url} ([llm] in config.toml)`;
}

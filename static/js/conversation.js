/* The Speak tab's conversation view: one reply card (reply-card.js) per reply spoken (typed, pushed by another
 * program, or sent to the speakers), showing the whole reply at once, rendered like the chat, with the
 * sentence being heard highlighted, the engine's loading progress while the reply waits for it, and Replay and
 * Download on every card. It listens to the player's and speech client's events. */

import { $ } from "./dom.js";
import { ENGINE_NAMES } from "./engines.js";
import { on } from "./events.js";
import { clearSpoken } from "./highlight.js";
import { hideMessage } from "./notice.js";
import { ReplyCard } from "./reply-card.js";
import { replies } from "./replies.js";
import { voiceName } from "./voices.js";

const MAX_CARDS = 200;

const ui = { conversation: $("#conversation"), empty: $("#conversation-empty") };
const cards = new Map(); // record id -> ReplyCard
let numbered = 0;
let loading = { text: "", fraction: 0 };
let actions = { replay: () => {}, download: () => {} };

/** Scroll the conversation so that `range` (the sentence heard) is in view. */
function reveal(range) {
  const box = ui.conversation.getBoundingClientRect();
  const r = range.getBoundingClientRect();
  if (r.top < box.top + 8 || r.bottom > box.bottom - 8) {
    ui.conversation.scrollBy({ top: r.top - box.top - box.height / 3, behavior: "smooth" });
  }
}

/** The card of `record` (a Speak-tab reply), created at the end of the view when it has none. */
export function cardOf(record, where = "page") {
  let card = cards.get(record.id);
  if (card) return card;
  ui.empty.hidden = true;
  const live = where === "live";
  const details = live
    ? ["Sent by another program"]
    : [voiceName(record.voice), `${Number(record.speed || 1).toFixed(2)}×`, where === "speakers" ? "On the speakers" : null];
  card = new ReplyCard({
    kind: "speak",
    details: details.filter(Boolean),
    number: ++numbered,
    noun: "reply",
    actions: { replay: () => actions.replay(record), download: () => actions.download(record) },
    reveal,
  });
  card.article.dataset.reply = record.id;
  card.article.setAttribute("aria-label", `Reply ${numbered}`);
  if (loading.text) card.setLoading(loading.text, loading.fraction);
  ui.conversation.append(card.article);
  cards.set(record.id, card);
  while (cards.size > MAX_CARDS) {
    const [oldId, old] = cards.entries().next().value;
    old.article.remove();
    cards.delete(oldId);
  }
  card.render(record);
  card.show(record);
  card.article.scrollIntoView({ block: "end", behavior: "smooth" });
  return card;
}

/** Bring `record`'s card (if it has one) up to date. */
export function showRecord(record) {
  const card = record && cards.get(record.id);
  if (card) card.show(record);
  return card;
}

const update = (replyId) => showRecord(replies.get(replyId));

function onPlaying({ replyId, sentence }) {
  const record = replies.get(replyId);
  const card = record && cards.get(replyId);
  if (!card) return;
  if (record.kind === "live") card.render(record); // a pushed reply's text grows with its chunks
  card.highlight(record, sentence);
  card.show(record);
}

function onEnd({ replyId }) {
  const card = update(replyId);
  if (card) {
    card.sentence = null;
    clearSpoken();
  }
}

function onEngine({ status }) {
  const on = status.state === "loading";
  const pct = Math.round((status.progress || 0) * 100);
  const name = ENGINE_NAMES[status.engine] || "the voice engine";
  loading = on ? { text: `Loading ${name}… ${pct}%`, fraction: status.progress || 0 } : { text: "", fraction: 0 };
  for (const [id, card] of cards) {
    const record = replies.get(id);
    if (record && (card.loading || loading.text)) card.setLoading(loading.text, loading.fraction, record);
  }
}

/** Listen to the player; `onReplay(record)` and `onDownload(record)` run on a card's buttons. */
export function setupConversation({ onReplay, onDownload }) {
  actions = { replay: onReplay, download: onDownload };
  on("replystart", ({ replyId, kind }) => {
    const record = replies.get(replyId);
    if (!record || kind === "chat") return;
    hideMessage();
    const card = cardOf(record, kind === "live" ? "live" : "page");
    card.clearError();
    card.show(record);
  });
  on("playing", onPlaying);
  for (const type of ["buffering", "pause", "firstaudio", "download"]) on(type, ({ replyId }) => update(replyId));
  on("replyend", onEnd);
  on("replyerror", ({ replyId, message }) => {
    const card = update(replyId);
    if (card) card.showError("This reply could not be spoken.", message, () => actions.replay(replies.get(replyId)));
  });
  on("engine", onEngine);
}

/* The Speak tab's conversation view: one card per reply spoken (typed, pushed by another program, or sent to
 * the speakers), showing each chunk's text as it arrives, the chunk being heard highlighted, and how the reply
 * ended. It only listens to the player's and speech client's events. */

import { $, clock, el } from "./dom.js";
import { on } from "./events.js";
import { hideMessage } from "./notice.js";
import { voiceName } from "./voices.js";

const MAX_CARDS = 200;
const END_LABELS = { done: "Spoken", stopped: "Stopped", replaced: "Interrupted by the next reply", error: "Failed" };

const ui = { conversation: $("#conversation"), empty: $("#conversation-empty") };
const bubbles = new Map(); // reply id -> {article, body, stateLabel, chunks: Map idx -> span, total}
let sayAgain = () => {};

/** A card for reply `id`; `opts.where` is "page", "speakers" or "live" (pushed by another program). */
export function addBubble(id, text, opts) {
  ui.empty.hidden = true;
  const live = opts.where === "live";
  const body = el("div", { className: "reply-body pending" }, text);
  const stateLabel = el("span", { className: "reply-state" }, "Preparing…");
  const again = el("button", { type: "button", className: "link again", textContent: "Say again" });
  // A pushed reply's text is only known from its chunks; a typed one is said again as typed.
  again.addEventListener("click", () => sayAgain(live ? body.textContent : text));
  const meta = el(
    "div",
    { className: "reply-meta" },
    stateLabel,
    live ? null : el("span", { textContent: voiceName(opts.voice) }),
    live ? null : el("span", { textContent: `${Number(opts.speed || 1).toFixed(2)}×` }),
    opts.where === "speakers" ? el("span", { textContent: "speakers" }) : null,
    live ? el("span", { textContent: "pushed by another program" }) : null,
    el("time", { textContent: clock() }),
    again
  );
  const article = el("article", { className: "reply" }, body, meta);
  article.dataset.reply = id;
  article.dataset.state = "pending";
  article.setAttribute("aria-label", `Spoken text, ${new Date().toLocaleTimeString()}`);
  ui.conversation.append(article);
  const bubble = { article, body, stateLabel, chunks: new Map(), total: null };
  bubbles.set(id, bubble);
  while (bubbles.size > MAX_CARDS) {
    const [oldId, old] = bubbles.entries().next().value;
    old.article.remove();
    bubbles.delete(oldId);
  }
  article.scrollIntoView({ block: "end", behavior: "smooth" });
  return bubble;
}

export function setBubbleState(bubble, name, label) {
  if (!bubble) return;
  bubble.article.dataset.state = name;
  bubble.stateLabel.textContent = label;
  if (name !== "streaming") for (const span of bubble.chunks.values()) span.classList.remove("now");
}

function onChunk({ replyId, idx, total, text }) {
  const b = bubbles.get(replyId);
  if (!b) return;
  if (b.body.classList.contains("pending")) {
    b.body.classList.remove("pending");
    b.body.replaceChildren();
  }
  if (!b.chunks.has(idx)) {
    const span = el("span", { className: "chunk", textContent: text });
    span.dataset.idx = idx;
    if (b.chunks.size) b.body.append(" ");
    b.body.append(span);
    b.chunks.set(idx, span);
  }
  b.total = total;
  setBubbleState(b, "streaming", total ? `Speaking · ${b.chunks.size}/${total} ready` : "Speaking");
}

function onPlaying({ replyId, idx }) {
  const b = bubbles.get(replyId);
  if (!b) return;
  for (const [i, span] of b.chunks) {
    span.classList.toggle("now", i === idx);
    if (idx != null && i < idx) span.classList.add("played");
  }
  const now = b.chunks.get(idx);
  if (now) now.scrollIntoView({ block: "nearest", behavior: "smooth" });
}

function onReplyEnd({ replyId, reason }) {
  const b = bubbles.get(replyId);
  if (!b || b.article.dataset.state === "error") return;
  if (reason === "done") for (const span of b.chunks.values()) span.classList.add("played");
  setBubbleState(b, reason, END_LABELS[reason] || reason);
}

/** Listen to the player; `onSayAgain(text)` speaks a card's text again the way the Speak button would. */
export function setupConversation({ onSayAgain }) {
  sayAgain = onSayAgain;
  on("replystart", ({ replyId, text, voice, speed, live }) => {
    hideMessage();
    addBubble(replyId, text || "…", { voice, speed, where: live ? "live" : "page" });
  });
  on("chunk", onChunk);
  on("playing", onPlaying);
  on("replyend", onReplyEnd);
  on("replyerror", ({ replyId, message }) => setBubbleState(bubbles.get(replyId), "error", `Failed: ${message}`));
}

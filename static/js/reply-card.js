/* A reply card: one reply as the reader sees it. Its body is the reply's markdown rendered (at most once a
 * frame while tokens stream in), with the words being heard highlighted; its meta line says who wrote it,
 * whether it is still being written, and what its voice is doing; a failure shows an error box with a retry.
 * The chat shows every assistant turn as one; it is built to be the Speak tab's card too (a reply, its state,
 * its voice), so that both views look and behave alike.
 *
 * A card shows a record (replies.js) with: text, status (waiting|streaming|stopping|done|stopped|error) and
 * voiceState (waiting|playing|done|stopped|replaced|failed|off), and voiceError.
 */

import { clock, el } from "./dom.js";
import { highlightSpoken } from "./highlight.js";
import { escapeHtml, inline, renderMarkdown, streamingText } from "./markdown.js";

const STATE_LABELS = {
  waiting: "Thinking…",
  streaming: "Writing…",
  stopping: "Stopping…",
  done: "",
  stopped: "Stopped",
  error: "No reply",
};
const VOICE_LABELS = {
  waiting: "",
  playing: "Speaking",
  done: "",
  stopped: "Voice stopped",
  replaced: "Voice interrupted",
  failed: "Voice failed",
  off: "",
};

/** Whether a reply's text is still coming. */
export const isWriting = (status) => status === "waiting" || status === "streaming" || status === "stopping";

export class ReplyCard {
  /** `who` names the writer; `onRender(card)` runs after the body changed (to re-highlight, to scroll). */
  constructor({ who, onRender }) {
    this.onRender = onRender;
    this.body = el("div", { className: "msg-body md" });
    this.typing = el("span", { className: "typing" }, el("i"), el("i"), el("i"));
    this.typing.setAttribute("aria-hidden", "true");
    this.label = el("span", { className: "msg-state" });
    this.voice = el("span", { className: "msg-voice" });
    this.meta = el(
      "div",
      { className: "msg-meta" },
      el("span", { className: "who", textContent: who }),
      this.typing,
      this.label,
      this.voice,
      el("time", { textContent: clock() })
    );
    this.article = el("article", { className: "msg assistant" }, this.body, this.meta);
    this.article.dataset.role = "assistant";
    this.html = null;
    this.renders = 0;
    this.queued = false;
    this.spoken = null; // where the words last heard were found (highlight.js)
  }

  /** Bring the state and voice labels up to date with `r`. */
  show(r) {
    const busy = isWriting(r.status);
    this.article.dataset.state = r.status;
    this.article.dataset.voice = r.voiceState;
    this.article.setAttribute("aria-busy", String(busy)); // read out once complete, not token by token
    this.typing.hidden = !busy;
    let label = r.status in STATE_LABELS ? STATE_LABELS[r.status] : r.status;
    if (r.status === "stopped" && !r.text) label = "Stopped before the reply began";
    if (r.status === "done" && r.voiceState === "playing") label = "";
    this.label.textContent = label;
    this.label.hidden = !label;
    this.voice.textContent = VOICE_LABELS[r.voiceState] || "";
    this.voice.hidden = !this.voice.textContent;
    if (r.voiceError) this.voice.title = r.voiceError;
  }

  /** Render `r.text` now (tidied while it is still being written). */
  render(r) {
    this.queued = false;
    const html = renderMarkdown(isWriting(r.status) ? streamingText(r.text) : r.text);
    if (html === this.html) return;
    this.html = html;
    this.body.innerHTML = html;
    this.renders++;
    this.onRender(this);
  }

  /** Render soon, at most once per frame while tokens stream in. */
  renderSoon(r) {
    if (this.queued) return;
    this.queued = true;
    const run = () => {
      if (this.queued) this.render(r);
    };
    requestAnimationFrame(run);
    setTimeout(run, 100); // a hidden window gets no animation frames: render anyway, a little later
  }

  /** Highlight the words of chunk `now` ({idx, text}) being heard. */
  highlight(now) {
    this.spoken = highlightSpoken(this.body, now, this.spoken);
  }

  /** An error box under the text: `title`, the sentence `message` (inline markdown), and a retry button. */
  showError(title, message, onRetry) {
    const box = el("div", { className: "msg-error" });
    box.setAttribute("role", "alert");
    box.innerHTML = `<p class="msg-error-title">${escapeHtml(title)}</p><p>${inline(message)}</p>`;
    const retry = el("button", { type: "button", className: "small", textContent: "Try again" });
    retry.addEventListener("click", onRetry);
    box.append(retry);
    this.article.insertBefore(box, this.meta);
  }
}

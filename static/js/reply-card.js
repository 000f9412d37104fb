/* A reply card: one reply as the reader sees it, in the Speak tab (text typed, or pushed by another program)
 * and in the chat (an assistant's answer). Its body is the reply's markdown rendered (markdown.js; at most once
 * a frame while tokens stream in), whole from the start, with the sentence being heard highlighted from the
 * server's offsets (highlight.js); code blocks get a copy button. Its meta line says who wrote it, what its
 * text and voice are doing (loading the engine, speaking, buffering, paused, stopped...), and holds Replay and
 * Download (WAV). A failure shows an error box with a retry.
 *
 * A card shows a record (replies.js) with: kind, text, status, voiceState, voiceError (see speech.js, chat.js).
 */

import { clock, el } from "./dom.js";
import { codePointOffsets, rangeOf, showSpoken, sourceMap } from "./highlight.js";
import { escapeHtml, inline, renderMarkdown, streamingText } from "./markdown.js";

const CHAT_STATES = {
  waiting: "Thinking…",
  streaming: "Writing…",
  stopping: "Stopping…",
  stopped: "Stopped",
  error: "No reply",
};
const VOICE_STATES = {
  playing: "Speaking",
  buffering: "Buffering…",
  paused: "Paused",
  stopped: "Voice stopped",
  replaced: "Voice interrupted",
  failed: "Voice failed",
};

/** Whether a reply's text is still coming. */
export const isWriting = (status) => status === "waiting" || status === "streaming" || status === "stopping";

/** What a Speak-tab card says about its reply. */
function speakLabel(r, loading) {
  if (r.status === "error") return "Failed";
  if (r.voiceState in { playing: 1, buffering: 1, paused: 1 }) return VOICE_STATES[r.voiceState];
  if (r.status === "replaced" || r.voiceState === "replaced") return "Interrupted by the next reply";
  if (r.status === "stopped" || r.voiceState === "stopped") return "Stopped";
  if (r.voiceState === "done") return "Spoken";
  return loading || "Preparing…";
}

/** The first words of `text`, for names that say which reply a button is about. */
function snippet(text) {
  const plain = String(text || "")
    .replace(/(```|~~~)[\s\S]*?(\1|$)/g, " (code) ")
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/[`*_~#>|]+/g, "")
    .replace(/\s+/g, " ")
    .trim();
  return plain.length > 48 ? `${plain.slice(0, 46).trimEnd()}…` : plain;
}

export class ReplyCard {
  /**
   * `kind` "speak" or "chat"; `who` names the writer; `details` are extra meta items (voice, speed);
   * `number` and `noun` name the card in its buttons ("Replay answer 3"); `actions` {replay, download} run on
   * the buttons; `onRender(card)` after the body changed; `reveal(range)` brings a highlight into view.
   */
  constructor({ kind = "chat", who, details = [], number, noun = "reply", actions, onRender = () => {}, reveal }) {
    this.kind = kind;
    this.number = number;
    this.noun = noun;
    this.onRender = onRender;
    this.reveal = reveal;
    this.body = el("div", { className: "msg-body md" });
    this.typing = el("span", { className: "typing" }, el("i"), el("i"), el("i"));
    this.typing.setAttribute("aria-hidden", "true");
    this.label = el("span", { className: "msg-state" });
    this.voice = el("span", { className: "msg-voice" });
    this.progress = el("progress", { max: 1, value: 0, hidden: true });
    this.progress.setAttribute("aria-label", "Engine loading");
    this.replay = el("button", { type: "button", className: "small act", textContent: "Replay" });
    this.download = el("button", { type: "button", className: "small act", textContent: "WAV" });
    this.replay.addEventListener("click", () => actions.replay());
    this.download.addEventListener("click", () => actions.download());
    const who$ = who ? el("span", { className: "who", textContent: who }) : null;
    this.meta = el(
      "div",
      { className: "msg-meta" },
      who$,
      this.typing,
      this.label,
      this.voice,
      this.progress,
      ...details.map((d) => el("span", { textContent: d })),
      el("time", { textContent: clock() }),
      el("span", { className: "msg-actions" }, this.replay, this.download)
    );
    this.article = el("article", { className: `msg assistant ${kind === "speak" ? "reply" : ""}`.trim() }, this.body, this.meta);
    this.article.dataset.role = "assistant";
    this.html = null;
    this.map = null; // where each character shown comes from in the reply (highlight.js), built on demand
    this.sentence = null; // the sentence being heard ({start, end, js}), re-applied after a render
    this.renders = 0;
    this.queued = false;
    this.loading = "";
  }

  /** Bring the state labels and buttons up to date with `r`. */
  show(r) {
    const busy = this.kind === "chat" && isWriting(r.status); // a Speak-tab reply's text is whole from the start
    this.article.dataset.state = r.status;
    this.article.dataset.voice = r.voiceState || "";
    this.article.setAttribute("aria-busy", String(busy)); // read out once complete, not token by token
    this.typing.hidden = !busy;
    let label;
    let voice = "";
    if (this.kind === "speak") {
      label = speakLabel(r, this.loading);
    } else {
      label = CHAT_STATES[r.status] || (r.interrupted ? "Interrupted" : "");
      if (r.status === "stopped" && !r.text) label = "Stopped before the reply began";
      voice = VOICE_STATES[r.voiceState] || (r.voiceState === "waiting" && this.loading ? this.loading : "");
    }
    this.label.textContent = label;
    this.label.hidden = !label;
    this.voice.textContent = voice;
    this.voice.hidden = !voice;
    this.voice.title = r.voiceError || "";
    const showLoading = !!this.loading && r.voiceState === "waiting";
    this.progress.hidden = !showLoading;
    const what = snippet(r.text);
    const name = `${this.noun} ${this.number}${what ? `: “${what}”` : ""}`;
    this.replay.setAttribute("aria-label", `Replay ${name}`);
    this.download.setAttribute("aria-label", `Download ${name} as a WAV file`);
    this.replay.title = "Speak it again";
    this.download.title = "Download it as a WAV file";
    const ready = !busy && !!String(r.text || "").trim();
    this.replay.disabled = !ready;
    this.download.disabled = !ready || !!r.downloading;
    this.download.textContent = r.downloading ? "Making WAV…" : "WAV";
  }

  /** The engine is loading (`text`, e.g. "Loading Piper… 40%", and a fraction), or not (""). */
  setLoading(text, fraction, r) {
    this.loading = text;
    this.progress.value = fraction || 0;
    if (r) this.show(r);
  }

  /** Render `r.text` now (tidied while it is still being written). */
  render(r) {
    this.queued = false;
    const source = this.kind === "chat" && isWriting(r.status) ? streamingText(r.text) : r.text;
    const html = renderMarkdown(source);
    if (html === this.html) return;
    this.html = html;
    this.body.innerHTML = html;
    for (const pre of this.body.querySelectorAll("pre.md-code")) pre.append(this.copyButton(pre));
    this.map = null;
    this.renders++;
    if (this.sentence) this.highlight(r, this.sentence, false);
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

  /** A button that copies a code block's text. */
  copyButton(pre) {
    const lang = pre.dataset.lang;
    const blocks = this.body.querySelectorAll("pre.md-code").length;
    const which = blocks > 1 ? ` block ${[...this.body.querySelectorAll("pre.md-code")].indexOf(pre) + 1}` : "";
    const name = `Copy the ${lang ? `${lang} ` : ""}code${which} of ${this.noun} ${this.number}`;
    const button = el("button", { type: "button", className: "md-copy" });
    button.setAttribute("aria-label", name);
    button.addEventListener("click", async () => {
      const code = pre.querySelector("code").textContent;
      try {
        await navigator.clipboard.writeText(code);
        button.dataset.done = "true";
        button.setAttribute("aria-label", "Copied");
      } catch (e) {
        button.dataset.done = "failed";
        button.setAttribute("aria-label", "Copying is not allowed here: select the code and press Ctrl+C");
      }
      setTimeout(() => {
        delete button.dataset.done;
        button.setAttribute("aria-label", name);
      }, 2000);
    });
    return button;
  }

  /** Highlight sentence `s` ({start, end, js}: offsets in the reply, Python code points unless `js`), or none. */
  highlight(r, s, reveal = true) {
    this.sentence = s;
    if (!s) return showSpoken(null);
    const text = String(r.text || "");
    if (!this.map) this.map = sourceMap(this.body, text); // streamingText only changes the last line's end
    const js = s.js ? (n) => n : codePointOffsets(text);
    const range = rangeOf(this.map, js(s.start), js(s.end));
    showSpoken(range);
    if (range && reveal && this.reveal) this.reveal(range);
  }

  /** An error box under the text: `title`, the sentence `message` (inline markdown), and a retry button. */
  showError(title, message, onRetry) {
    this.article.querySelector(".msg-error")?.remove();
    const box = el("div", { className: "msg-error" });
    box.setAttribute("role", "alert");
    box.innerHTML = `<p class="msg-error-title">${escapeHtml(title)}</p><p>${inline(message)}</p>`;
    if (onRetry) {
      const retry = el("button", { type: "button", className: "small", textContent: "Try again" });
      retry.setAttribute("aria-label", `Try ${this.noun} ${this.number} again`);
      retry.addEventListener("click", onRetry);
      box.append(retry);
    }
    this.article.insertBefore(box, this.meta);
  }

  clearError() {
    this.article.querySelector(".msg-error")?.remove();
  }
}

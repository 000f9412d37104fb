/* Vox chat: talk to the local LLM (POST /api/chat); the reply streams into the view and is spoken as it is written.
 *
 * One SSE response carries both: {"token"} deltas for the view (markdown, rendered here safely: escaped first,
 * then a small subset) and audio messages, which go to the page's gapless player (vox.js: beginReply,
 * player.playChunk / finish), then {"done", "reply", "stopped"}. Esc (stop) silences the voice and the text
 * goes on; Shift+Esc (stop all) also makes the server cancel the LLM request, and the stream ends "stopped".
 * The page switches between "Speak text" and "Chat" with the tabs above the text box.
 * window.voxChat exposes the state for tests: replies, active, send, clear, renderMarkdown.
 */
(function () {
  "use strict";

  const vox = window.vox;
  const voxUI = window.voxUI;
  const { $, el, store } = voxUI; // shared page helpers (ui.js)
  const HIGHLIGHT = "vox-chat-now"; // the CSS Custom Highlight of the sentence being spoken
  const STOP_ALL_GRACE_MS = 4000; // after stop-all, wait this long for the server's "stopped" before hanging up

  // ---- markdown, safely ---------------------------------------------------------------------------
  // Everything the LLM wrote is HTML-escaped before any markup is added, and the markup added is a fixed set
  // of tags without attributes except a title holding escaped text: a reply cannot inject HTML. Links are
  // shown as their text (the address in the tooltip): nothing in a reply navigates anywhere.

  const ESC = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
  const escapeHtml = (s) => String(s).replace(/[&<>"']/g, (c) => ESC[c]);

  /** One line (or paragraph) of inline markdown: code spans, bold, italic, strikethrough, links. */
  function inline(src) {
    const codes = [];
    let s = String(src).replace(/\u0000/g, "");
    s = s.replace(/(`+)([\s\S]*?[^`])\1(?!`)/g, (m, ticks, body) => {
      codes.push(body.replace(/^ (.*) $/, "$1"));
      return `\u0000${codes.length - 1}\u0000`;
    });
    s = escapeHtml(s);
    s = s.replace(/!?\[([^\]\n]+)\]\(([^()\s]+)(?:\s+&quot;.*?&quot;)?\)/g, '<span class="md-link" title="$2">$1</span>');
    s = s.replace(/(\*\*\*|___)(?=\S)([\s\S]*?\S)\1/g, "<strong><em>$2</em></strong>");
    s = s.replace(/(\*\*|__)(?=\S)([\s\S]*?\S)\1/g, "<strong>$2</strong>");
    s = s.replace(/\*([^\s*](?:[^*]*?[^\s*])?)\*/g, "<em>$1</em>");
    s = s.replace(/(^|[^\w])_([^\s_](?:[^_]*?[^\s_])?)_(?!\w)/g, "$1<em>$2</em>");
    s = s.replace(/~~(?=\S)([\s\S]*?\S)~~/g, "<del>$1</del>");
    return s.replace(/\u0000(\d+)\u0000/g, (m, i) => `<code>${escapeHtml(codes[Number(i)])}</code>`);
  }

  const RE = {
    fence: /^\s{0,3}(`{3,}|~{3,})\s*([\w+#.-]*)/,
    heading: /^\s{0,3}(#{1,6})\s+(.*?)(?:\s+#+)?\s*$/,
    rule: /^\s{0,3}([-*_])(?:\s*\1){2,}\s*$/,
    quote: /^\s{0,3}>\s?(.*)$/,
    item: /^(\s*)([-*+]|\d{1,9}[.)])\s+(.*)$/,
    tableSep: /^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$/,
  };

  function cells(line) {
    return line.trim().replace(/^\|/, "").replace(/\|$/, "").split("|").map((c) => inline(c.trim()));
  }

  /** Items {indent, ordered, start, text} as nested <ul>/<ol>. */
  function renderList(items) {
    let html = "";
    const stack = [];
    const open = (it) => {
      const tag = it.ordered ? "ol" : "ul";
      html += it.ordered && it.start !== 1 ? `<ol start="${it.start}">` : `<${tag}>`;
      stack.push({ tag, indent: it.indent });
    };
    for (const it of items) {
      while (stack.length > 1 && it.indent < stack[stack.length - 1].indent) html += `</li></${stack.pop().tag}>`;
      const top = stack[stack.length - 1];
      if (!top || it.indent > top.indent + 1) open(it);
      else if (top.tag !== (it.ordered ? "ol" : "ul") && it.indent <= top.indent) {
        html += `</li></${stack.pop().tag}>`;
        if (stack.length) html += "</li>";
        open(it);
      } else html += "</li>";
      html += `<li>${inline(it.text)}`;
    }
    while (stack.length) html += `</li></${stack.pop().tag}>`;
    return html;
  }

  /** Markdown to safe HTML: paragraphs, headings, lists, code blocks, quotes, tables, rules and inline marks.
   * A reply still streaming is fine: an unclosed code fence runs to the end, an unclosed mark stays as typed. */
  function renderMarkdown(src) {
    const lines = String(src || "").replace(/\r\n?/g, "\n").split("\n");
    const out = [];
    let para = [];
    let list = [];
    const flushPara = () => {
      if (para.length) out.push(`<p>${para.map((l) => inline(l.trim())).join("<br>")}</p>`);
      para = [];
    };
    const flushList = () => {
      if (list.length) out.push(renderList(list));
      list = [];
    };
    const flush = () => {
      flushPara();
      flushList();
    };
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i];
      let m;
      if ((m = line.match(RE.fence))) {
        flush();
        const body = [];
        const close = new RegExp(`^\\s{0,3}${m[1][0] === "`" ? "`" : "~"}{${m[1].length},}\\s*$`);
        while (++i < lines.length && !close.test(lines[i])) body.push(lines[i]);
        if (i >= lines.length && body.length && !body[body.length - 1].trim()) body.pop(); // still being written
        const lang = m[2] ? ` data-lang="${escapeHtml(m[2])}"` : "";
        out.push(`<pre class="md-code"${lang}><code>${escapeHtml(body.join("\n"))}</code></pre>`);
      } else if (!line.trim()) {
        flushPara(); // a blank line inside a list keeps it going (a "loose" list)
        if (list.length && !(lines[i + 1] || "").match(RE.item) && !/^\s/.test(lines[i + 1] || "")) flushList();
      } else if ((m = line.match(RE.heading))) {
        flush();
        const level = Math.min(m[1].length + 2, 6);
        out.push(`<h${level} class="md-h">${inline(m[2])}</h${level}>`);
      } else if (RE.rule.test(line) && !(list.length && /^\s/.test(line))) {
        flush();
        out.push("<hr>");
      } else if ((m = line.match(RE.item))) {
        flushPara();
        const ordered = /\d/.test(m[2]);
        list.push({ indent: m[1].replace(/\t/g, "    ").length, ordered, start: ordered ? parseInt(m[2], 10) : 1, text: m[3] });
      } else if (list.length && (/^\s/.test(line) || !para.length)) {
        list[list.length - 1].text += ` ${line.trim()}`; // a wrapped list item
      } else if ((m = line.match(RE.quote))) {
        flush();
        const quoted = [m[1]];
        while (i + 1 < lines.length && (m = lines[i + 1].match(RE.quote))) quoted.push(m[1]) && i++;
        out.push(`<blockquote>${quoted.map((q) => inline(q)).join("<br>")}</blockquote>`);
      } else if (line.includes("|") && RE.tableSep.test(lines[i + 1] || "")) {
        flush();
        const head = cells(line);
        const rows = [];
        i++;
        while (i + 1 < lines.length && lines[i + 1].includes("|") && lines[i + 1].trim()) rows.push(cells(lines[++i]));
        const tr = (cs, tag) => `<tr>${cs.map((c) => `<${tag}>${c}</${tag}>`).join("")}</tr>`;
        out.push(`<table><thead>${tr(head, "th")}</thead><tbody>${rows.map((r) => tr(r, "td")).join("")}</tbody></table>`);
      } else {
        flushList();
        para.push(line);
      }
    }
    flush();
    return out.join("");
  }

  /** The text of a reply still streaming, tidied for display so that it only grows: a last line that is only a
   * marker so far ("-", "##", "1.") is left out, a mark at its very end waits for the next token, and bold,
   * italic or code opened on it is closed for now, so the words show formatted while they arrive instead of
   * after a "**" that later disappears. */
  function streamingText(text) {
    const lines = text.split("\n");
    let last = lines.pop();
    const fences = (text.match(/^\s{0,3}(```|~~~)/gm) || []).length;
    if (fences % 2) return /^\s*[`~]*\s*$/.test(last) ? lines.join("\n") : text; // in a code block
    // A table shows once its separator line has come; a row once it is complete.
    const row = (l) => /^\s*\|/.test(l || "");
    if (row(last)) last = "";
    if (!last.trim() && row(lines[lines.length - 1]) && !row(lines[lines.length - 2])) lines.pop();
    const head = lines.length ? `${lines.join("\n")}\n` : "";
    if (/^\s*([-*+>#]+|\d+[.)]?|`{1,3}|~{1,3})\s*$/.test(last)) return head;
    last = last.replace(/[*_`]+$/, "").replace(/!?\[([^\]]*)(\](\([^)]*)?)?$/, "$1"); // a link: its text so far
    if ((last.match(/`/g) || []).length % 2) return `${head}${last}\``;
    const plain = last.replace(/`[^`]*`/g, (m) => " ".repeat(m.length)).replace(/^(\s*)[*+-](\s)/, "$1 $2");
    const open = [];
    const re = /\*\*\*|\*\*|\*/g;
    for (let m = re.exec(plain); m; m = re.exec(plain)) {
      const before = plain[m.index - 1] || " ";
      const after = plain[m.index + m[0].length] || " ";
      if (open.length && open[open.length - 1] === m[0] && /\S/.test(before)) open.pop();
      else if (/\S/.test(after)) open.push(m[0]);
    }
    return head + last + open.reverse().join("");
  }

  // ---- the page's parts ---------------------------------------------------------------------------

  const ui = {
    section: $("#chat"),
    log: $("#chat-log"),
    empty: $("#chat-empty"),
    input: $("#chat-input"),
    send: $("#chat-send"),
    clear: $("#chat-clear"),
    speakReplies: $("#chat-speak"),
    llm: $("#chat-llm"),
    conversation: $("#conversation"),
    composer: $("#composer"),
    tabs: { speak: $("#mode-speak"), chat: $("#mode-chat") },
  };
  const llm = { model: ui.section.dataset.llmModel || "", url: ui.section.dataset.llmUrl || "" };
  const state = { mode: "speak", active: null, seq: 0, replies: [] };

  function showMessage(text, kind) {
    if (voxUI && voxUI.showMessage) voxUI.showMessage(text, kind);
  }

  // ---- mode: "Speak text" or "Chat" ---------------------------------------------------------------

  function setMode(mode, focus = false) {
    state.mode = mode === "chat" ? "chat" : "speak";
    const chat = state.mode === "chat";
    document.body.dataset.mode = state.mode;
    ui.section.hidden = !chat;
    ui.conversation.hidden = chat;
    for (const [name, tab] of Object.entries(ui.tabs)) {
      const on = name === state.mode;
      tab.setAttribute("aria-selected", String(on));
      tab.tabIndex = on ? 0 : -1;
    }
    store.set("mode", state.mode);
    const skip = $(".skip");
    if (skip) {
      skip.href = chat ? "#chat-input" : "#text";
      skip.textContent = chat ? "Skip to the message box" : "Skip to the text box";
    }
    if (chat) scrollToEnd(true);
    if (focus) (chat ? ui.input : $("#text")).focus();
  }

  for (const [name, tab] of Object.entries(ui.tabs)) {
    tab.addEventListener("click", () => setMode(name, true));
    tab.addEventListener("keydown", (e) => {
      if (!["ArrowLeft", "ArrowRight", "Home", "End"].includes(e.key)) return;
      e.preventDefault();
      const next = name === "speak" ? "chat" : "speak";
      const target = e.key === "Home" ? "speak" : e.key === "End" ? "chat" : next;
      setMode(target);
      ui.tabs[target].focus();
    });
  }

  // In chat mode the text box is the chat's: its form must not speak the (hidden) typed text.
  ui.composer.addEventListener(
    "submit",
    (e) => {
      if (state.mode !== "chat") return;
      e.preventDefault();
      e.stopImmediatePropagation();
    },
    true
  );

  // The speak hotkey (Ctrl+Enter by default) sends the message in chat mode; Esc / Shift+Esc stay ui.js's.
  function matches(hk, e) {
    if (!hk) return false;
    const key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
    const want = hk.key.length === 1 ? hk.key.toLowerCase() : hk.key;
    const m = hk.mods;
    return key === want && e.ctrlKey === m.Control && e.shiftKey === m.Shift && e.altKey === m.Alt && e.metaKey === m.Meta;
  }
  document.addEventListener(
    "keydown",
    (e) => {
      if (state.mode !== "chat" || e.isComposing || e.repeat) return;
      if (!matches(voxUI && voxUI.hotkeys && voxUI.hotkeys.speak, e)) return;
      e.preventDefault();
      e.stopPropagation(); // ui.js would speak the hidden text box
      send();
    },
    true
  );

  ui.input.addEventListener("keydown", (e) => {
    if (e.key !== "Enter" || e.shiftKey || e.ctrlKey || e.altKey || e.metaKey || e.isComposing) return;
    e.preventDefault(); // Enter sends, Shift+Enter is a new line
    send();
  });
  /** The message box grows with what is typed (up to its max-height), and shrinks back once sent. */
  function fitInput() {
    ui.input.style.height = "";
    if (ui.input.scrollHeight > ui.input.clientHeight) ui.input.style.height = `${ui.input.scrollHeight + 2}px`;
  }
  ui.input.addEventListener("input", fitInput);
  ui.send.addEventListener("click", () => send());
  ui.send.title = "Send (Enter)";
  ui.send.setAttribute("aria-keyshortcuts", "Enter");

  // ---- the conversation ---------------------------------------------------------------------------

  function nearEnd() {
    const l = ui.log;
    return l.scrollHeight - l.scrollTop - l.clientHeight < 80;
  }
  function scrollToEnd(force) {
    if (force || state.stick) ui.log.scrollTop = ui.log.scrollHeight;
  }
  ui.log.addEventListener("scroll", () => (state.stick = nearEnd()), { passive: true });
  state.stick = true;

  const clock = () => new Date().toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });

  function addUser(text) {
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
    return article;
  }

  /** An assistant message: its body (rendered markdown), a typing indicator, its state and its voice. */
  function addAssistant(reply) {
    ui.empty.hidden = true;
    const body = el("div", { className: "msg-body md" });
    const typing = el("span", { className: "typing" }, el("i"), el("i"), el("i"));
    typing.setAttribute("aria-hidden", "true");
    const label = el("span", { className: "msg-state" });
    const voice = el("span", { className: "msg-voice" });
    const meta = el(
      "div",
      { className: "msg-meta" },
      el("span", { className: "who", textContent: llm.model || "Assistant" }),
      typing,
      label,
      voice,
      el("time", { textContent: clock() })
    );
    const article = el("article", { className: "msg assistant" }, body, meta);
    article.dataset.role = "assistant";
    ui.log.append(article);
    Object.assign(reply, { article, body, typing, label, voice, meta });
    show(reply);
    return reply;
  }

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

  /** Bring a reply's element up to date with its record. */
  function show(r) {
    if (!r.article) return;
    const busy = r.status === "waiting" || r.status === "streaming" || r.status === "stopping";
    r.article.dataset.state = r.status;
    r.article.dataset.voice = r.voiceState;
    r.article.setAttribute("aria-busy", String(busy)); // read out once complete, not token by token
    r.typing.hidden = !busy;
    let label = r.status in STATE_LABELS ? STATE_LABELS[r.status] : r.status;
    if (r.status === "stopped" && !r.text) label = "Stopped before the reply began";
    if (r.status === "done" && r.voiceState === "playing") label = "";
    r.label.textContent = label;
    r.label.hidden = !label;
    r.voice.textContent = VOICE_LABELS[r.voiceState] || "";
    r.voice.hidden = !r.voice.textContent;
    if (r.voiceError) r.voice.title = r.voiceError;
    ui.send.disabled = !!state.active;
    ui.clear.disabled = !!state.active;
  }

  /** Render the reply's markdown, at most once per frame while tokens stream in. */
  function renderSoon(r) {
    if (r.renderQueued) return;
    r.renderQueued = true;
    const run = () => {
      if (!r.renderQueued) return;
      render(r);
    };
    requestAnimationFrame(run);
    setTimeout(run, 100); // a hidden window gets no animation frames: render anyway, a little later
  }

  function render(r) {
    r.renderQueued = false;
    if (!r.body) return;
    const busy = r.status === "waiting" || r.status === "streaming" || r.status === "stopping";
    const html = renderMarkdown(busy ? streamingText(r.text) : r.text);
    if (html === r.html) return;
    r.html = html;
    r.body.innerHTML = html;
    r.renders = (r.renders || 0) + 1;
    highlight();
    scrollToEnd();
  }

  function showError(r, message) {
    const box = el("div", { className: "msg-error" });
    box.setAttribute("role", "alert");
    const title = r.llmError ? "The LLM server did not answer." : "The reply failed.";
    box.innerHTML = `<p class="msg-error-title">${escapeHtml(title)}</p><p>${inline(message)}</p>`;
    const retry = el("button", { type: "button", className: "small", textContent: "Try again" });
    retry.addEventListener("click", () => {
      if (!state.active) send(r.message);
    });
    box.append(retry);
    r.article.insertBefore(box, r.meta);
  }

  function setLlmState(kind, title) {
    ui.llm.dataset.state = kind;
    if (title) ui.llm.title = title;
  }

  // ---- sending a message --------------------------------------------------------------------------

  /** Send `text` (default: the input's) to the LLM; resolves with the reply record when the stream ends. */
  async function send(text) {
    const fromInput = text == null;
    text = String(fromInput ? ui.input.value : text);
    if (!text.trim()) {
      showMessage("Type a message for the assistant first.", "info");
      ui.input.focus();
      return null;
    }
    if (state.active) {
      showMessage("The assistant is still replying: wait for it, or press Shift+Esc to stop it.", "info");
      return null;
    }
    if (fromInput) {
      ui.input.value = "";
      fitInput();
    }
    const speak = ui.speakReplies.checked;
    const id = `chat${++state.seq}`;
    const r = {
      id,
      message: text,
      text: "",
      tokens: 0,
      status: "waiting",
      voiceState: speak ? "waiting" : "off",
      speak,
      chunks: [],
      startedAt: performance.now(),
      controller: new AbortController(),
    };
    state.replies.push(r);
    if (state.replies.length > 50) state.replies.shift();
    state.active = r;
    if (document.activeElement === ui.send) ui.input.focus(); // the button is disabled while the reply streams
    addUser(text);
    addAssistant(r);
    const voice = $("#voice").value || undefined;
    const speed = Number($("#speed").value);
    if (speak) {
      try {
        r.rec = vox.beginReply(id, { text, chat: true, voice: voice || "", speed }); // inside the user's gesture
        voxUI && voxUI.pollStatus && voxUI.pollStatus(); // the "Speaking" indicator, now
      } catch (e) {
        r.voiceState = "failed";
        r.voiceError = String(e.message || e);
      }
    }
    try {
      await stream(r, { message: text, speak, voice, speed });
    } finally {
      if (r.stopTimer) clearTimeout(r.stopTimer);
      if (state.active === r) state.active = null;
      render(r);
      show(r);
    }
    return r;
  }

  async function stream(r, payload) {
    let res;
    try {
      res = await fetch("/api/chat", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(payload),
        signal: r.controller.signal,
      });
    } catch (e) {
      return end(r, r.controller.signal.aborted ? "stopped" : "error", vox.networkMessage(false));
    }
    if (!res.ok) return end(r, "error", await vox.readError(res));
    r.status = "streaming";
    show(r);
    let done = null;
    try {
      for await (const msg of vox.sseMessages(res)) {
        if (msg.token != null) {
          r.text += msg.token;
          r.tokens++;
          if (r.firstTokenAt == null) r.firstTokenAt = performance.now();
          renderSoon(r);
        } else if (msg.audio) {
          playChunk(r, msg);
        } else if (msg.error) {
          if (msg.llm) {
            r.llmError = true;
            r.error = msg.error;
            setLlmState("error", msg.error);
          } else {
            r.voiceState = "failed"; // the voice failed; the text goes on
            r.voiceError = msg.error;
            if (r.rec && vox.player.reply && vox.player.reply.id === r.id) vox.player.stop("error");
            show(r);
          }
        } else if (msg.done) {
          done = msg;
          break;
        }
      }
    } catch (e) {
      if (r.controller.signal.aborted) return end(r, "stopped");
      return end(r, "error", vox.networkMessage(true));
    }
    if (!done) return end(r, r.controller.signal.aborted ? "stopped" : "error", vox.networkMessage(true));
    if (typeof done.reply === "string" && done.reply.length >= r.text.length) r.text = done.reply;
    r.job = done.job;
    if (r.error) return end(r, "error", r.error);
    if (!r.llmError && r.tokens) setLlmState("ok", `${llm.model} at ${llm.url} answered`);
    return end(r, done.stopped || r.status === "stopping" ? "stopped" : "done");
  }

  function playChunk(r, msg) {
    r.chunks.push({ idx: msg.idx, part: msg.part || 0, text: msg.text });
    if (!r.speak || !r.rec) return;
    if (r.rec.job == null && msg.job) r.rec.job = msg.job; // lets a stop broadcast tell this reply's age
    if (r.firstAudioAt == null) r.firstAudioAt = performance.now();
    try {
      if (vox.player.playChunk(r.id, msg) && r.voiceState === "waiting") {
        r.voiceState = "playing";
        show(r);
      }
    } catch (e) {
      r.voiceState = "failed";
      r.voiceError = `A chunk of audio could not be played: ${e.message || e}`;
      show(r);
    }
  }

  /** The stream is over: done, stopped or error. What was already scheduled keeps playing unless stopped. */
  function end(r, status, error) {
    r.status = status;
    r.endedAt = performance.now();
    if (error) {
      r.error = error;
      showError(r, error);
    }
    if (vox.player.reply && vox.player.reply.id === r.id) {
      if (status === "stopped") vox.player.stop("stopped");
      else vox.player.finish(r.id); // what was scheduled plays out
    }
    if (r.rec) {
      r.rec.text = r.text;
      if (r.rec.status === "streaming") r.rec.status = status;
      r.rec.endedAt = r.endedAt;
    }
    if (r.voiceState === "waiting") r.voiceState = status === "stopped" ? "stopped" : "done";
    if (voxUI && voxUI.pollStatus) setTimeout(voxUI.pollStatus, 150); // the top bar's "Speaking", up to date
    render(r);
    show(r);
    return r;
  }

  // ---- stops and the voice ------------------------------------------------------------------------

  vox.events.addEventListener("stop", (e) => {
    const r = state.active;
    if (!r) return;
    if (e.detail.all) {
      // The server cancels the LLM request and ends the stream with "stopped"; hang up if it does not.
      r.status = "stopping";
      r.stopTimer = setTimeout(() => r.controller.abort(), STOP_ALL_GRACE_MS);
    } else if (r.speak && r.voiceState !== "off" && r.voiceState !== "failed") {
      r.voiceState = "stopped"; // the text goes on
    }
    show(r);
  });

  const replyOf = (id) => state.replies.find((x) => x.id === id);

  vox.events.addEventListener("replyend", (e) => {
    const r = replyOf(e.detail.replyId);
    if (!r) return;
    const reason = e.detail.reason;
    if (reason === "done") r.voiceState = r.voiceState === "failed" ? "failed" : "done";
    else if (reason === "replaced" && r.voiceState !== "stopped") r.voiceState = "replaced";
    else if (reason === "stopped") r.voiceState = "stopped";
    state.now = null;
    highlight();
    show(r);
  });

  vox.events.addEventListener("playing", (e) => {
    const r = replyOf(e.detail.replyId);
    if (!r) return;
    state.now = e.detail.idx == null ? null : { reply: r, text: e.detail.text || "", idx: e.detail.idx };
    if (r.voiceState === "waiting") r.voiceState = "playing";
    highlight();
    show(r);
  });

  /** Highlight the sentence being spoken in the rendered reply (CSS Custom Highlight API, where there is one).
   * The spoken text is the reply without its markdown, so its words are looked up in order, in the text the
   * reader sees; a chunk whose words are not there as such (a code block is said as "Here is some code") is
   * just not highlighted. */
  function highlight() {
    const registry = window.CSS && CSS.highlights;
    if (!registry || typeof window.Highlight !== "function") return;
    const now = state.now;
    const r = now && now.reply;
    if (!r || !r.body) {
      registry.delete(HIGHLIGHT);
      return;
    }
    const words = now.text.toLowerCase().match(/[\p{L}\p{N}]+/gu);
    if (!words) return registry.delete(HIGHLIGHT);
    const walker = document.createTreeWalker(r.body, NodeFilter.SHOW_TEXT);
    const nodes = [];
    let flat = "";
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      nodes.push([n, flat.length]);
      flat += n.data;
    }
    const pattern = words.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("[^\\p{L}\\p{N}]*");
    const re = new RegExp(pattern, "giu");
    // Search on from the chunk before (a reply may say the same sentence twice), else from the start.
    const prev = r.spokenTo;
    const from = !prev ? 0 : prev.idx === now.idx ? prev.at : prev.idx < now.idx ? prev.end : 0;
    re.lastIndex = from;
    let m = re.exec(flat);
    if (!m && from) {
      re.lastIndex = 0;
      m = re.exec(flat);
    }
    if (!m) return registry.delete(HIGHLIGHT);
    r.spokenTo = { idx: now.idx, at: m.index, end: m.index + m[0].length };
    const at = (pos, end) => {
      let i = nodes.length - 1;
      while (i > 0 && (end ? nodes[i][1] >= pos : nodes[i][1] > pos)) i--;
      return [nodes[i][0], pos - nodes[i][1]];
    };
    const range = document.createRange();
    range.setStart(...at(m.index, false));
    range.setEnd(...at(m.index + m[0].length, true));
    registry.set(HIGHLIGHT, new Highlight(range));
  }

  // ---- history and Clear --------------------------------------------------------------------------

  function renderHistory(messages) {
    for (const m of messages) {
      if (m.role === "user") addUser(m.content);
      else if (m.role === "assistant") {
        const r = { id: `h${++state.seq}`, text: m.content, status: "done", voiceState: "off", chunks: [] };
        addAssistant(r);
        render(r);
        show(r);
      }
    }
    if (messages.length) scrollToEnd(true);
  }

  async function loadHistory() {
    try {
      const res = await fetch("/api/chat/history", { cache: "no-store" });
      if (!res.ok) return;
      const body = await res.json();
      if (!state.active && !ui.log.querySelector(".msg")) renderHistory(Array.isArray(body.messages) ? body.messages : []);
    } catch (e) {
      /* the server is away: the status line says so; the chat starts empty */
    }
  }

  async function clear() {
    if (state.active) return false;
    try {
      const res = await fetch("/api/chat/history", { method: "DELETE" });
      if (!res.ok) {
        showMessage(await vox.readError(res));
        return false;
      }
    } catch (e) {
      showMessage(vox.networkMessage(false));
      return false;
    }
    for (const node of ui.log.querySelectorAll(".msg")) node.remove();
    ui.empty.hidden = false;
    state.now = null;
    highlight();
    ui.input.focus();
    return true;
  }
  ui.clear.addEventListener("click", clear);

  // ---- start --------------------------------------------------------------------------------------

  ui.speakReplies.checked = store.get("chatSpeak", true);
  ui.speakReplies.addEventListener("change", () => store.set("chatSpeak", ui.speakReplies.checked));
  ui.llm.title = `Replies come from ${llm.model} at ${llm.url} ([llm] in config.toml)`;
  setMode(store.get("mode", "speak"), store.get("mode", "speak") === "chat");
  const ready = loadHistory();
  window.voxChat = {
    ready,
    send,
    clear,
    setMode,
    renderMarkdown,
    streamingText,
    get mode() {
      return state.mode;
    },
    get active() {
      return state.active;
    },
    get replies() {
      return state.replies;
    },
    get last() {
      return state.replies[state.replies.length - 1] || null;
    },
  };
})();

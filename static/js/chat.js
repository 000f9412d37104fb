/* The chat with the local LLM: a message goes to the server (POST /api/chat), whose one SSE stream carries
 * both the reply's tokens (shown as they arrive, chat-view.js) and its audio (played by the page's player as a
 * reply of its own, speech.beginReply), then {"done", "reply", "stopped"}. Esc (stop) silences the voice and
 * the text goes on; Shift+Esc (stop all), or Send while it reads Stop, also makes the server cancel the LLM
 * request and the stream ends "stopped" (the page hangs up itself if it does not within a few seconds). The
 * server keeps a stopped turn in the history, marked interrupted; when the voice was playing, the page then
 * tells it how much was heard (the end of the last sentence begun), and the history keeps only that.
 *
 * Each turn is a record of kind "chat" in replies.js: message, text, tokens, status (waiting, streaming,
 * stopping, done, stopped, error), voiceState (waiting, playing, done, stopped, replaced, failed, off),
 * voiceError, speak, firstTokenAt, firstAudioAt, and the common fields.
 */

import { api, connectionLost } from "./api.js";
import * as view from "./chat-view.js";
import { options } from "./composer.js";
import { confirmDialog } from "./dialog.js";
import { emit, on } from "./events.js";
import { showMessage } from "./notice.js";
import { replies } from "./replies.js";
import { beginReply, download, player, replay, stopAll } from "./speech.js";
import { sseMessages } from "./sse.js";
import { pollStatus } from "./status.js";

const STOP_ALL_GRACE_MS = 4000; // after stop-all, wait this long for the server's "stopped" before hanging up

let active = null; // the turn being written
let seq = 0;
const streams = new WeakMap(); // record -> {controller, stopTimer}

/** The turn being written, or null. */
export const activeTurn = () => active;

const show = (record) => view.show(record, active !== null);
const setActive = (record) => {
  active = record;
  emit("turn", { active: record !== null });
};
const owns = (record) => player.reply && player.reply.id === record.id;

/** Send `text` (default: the message box's); resolves with the turn's record once its stream has ended. */
export async function send(text) {
  const fromInput = text == null;
  text = String(fromInput ? view.input.text() : text);
  if (!text.trim()) {
    showMessage("Type a message for the assistant first.", "info");
    view.input.focus();
    return null;
  }
  if (active) {
    showMessage("The assistant is still replying: wait for it, or press Shift+Esc to stop it.", "info");
    return null;
  }
  if (fromInput) view.input.take();
  const speak = view.input.speakReplies();
  const { voice, speed } = options();
  const record = replies.add({
    id: `chat${++seq}`,
    kind: "chat",
    message: text,
    text: "",
    tokens: 0,
    status: "waiting",
    voiceState: speak ? "waiting" : "off",
    speak,
    job: null,
    startedAt: performance.now(),
  });
  const stream = { controller: new AbortController(), stopTimer: 0, voiced: false };
  streams.set(record, stream);
  setActive(record);
  view.input.refocus();
  view.addUser(text);
  view.addAssistant(record);
  show(record);
  if (speak) {
    try {
      beginReply(record); // inside the user's gesture
      stream.voiced = true;
      pollStatus(); // the "Speaking" indicator, now
    } catch (e) {
      record.voiceState = "failed";
      record.voiceError = String(e.message || e);
    }
  }
  try {
    await read(record, stream.controller.signal, { message: text, speak, voice, speed });
  } finally {
    clearTimeout(stream.stopTimer);
    if (active === record) setActive(null);
    view.render(record);
    show(record);
  }
  return record;
}

async function read(record, signal, payload) {
  let res;
  try {
    res = await api.chat(payload, signal);
  } catch (e) {
    return signal.aborted ? end(record, "stopped") : end(record, "error", e.message);
  }
  record.status = "streaming";
  show(record);
  let done = null;
  try {
    for await (const msg of sseMessages(res)) {
      if (msg.token != null) {
        record.text += msg.token;
        record.tokens++;
        if (record.firstTokenAt == null) record.firstTokenAt = performance.now();
        view.renderSoon(record);
      } else if (msg.audio) {
        playChunk(record, msg);
      } else if (msg.error) {
        if (msg.llm) {
          record.llmError = true;
          record.error = msg.error;
          view.setLlmState("error", msg.error);
        } else {
          record.voiceState = "failed"; // the voice failed; the text goes on
          record.voiceError = msg.error;
          if (owns(record)) player.stop("error");
          show(record);
        }
      } else if (msg.done) {
        done = msg;
        break;
      }
    }
  } catch (e) {
    return signal.aborted ? end(record, "stopped") : end(record, "error", connectionLost());
  }
  if (!done) return signal.aborted ? end(record, "stopped") : end(record, "error", connectionLost());
  if (typeof done.reply === "string" && done.reply.length >= record.text.length) record.text = done.reply;
  record.llmJob = done.job;
  if (done.stopped && record.heardAtStop != null) reportHeard(record, done.job, record.heardAtStop);
  if (record.error) return end(record, "error", record.error);
  if (!record.llmError && record.tokens) view.setLlmState("ok", `${view.llm.model} at ${view.llm.url} answered`);
  return end(record, done.stopped || record.status === "stopping" ? "stopped" : "done");
}

/** The server keeps a stopped turn's text as written; keep only what was heard (the model is told so). */
async function reportHeard(record, job, heard) {
  try {
    await api.chatHeard(job, heard);
    record.heardReported = heard;
  } catch (e) {
    /* the history keeps what was written; nothing the user must act on */
  }
}

function playChunk(record, msg) {
  if (!record.speak || !streams.get(record).voiced) return;
  if (record.job == null && msg.job) record.job = msg.job; // lets a stop heard on /api/live tell this reply's age
  if (record.firstAudioAt == null) record.firstAudioAt = performance.now();
  try {
    if (player.playChunk(record.id, msg) && record.voiceState === "waiting") {
      record.voiceState = "playing";
      show(record);
    }
  } catch (e) {
    record.voiceState = "failed";
    record.voiceError = `A chunk of audio could not be played: ${e.message || e}`;
    show(record);
  }
}

/** The stream is over: done, stopped or error. What was already scheduled keeps playing unless stopped. */
function end(record, status, error) {
  record.status = status;
  record.endedAt = performance.now();
  if (error) {
    record.error = error;
    const title = record.llmError ? "The LLM server did not answer." : "The reply failed.";
    view.showError(record, title, error, () => {
      if (!active) send(record.message);
    });
  }
  if (owns(record)) {
    if (status === "stopped") player.stop("stopped");
    else player.finish(record.id); // what was scheduled plays out
  }
  if (record.voiceState === "waiting") record.voiceState = status === "stopped" ? "stopped" : "done";
  setTimeout(pollStatus, 150); // the top bar's "Speaking", up to date
  view.render(record);
  show(record);
  return record;
}

// ---- stops and the voice ----------------------------------------------------------------------------------

function onStop({ all }) {
  const record = active;
  if (!record) return;
  // What was heard counts only if the voice was still speaking when the whole turn was stopped; after Esc the
  // text went on being shown, and that is what the user has.
  if (!all) record.heardAtStop = null;
  if (all) {
    // The server cancels the LLM request and ends the stream with "stopped"; hang up if it does not.
    const stream = streams.get(record);
    record.status = "stopping";
    stream.stopTimer = setTimeout(() => stream.controller.abort(), STOP_ALL_GRACE_MS);
  } else if (record.speak && record.voiceState !== "off" && record.voiceState !== "failed") {
    record.voiceState = "stopped"; // the text goes on
  }
  show(record);
}

const turn = (id) => {
  const record = replies.get(id);
  return record && record.kind === "chat" ? record : null;
};

function onReplyEnd({ replyId, reason, heard }) {
  const record = turn(replyId);
  if (!record) return;
  if (reason === "stopped" && record === active && record.speak) record.heardAtStop = heard || 0;
  view.setHeard(null);
  show(record);
}

function onPlaying({ replyId, sentence }) {
  const record = turn(replyId);
  if (!record) return;
  view.setHeard(sentence ? { record, sentence } : null);
  show(record);
}

// ---- history and Clear ------------------------------------------------------------------------------------

/** Show the conversation the server keeps (after a reload), unless the page already shows one. */
export async function loadHistory() {
  let body;
  try {
    body = await api.chatHistory();
  } catch (e) {
    return; // the server is away: the status line says so; the chat starts empty
  }
  if (active || view.hasMessages()) return;
  const messages = Array.isArray(body.messages) ? body.messages : [];
  for (const m of messages) {
    if (m.role === "user") view.addUser(m.content);
    else if (m.role === "assistant") {
      const record = { id: `h${++seq}`, kind: "chat", text: m.content, status: "done", voiceState: "off",
                       interrupted: !!m.interrupted };  // prettier-ignore
      replies.add(record);
      view.addAssistant(record);
      view.render(record);
      show(record);
    }
  }
  if (messages.length) view.scrollToEnd(true);
}

/** Forget the conversation (here and on the server); false while a reply is being written or on failure.
 * `ask` first asks the user to confirm (the Clear button does; the automation handle does not). */
export async function clear(ask = false) {
  if (active) return false;
  if (ask) {
    const sure = await confirmDialog({
      title: "Clear the conversation?",
      message: "The messages disappear from this page and the assistant forgets them. This cannot be undone.",
      confirm: "Clear",
    });
    if (!sure) return false;
  }
  try {
    await api.clearChatHistory();
  } catch (e) {
    showMessage(e.message);
    return false;
  }
  view.clearLog();
  view.input.focus();
  return true;
}

/** Replay or download an answer with the voice and speed chosen now. */
const replayTurn = (record) => replay(record, options());
const downloadTurn = (record) => download(record, options());

export function setupChat() {
  view.setupChatView({
    onSend: () => send(),
    onStop: () => stopAll(),
    onClear: () => clear(true),
    onReplay: replayTurn,
    onDownload: downloadTurn,
  });
  for (const type of ["buffering", "pause", "download"]) {
    on(type, ({ replyId }) => {
      const record = turn(replyId);
      if (record) show(record);
    });
  }
  on("stop", onStop);
  on("replyend", onReplyEnd);
  on("playing", onPlaying);
  return loadHistory();
}

/* Speaking in the page: the one reply the page's player is playing, and the user's stops.
 *
 *   speak(text, {voice, speed, lang})  POST the text, read the SSE stream of chunks, hand each to the player;
 *                                      a new call replaces the reply in progress. Resolves (never rejects)
 *                                      with the reply's record once its stream has ended.
 *   replay(record, {voice, speed, lang})  speak a reply already shown (a Speak card, a chat answer) again,
 *                                      into the same record, so its card highlights as it plays.
 *   beginReply(record)                 a reply whose stream another module reads itself (the chat, the live
 *                                      listener): it replaces the one playing and gets the player; the caller
 *                                      feeds player.playChunk(id, msg) and ends it with player.finish(id).
 *   stop() / stopAll()                 silent at once (a short fade), stream aborted, then the server told
 *                                      (stop-all also stops the speakers, the LLM, pushed replies, a recording).
 *   download(record, opts)             the reply as one WAV file, rendered by the server.
 *   speakOnSpeakers(text, opts)        the host's speakers instead of the page.
 *
 * A record's `voiceState` says what its voice does: waiting, playing, buffering, paused, done, stopped, replaced,
 * failed (or off). For the replies this module streams, `status` says how the stream went: pending, streaming,
 * done, stopped, replaced, error. Records are kept in replies.js; what happens is announced on events.js.
 */

import { api, connectionLost } from "./api.js";
import { emit, on } from "./events.js";
import { Player } from "./player.js";
import { replies, settle } from "./replies.js";
import { sseMessages } from "./sse.js";

export const player = new Player(emit);

let seq = 0;
let current = null; // {record, controller, ownsStatus} of the reply this module is streaming

// Each reply's schedule stays on its record (the player forgets it once the reply ends); its voice state
// follows the player.
on("chunk", (chunk) => {
  const record = replies.get(chunk.replyId);
  if (record) (record.schedule = record.schedule || []).push(chunk);
});
const voice = (replyId, state) => {
  const record = replies.get(replyId);
  if (record && record.voiceState !== "off") record.voiceState = state;
};
on("playing", ({ replyId, idx }) => {
  const record = replies.get(replyId);
  if (idx != null && record && !["paused", "buffering"].includes(record.voiceState)) voice(replyId, "playing");
});
on("buffering", ({ replyId, on: dry }) => voice(replyId, dry ? "buffering" : "playing"));
on("pause", ({ replyId, paused }) => player.reply && player.reply.id === replyId && voice(replyId, paused ? "paused" : "playing"));
on("replyend", ({ replyId, reason, heard }) => {
  const record = replies.get(replyId);
  if (!record) return;
  record.heard = heard;
  if (record.voiceState === "failed" || record.voiceState === "off") return;
  record.voiceState = reason === "done" ? "done" : reason === "replaced" ? "replaced" : reason === "error" ? "failed" : "stopped";
  // A reply whose stream had ended but whose audio was cut short ended as that.
  if (record.kind !== "chat" && record.status === "done" && (reason === "stopped" || reason === "replaced")) {
    record.status = reason;
  }
});

/** Whether the page is speaking (streaming or playing). */
export const isSpeaking = () => player.playing || current !== null;

/** Abort the reply being streamed here (if any) and silence the player; the server is told separately. */
export function cancelCurrent(reason) {
  const was = current;
  current = null;
  if (was) {
    was.controller.abort();
    if (was.ownsStatus && (was.record.status === "streaming" || was.record.status === "pending")) {
      settle(was.record, reason);
    }
  }
  return player.stop(reason) || !!was;
}

/** Give the player to `record` (registered if it is not yet), replacing what plays. */
export function beginReply(record) {
  cancelCurrent("replaced");
  replies.add(record);
  player.begin(record.id);
  return record;
}

function payloadOf(text, { voice: voiceId, speed, lang } = {}) {
  const payload = { text };
  if (voiceId) payload.voice = voiceId;
  if (speed != null && speed !== "") payload.speed = Number(speed);
  if (lang) payload.lang = lang;
  return payload;
}

export async function speak(text, options = {}) {
  text = String(text == null ? "" : text);
  if (!text.trim()) {
    emit("error", { message: "There is nothing to say: type some text first." });
    return null;
  }
  cancelCurrent("replaced");
  const payload = payloadOf(text, options);
  const record = replies.add({
    id: `r${++seq}`,
    kind: "speak",
    text,
    voice: payload.voice || "",
    speed: payload.speed,
    lang: payload.lang,
    status: "pending",
    voiceState: "waiting",
    job: null,
    startedAt: performance.now(),
  });
  return stream(record, payload, true);
}

/** Speak `record`'s text again into the same record (and so the same card). */
export function replay(record, options = {}) {
  cancelCurrent("replaced");
  const payload = payloadOf(record.text, options);
  const ownsStatus = record.kind !== "chat"; // a chat turn's status is its text's, which is written already
  if (ownsStatus) {
    record.status = "pending";
    record.error = undefined;
  }
  record.voiceError = undefined;
  record.schedule = [];
  record.replays = (record.replays || 0) + 1;
  return stream(record, payload, ownsStatus);
}

async function stream(record, payload, ownsStatus) {
  const id = record.id;
  const controller = new AbortController();
  const mine = { record, controller, ownsStatus };
  current = mine;
  record.voiceState = "waiting";
  try {
    player.begin(id); // creates/resumes the AudioContext inside the user's gesture
  } catch (e) {
    record.voiceState = "failed";
    return failed(record, ownsStatus, "This browser cannot play sound (it has no Web Audio). Try Chromium or Firefox.");
  }
  emit("replystart", { replyId: id, kind: record.kind, text: record.text, voice: payload.voice || "", speed: payload.speed });
  const fail = (message) => {
    if (current !== mine) return record;
    current = null;
    player.finish(id); // what already arrived still plays; the error is shown beside it
    return failed(record, ownsStatus, message);
  };
  let res;
  try {
    res = await api.speakStream(payload, controller.signal);
  } catch (e) {
    return controller.signal.aborted ? record : fail(e.message);
  }
  record.job = res.headers.get("X-Vox-Job");
  if (ownsStatus) record.status = "streaming";
  let ended = false;
  try {
    for await (const msg of sseMessages(res)) {
      if (current !== mine) break; // stopped or replaced: nothing more of this reply may play
      if (msg.error) return fail(`Speaking stopped part of the way: ${msg.error}`);
      if (msg.done) {
        ended = true;
        record.chunks = msg.chunks;
        if (ownsStatus) settle(record, msg.stopped ? "stopped" : "done");
        current = null;
        // Stopped on the server's side (a global hotkey, another client's stop-all): silence the page too.
        if (msg.stopped) player.stop("stopped");
        else player.finish(id);
        break;
      }
      if (msg.audio) {
        try {
          if (player.playChunk(id, msg) && record.firstAudioAt == null) {
            record.firstAudioAt = performance.now();
            emit("firstaudio", { replyId: id });
          }
        } catch (e) {
          return fail("Part of the reply arrived damaged and could not be played. Press Replay to try again.");
        }
      }
    }
  } catch (e) {
    return controller.signal.aborted ? record : fail(connectionLost());
  }
  if (!ended && current === mine) return fail(connectionLost());
  return record;
}

function failed(record, ownsStatus, message) {
  if (ownsStatus) settle(record, "error", message);
  record.voiceState = "failed";
  record.voiceError = message;
  emit("error", { message, replyId: record.id });
  emit("replyerror", { replyId: record.id, message });
  return record;
}

async function tellServer(call) {
  try {
    await call();
    return true;
  } catch (e) {
    emit("error", { message: `The page stopped playing, but the server was not told to stop: ${e.message}` });
    return false;
  }
}

/** Stop the current reply: silent at once, stream aborted, server generation stopped. */
export function stop() {
  const had = cancelCurrent("stopped");
  emit("stop", { all: false });
  return tellServer(api.stop).then((ok) => ok && had);
}

/** Stop everything Vox is doing: this page's reply, the speakers, anything else the server runs. */
export function stopAll() {
  cancelCurrent("stopped");
  emit("stop", { all: true });
  return tellServer(api.stopAll);
}

/** Pause or resume the reply playing (Space); false when nothing plays. */
export const togglePause = () => player.togglePause();

/** A file name for a reply: its first words. */
function fileName(text) {
  const words = String(text).replace(/[^\p{L}\p{N}]+/gu, " ").trim().split(" ").slice(0, 6).join("-").toLowerCase();
  return `vox-${words || "reply"}.wav`;
}

/** Download `record`'s text as one WAV (rendered by the server; it does not interrupt what is playing). */
export async function download(record, options = {}) {
  record.downloading = true;
  emit("download", { replyId: record.id, busy: true });
  try {
    const blob = await api.speakWav(payloadOf(record.text, options));
    const url = URL.createObjectURL(blob);
    const a = document.createElement("a");
    a.href = url;
    a.download = fileName(record.text);
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
    return true;
  } catch (e) {
    emit("error", { message: `The WAV could not be made. ${e.message}` });
    return false;
  } finally {
    record.downloading = false;
    emit("download", { replyId: record.id, busy: false });
  }
}

/** Speak on the computer's speakers through the server (no audio in the page): {ok, error?, ...}. */
export async function speakOnSpeakers(text, { voice: voiceId, speed } = {}) {
  cancelCurrent("replaced");
  const payload = payloadOf(String(text), { voice: voiceId, speed });
  try {
    return { ok: true, ...(await api.speakOnSpeakers(payload)) };
  } catch (e) {
    emit("error", { message: `Playing on the speakers failed: ${e.message}` });
    return { ok: false, error: e.message };
  }
}

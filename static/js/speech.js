/* Speaking in the page: the one reply the page's player is playing, and the user's stops.
 *
 *   speak(text, {voice, speed, lang})  POST the text, read the SSE stream of chunks, hand each to the player;
 *                                      a new call replaces the reply in progress. Resolves (never rejects)
 *                                      with the reply's record once its stream has ended.
 *   beginReply(record)                 a reply whose stream another module reads itself (the chat, the live
 *                                      listener): it replaces the one playing and gets the player; the caller
 *                                      feeds player.playChunk(id, msg) and ends it with player.finish(id).
 *   stop() / stopAll()                 silent at once, stream aborted, then the server told (stop-all also
 *                                      stops the speakers, the LLM and pushed replies).
 *   speakOnSpeakers(text, opts)        the host's speakers instead of the page.
 * Records are kept in replies.js; what happens is announced on events.js.
 */

import { api, connectionLost } from "./api.js";
import { emit, on } from "./events.js";
import { Player } from "./player.js";
import { replies, settle } from "./replies.js";
import { sseMessages } from "./sse.js";

export const player = new Player(emit);

let seq = 0;
let current = null; // {record, controller} of the typed reply being streamed or played

// Each reply's schedule stays on its record (the player forgets it once the reply ends).
on("chunk", (chunk) => {
  const record = replies.get(chunk.replyId);
  if (record) (record.schedule = record.schedule || []).push(chunk);
});

/** Whether the page is speaking (streaming or playing). */
export const isSpeaking = () => player.playing || current !== null;

/** Abort the typed reply being streamed (if any) and silence the player; the server is told separately. */
export function cancelCurrent(reason) {
  const was = current;
  current = null;
  if (was) {
    was.controller.abort();
    if (was.record.status === "streaming" || was.record.status === "pending") settle(was.record, reason);
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

export async function speak(text, { voice, speed, lang } = {}) {
  text = String(text == null ? "" : text);
  if (!text.trim()) {
    emit("error", { message: "There is nothing to say: type some text first." });
    return null;
  }
  cancelCurrent("replaced");
  const payload = { text };
  if (voice) payload.voice = voice;
  if (speed != null && speed !== "") payload.speed = Number(speed);
  if (lang) payload.lang = lang;
  const record = replies.add({
    id: `r${++seq}`,
    kind: "speak",
    text,
    voice: voice || "",
    speed: payload.speed,
    status: "pending",
    job: null,
    startedAt: performance.now(),
  });
  const id = record.id;
  const controller = new AbortController();
  const mine = { record, controller };
  current = mine;
  try {
    player.begin(id); // creates/resumes the AudioContext inside the user's gesture
  } catch (e) {
    settle(record, "error", String(e.message || e));
    emit("error", { message: record.error, replyId: id });
    return record;
  }
  emit("replystart", { replyId: id, text, voice: record.voice, speed: record.speed });
  const fail = (message) => {
    if (current !== mine) return;
    current = null;
    settle(record, "error", message);
    player.finish(id); // what already arrived still plays; the error is shown beside it
    emit("error", { message, replyId: id });
    emit("replyerror", { replyId: id, message });
  };
  let res;
  try {
    res = await api.speakStream(payload, controller.signal);
  } catch (e) {
    if (!controller.signal.aborted) fail(e.message);
    return record;
  }
  record.job = res.headers.get("X-Vox-Job");
  record.status = "streaming";
  let ended = false;
  try {
    for await (const msg of sseMessages(res)) {
      if (current !== mine) break; // stopped or replaced: nothing more of this reply may play
      if (msg.error) {
        fail(`The server could not finish speaking: ${msg.error}`);
        return record;
      }
      if (msg.done) {
        ended = true;
        record.chunks = msg.chunks;
        settle(record, msg.stopped ? "stopped" : "done");
        current = null;
        // Stopped on the server's side (a global hotkey, another client's stop-all): silence the page too.
        if (msg.stopped) player.stop("stopped");
        else player.finish(id);
        break;
      }
      if (msg.audio) {
        try {
          player.playChunk(id, msg);
        } catch (e) {
          fail(`A chunk of audio could not be played: ${e.message || e}`);
          return record;
        }
      }
    }
  } catch (e) {
    if (!controller.signal.aborted) fail(connectionLost());
    return record;
  }
  if (!ended && current === mine) fail(connectionLost());
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

/** Speak on the computer's speakers through the server (no audio in the page): {ok, error?, ...}. */
export async function speakOnSpeakers(text, { voice, speed } = {}) {
  cancelCurrent("replaced");
  const payload = { text: String(text) };
  if (voice) payload.voice = voice;
  if (speed != null && speed !== "") payload.speed = Number(speed);
  try {
    return { ok: true, ...(await api.speakOnSpeakers(payload)) };
  } catch (e) {
    emit("error", { message: `Playing on the speakers failed: ${e.message}` });
    return { ok: false, error: e.message };
  }
}

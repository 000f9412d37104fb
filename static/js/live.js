/* Replies other programs push into Vox (POST /api/replies with "sink": "page") play here, and stops made
 * outside the page (a global hotkey, another client's stop-all) silence it. The server publishes both on
 * GET /api/live.
 *
 * Each pushed reply (one server job) becomes a player reply like a typed one, a record of kind "live" in
 * replies.js: it replaces what is playing, Stop silences it, and chunks that arrive after it was stopped are
 * dropped. Its text is only known from its chunks, so the record's text grows with them: each piece's spoken
 * text is appended, and its offsets are rewritten to point into that text (marked `js`: JS string offsets),
 * so the card highlights a pushed reply like any other.
 */

import { api } from "./api.js";
import { emit } from "./events.js";
import { replies, settle } from "./replies.js";
import { beginReply, cancelCurrent, player } from "./speech.js";

/** Append the pieces of chunk `msg` (its first part) to `record.text`, and point them there. */
function localPieces(record, msg) {
  record.placed = record.placed || new Map(); // "start:end" in the pushed reply -> [start, end] in record.text
  if (!(msg.pieces || []).length && !msg.part && msg.text) {
    record.text = record.text ? `${record.text} ${msg.text}` : msg.text;
  }
  return (msg.pieces || []).map((p) => {
    const key = `${p.start}:${p.end}`;
    if (!record.placed.has(key)) {
      const start = record.text ? record.text.length + 1 : 0;
      record.text = record.text ? `${record.text} ${p.text}` : p.text;
      record.placed.set(key, [start, record.text.length]);
    }
    const [start, end] = record.placed.get(key);
    return { ...p, start, end, js: true };
  });
}

/** The server's job ids are "j<number>" and only grow. */
const jobNumber = (job) => (job ? parseInt(String(job).slice(1), 10) : 0);

function onStop(msg) {
  const playing = player.reply && replies.get(player.reply.id);
  // A stop of the shared default session names its jobs: only a pushed reply among them is silenced here.
  if (Array.isArray(msg.jobs)) {
    if (playing && msg.jobs.includes(playing.job)) cancelCurrent("stopped");
    return;
  }
  // Silence what this page still has queued, unless the reply playing started after that stop: its job is newer,
  // or it has none yet (its request is still on its way, so the server had not started it when it stopped).
  if (playing && (!playing.job || jobNumber(playing.job) > msg.newest)) return;
  cancelCurrent("stopped");
}

export function listenLive() {
  const source = api.live();
  const begun = new Set();
  source.onmessage = (e) => {
    let msg;
    try {
      msg = JSON.parse(e.data);
    } catch (err) {
      return;
    }
    if (msg.stop) return onStop(msg);
    if (msg.listen) return emit("remote-listen", msg); // a global push-to-talk hotkey (listen.js)
    if (!msg.job) return;
    const id = `live-${msg.job}`;
    if (msg.audio) {
      if (!begun.has(id)) {
        if (begun.size > 100) begun.clear();
        begun.add(id);
        beginReply({ id, kind: "live", text: "", voice: "", live: true, status: "streaming", voiceState: "waiting",
                     job: msg.job, startedAt: performance.now() });  // prettier-ignore
        emit("replystart", { replyId: id, kind: "live", text: "", live: true });
      }
      const record = replies.get(id);
      if (record) player.playChunk(id, { ...msg, pieces: localPieces(record, msg) });
    } else if (msg.done || msg.error) {
      const record = replies.get(id);
      if (record && record.status === "streaming") {
        settle(record, msg.error ? "error" : msg.stopped ? "stopped" : "done", msg.error);
      }
      if (msg.error) emit("error", { message: `A pushed reply failed: ${msg.error}`, replyId: id });
      if (msg.stopped && player.reply && player.reply.id === id) player.stop("stopped");
      else player.finish(id);
    }
  };
  return source;
}

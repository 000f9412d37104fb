/* Replies other programs push into Vox (POST /api/replies with "sink": "page") play here, and stops made
 * outside the page (a global hotkey, another client's stop-all) silence it. The server publishes both on
 * GET /api/live.
 *
 * Each pushed reply (one server job) becomes a player reply like a typed one, a record of kind "live" in
 * replies.js: it replaces what is playing, Stop silences it, and chunks that arrive after it was stopped are
 * dropped. Its text is only known from its chunks, so the record's text grows with them.
 */

import { api } from "./api.js";
import { emit } from "./events.js";
import { replies, settle } from "./replies.js";
import { beginReply, cancelCurrent, player } from "./speech.js";

/** The server's job ids are "j<number>" and only grow. */
const jobNumber = (job) => (job ? parseInt(String(job).slice(1), 10) : 0);

function onStop(msg) {
  // Silence what this page still has queued, unless the reply playing started after that stop.
  const playing = player.reply && replies.get(player.reply.id);
  if (!(jobNumber(playing && playing.job) > msg.newest)) cancelCurrent("stopped");
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
        beginReply({ id, kind: "live", text: "", voice: "", live: true, status: "streaming", job: msg.job, startedAt: performance.now() });
        emit("replystart", { replyId: id, text: "", live: true });
      }
      const record = replies.get(id);
      if (record) record.text = record.text ? `${record.text} ${msg.part ? "" : msg.text}`.trim() : msg.text;
      player.playChunk(id, msg);
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

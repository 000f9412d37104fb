/* How loud Vox is playing, for the server's echo guard (vox/listening/turns.py): speech in the microphone counts as
 * the user's only when it is not much quieter than what Vox plays, since Vox's own voice coming back (after the
 * browser's echo cancellation) is far quieter than Vox itself.
 *
 * An AnalyserNode listens to every reply the player starts (its begin() is wrapped here, so the player needs
 * no change); the level history is kept while Vox plays, microphone or not, and the loudest level of the last
 * LEVEL_SPAN_MS is what each audio POST reports: pauses between words and sentences, and gaps while the server
 * catches up, must not make Vox's own voice look louder than what is playing.
 */

import { player } from "./speech.js";

const LEVEL_SPAN_MS = 4000;
const QUIET_DB = -40; // quieter than this is a pause in the reply (Piper's pauses are ~ -50 dBFS), not its level
const levels = []; // [{t, db}]
const meter = { node: null, ctx: null, buf: null, timer: 0 };
let heldLevel = null; // the last loud level of the reply still playing

const originalBegin = player.begin.bind(player);
player.begin = (id) => {
  const reply = originalBegin(id);
  try {
    if (meter.ctx !== player.ctx) {
      meter.ctx = player.ctx;
      meter.node = player.ctx.createAnalyser();
      meter.node.fftSize = 2048;
      meter.buf = new Float32Array(meter.node.fftSize);
      const sink = player.ctx.createGain();
      sink.gain.value = 0; // analysers are pulled only when they lead to the destination
      meter.node.connect(sink);
      sink.connect(player.ctx.destination);
    }
    reply.gain.connect(meter.node);
    if (!meter.timer) {
      meter.timer = setInterval(() => {
        sampleLevel();
        if (!player.playing && !levels.length) meter.timer = clearInterval(meter.timer) || 0;
      }, 40);
    }
  } catch (e) {
    /* no meter: the server then takes any speech as the user's */
  }
  return reply;
};

/** The level Vox plays at now, in dBFS, or null when it is silent. */
export function playbackLevel() {
  if (!player.playing || !meter.node || meter.ctx !== player.ctx) return null;
  meter.node.getFloatTimeDomainData(meter.buf);
  let sum = 0;
  for (const v of meter.buf) sum += v * v;
  const rms = Math.sqrt(sum / meter.buf.length);
  return rms > 1e-6 ? 20 * Math.log10(rms) : null;
}

export function sampleLevel() {
  const now = performance.now();
  const db = playbackLevel();
  if (db != null && db > QUIET_DB) levels.push({ t: now, db });
  while (levels.length && levels[0].t < now - LEVEL_SPAN_MS) levels.shift();
}

/** The loudest level of the last LEVEL_SPAN_MS; while a reply still plays but is silent for a moment, the last
 * loud level; null once nothing plays. */
export function recentLevel() {
  sampleLevel();
  if (levels.length) heldLevel = Math.max(...levels.map((l) => l.db));
  else if (!player.playing) heldLevel = null;
  return heldLevel;
}

/** Vox was silenced (a barge-in): what played before no longer counts. */
export function forgetLevels() {
  levels.length = 0;
  heldLevel = null;
}

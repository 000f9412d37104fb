/* The gapless player: one AudioContext; each chunk of a reply is an AudioBufferSourceNode started on the exact
 * sample where the previous one ends, so chunk boundaries add no silence (bench rows 5/5a measure it).
 *
 * One reply at a time may make sound: begin(id) replaces whatever plays, playChunk(id, msg) drops chunks of
 * any other id (a stopped reply's late chunks), stop() silences everything queued within one render quantum
 * (one gain node per reply, disconnected). It knows nothing about the server; speech.js, live.js and chat.js
 * feed it. What it does is announced through `emit` (events.js): chunk, playing, replyend, notice.
 *
 * A chunk keeps every field of the server's message except the audio; each tick works out which sentence is
 * heard (timing.js) and announces it with `playing` when it changes, and `buffering` while the queue has run
 * dry before the reply's end (the server is late). Every stop fades the reply out over FADE seconds, so it
 * does not click. Times are kept on the context's clock, so pausing is suspending the context (after the same
 * fade) and resuming continues on the same sample; the autoplay unlock never resumes a paused player.
 */

import { heardAt, heardUpTo } from "./timing.js";
import { base64ToBytes, parseWav } from "./wav.js";

const FIRST_LEAD = 0.04; // s before the first chunk: covers the decode and a render quantum, not more
const LATE_LEAD = 0.01; // s when a chunk arrives after the queue ran dry (the server fell behind)
const TICK_MS = 40; // how often the "now playing" chunk is re-evaluated
const FADE = 0.008; // s: every stop and pause ramps the reply's gain to zero over this long (no click)

/**
 * The start time for a source that must begin exactly on context frame `frame`. Chromium starts a source on
 * ceil(when * rate); when `when * rate` falls a hair short of the frame (frame / rate is rarely exact in
 * binary), it also reads the buffer at that tiny fractional offset, interpolating every sample. Nudging
 * `when` up by an ulp or two keeps the start on the frame and the samples untouched.
 */
function frameTime(frame, rate) {
  let t = frame / rate;
  while (t * rate < frame) t += t * Number.EPSILON;
  return t;
}

/** A chunk as the page's events show it: without its audio node. */
const publicChunk = ({ source, ...chunk }) => chunk;

export class Player {
  constructor(emit) {
    this.emit = emit;
    this.ctx = null;
    // The engine's sample rate, when known (status.js passes /api/status's sample_rate; every chunk says its
    // own). The context runs at it so buffers play sample-exactly and the one resampling to the sound
    // card happens at the output, with Chromium's sinc resampler, instead of linear interpolation per source.
    this.sampleRate = 0;
    this.reply = null; // the one reply allowed to make sound; chunks for any other id are dropped
    this.counts = { received: 0, scheduled: 0, dropped: 0, underruns: 0 };
    this._timer = 0;
    this._unlockArmed = false;
    this.paused = false;
  }

  /** The AudioContext, created on first use (call from a click or key handler so autoplay allows it). */
  context() {
    if (this.ctx && this.sampleRate && this.ctx.sampleRate !== this.sampleRate && !this.reply) {
      this.ctx.close().catch(() => {}); // the engine changed its rate: start a context at the new one
      this.ctx = null;
    }
    if (!this.ctx) {
      const Ctx = window.AudioContext || window.webkitAudioContext;
      if (!Ctx) throw new Error("this browser has no Web Audio API");
      try {
        this.ctx = new Ctx({ latencyHint: "interactive", ...(this.sampleRate ? { sampleRate: this.sampleRate } : {}) });
      } catch (e) {
        this.ctx = new Ctx({ latencyHint: "interactive" }); // a rate this browser refuses: let it resample
      }
    }
    if (this.ctx.state === "suspended") {
      this.ctx.resume().catch(() => {});
      this._unlockOnGesture();
    }
    return this.ctx;
  }

  /** Without a user gesture (a reply the page did not ask for), autoplay rules keep the context suspended:
   * say so, and resume on the next click or key. */
  _unlockOnGesture() {
    if (this._unlockArmed) return;
    this._unlockArmed = true;
    const unlock = () => {
      this._unlockArmed = false;
      if (this.ctx && !this.paused) this.ctx.resume().catch(() => {});
      for (const t of ["pointerdown", "keydown"]) document.removeEventListener(t, unlock, true);
    };
    for (const t of ["pointerdown", "keydown"]) document.addEventListener(t, unlock, true);
    setTimeout(() => {
      if (this.ctx && this.ctx.state === "suspended") {
        this.emit("notice", { message: "The browser holds sound back until you interact: click anywhere to hear Vox." });
      }
    }, 500);
  }

  /** Start a new reply; whatever was playing stops at once. */
  begin(replyId) {
    this.stop("replaced");
    const ctx = this.context();
    // One gain per reply: disconnecting it silences every queued and playing source in one render quantum.
    const gain = ctx.createGain();
    gain.connect(ctx.destination);
    this.reply = { id: replyId, gain, chunks: [], nextFrame: null, finished: false, now: "", buffering: false };
    clearInterval(this._timer);
    this._timer = setInterval(() => this._tick(), TICK_MS);
    return this.reply;
  }

  /** Schedule one server message ({idx, part, text, audio: base64 WAV, ...}); false when it is stale. */
  playChunk(replyId, msg) {
    this.counts.received++;
    const r = this.reply;
    if (!r || r.id !== replyId || r.finished) {
      this.counts.dropped++;
      return false;
    }
    const ctx = this.ctx;
    const arrived = ctx.currentTime;
    const wav = parseWav(base64ToBytes(msg.audio));
    this.sampleRate = wav.sampleRate;
    if (!wav.samples.length) return true;
    const buffer = ctx.createBuffer(1, wav.samples.length, wav.sampleRate);
    buffer.copyToChannel(wav.samples, 0);
    // Times are kept in frames of the context so that, when the rates match, every start lands on a whole
    // sample and chunk n+1 begins on the very sample after chunk n's last one (no seam, no added silence).
    // currentTime is where the render thread is; a start one render quantum (128 frames) past it is still
    // placed exactly. Later than that, the queue ran dry: start after a small lead, so the start time is
    // surely still ahead when the render thread sees it (a late start would shift this chunk onto the next).
    const rate = ctx.sampleRate;
    const renderFrame = Math.ceil(ctx.currentTime * rate);
    let frame = r.nextFrame;
    if (frame === null || frame < renderFrame + 128) {
      if (frame !== null) this.counts.underruns++;
      frame = Math.ceil((ctx.currentTime + (r.chunks.length ? LATE_LEAD : FIRST_LEAD)) * rate);
    }
    const source = ctx.createBufferSource();
    source.buffer = buffer;
    source.connect(r.gain);
    source.start(frameTime(frame, rate));
    r.nextFrame = frame + (wav.samples.length * rate) / wav.sampleRate;
    const { audio, ...meta } = msg;
    const chunk = {
      ...meta,
      idx: msg.idx,
      part: msg.part || 0,
      total: msg.total,
      text: msg.text || "",
      start: frame / rate,
      end: r.nextFrame / rate,
      arrived,
      frames: wav.samples.length,
      rate: wav.sampleRate,
      source,
    };
    r.chunks.push(chunk);
    this.counts.scheduled++;
    this.emit("chunk", { replyId, ...publicChunk(chunk) });
    return true;
  }

  /** No more chunks will come for this reply: it ends when its last scheduled chunk has played. */
  finish(replyId) {
    const r = this.reply;
    if (!r || r.id !== replyId) return;
    r.finished = true;
    this._tick();
  }

  /** Ramp `gain` to `value` over FADE from now. */
  _ramp(gain, value) {
    const now = this.ctx.currentTime;
    gain.gain.cancelScheduledValues(now);
    gain.gain.setValueAtTime(gain.gain.value, now);
    gain.gain.linearRampToValueAtTime(value, now + FADE);
    return now + FADE;
  }

  /** Silence the current reply (queued and playing), faded out over FADE; returns whether anything was
   * stopped. `replyend` says how far the listener got (`heard`: the end offset of the last piece begun). */
  stop(reason = "stopped") {
    const r = this.reply;
    if (!r) return false;
    this.reply = null;
    clearInterval(this._timer);
    const heard = heardUpTo(r.chunks, this.ctx.currentTime);
    const silent = this._ramp(r.gain, 0);
    for (const c of r.chunks) {
      try {
        c.source.stop(silent + 0.002);
      } catch (e) {
        /* already stopped */
      }
    }
    // The gain is disconnected once the fade is over (a suspended context needs no fade: it is silent).
    setTimeout(() => {
      try {
        r.gain.disconnect();
      } catch (e) {
        /* already disconnected */
      }
    }, 1000 * FADE + 40);
    if (this.paused) {
      this.paused = false;
      this.emit("pause", { replyId: r.id, paused: false });
    }
    this.emit("replyend", { replyId: r.id, reason, heard });
    return true;
  }

  /** Pause the reply playing (fade out, then suspend the clock); false when there is nothing to pause. */
  pause() {
    const r = this.reply;
    if (!r || this.paused) return false;
    this.paused = true;
    const silent = this._ramp(r.gain, 0);
    const ctx = this.ctx;
    setTimeout(() => {
      if (this.paused && this.ctx === ctx) ctx.suspend().catch(() => {});
    }, 1000 * (silent - ctx.currentTime) + 5);
    this.emit("pause", { replyId: r.id, paused: true });
    return true;
  }

  /** Continue a paused reply on the sample where it paused, fading back in. */
  resume() {
    const r = this.reply;
    if (!r || !this.paused) return false;
    this.paused = false;
    this.ctx.resume().then(() => {
      if (this.reply === r && !this.paused) this._ramp(r.gain, 1);
    }, () => {});
    this.emit("pause", { replyId: r.id, paused: false });
    return true;
  }

  /** Pause or resume; false when nothing plays. */
  togglePause() {
    return this.paused ? this.resume() : this.pause();
  }

  /** Schedule bookkeeping: which sentence is audible now, whether the queue ran dry before the end (the
   * server is late: "buffering"), and whether a finished reply has played out. */
  _tick() {
    const r = this.reply;
    if (!r) return;
    const t = this.ctx.currentTime;
    const heard = heardAt(r.chunks, t);
    const key = heard ? `${heard.idx}:${heard.sentence ? heard.sentence.start : ""}:${heard.sentence ? heard.sentence.end : ""}` : "";
    if (key !== r.now) {
      r.now = key;
      const chunk = heard ? r.chunks.find((c) => c.idx === heard.idx) : null;
      this.emit("playing", {
        replyId: r.id,
        idx: heard ? heard.idx : null,
        text: chunk ? chunk.text : null,
        chunk: chunk ? publicChunk(chunk) : null,
        sentence: heard ? heard.sentence : null,
      });
    }
    const last = r.chunks[r.chunks.length - 1];
    const dry = !r.finished && !!last && t >= last.end && !this.paused;
    if (dry !== r.buffering) {
      r.buffering = dry;
      this.emit("buffering", { replyId: r.id, on: dry });
    }
    if (r.finished && (!last || t >= last.end)) {
      this.reply = null;
      clearInterval(this._timer);
      r.gain.disconnect();
      this.emit("replyend", { replyId: r.id, reason: "done", heard: heardUpTo(r.chunks, t) });
    }
  }

  get playing() {
    return this.reply !== null;
  }

  /** Whether the reply's queue ran dry before its end (the server is late). */
  get buffering() {
    return !!(this.reply && this.reply.buffering);
  }

  /** Scheduled chunks of the reply now playing (start/end in AudioContext seconds). */
  get chunks() {
    return this.reply ? this.reply.chunks.map(publicChunk) : [];
  }
}

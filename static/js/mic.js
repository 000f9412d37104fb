/* The microphone, as 16 kHz 16-bit PCM frames of 20 ms, delivered as they are captured.
 *
 * getUserMedia with the browser's echo cancellation and noise suppression on, gain control off (Vox's own voice
 * coming back from the speakers is what echo cancellation removes). In Chromium (the window, Chrome) the
 * track's frames are read directly (MediaStreamTrackProcessor), elsewhere through an AudioWorklet; either
 * way they are converted to 16 kHz and delivered in 320-sample (20 ms) frames. A few hundred ms of frames are kept while nobody asks for them, so push-to-talk can
 * start with the syllable spoken as the key went down. The errors a person can meet (no microphone,
 * permission denied, the device unplugged mid-turn) become plain sentences.
 */

export const RATE = 16000;
const FRAME = 320; // 20 ms: a barge-in is decided within one frame of the speech the VAD needs
const PREROLL_FRAMES = 16; // 320 ms
const MAX_ARRIVALS = 9000; // 3 minutes of frame times, then no more are kept

/** Any rate to 16 kHz 16-bit frames: a two-tap average against aliasing when downsampling, then linear
 * interpolation. Runs on the main thread, or inside the AudioWorklet (its source is sent there as text). */
class Resampler {
  constructor(rate, out, frame) {
    this.step = rate / out;
    this.t = 0;
    this.prev = 0;
    this.prevRaw = 0;
    this.frame = frame;
    this.buf = new Int16Array(frame);
    this.n = 0;
  }
  /** Feed float samples; calls emit(Int16Array) for every complete frame. */
  feed(raw, emit) {
    const smooth = this.step > 1.2;
    const x = new Float32Array(raw.length);
    for (let i = 0; i < raw.length; i++) x[i] = smooth ? (raw[i] + (i ? raw[i - 1] : this.prevRaw)) / 2 : raw[i];
    this.prevRaw = raw[raw.length - 1];
    while (this.t < x.length) {
      const i = Math.floor(this.t);
      const a = i === 0 ? this.prev : x[i - 1];
      const v = a + (x[i] - a) * (this.t - i);
      this.buf[this.n++] = Math.max(-32768, Math.min(32767, Math.round(v * 32767)));
      if (this.n === this.frame) {
        emit(this.buf);
        this.buf = new Int16Array(this.frame);
        this.n = 0;
      }
      this.t += this.step;
    }
    this.t -= x.length;
    this.prev = x[x.length - 1];
  }
}

const WORKLET = `
${Resampler.toString()}
class VoxCapture extends AudioWorkletProcessor {
  constructor() {
    super();
    this.resampler = new Resampler(sampleRate, ${RATE}, ${FRAME});
  }
  process(inputs) {
    const ch = inputs[0] && inputs[0][0];
    if (ch) this.resampler.feed(ch, (frame) => this.port.postMessage(frame.buffer, [frame.buffer]));
    return true;
  }
}
registerProcessor("vox-capture", VoxCapture);
`;

/** What went wrong with the microphone, as a sentence with a next step. */
export function micError(e) {
  const name = (e && e.name) || "";
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    return "This browser gives Vox no microphone (it needs a secure page, such as http://127.0.0.1). Type instead.";
  }
  if (name === "NotFoundError" || name === "OverconstrainedError") {
    return "No microphone was found. Connect one and try again; typing still works.";
  }
  if (name === "NotAllowedError" || name === "SecurityError") {
    return "Vox may not use the microphone. Allow it for this page in the browser's site settings, then try again; typing still works.";
  }
  if (name === "NotReadableError" || name === "AbortError") {
    return "The microphone is busy or failed to start (another program may hold it). Close that program and try again.";
  }
  return `The microphone could not be opened (${(e && e.message) || name || e}). Typing still works.`;
}

export class Mic {
  constructor() {
    this.stream = null;
    this.ctx = null;
    this.node = null;
    this.onframe = null; // (Int16Array) => void, while someone listens
    this.onlost = null; // () => void: the device went away
    this.preroll = [];
    this.opening = null;
    this.arrivals = []; // performance.now() of each frame since the microphone opened (the benchmark's clock)
  }

  get open() {
    return this.stream !== null;
  }

  /** Open the microphone (once); rejects with a sentence. */
  async start() {
    if (this.stream) return;
    if (this.opening) return this.opening;
    this.opening = this._start().finally(() => (this.opening = null));
    return this.opening;
  }

  async _start() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) throw new Error(micError(null));
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        // No automatic gain: it would raise what echo cancellation leaves of Vox's voice to the level of speech,
        // and the server tells the two apart by level (vox/listening/turns.py).
        audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: false, channelCount: 1 },
      });
    } catch (e) {
      throw new Error(micError(e));
    }
    for (const track of stream.getAudioTracks()) track.addEventListener("ended", () => this._lost());
    this.stream = stream;
    const track = stream.getAudioTracks()[0];
    if (window.MediaStreamTrackProcessor && track) this._readTrack(track);
    else await this._worklet(stream);
  }

  /** Chromium: the track's own frames (MediaStreamTrackProcessor), resampled here; no AudioContext. */
  _readTrack(track) {
    const reader = new window.MediaStreamTrackProcessor({ track }).readable.getReader();
    let resampler = null;
    let buf = new Float32Array(0);
    const stream = this.stream;
    (async () => {
      for (;;) {
        let got;
        try {
          got = await reader.read();
        } catch (e) {
          break;
        }
        if (got.done || this.stream !== stream) break;
        const data = got.value;
        if (!resampler) resampler = new Resampler(data.sampleRate, RATE, FRAME);
        if (buf.length < data.numberOfFrames) buf = new Float32Array(data.numberOfFrames);
        const view = buf.subarray(0, data.numberOfFrames);
        data.copyTo(view, { planeIndex: 0, format: "f32-planar" });
        data.close();
        resampler.feed(view, (frame) => this._frame(frame));
      }
      reader.cancel().catch(() => {});
    })();
  }

  /** Other browsers: an AudioWorklet at the context's rate. */
  async _worklet(stream) {
    const Ctx = window.AudioContext || window.webkitAudioContext;
    let ctx;
    try {
      ctx = new Ctx({ sampleRate: RATE, latencyHint: "interactive" });
    } catch (e) {
      ctx = new Ctx({ latencyHint: "interactive" });
    }
    const url = URL.createObjectURL(new Blob([WORKLET], { type: "application/javascript" }));
    try {
      await ctx.audioWorklet.addModule(url);
    } finally {
      URL.revokeObjectURL(url);
    }
    const source = ctx.createMediaStreamSource(stream);
    const node = new AudioWorkletNode(ctx, "vox-capture", { channelCount: 1, channelCountMode: "explicit" });
    const mute = ctx.createGain();
    mute.gain.value = 0; // pulled by the destination, heard by nobody
    source.connect(node);
    node.connect(mute);
    mute.connect(ctx.destination);
    node.port.onmessage = (e) => this._frame(new Int16Array(e.data));
    if (ctx.state === "suspended") await ctx.resume().catch(() => {});
    Object.assign(this, { ctx, node });
  }

  _frame(frame) {
    if (this.arrivals.length < MAX_ARRIVALS) this.arrivals.push(performance.now());
    if (this.onframe) return this.onframe(frame);
    this.preroll.push(frame);
    if (this.preroll.length > PREROLL_FRAMES) this.preroll.shift();
  }

  /** The frames captured just before now (and forget them). */
  takePreroll() {
    const frames = this.preroll;
    this.preroll = [];
    return frames;
  }

  _lost() {
    const had = this.stream !== null;
    this.stop();
    if (had && this.onlost) this.onlost();
  }

  stop() {
    const { stream, ctx } = this;
    this.stream = this.ctx = this.node = null;
    this.preroll = [];
    this.arrivals = [];
    if (stream) stream.getTracks().forEach((t) => t.stop());
    if (ctx) ctx.close().catch(() => {});
  }
}

/* Vox player: streams a spoken reply from the server and plays it gaplessly in the page.
 *
 *   speakText(text, lang, opts)   POST /api/vox_speak_wav_stream, read the SSE with fetch + a stream reader
 *                                 (EventSource cannot POST), hand every chunk to the player.
 *   stopVOXSpeaking()             silence now, abort the stream, POST /api/vox_stop.
 *   stopAllVOX()                  the same, then POST /api/stop_all_vox (speakers, LLM, everything).
 *   VoxPlayer                     one AudioContext; each chunk is an AudioBufferSourceNode scheduled to start on
 *                                 the exact sample where the previous one ends.
 *   beginReply(id, info)          a reply whose stream a feature reads itself (the LLM chat, chat.js, with
 *                                 sseMessages): it replaces the one playing; the feature feeds
 *                                 player.playChunk(id, msg) / player.finish(id).
 *   GET /api/live                 replies other programs push (POST /api/replies) play here the same way;
 *                                 a {"stop": true} message there silences the page (a stop from outside).
 *
 * Events (on window.vox.events, an EventTarget; detail is a plain object):
 *   replystart {replyId, text, voice, speed}   chunk {replyId, idx, part, total, text, start, end}
 *   playing {replyId, idx, text}  (idx null between chunks)   replyend {replyId, reason: done|stopped|replaced|error}
 *   error {replyId?, message}     notice {message}     stop {all}  (a feature with its own stream aborts it)
 * No external libraries; plain ES2020 so it runs as-is in Chromium and QtWebEngine.
 */
(function (global) {
  "use strict";

  const FIRST_LEAD = 0.04; // s before the first chunk: covers the decode and a render quantum, not more
  const LATE_LEAD = 0.01; // s when a chunk arrives after the queue ran dry (the server fell behind)
  const TICK_MS = 40; // how often the "now playing" chunk is re-evaluated
  const HISTORY = 20; // finished replies kept in window.vox.replies for tests and the UI

  // ---- WAV decoding -------------------------------------------------------------------------------
  // A manual 16-bit PCM parse is exact and faster than decodeAudioData (no resampling, no promise hop),
  // and maps samples the way Chromium's decoder does: positive / 32767, negative / 32768.

  function base64ToBytes(b64) {
    const bin = atob(b64);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }

  function parseWav(bytes) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const tag = (o) => String.fromCharCode(bytes[o], bytes[o + 1], bytes[o + 2], bytes[o + 3]);
    if (bytes.length < 12 || tag(0) !== "RIFF" || tag(8) !== "WAVE") throw new Error("the audio is not a WAV file");
    let off = 12;
    let fmt = null;
    let data = null;
    while (off + 8 <= bytes.length) {
      const id = tag(off);
      const size = view.getUint32(off + 4, true);
      const body = off + 8;
      if (id === "fmt ") {
        fmt = {
          format: view.getUint16(body, true),
          channels: view.getUint16(body + 2, true),
          rate: view.getUint32(body + 4, true),
          bits: view.getUint16(body + 14, true),
        };
      } else if (id === "data") {
        data = { offset: body, size: Math.min(size, bytes.length - body) };
        break;
      }
      off = body + size + (size & 1); // chunks are word-aligned
    }
    if (!fmt || !data) throw new Error("the WAV has no fmt or data chunk");
    if ((fmt.format !== 1 && fmt.format !== 0xfffe) || fmt.bits !== 16 || !fmt.channels) {
      throw new Error(`unsupported WAV (format ${fmt.format}, ${fmt.bits}-bit); expected 16-bit PCM`);
    }
    const ch = fmt.channels;
    const frames = Math.floor(data.size / (2 * ch));
    const samples = new Float32Array(frames);
    for (let i = 0, p = data.offset; i < frames; i++) {
      let sum = 0;
      for (let c = 0; c < ch; c++, p += 2) {
        const v = view.getInt16(p, true);
        sum += v < 0 ? v / 32768 : v / 32767;
      }
      samples[i] = ch === 1 ? sum : sum / ch;
    }
    return { sampleRate: fmt.rate, samples };
  }

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

  // ---- SSE over fetch ---------------------------------------------------------------------------

  /** Yields the parsed `data:` payload of each event; comment lines (": keep-alive") are skipped. */
  async function* sseMessages(response) {
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buf = "";
    let scanFrom = 0;
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buf += decoder.decode(value, { stream: true }).replace(/\r\n?/g, "\n");
        let cut;
        while ((cut = buf.indexOf("\n\n", scanFrom)) >= 0) {
          const block = buf.slice(0, cut);
          buf = buf.slice(cut + 2);
          scanFrom = 0;
          const data = block
            .split("\n")
            .filter((line) => line.startsWith("data:"))
            .map((line) => line.slice(line.startsWith("data: ") ? 6 : 5))
            .join("\n");
          if (data) yield JSON.parse(data);
        }
        scanFrom = Math.max(0, buf.length - 1); // an event of 500 kB arrives in many reads: don't rescan it
      }
    } finally {
      reader.cancel().catch(() => {});
    }
  }

  // ---- the player --------------------------------------------------------------------------------

  class VoxPlayer extends EventTarget {
    constructor() {
      super();
      this.ctx = null;
      // The engine's sample rate, when known (the page passes /api/status's sample_rate; every chunk says its
      // own). The context runs at it so buffers play sample-exactly and the one resampling to the sound
      // card happens at the output, with Chromium's sinc resampler, instead of linear interpolation per source.
      this.sampleRate = 0;
      this.reply = null; // the one reply allowed to make sound; chunks for any other id are dropped
      this.counts = { received: 0, scheduled: 0, dropped: 0, underruns: 0 };
      this._timer = 0;
    }

    /** The AudioContext, created on first use (call from a click or key handler so autoplay allows it). */
    context() {
      if (this.ctx && this.sampleRate && this.ctx.sampleRate !== this.sampleRate && !this.reply) {
        this.ctx.close().catch(() => {}); // the engine changed its rate: start a context at the new one
        this.ctx = null;
      }
      if (!this.ctx) {
        const Ctx = global.AudioContext || global.webkitAudioContext;
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
        if (this.ctx) this.ctx.resume().catch(() => {});
        for (const t of ["pointerdown", "keydown"]) document.removeEventListener(t, unlock, true);
      };
      for (const t of ["pointerdown", "keydown"]) document.addEventListener(t, unlock, true);
      setTimeout(() => {
        if (this.ctx && this.ctx.state === "suspended") {
          this.emit("notice", { message: "The browser holds sound back until you interact: click anywhere to hear Vox." });
        }
      }, 500);
    }

    emit(type, detail) {
      this.dispatchEvent(new CustomEvent(type, { detail }));
    }

    /** Start a new reply; whatever was playing stops at once. */
    begin(replyId, info = {}) {
      this.stop("replaced");
      const ctx = this.context();
      // One gain per reply: disconnecting it silences every queued and playing source in one render quantum.
      const gain = ctx.createGain();
      gain.connect(ctx.destination);
      this.reply = { id: replyId, info, gain, chunks: [], nextFrame: null, finished: false, playingIdx: null };
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
      const chunk = {
        idx: msg.idx,
        part: msg.part || 0,
        total: msg.total,
        text: msg.text || "",
        job: msg.job,
        start: frame / rate,
        end: r.nextFrame / rate,
        arrived,
        frames: wav.samples.length,
        rate: wav.sampleRate,
        source,
      };
      r.chunks.push(chunk);
      this.counts.scheduled++;
      const { source: _s, ...detail } = chunk;
      this.emit("chunk", { replyId, ...detail });
      return true;
    }

    /** No more chunks will come for this reply: it ends when its last scheduled chunk has played. */
    finish(replyId) {
      const r = this.reply;
      if (!r || r.id !== replyId) return;
      r.finished = true;
      this._tick();
    }

    /** Silence the current reply now (queued and playing); returns whether anything was stopped. */
    stop(reason = "stopped") {
      const r = this.reply;
      if (!r) return false;
      this.reply = null;
      clearInterval(this._timer);
      try {
        r.gain.disconnect();
      } catch (e) {
        /* already disconnected */
      }
      for (const c of r.chunks) {
        try {
          c.source.stop();
        } catch (e) {
          /* not started yet in some engines: disconnecting the gain already silenced it */
        }
      }
      this.emit("replyend", { replyId: r.id, reason });
      return true;
    }

    /** Schedule bookkeeping: which chunk is audible now, and whether a finished reply has played out. */
    _tick() {
      const r = this.reply;
      if (!r) return;
      const t = this.ctx.currentTime;
      let now = null;
      for (const c of r.chunks) if (c.start <= t && t < c.end) now = c;
      const idx = now ? now.idx : null;
      if (idx !== r.playingIdx) {
        r.playingIdx = idx;
        this.emit("playing", { replyId: r.id, idx, text: now ? now.text : null });
      }
      const last = r.chunks[r.chunks.length - 1];
      if (r.finished && (!last || t >= last.end)) {
        this.reply = null;
        clearInterval(this._timer);
        r.gain.disconnect();
        this.emit("replyend", { replyId: r.id, reason: "done" });
      }
    }

    get playing() {
      return this.reply !== null;
    }
  }

  // ---- speaking through the server ----------------------------------------------------------------

  const player = new VoxPlayer();
  const events = player; // one EventTarget for the page: player events and reply events together
  let replySeq = 0;
  let current = null; // {id, controller, status, ...} of the reply being streamed or played
  const replies = []; // recent reply records (newest last), for the UI and tests

  function notifyError(message, replyId) {
    events.dispatchEvent(new CustomEvent("error", { detail: { message, replyId } }));
  }

  function networkMessage(during) {
    const where = global.location ? global.location.origin : "the server";
    return during
      ? `The connection to the Vox server (${where}) was lost while speaking. Is it still running? ` +
          "The page reconnects by itself once it is back."
      : `Cannot reach the Vox server at ${where}. Is it still running? Start it with "python app.py"; ` +
          "the page reconnects by itself.";
  }

  function record(rec, status, error) {
    rec.status = status;
    if (error) rec.error = error;
    rec.endedAt = performance.now();
  }

  /** Abort the reply being streamed (if any) and silence it; the server is told separately. */
  function cancelCurrent(reason) {
    const rec = current;
    current = null;
    if (rec) {
      rec.controller.abort();
      if (rec.status === "streaming" || rec.status === "pending") record(rec, reason);
    }
    return player.stop(reason) || !!rec;
  }

  function post(path, body) {
    return fetch(path, {
      method: "POST",
      headers: body ? { "Content-Type": "application/json" } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
  }

  async function readError(res) {
    let body = {};
    try {
      body = await res.json();
    } catch (e) {
      /* not JSON: fall back to the status line */
    }
    let msg = body.error || `The server answered ${res.status} ${res.statusText}`;
    if (Array.isArray(body.voices) && body.voices.length && !msg.includes(body.voices[0])) {
      msg += ` (voices: ${body.voices.join(", ")})`;
    }
    return msg;
  }

  /**
   * Speak `text` in the page. A new call replaces the reply in progress. Options: voice, speed.
   * Resolves (never rejects) with the reply record when the stream has ended.
   */
  async function speakText(text, lang, opts = {}) {
    text = String(text == null ? "" : text);
    if (!text.trim()) {
      notifyError("There is nothing to say: type some text first.");
      return null;
    }
    cancelCurrent("replaced");
    const id = `r${++replySeq}`;
    const controller = new AbortController();
    const payload = { text };
    if (opts.voice) payload.voice = opts.voice;
    if (opts.speed != null && opts.speed !== "") payload.speed = Number(opts.speed);
    if (lang) payload.lang = lang;
    const rec = { id, text, voice: opts.voice || "", speed: payload.speed, controller, status: "pending", job: null };
    rec.startedAt = performance.now();
    current = rec;
    replies.push(rec);
    if (replies.length > HISTORY) replies.shift();
    try {
      player.begin(id, { text }); // creates/resumes the AudioContext inside the user's gesture
    } catch (e) {
      record(rec, "error", String(e.message || e));
      notifyError(rec.error, id);
      return rec;
    }
    events.dispatchEvent(new CustomEvent("replystart", { detail: { replyId: id, text, voice: rec.voice, speed: rec.speed } }));
    const fail = (message) => {
      if (current !== rec) return;
      current = null;
      record(rec, "error", message);
      player.finish(id); // what already arrived still plays; the error is shown beside it
      notifyError(message, id);
      events.dispatchEvent(new CustomEvent("replyerror", { detail: { replyId: id, message } }));
    };
    let res;
    try {
      res = await fetch("/api/vox_speak_wav_stream", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(payload),
        signal: controller.signal,
      });
    } catch (e) {
      if (!controller.signal.aborted) fail(networkMessage(false));
      return rec;
    }
    if (!res.ok) {
      const msg = await readError(res);
      if (!controller.signal.aborted) fail(msg);
      return rec;
    }
    rec.job = res.headers.get("X-Vox-Job");
    rec.status = "streaming";
    let ended = false;
    try {
      for await (const msg of sseMessages(res)) {
        if (current !== rec) break; // stopped or replaced: nothing more of this reply may play
        if (msg.error) {
          fail(`The server could not finish speaking: ${msg.error}`);
          return rec;
        }
        if (msg.done) {
          ended = true;
          rec.chunks = msg.chunks;
          record(rec, msg.stopped ? "stopped" : "done");
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
            return rec;
          }
        }
      }
    } catch (e) {
      if (!controller.signal.aborted) fail(networkMessage(true));
      return rec;
    }
    if (!ended && current === rec) fail(networkMessage(true));
    return rec;
  }

  async function tellServer(path) {
    try {
      const res = await post(path);
      if (!res.ok) notifyError(await readError(res));
      return res.ok;
    } catch (e) {
      notifyError(`The page stopped playing, but the server could not be told to stop (${path}): it is unreachable.`);
      return false;
    }
  }

  /** Stop the current reply: silent at once, stream aborted, server generation stopped. */
  function stopVOXSpeaking() {
    const had = cancelCurrent("stopped");
    events.dispatchEvent(new CustomEvent("stop", { detail: { all: false } }));
    return tellServer("/api/vox_stop").then((ok) => ok && had);
  }

  /** Stop everything Vox is doing: this page's reply, the speakers, anything else the server runs. */
  function stopAllVOX() {
    cancelCurrent("stopped");
    events.dispatchEvent(new CustomEvent("stop", { detail: { all: true } }));
    return tellServer("/api/stop_all_vox");
  }

  /** Speak on the computer's speakers through the server (no audio in the page). */
  async function speakOnSpeakers(text, opts = {}) {
    cancelCurrent("replaced");
    const payload = { text: String(text) };
    if (opts.voice) payload.voice = opts.voice;
    if (opts.speed != null && opts.speed !== "") payload.speed = Number(opts.speed);
    try {
      const res = await post("/api/vox_speak", payload);
      if (!res.ok) {
        const message = await readError(res);
        notifyError(`Playing on the speakers failed: ${message}`);
        return { ok: false, error: message };
      }
      return { ok: true, ...(await res.json().catch(() => ({}))) };
    } catch (e) {
      const message = networkMessage(false);
      notifyError(message);
      return { ok: false, error: message };
    }
  }

  /**
   * Start a reply whose stream another feature reads itself (the LLM chat, static/chat.js): it replaces the
   * reply in progress and becomes the player's, like speakText's; the caller feeds it with
   * player.playChunk(id, msg) and ends it with player.finish(id) or player.stop(). Listed in vox.replies; the
   * caller sets rec.job from its first chunk, so a stop broadcast on GET /api/live is matched against it, and
   * rec.status when it ends. No replystart event: the caller shows the reply itself.
   */
  function beginReply(id, info = {}) {
    cancelCurrent("replaced");
    const rec = { ...info, id, status: "streaming", job: null, startedAt: performance.now() };
    replies.push(rec);
    if (replies.length > HISTORY) replies.shift();
    player.begin(id, info);
    return rec;
  }

  // ---- replies pushed by other programs (POST /api/replies with "sink": "page") -------------------------

  /**
   * Play what the server publishes on GET /api/live: replies another program streams into Vox. Each pushed
   * reply (its job id) becomes a player reply like a spoken one: it replaces what is playing, Stop silences
   * it, and chunks that arrive after it was stopped are dropped. EventSource reconnects by itself.
   */
  function listenLive() {
    if (!global.EventSource) return null;
    const source = new EventSource("/api/live");
    const begun = new Set();
    source.onmessage = (e) => {
      let msg;
      try {
        msg = JSON.parse(e.data);
      } catch (err) {
        return;
      }
      if (msg.stop) {
        // A stop from outside the page (global hotkey, another client): silence what this page still has
        // queued, unless the reply playing started after that stop (server job numbers only grow).
        const playing = player.reply && replies.find((r) => r.id === player.reply.id);
        const number = playing && playing.job ? parseInt(String(playing.job).slice(1), 10) : 0;
        if (!(number > msg.newest)) cancelCurrent("stopped");
        return;
      }
      if (!msg.job) return;
      const id = `live-${msg.job}`;
      if (msg.audio) {
        if (!begun.has(id)) {
          if (begun.size > 100) begun.clear();
          begun.add(id);
          cancelCurrent("replaced");
          const rec = { id, text: "", voice: "", live: true, status: "streaming", job: msg.job };
          rec.startedAt = performance.now();
          replies.push(rec);
          if (replies.length > HISTORY) replies.shift();
          player.begin(id, { live: true });
          events.dispatchEvent(new CustomEvent("replystart", { detail: { replyId: id, text: "", live: true } }));
        }
        const rec = replies.find((r) => r.id === id);
        if (rec) rec.text = rec.text ? `${rec.text} ${msg.part ? "" : msg.text}`.trim() : msg.text;
        player.playChunk(id, msg);
      } else if (msg.done || msg.error) {
        const rec = replies.find((r) => r.id === id);
        if (rec && rec.status === "streaming") record(rec, msg.error ? "error" : msg.stopped ? "stopped" : "done", msg.error);
        if (msg.error) notifyError(`A pushed reply failed: ${msg.error}`, id);
        if (msg.stopped && player.reply && player.reply.id === id) player.stop("stopped");
        else player.finish(id);
      }
    };
    return source;
  }

  const vox = {
    player,
    events,
    replies,
    VoxPlayer,
    parseWav,
    sseMessages,
    readError,
    networkMessage,
    beginReply,
    speakText,
    speakOnSpeakers,
    stopVOXSpeaking,
    stopAllVOX,
    get ctx() {
      return player.ctx;
    },
    get counts() {
      return player.counts;
    },
    /** The reply being streamed or played, else null. */
    get replyId() {
      return current ? current.id : player.reply ? player.reply.id : null;
    },
    get last() {
      return replies[replies.length - 1] || null;
    },
    /** Scheduled chunks of the reply now playing (start/end in AudioContext seconds). */
    get chunks() {
      return player.reply ? player.reply.chunks.map(({ source, ...c }) => c) : [];
    },
    get speaking() {
      return player.playing || current !== null;
    },
  };
  // Remember each reply's schedule for tests and the UI (the player forgets it once the reply ends).
  events.addEventListener("chunk", (e) => {
    const rec = replies.find((r) => r.id === e.detail.replyId);
    if (rec) (rec.schedule = rec.schedule || []).push(e.detail);
  });

  vox.live = listenLive();

  global.VoxPlayer = VoxPlayer;
  global.vox = vox;
  global.speakText = speakText;
  global.stopVOXSpeaking = stopVOXSpeaking;
  global.stopAllVOX = stopAllVOX;
  global.speakOnSpeakers = speakOnSpeakers;
})(window);

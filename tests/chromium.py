"""Real Chromium for the tests, the benchmark and the screenshots: launch it (Debian's /usr/bin/chromium
through Playwright), record what a page plays sample-exactly, and find each server chunk in a recording.
Tests and benchmark share these so that they measure the same way."""

from __future__ import annotations

import base64
import io
import wave

import numpy as np

CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
    "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",  # a microphone that plays a tone
]  # fmt: skip
RATE = 22050
"""Piper's rate; the page's AudioContext is forced to it so nothing is resampled between chunk and recording."""

RECORDER_JS = """
(() => {
  const RATE = __RATE__;
  const Native = window.AudioContext;
  const nativeConnect = AudioNode.prototype.connect;
  const rec = (window.__rec = { blocks: [], ready: false, sse: [], inputs: [], requests: 0 });
  const taps = new WeakMap();
  const workletCode = `
    class Tap extends AudioWorkletProcessor {
      process(inputs) {
        const ch = inputs[0] && inputs[0][0];
        if (ch) this.port.postMessage({ f: currentFrame, d: ch.slice(0) });
        return true;
      }
    }
    registerProcessor("vox-test-tap", Tap);`;
  // Every AudioContext runs at RATE and gets a recording tap: whatever is connected to its destination is
  // also connected to the tap, a worklet that posts each 128-frame block with its frame number.
  window.AudioContext = class extends Native {
    constructor(opts = {}) {
      super({ ...opts, sampleRate: RATE });
      const tap = new GainNode(this);
      taps.set(this, tap);
      window.__ctx = this;
      const url = URL.createObjectURL(new Blob([workletCode], { type: "application/javascript" }));
      this.audioWorklet.addModule(url).then(() => {
        const node = new AudioWorkletNode(this, "vox-test-tap", { channelCount: 1, channelCountMode: "explicit" });
        node.port.onmessage = (e) => rec.blocks.push(e.data);
        nativeConnect.call(tap, node);
        nativeConnect.call(node, this.destination);
        rec.ready = true;
      });
    }
  };
  window.webkitAudioContext = window.AudioContext;
  AudioNode.prototype.connect = function (dest, ...rest) {
    const out = nativeConnect.call(this, dest, ...rest);
    const tap = dest instanceof AudioDestinationNode && taps.get(dest.context);
    if (tap) nativeConnect.call(this, tap);
    return out;
  };
  const now = () => (window.__ctx ? window.__ctx.currentTime : null);
  // When each click / key happened, on the audio clock (to measure stop latency from the user's action).
  for (const type of ["click", "keydown"]) {
    const log = (e) => rec.inputs.push({ type, key: e.key || null, id: e.target.id || null, t: now() });
    document.addEventListener(type, log, true);
  }
  // A copy of every SSE message of every speak stream, stamped with its arrival on the audio clock.
  const nativeFetch = window.fetch;
  window.fetch = async function (input, init) {
    const res = await nativeFetch.call(this, input, init);
    const url = typeof input === "string" ? input : input.url;
    if (!url.includes("vox_speak_wav_stream") || !res.body) return res;
    const req = ++rec.requests;
    const [mine, theirs] = res.body.tee();
    (async () => {
      const reader = mine.getReader();
      const dec = new TextDecoder();
      let buf = "";
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += dec.decode(value, { stream: true });
          let i;
          while ((i = buf.indexOf("\\n\\n")) >= 0) {
            const line = buf.slice(0, i);
            buf = buf.slice(i + 2);
            if (!line.startsWith("data: ")) continue;
            rec.sse.push({ req, t: now(), perf: performance.now(), msg: JSON.parse(line.slice(6)) });
          }
        }
      } catch (e) {
        rec.sse.push({ req, t: now(), msg: { aborted: String(e) } });
      }
    })();
    return new Response(theirs, { status: res.status, statusText: res.statusText, headers: res.headers });
  };
})();
""".replace("__RATE__", str(RATE))

RECORDING_JS = """
() => {
  const blocks = window.__rec.blocks;
  if (!blocks.length) return null;
  const f0 = blocks[0].f;
  const last = blocks[blocks.length - 1];
  const out = new Float32Array(last.f + last.d.length - f0);
  for (const b of blocks) out.set(b.d, b.f - f0);
  const bytes = new Uint8Array(out.buffer);
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  return { f0, rate: window.__ctx.sampleRate, b64: btoa(s) };
}
"""

def launch(playwright, env: dict | None = None, audible: bool = False):
    """Headless Debian Chromium with autoplay allowed (Playwright's own browsers cannot be downloaded here).
    ``audible`` keeps its sound on (Playwright mutes it), for recording at the device level."""
    return playwright.chromium.launch(
        executable_path=CHROMIUM, args=LAUNCH_ARGS, env=env, ignore_default_args=["--mute-audio"] if audible else None
    )


def new_page(browser, url: str, init_script: str = RECORDER_JS):
    """A fresh context and page on ``url`` with ``init_script`` (the recorder) run before any page script."""
    context = browser.new_context()
    context.add_init_script(init_script)
    page = context.new_page()
    page.goto(url)
    return page


def chromium_pcm(wav: bytes) -> np.ndarray:
    """A 16-bit WAV as Chromium's decoder maps it to float: positive / 32767, negative / 32768."""
    with wave.open(io.BytesIO(wav), "rb") as w:
        ints = np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float32)
    return np.where(ints < 0, ints / np.float32(32768), ints / np.float32(32767)).astype(np.float32)


class Recording:
    """What the page played since its AudioContext started: ``pcm[i]`` is audio frame ``f0 + i``."""

    def __init__(self, page) -> None:
        got = page.evaluate(RECORDING_JS)
        if got is None:
            self.pcm, self.f0, self.rate = np.zeros(0, np.float32), 0, RATE
        else:
            self.pcm = np.frombuffer(base64.b64decode(got["b64"]), "<f4")
            self.f0, self.rate = got["f0"], got["rate"]

    def index(self, t: float) -> int:
        """Index in ``pcm`` of audio-clock time ``t`` (seconds)."""
        return round(t * self.rate) - self.f0

    def time(self, i: int) -> float:
        return (i + self.f0) / self.rate

    def last_sound(self, threshold: float = 0.0) -> int | None:
        """Index of the last sample louder than ``threshold``, or None."""
        loud = np.flatnonzero(np.abs(self.pcm) > threshold)
        return int(loud[-1]) if loud.size else None


def sse_chunks(page, req: int | None = None) -> list[dict]:
    """The audio messages the page received (all requests, or request number ``req``), with ``pcm`` added."""
    out = []
    for item in page.evaluate("() => window.__rec.sse"):
        msg = item["msg"]
        if "audio" in msg and (req is None or item["req"] == req):
            pcm = chromium_pcm(base64.b64decode(msg["audio"]))
            out.append({**msg, "req": item["req"], "arrived": item["t"], "perf": item["perf"], "pcm": pcm})
    return out


def locate_exact(rec: np.ndarray, pcm: np.ndarray, start: int = 0) -> int | None:
    """Where ``pcm`` occurs sample-exactly in ``rec`` (at or after ``start``), or None."""
    anchor = int(np.argmax(np.abs(pcm)))
    value = pcm[anchor]
    for hit in np.flatnonzero(rec[start:] == value) + start:
        off = int(hit) - anchor
        if 0 <= off and off + len(pcm) <= len(rec) and np.array_equal(rec[off : off + len(pcm)], pcm):
            return off
    return None


def locate_correlated(rec: np.ndarray, pcm: np.ndarray, start: int = 0) -> int:
    """Best-matching offset of ``pcm`` in ``rec`` by FFT cross-correlation (for resampled or delayed output)."""
    seg = rec[start:]
    n = 1 << int(np.ceil(np.log2(len(seg) + len(pcm))))
    corr = np.fft.irfft(np.fft.rfft(seg, n) * np.conj(np.fft.rfft(pcm, n)), n)[: len(seg) - len(pcm) + 1]
    return start + int(np.argmax(corr))


def chunk_offsets(rec: np.ndarray, chunks: list[np.ndarray], exact: bool) -> list[int]:
    """Where each chunk starts in ``rec``, searched in order (each after the previous one)."""
    offsets: list[int] = []
    start = 0
    for pcm in chunks:
        off = locate_exact(rec, pcm, start) if exact else locate_correlated(rec, pcm, start)
        if off is None:
            raise AssertionError(f"chunk {len(offsets)} was not played sample-exactly (or not in order)")
        offsets.append(off)
        start = off + len(pcm) - 1
    return offsets


def boundary_gaps(rec: np.ndarray, chunks: list[np.ndarray], exact: bool) -> list[int]:
    """Frames of silence at each boundary between consecutive chunks (negative: overlap)."""
    offsets = chunk_offsets(rec, chunks, exact)
    return [offsets[i + 1] - (offsets[i] + len(chunks[i])) for i in range(len(chunks) - 1)]


def added_silence(rec: Recording, chunks: list[dict], exact: bool) -> list[tuple[float, float]]:
    """(silence, wait) in seconds at each boundary: ``wait`` is how long after chunk n ended chunk n+1 only
    arrived (0 when it was there in time), so ``silence - wait`` is what the client itself added."""
    pcms = [c["pcm"] for c in chunks]
    offsets = chunk_offsets(rec.pcm, pcms, exact)
    out = []
    for i in range(len(chunks) - 1):
        end = offsets[i] + len(pcms[i])
        wait = max(0.0, chunks[i + 1]["arrived"] - rec.time(end))
        out.append(((offsets[i + 1] - end) / rec.rate, wait))
    return out

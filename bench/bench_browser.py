"""Silence added at chunk boundaries in real Chromium: Vox's player vs the predecessor's client.

Both clients play the same server's SSE for the same text in the same headless Chromium, whose sound goes
to a PulseAudio null sink (tests/pulse.py); the sink's monitor is recorded, each server chunk is found in
that recording by correlation, and the gap at a boundary is where chunk n+1 starts minus where chunk n
ended. Vox is also measured inside the page, sample-exactly (``RECORDER_JS``).

- Vox (static/vox.js): one AudioContext, each chunk an AudioBufferSourceNode started on the sample where
  the previous one ends.
- the predecessor: one ``new Audio()`` element per chunk, the next one played on ``ended``.

This module also holds the Chromium helpers that tests/test_browser.py and scripts/screenshots.py use
(launch, the in-page recorder, chunk location), so the tests and the benchmark measure the same way.
"""

from __future__ import annotations

import base64
import io
import os
import statistics
import sys
import tempfile
import time
import wave
from pathlib import Path

import numpy as np

from bench.common import row, spread

CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
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

PREDECESSOR_JS = """
async (text) => {
  // The predecessor's client: one <audio> element per chunk, the next one started when the previous ends.
  const queue = [];
  let playing = false;
  let finished = false;
  const playNext = () => {
    const src = queue.shift();
    if (!src) { playing = false; if (finished) window.__predecessorDone = true; return; }
    playing = true;
    const audio = new Audio(src);
    audio.onended = playNext;
    audio.play();
  };
  const res = await fetch("/api/vox_speak_wav_stream", {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ text }),
  });
  const reader = res.body.getReader();
  const dec = new TextDecoder();
  let buf = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += dec.decode(value, { stream: true });
    let i;
    while ((i = buf.indexOf("\\n\\n")) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 2);
      if (!line.startsWith("data: ")) continue;
      const msg = JSON.parse(line.slice(6));
      if (msg.audio) { queue.push("data:audio/wav;base64," + msg.audio); if (!playing) playNext(); }
    }
  }
  finished = true;
  if (!playing) window.__predecessorDone = true;
}
"""


def launch(playwright, env: dict | None = None, audible: bool = False):
    """Headless Debian Chromium with autoplay allowed (Playwright's own browsers cannot be downloaded here).
    ``audible`` keeps its sound on (Playwright mutes it), for recording at the device level."""
    return playwright.chromium.launch(
        executable_path=CHROMIUM, args=LAUNCH_ARGS, env=env, ignore_default_args=["--mute-audio"] if audible else None
    )


def new_page(browser, url: str):
    """A fresh context and page on ``url`` with the recorder installed before any page script runs."""
    context = browser.new_context()
    context.add_init_script(RECORDER_JS)
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


# ---- the benchmark ---------------------------------------------------------------------------------
# Both clients are measured the same way, at the "sound card": Chromium plays into a PulseAudio null sink
# (tests/pulse.py) whose monitor is recorded, and each chunk is found in that recording by correlation.
# Vox is also measured in the page, sample-exactly. The server speaks one sentence per chunk
# (chunking.group_size = 1) so that a short text has many boundaries.

TEXT = (
    "Here is the plan. We meet at nine. Then we review the new screens. Lunch is at half past twelve. "
    "After lunch we test the release. Anything that breaks gets fixed. Marketing wants the screenshots by four. "
    "Thanks, and have a good evening."
)
SERVER_CONFIG = "[chunking]\ngroup_size = 1\n"
LATE = 0.05
"""A boundary where the next chunk arrived less than this before the previous one ended is left out: the
silence there is the server's (a loaded machine), not the client's."""


def _resampled(pcm: np.ndarray, src: int, dst: int) -> np.ndarray:
    n = round(len(pcm) * dst / src)
    return np.interp(np.linspace(0, len(pcm) - 1, n), np.arange(len(pcm)), pcm).astype(np.float32)


def device_gaps(
    audio: np.ndarray, rate: int, chunks: list[dict], arrived_epoch: list[float], sample0_epoch: float
) -> tuple[list[float], int]:
    """Silence (s) at each boundary in a device recording, and how many late boundaries were left out."""
    pcms = [_resampled(c["pcm"], c["sample_rate"], rate) for c in chunks]
    offsets = chunk_offsets(audio, pcms, exact=False)
    gaps, late = [], 0
    for i in range(len(pcms) - 1):
        end = offsets[i] + len(pcms[i])
        if arrived_epoch[i + 1] > sample0_epoch + end / rate - LATE:
            late += 1
            continue
        gaps.append((offsets[i + 1] - end) / rate)
    return gaps, late


def trial(browser, pulse, url: str, client: str) -> dict:
    """One reply played by ``client`` ('vox' or 'predecessor'): its boundary gaps at the device (and, for
    Vox, in the page), in seconds."""
    page = new_page(browser, url)
    try:
        page.evaluate("() => voxUI.ready")
        recorder = pulse.record()
        if client == "vox":
            page.evaluate("t => { speakText(t); }", TEXT)
            page.wait_for_function("() => vox.last && vox.last.status === 'done' && !vox.speaking",
                                   timeout=120_000, polling=100)  # fmt: skip
        else:
            page.evaluate("t => { (" + PREDECESSOR_JS + ")(t); }", TEXT)
            page.wait_for_function("() => window.__predecessorDone === true", timeout=120_000, polling=100)
        page.wait_for_timeout(300)  # the tail through the sink
        audio = recorder.stop()
        to_epoch = time.time() - time.monotonic()
        chunks = sse_chunks(page)
        # Arrival times on the wall clock, to compare with the recording's (both within a few ms).
        origin = page.evaluate("() => performance.timeOrigin")
        arrived_epoch = [(origin + c["perf"]) / 1000 for c in chunks]
        out = {"device": device_gaps(audio, 48000, chunks, arrived_epoch, recorder.clock_offset + to_epoch)}
        if client == "vox":
            out["page"] = [gap - wait for gap, wait in added_silence(Recording(page), chunks, exact=True)]
        return out
    finally:
        page.context.close()


def run(quick: bool = False) -> list[dict]:
    from playwright.sync_api import sync_playwright

    from tests.conftest import start_server
    from tests.pulse import PulseServer, available

    if (why := available()) is not None:
        return [row("5", "browser gaps", f"skipped: {why}", "< 5 ms", ok=None)]
    trials = 1 if quick else 3
    clients = ("vox",) if quick else ("vox", "predecessor")  # quick (CI) checks Vox; the comparison is for `make bench`
    gaps: dict[str, list[float]] = {"vox": [], "predecessor": [], "page": []}
    late = {"vox": 0, "predecessor": 0}
    retried = 0
    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(Path(tmp) / "server", config=SERVER_CONFIG)
        pulse = PulseServer(Path(tmp) / "pulse").start()
        try:
            assert server.post("/api/tts_load", {"engine": "piper"}).status_code == 200
            server.post("/api/vox_speak_wav", {"text": "Warm up."})
            with sync_playwright() as p:
                browser = launch(p, env={**os.environ, **pulse.env, "HOME": str(pulse.home)}, audible=True)
                try:
                    for _ in range(trials):  # interleaved, so machine noise hits both clients alike
                        for client in clients:
                            try:
                                got = trial(browser, pulse, server.url + "/", client)
                            except AssertionError as e:  # seen once in ~10 runs on a loaded machine: say so, retry
                                print(f"bench_browser: {client} trial failed ({e}); retrying once", file=sys.stderr)
                                retried += 1
                                got = trial(browser, pulse, server.url + "/", client)
                            gaps[client] += got["device"][0]
                            late[client] += got["device"][1]
                            gaps["page"] += got.get("page", [])
                finally:
                    browser.close()
        finally:
            pulse.stop()
            server.stop()
    vox, old, page = gaps["vox"], gaps["predecessor"], gaps["page"]
    note = f"{late['vox'] + late['predecessor']} late boundaries left out" if any(late.values()) else ""
    note += f"{'; ' if note else ''}{retried} trial(s) retried" if retried else ""
    return [
        row("5", "browser: silence added per chunk boundary, Vox player, in the page (sample-exact)",
            spread(page, "ms"), "< 5 ms", measure=max(page), limit=0.005),
        row("5a", "browser: same, Vox player, at the sound card (PulseAudio null sink)",
            spread(vox, "ms") + (f"; {note}" if note else ""), "< 5 ms", measure=statistics.median(vox), limit=0.005),
        row("5b", "browser: same, the predecessor's one <audio> per chunk played on 'ended', at the sound card",
            spread(old, "ms") if old else "not run in quick mode", "for comparison", ok=None),
    ]  # fmt: skip


if __name__ == "__main__":
    t0 = time.monotonic()
    for r in run(quick="--quick" in sys.argv):
        print(f"{r['what']}: {r['value']} (target {r['target']}, ok={r['ok']})")
    print(f"[{time.monotonic() - t0:.0f} s]")

"""Silence added at chunk boundaries in real Chromium: Vox's player vs the predecessor's client.

Both clients play the same server's SSE for the same text in the same headless Chromium, whose sound goes
to a PulseAudio null sink (tests/pulse.py); the sink's monitor is recorded, each server chunk is found in
that recording by correlation, and the gap at a boundary is where chunk n+1 starts minus where chunk n
ended. Vox is also measured inside the page, sample-exactly (``RECORDER_JS``).

- Vox (static/js/player.js): one AudioContext, each chunk an AudioBufferSourceNode started on the sample where
  the previous one ends.
- the predecessor: one ``new Audio()`` element per chunk, the next one played on ``ended``.

The Chromium helpers (launch, the in-page recorder, chunk location) live in tests/chromium.py, shared with
the tests.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.common import not_measured, row, spread
from tests.chromium import Recording, added_silence, chunk_offsets, launch, new_page, sse_chunks

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
        page.evaluate("() => vox.ready")
        recorder = pulse.record()
        if client == "vox":
            page.evaluate("t => { vox.speak(t); }", TEXT)
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
        return [not_measured("5", "browser gaps", why, "< 5 ms")]
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

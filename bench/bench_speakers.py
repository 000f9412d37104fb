"""Host speakers through a PulseAudio null sink: gaps at chunk boundaries, and stop -> silence.

What the "speakers" received is recorded from the sink's monitor (tests/pulse.py). A gap is a run of digital
silence inside the speech (the sink plays exact zeros when our stream has nothing; speech never does). For
contrast, the full run also plays the same chunks the predecessor's way, one ``sd.play()`` per chunk.

Stop timings are on the bench's clock: from sending the POST to the last sound, plus the sink's configured
latency (the monitor records a sample when pulse renders it, up to that long before a real device sounds it).
``python -m bench.bench_speakers [--quick]``.
"""

from __future__ import annotations

import base64
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import requests

from bench.common import not_measured, p95, row, spread
from tests import pulse
from tests.conftest import VoxServer, start_server
from vox.audio import read_wav

SENTENCES = [
    "The quick brown fox jumps over the lazy dog near the river bank.",
    "A gentle breeze moves the tall grass across the quiet meadow today.",
    "Seven small boats sail slowly past the old lighthouse on the hill.",
    "Bright lanterns glow along the narrow street as the evening settles in.",
]
CONFIG = "[chunking]\ngroup_size = 1\n\n[hotkeys]\nglobal_enabled = false\n"
"""One sentence per chunk: the engine stays ahead of playback even on a busy machine, so a gap is playback's."""
MAX_GAP = 0.005
MAX_STOP = 0.050


def play_and_record(vox: VoxServer, sink: pulse.PulseServer, text: str) -> tuple[list[float], dict]:
    """Speak ``text`` to the end; (recorded gaps in seconds, longest first; the server's playback summary)."""
    recorder = sink.record()
    summary = vox.post("/api/vox_speak?wait=true", {"text": text}, timeout=120).json()
    time.sleep(0.2)
    return pulse.gaps_inside(recorder.stop()), summary


def stop_trial(vox: VoxServer, sink: pulse.PulseServer, text: str, delay: float) -> tuple[float, float, float]:
    """(POST sent -> silence, stop reply -> silence, server cancel -> stream aborted) in seconds."""
    recorder = sink.record()
    replies: list[dict] = []
    speaking = threading.Thread(
        target=lambda: replies.append(vox.post("/api/vox_speak?wait=true", {"text": text}, timeout=120).json())
    )
    speaking.start()
    time.sleep(delay)
    recorder.wait_for_sound()
    sent = time.monotonic()
    vox.post("/api/vox_stop")
    answered = time.monotonic()
    speaking.join(30)
    time.sleep(0.3)
    audio = recorder.stop()
    span = pulse.sound_span(audio)
    latency = (sink.sink_latency() or (0.0, 0.0))[1]
    silent = recorder.time_of(span[1]) + latency if span else sent
    return silent - sent, silent - answered, (replies[0].get("stop_ms") or 0.0) / 1000 if replies else 0.0


def one_play_per_chunk(vox: VoxServer, sink: pulse.PulseServer, text: str) -> tuple[list[float], int]:
    """The predecessor's way, ``sd.play(chunk, blocking=True)`` chunk after chunk: (recorded gaps, longest
    first; chunk boundaries)."""
    os.environ.update(sink.env)  # before PortAudio is first initialised in this process
    import sounddevice as sd

    chunks = []
    with requests.post(vox.url + "/api/vox_speak_wav_stream", json={"text": text}, stream=True, timeout=120) as r:
        for line in r.iter_lines():
            if line.startswith(b"data: ") and b'"audio"' in line:
                chunks.append(read_wav(base64.b64decode(json.loads(line[6:])["audio"])))
    recorder = sink.record()
    for pcm, rate in chunks:
        sd.play(pcm, rate, blocking=True)
    time.sleep(0.2)
    return pulse.gaps_inside(recorder.stop()), len(chunks) - 1


def run(quick: bool = False) -> list[dict]:
    missing = pulse.available()
    if missing:
        return [not_measured("6", "speakers (PulseAudio null sink)", missing)]
    replies, stops = (1, 3) if quick else (3, 10)
    text = " ".join(SENTENCES[:3] if quick else SENTENCES)
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="vox-bench-speakers-") as tmp, pulse.running(Path(tmp) / "pulse") as sink:
        vox = start_server(Path(tmp) / "vox", config=CONFIG, env=sink.env)
        try:
            vox.post("/api/tts_load", {"engine": "piper"})
            gaps, boundaries, underruns, late, starts = [], 0, 0, 0, []
            for _ in range(replies):
                found, summary = play_and_record(vox, sink, text)
                gaps.append(found[0] if found else 0.0)
                boundaries += summary["chunks"] - 1
                underruns += summary["underruns"]
                late += summary["late_chunks"]
                starts.append(summary["started_ms"] / 1000)
            worst = max(gaps)
            rows.append(row("6", f"speakers: longest silence inserted in speech, {boundaries} chunk boundaries",
                            f"{worst * 1000:.1f} ms (recorded at the sink)", f"<= {MAX_GAP * 1000:.0f} ms",
                            measure=worst, limit=MAX_GAP))  # fmt: skip
            rows.append(row("6a", "speakers: underruns / of them before a late chunk (server clock)",
                            f"{underruns} / {late}", "0", ok=underruns == 0))  # fmt: skip
            rows.append(row("6b", "speakers: POST /api/vox_speak -> first audio written", spread(starts), "report"))
            if not quick:
                old, n = one_play_per_chunk(vox, sink, text)
                rows.append(row("6c", f"  predecessor: one sd.play() per chunk, longest {n} gaps",
                                spread((old + [0.0] * n)[:n]), "reference"))  # fmt: skip
            trials = [stop_trial(vox, sink, " ".join(SENTENCES * 3), 0.4 + 0.37 * i) for i in range(stops)]
            e2e, after, server = ([t[k] for t in trials] for k in range(3))
            rows.append(row("6d", "speakers: stop POST sent -> silence (incl. HTTP and sink latency)",
                            f"{spread(e2e)}, p95 {p95(e2e) * 1000:.0f} ms", f"<= {MAX_STOP * 1000:.0f} ms (median)",
                            measure=float(np.median(e2e)), limit=MAX_STOP))  # fmt: skip
            rows.append(row("6e", "  stop reply received -> silence", spread(after), "report"))
            rows.append(row("6f", "  server: cancel -> stream aborted", spread(server), f"<= {MAX_STOP * 1000:.0f} ms",
                            measure=max(server), limit=MAX_STOP))  # fmt: skip
        finally:
            vox.stop()
    return rows


if __name__ == "__main__":
    from bench.__main__ import table

    print(table(run(quick="--quick" in sys.argv)))

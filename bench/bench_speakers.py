"""Host speakers through a PulseAudio null sink: gaps at chunk boundaries, time to first audio, stop -> silence.

What the "speakers" received is recorded from the sink's monitor (tests/pulse.py). A gap is a run of digital
silence inside the speech (the sink plays exact zeros when our stream has nothing; speech never does). For
contrast, the full run also plays the same chunks the predecessor's way, one ``sd.play()`` per chunk.

Time to first audio (rows 6b1-6b4) compares the speakers with the page path in the same run, on the same
text, in each state the speakers can be in: the first reply after start-up (PortAudio not used yet), the
first after an engine load, a reply while the output is still open from the last one, and one after the
output was closed for being quiet (``keep_open_s``). Speakers: POST /api/vox_speak -> its answer, which
comes once the first audio was written, and -> the first sound recorded at the sink. Page: POST
/api/vox_speak_wav_stream -> the first audio message. Trials of both alternate.

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
from tests.conftest import VoxServer, sse_messages, start_server
from vox.audio.pcm import read_wav

SENTENCES = [
    "The quick brown fox jumps over the lazy dog near the river bank.",
    "A gentle breeze moves the tall grass across the quiet meadow today.",
    "Seven small boats sail slowly past the old lighthouse on the hill.",
    "Bright lanterns glow along the narrow street as the evening settles in.",
]
KEEP_OPEN = 4.0
"""speakers.keep_open_s here (the default is 30 s), so the bench can wait for the output to close."""
CONFIG = f"[chunking]\ngroup_size = 1\n\n[hotkeys]\nglobal_enabled = false\n\n[speakers]\nkeep_open_s = {KEEP_OPEN}\n"
"""One sentence per chunk: the engine stays ahead of playback even on a busy machine, so a gap is playback's."""
MAX_GAP = 0.005
MAX_STOP = 0.050
REPLY = "Sure, here is what I found. " + " ".join(SENTENCES)
"""A reply as an assistant writes it: its first chunk is the opening clause, so the speakers' own share of
the time to first audio is not hidden behind a long first synthesis."""
MAX_RATIO = 1.3
MAX_OWN = 0.010
"""Seconds the speakers may add after the first chunk is ready (0.1-0.4 ms measured; opening a device after
the chunk, as Vox did before, cost 3-25 ms here)."""
SETTLE = 0.3
"""Seconds between trials (onnxruntime's threads spin for a while after a run)."""


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


def recording(sink: pulse.PulseServer) -> pulse.Recorder:
    """Record the sink, in the trials of both paths so the machine is equally busy for both (``parec`` and
    its reader), starting a little before the request."""
    recorder = sink.record()
    time.sleep(0.1)
    return recorder


def page_first_audio(vox: VoxServer, sink: pulse.PulseServer) -> float:
    """POST /api/vox_speak_wav_stream -> first audio message; closing the stream then stops the reply."""
    recorder = recording(sink)
    t0 = time.monotonic()
    with requests.post(vox.url + "/api/vox_speak_wav_stream", json={"text": REPLY}, stream=True, timeout=120) as r:
        first = next(time.monotonic() - t0 for m in sse_messages(r) if "audio" in m)
    recorder.stop()
    wait_idle(vox)
    return first


def speakers_first_audio(vox: VoxServer, sink: pulse.PulseServer) -> tuple[float, float, dict]:
    """(POST /api/vox_speak -> answered once the first audio was written, -> first sound at the sink, summary)."""
    recorder = recording(sink)
    t0 = time.monotonic()
    r = vox.post("/api/vox_speak", {"text": REPLY})
    written = time.monotonic() - t0
    summary = r.json()
    if r.status_code != 200:
        recorder.stop()
        raise RuntimeError(f"/api/vox_speak answered {r.status_code}: {summary}")
    recorder.wait_for_sound(5)
    vox.post("/api/vox_stop")
    time.sleep(0.1)
    span = pulse.sound_span(recorder.stop())
    heard = recorder.time_of(span[0]) - t0 if span else float("nan")
    wait_idle(vox)
    return written, heard, summary


def wait_idle(vox: VoxServer) -> None:
    while vox.get("/api/status").json()["busy"]:
        time.sleep(0.005)


def first_audio_row(id_: str, case: str, page: list[float], spk: list[tuple[float, float, dict]]) -> dict:
    """Speakers (written, heard) against the page path. The ratio is the median of each trial's ratio to the
    page trial next to it in time, so a burst of load on the shared machine tilts one pair, not the row."""
    written, heard = [s[0] for s in spk], [s[1] for s in spk]
    streams = sorted({s[2].get("stream") or "?" for s in spk})
    ratio_written = float(np.median([w / p for w, p in zip(written, page, strict=True)]))
    ratio_heard = float(np.median([h / p for h, p in zip(heard, page, strict=True)]))
    value = (
        f"speakers {np.median(written) * 1000:.0f} ms written, {np.median(heard) * 1000:.0f} ms at the sink "
        f"({'/'.join(streams)}) vs page {spread(page)} -> {ratio_written:.2f}x / {ratio_heard:.2f}x"
    )
    return row(id_, f"time to first audio, speakers vs page: {case}", value, f"<= {MAX_RATIO}x",
               measure=max(ratio_written, ratio_heard), limit=MAX_RATIO)  # fmt: skip


def own_share_row(spk: list[tuple[float, float, dict]]) -> dict:
    """What the speakers add after the engine: from the first chunk to its first block in the stream."""
    shares = [(s[2]["started_ms"] - s[2]["first_chunk_ms"]) / 1000 for s in spk if s[2].get("first_chunk_ms")]
    if not shares:
        return row("6b5", "  speakers' own share (first chunk -> written)", "not reported by this server", "report")
    ms = sorted(1000 * x for x in shares)
    value = f"{np.median(ms):.1f} ms ({ms[0]:.1f}-{ms[-1]:.1f}, n={len(ms)}), p95 {p95(ms):.1f} ms"
    return row("6b5", "  speakers' own share: first chunk -> its first block written, every case",
               value, f"<= {MAX_OWN * 1000:.0f} ms (p95)",
               measure=p95(shares), limit=MAX_OWN)  # fmt: skip


def fresh_server(root: Path, sink: pulse.PulseServer) -> VoxServer:
    vox = start_server(root, config=CONFIG, env=sink.env)
    assert vox.post("/api/tts_load", {"engine": "piper"}).status_code == 200
    return vox


def reload_engine(vox: VoxServer) -> None:
    vox.post("/api/unload_tts")
    assert vox.post("/api/tts_load", {"engine": "piper"}).status_code == 200


def first_audio_rows(root: Path, vox: VoxServer, sink: pulse.PulseServer, quick: bool) -> list[dict]:
    """Rows 6b1-6b4: each case measured for both paths, the trials of the two alternating."""
    starts, loads, warm, idle = (1, 2, 4, 1) if quick else (4, 8, 10, 3)
    page: dict[str, list[float]] = {k: [] for k in ("start", "load", "warm", "idle")}
    spk: dict[str, list[tuple[float, float, dict]]] = {k: [] for k in page}
    for i in range(starts):  # a server of its own per trial and path: nothing used before
        server = fresh_server(root / f"start-page-{i}", sink)
        try:
            page["start"].append(page_first_audio(server, sink))
        finally:
            server.stop()
        server = fresh_server(root / f"start-speakers-{i}", sink)
        try:
            spk["start"].append(speakers_first_audio(server, sink))
        finally:
            server.stop()
    for _ in range(loads):
        reload_engine(vox)
        page["load"].append(page_first_audio(vox, sink))
        reload_engine(vox)
        spk["load"].append(speakers_first_audio(vox, sink))
    for i in range(warm):
        for path in ("page", "speakers") if i % 2 else ("speakers", "page"):
            time.sleep(SETTLE)
            if path == "page":
                page["warm"].append(page_first_audio(vox, sink))
            else:
                spk["warm"].append(speakers_first_audio(vox, sink))
    for _ in range(idle):
        time.sleep(KEEP_OPEN + 1.0)
        spk["idle"].append(speakers_first_audio(vox, sink))
        time.sleep(KEEP_OPEN + 1.0)
        page["idle"].append(page_first_audio(vox, sink))
    cases = [("6b1", "start", "first reply after start-up"), ("6b2", "load", "first reply after an engine load"),
             ("6b3", "warm", "reply while the output is open"),
             ("6b4", "idle", f"reply after the output closed ({KEEP_OPEN:.0f} s quiet)")]  # fmt: skip
    rows = [first_audio_row(id_, what, page[key], spk[key]) for id_, key, what in cases]
    return [*rows, own_share_row([trial for trials in spk.values() for trial in trials])]


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
            rows.extend(first_audio_rows(Path(tmp), vox, sink, quick))
            gaps, boundaries, underruns, late = [], 0, 0, 0
            for _ in range(replies):
                found, summary = play_and_record(vox, sink, text)
                gaps.append(found[0] if found else 0.0)
                boundaries += summary["chunks"] - 1
                underruns += summary["underruns"]
                late += summary["late_chunks"]
            worst = max(gaps)
            rows.append(row("6", f"speakers: longest silence inserted in speech, {boundaries} chunk boundaries",
                            f"{worst * 1000:.1f} ms (recorded at the sink)", f"<= {MAX_GAP * 1000:.0f} ms",
                            measure=worst, limit=MAX_GAP))  # fmt: skip
            rows.append(row("6a", "speakers: underruns / of them before a late chunk (server clock)",
                            f"{underruns} / {late}", "0", ok=underruns == 0))  # fmt: skip
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

"""Uploads built to exhaust memory (decompression bombs: tiny FLACs that claim huge rates, channel counts or
lengths), WAV headers that cannot be true, and forms that break limits other than the body size (issue 18,
defects 2 and 9). Bombs are made here, as real files, and decoded for real."""

from __future__ import annotations

import io
import json
import struct
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import psutil
import pytest
import requests
import soundfile

from tests.conftest import ROOT, start_server
from tests.test_bad_input import GOOD_CLIP, wav
from vox.errors import BadClip, TooManyJobs
from vox.voices import clips
from vox.voices.clips import decode_clip

DECODE_GROWTH_MB = 60
"""Peak RSS a bomb may add while it is decoded (the old decoder added ~480 MB for a 59 s 192 kHz 8-channel one)."""


def flac(rate: int, channels: int, seconds: float, tone_in_first: bool = False) -> bytes:
    """A real FLAC written block by block: silence compresses to almost nothing whatever it claims."""
    buf = io.BytesIO()
    with soundfile.SoundFile(buf, "w", samplerate=rate, channels=channels, format="FLAC", subtype="PCM_16") as f:
        done, total = 0, int(rate * seconds)
        while done < total:
            k = min(rate, total - done)
            block = np.zeros((k, channels), np.float32)
            if tone_in_first:
                block[:, 0] = 0.3 * np.sin(2 * np.pi * 200 * (np.arange(k) + done) / rate)
            f.write(block)
            done += k
    return buf.getvalue()


def with_total_samples(data: bytes, total: int) -> bytes:
    """The FLAC with its STREAMINFO's 36-bit total-samples field set to ``total`` (0 means "unknown")."""
    assert data[:4] == b"fLaC"
    info = bytearray(data)
    at = 8 + 13  # "fLaC", block header (4), then 13 bytes into STREAMINFO: 4 bits of bps, then 36 bits of total
    info[at] = (info[at] & 0xF0) | ((total >> 32) & 0x0F)
    info[at + 1 : at + 5] = (total & 0xFFFFFFFF).to_bytes(4, "big")
    return bytes(info)


@pytest.fixture(scope="module")
def bombs(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("bombs")
    made = {
        "655 kHz, 8 channels, 10 s": flac(655_350, 8, 10),
        "192 kHz, 8 channels, 59 s of silence": flac(192_000, 8, 59),
        "192 kHz, 8 channels, 59 s, a tone in one channel": flac(192_000, 8, 59, tone_in_first=True),
        "48 kHz, 1 channel, 8 s claiming 10 hours": with_total_samples(flac(48_000, 1, 8, True), 48_000 * 36_000),
        "48 kHz, 1 channel, 3 minutes of unknown length": with_total_samples(flac(48_000, 1, 180, True), 0),
    }
    paths = {}
    for i, (what, data) in enumerate(made.items()):
        paths[what] = folder / f"bomb{i}.flac"
        paths[what].write_bytes(data)
    return paths


def peak_growth_mb(path: Path) -> tuple[float, str]:
    """Decode ``path`` in a fresh process: the peak RSS it added (MB) and the outcome."""
    code = (
        "import resource, sys, json; sys.path.insert(0, sys.argv[2]); from vox.voices.clips import decode_clip\n"
        "data = open(sys.argv[1], 'rb').read(); base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "try:\n    out = 'ok %.1f s' % decode_clip(data)[1]\nexcept Exception as e:\n    out = str(e)\n"
        "print(json.dumps([(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) / 1024, out]))"
    )
    p = subprocess.run([sys.executable, "-c", code, str(path), str(ROOT)], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    growth, outcome = json.loads(p.stdout)
    return growth, outcome


@pytest.mark.parametrize("what,expect", [
    ("655 kHz, 8 channels, 10 s", "sample rate is 655350 Hz"),
    ("192 kHz, 8 channels, 59 s of silence", "silent"),
    ("192 kHz, 8 channels, 59 s, a tone in one channel", "ok 59.0 s"),
    ("48 kHz, 1 channel, 8 s claiming 10 hours", "36000.0 s long"),
    ("48 kHz, 1 channel, 3 minutes of unknown length", "s long; the limit is 60 s"),
])  # fmt: skip
def test_a_bomb_costs_a_few_mb_to_decode_or_refuse(bombs, what, expect):
    growth, outcome = peak_growth_mb(bombs[what])
    assert expect in outcome
    assert growth < DECODE_GROWTH_MB, f"{what}: +{growth:.0f} MB"


@pytest.mark.parametrize("rate,channels,message", [(384_000, 1, "384000 Hz"), (96_000, 9, "9 channels"),
                                                   (4_000, 1, "8000 Hz or more")])  # fmt: skip
def test_header_limits_refuse_before_decoding(rate, channels, message):
    data = io.BytesIO()
    soundfile.write(data, np.zeros((rate // 10, channels), np.float32), rate, format="WAV", subtype="PCM_16")
    with pytest.raises(BadClip, match=message):
        decode_clip(data.getvalue())


def test_block_decoding_matches_a_whole_clip_resample():
    """Resampling block by block gives what one FFT over the whole clip gives, away from the clip's ends."""
    rate = 44_100
    t = np.arange(int(rate * 7.3)) / rate
    tone = (0.4 * np.sin(2 * np.pi * 220 * t) + 0.2 * np.sin(2 * np.pi * 1900 * t)).astype(np.float32)
    buf = io.BytesIO()
    soundfile.write(buf, np.stack([tone, tone], axis=1), rate, format="FLAC")
    mono, seconds = decode_clip(buf.getvalue())
    assert seconds == pytest.approx(7.3, abs=0.01) and mono.size == round(tone.size * 24_000 / rate)
    ideal = 0.4 * np.sin(2 * np.pi * 220 * np.arange(mono.size) / 24_000) + 0.2 * np.sin(
        2 * np.pi * 1900 * np.arange(mono.size) / 24_000)  # fmt: skip
    inner = slice(2400, -2400)
    assert np.max(np.abs(mono[inner] - ideal[inner])) < 0.01


def test_parallel_uploads_wait_for_a_decoder_then_get_429(monkeypatch):
    monkeypatch.setattr(clips, "DECODE_WAIT", 0.2)
    for _ in range(clips.DECODES_AT_ONCE):
        assert clips._decoding.acquire(timeout=1)
    try:
        with pytest.raises(TooManyJobs, match="decoding other uploads"):
            decode_clip(GOOD_CLIP)
    finally:
        for _ in range(clips.DECODES_AT_ONCE):
            clips._decoding.release()
    assert decode_clip(GOOD_CLIP)[1] == pytest.approx(6.0)


def test_parallel_bomb_uploads_do_not_exhaust_the_servers_memory(tmp_path, bombs):
    s = start_server(tmp_path)
    try:
        proc = psutil.Process(s.proc.pid)
        base = proc.memory_info().rss
        peak = [base]
        done = threading.Event()

        def sample():
            while not done.is_set():
                peak[0] = max(peak[0], proc.memory_info().rss)
                time.sleep(0.01)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        data = bombs["192 kHz, 8 channels, 59 s of silence"].read_bytes()

        def upload(i: int) -> requests.Response:
            return requests.post(s.url + "/api/voices", files={"file": (f"b{i}.flac", data)}, data={"id": f"b{i}"},
                                 timeout=120)  # fmt: skip

        with ThreadPoolExecutor(6) as pool:
            answers = list(pool.map(upload, range(6)))
        done.set()
        sampler.join(5)
        assert {r.status_code for r in answers} <= {400, 429}, [r.text for r in answers]
        assert all(r.json()["error"] for r in answers)
        assert (peak[0] - base) / 2**20 < 3 * DECODE_GROWTH_MB, f"+{(peak[0] - base) / 2**20:.0f} MB"
        assert requests.post(s.url + "/api/voices", files={"file": ("ok.wav", GOOD_CLIP)}, data={"id": "fine"},
                             timeout=30).status_code == 201  # fmt: skip
    finally:
        s.stop()


def wav_with_fmt(**fields) -> bytes:
    """GOOD_CLIP-like WAV bytes with fields of its fmt chunk overwritten."""
    data = bytearray(wav(6.0))
    at = data.index(b"fmt ") + 8
    names = ("tag", "channels", "rate", "byte_rate", "align", "bits")
    values = dict(zip(names, struct.unpack("<HHIIHH", data[at : at + 16]), strict=True))
    values.update(fields)
    data[at : at + 16] = struct.pack("<HHIIHH", *(values[n] for n in names))
    return bytes(data)


@pytest.mark.parametrize("fields,message", [
    ({"align": 0}, "block align 0"),
    ({"bits": 7}, "7 bits per sample"),
    ({"bits": 12, "align": 2}, "12 bits per sample"),
    ({"channels": 0}, "0 channels"),
    ({"rate": 0}, "0 Hz"),
    ({"byte_rate": 1}, "1 bytes per second"),
    ({"align": 4}, "block align 4"),
    ({"tag": 3}, "16 bits per sample"),
    ({"tag": 2, "align": 0}, "block align 0"),
])  # fmt: skip
def test_wav_headers_that_cannot_be_true_are_refused(fields, message):
    with pytest.raises(BadClip, match=message):
        decode_clip(wav_with_fmt(**fields))


def test_a_consistent_wav_header_is_accepted():
    assert decode_clip(wav_with_fmt())[1] == pytest.approx(6.0)


@pytest.fixture(scope="module")
def vox(tmp_path_factory):
    s = start_server(tmp_path_factory.mktemp("forms"), config="[server]\nmax_upload_mb = 3\n")
    yield s
    s.stop()


def test_an_impossible_wav_over_http_is_a_400_sentence(vox):
    r = requests.post(vox.url + "/api/voices", files={"file": ("x.wav", wav_with_fmt(align=0))}, data={"id": "x"},
                      timeout=30)  # fmt: skip
    assert r.status_code == 400 and "impossible" in r.json()["error"]


@pytest.mark.parametrize("parts,field_bytes,names", [
    (5000, 1, "16 fields"),
    (40, 10, "16 fields"),
    (1, 2 * 2**20, "200 KB in a text field"),
    (1, 300_000, "200 KB in a text field"),
])  # fmt: skip
def test_a_form_over_its_limits_says_which_limit(vox, parts, field_bytes, names):
    fields = {f"f{i}": "x" * field_bytes for i in range(parts)}
    r = requests.post(vox.url + "/api/voices", files={"file": ("v.wav", GOOD_CLIP)}, data=fields, timeout=60)
    assert r.status_code == 413
    error = r.json()["error"]
    assert names in error and "3 MB in all" in error and "20 MB" not in error


def test_a_body_over_the_limit_says_the_configured_limit(vox):
    r = requests.post(vox.url + "/api/voices", files={"file": ("v.wav", b"\0" * (4 * 2**20))}, timeout=60)
    assert r.status_code == 413 and "3 MB" in r.json()["error"]

"""Chatterbox Turbo through the HTTP server: load, stream a cloned voice over SSE, unload, and 503s.

The server process loads the small random checkpoint that ``tests/chatterbox_ckpt.py`` builds; it is started
with the small-engine hook (so it shrinks T3 the same way) and a fixed token count per model call.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.chatterbox_ckpt import build_checkpoint, small_env
from tests.conftest import decode_chunk, start_server
from vox.engines.chatterbox import SAMPLE_RATE, SAMPLES_PER_TOKEN, _missing_modules

pytestmark = [
    pytest.mark.chatterbox,
    pytest.mark.skipif(
        bool(_missing_modules()), reason="Chatterbox is not installed: requirements-turbo.txt"
    ),
]
TOKENS = 20


def write_clip(path, seconds: float = 6.0) -> None:
    import soundfile

    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    phase = 2 * np.pi * np.cumsum(140 + 20 * np.sin(2 * np.pi * 0.5 * t)) / SAMPLE_RATE
    tone = sum(np.sin(k * phase) / k for k in range(1, 12)) * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t) ** 2)
    soundfile.write(str(path), (0.2 * tone).astype(np.float32), SAMPLE_RATE, subtype="PCM_16")


def test_turbo_loads_streams_a_cloned_voice_and_unloads(tmp_path_factory):
    checkpoint = build_checkpoint(tmp_path_factory.getbasetemp() / "chatterbox-turbo-small", small=True)
    root = tmp_path_factory.mktemp("vox-turbo")
    (root / "voices").mkdir()
    write_clip(root / "voices" / "clone.wav")
    config = (
        f'[engine]\nturbo_checkpoint = "{checkpoint}"\ndevice = "cpu"\n'
        f'multilingual_checkpoint = "{root}/no-such-folder"\n'
        "[chunking]\nadaptive = false\n"  # the first sentence, then the next two in one chunk, for the estimate
    )
    server = start_server(root, config=config, env=small_env(TOKENS))
    try:
        r = server.post("/api/tts_load_turbo", timeout=240)
        assert r.status_code == 200, r.text
        assert server.get("/api/status").json()["engine"] == "turbo"

        messages = list(server.stream({"text": "Hello from a cloned voice.", "voice": "clone"}))
        audio, done = [m for m in messages if "audio" in m], messages[-1]
        assert done["done"] is True and done["stopped"] is False, messages
        pcm = np.concatenate([decode_chunk(m)[0] for m in audio])
        assert all(m["sample_rate"] == SAMPLE_RATE for m in audio)
        assert abs(len(pcm) - (TOKENS + 3) * SAMPLES_PER_TOKEN) <= 1
        assert np.sqrt(np.mean(pcm.astype(np.float64) ** 2)) > 0.001

        # Turbo says a chunk in one call: where its second sentence starts is estimated in proportion to
        # characters, at this reply's rate so far (its first chunk's audio per character).
        text = "One sentence first. Then a second one. And a third."
        messages = list(server.stream({"text": text, "voice": "clone"}))
        first, grouped = [m for m in messages if "audio" in m]
        assert [p["at"] for p in first["pieces"]] == [0.0] and len(grouped["pieces"]) == 2
        per_char = len(decode_chunk(first)[0]) / SAMPLE_RATE / len(first["text"])
        duration = max(len(decode_chunk(grouped)[0]) / SAMPLE_RATE, len(grouped["text"]) * per_char)
        second_at = duration * (len(grouped["pieces"][0]["text"]) + 1) / len(grouped["text"])
        assert [p["at"] for p in grouped["pieces"]] == [0.0, pytest.approx(second_at, abs=0.001)]

        r = server.post("/api/tts_load_multilingual", timeout=60)
        assert r.status_code == 503
        error = r.json()["error"]
        for words in ("multilingual_checkpoint", "t3_mtl23ls_v2.safetensors", "[engine]", "config.toml"):
            assert words in error
        assert server.get("/api/status").json()["engine"] == "turbo"  # the failed load left Turbo speaking

        write_clip(root / "voices" / "short.wav", seconds=3.0)  # dropped in by hand: too short to clone
        messages = list(server.stream({"text": "Too short.", "voice": "short"}))
        assert "longer than 5 seconds" in messages[-1]["error"] and "3.0 s" in messages[-1]["error"], messages

        loaded_mb = server.get("/api/status").json()["memory_mb"]
        r = server.post("/api/unload_tts", timeout=60)
        assert r.status_code == 200 and r.json()["loaded"] is False
        unloaded_mb = server.get("/api/status").json()["memory_mb"]
        assert unloaded_mb < loaded_mb - 100, (loaded_mb, unloaded_mb)  # the small checkpoint is ~600 MB
    finally:
        server.stop()

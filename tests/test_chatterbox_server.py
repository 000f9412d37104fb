"""Chatterbox Turbo through the HTTP server: an engine switch that ends the Piper reply speaking, a cloned
voice over SSE, seeds and options over HTTP, 503s and 400s, unload, and the next request loading Turbo again.

The server process loads the small random checkpoint that ``tests/chatterbox_ckpt.py`` builds; it is started
with the small-engine hook (so it shrinks T3 the same way) and a fixed token count per model call.
"""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from bench.baselines import baseline_command
from tests.chatterbox_ckpt import small_checkpoint, small_env
from tests.conftest import decode_chunk, start_server
from vox.engines.chatterbox import SAMPLE_RATE, SAMPLES_PER_TOKEN, missing_modules

pytestmark = [
    pytest.mark.chatterbox,
    pytest.mark.skipif(bool(missing_modules()), reason="Chatterbox is not installed: requirements-turbo.txt"),
]
TOKENS = 20
LONG_REPLY = " ".join(f"This is sentence number {n} of a long reply that Piper reads out." for n in range(300))


def write_clip(path, seconds: float = 6.0) -> None:
    import soundfile

    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    phase = 2 * np.pi * np.cumsum(140 + 20 * np.sin(2 * np.pi * 0.5 * t)) / SAMPLE_RATE
    tone = sum(np.sin(k * phase) / k for k in range(1, 12)) * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t) ** 2)
    soundfile.write(str(path), (0.2 * tone).astype(np.float32), SAMPLE_RATE, subtype="PCM_16")


def audio_of(messages: list[dict]) -> np.ndarray:
    return np.concatenate([decode_chunk(m)[0] for m in messages if "audio" in m])


def test_turbo_replaces_a_speaking_piper_streams_a_cloned_voice_and_comes_back_after_unload(tmp_path_factory):
    checkpoint = small_checkpoint()
    root = tmp_path_factory.mktemp("vox-turbo")
    (root / "voices").mkdir()
    write_clip(root / "voices" / "clone.wav")
    config = (
        f'[engine]\nname = "piper"\nturbo_checkpoint = "{checkpoint}"\ndevice = "cpu"\n'
        f'multilingual_checkpoint = "{root}/no-such-folder"\n'
    )  # the static grouping: the first sentence, then the next two in one chunk, for the estimate
    server = start_server(root, config=config, env=small_env(TOKENS), command=baseline_command("static"))
    try:
        # A long Piper reply is streaming (read slowly, as a listener plays it) when Turbo is loaded: the
        # switch loads Turbo while Piper speaks, then ends the reply and swaps.
        piper: list[dict] = []
        slow = threading.Event()
        slow.set()

        def listen() -> None:
            for message in server.stream({"text": LONG_REPLY}):
                piper.append(message)
                if slow.is_set():
                    time.sleep(0.3)

        reader = threading.Thread(target=listen)
        reader.start()
        deadline = time.monotonic() + 60
        while not any("audio" in m for m in piper) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert piper, "the Piper reply did not start"
        r = server.post("/api/tts_load_turbo", timeout=240)
        slow.clear()
        reader.join(60)
        assert r.status_code == 200, r.text
        assert not reader.is_alive()
        done = piper[-1]
        assert done["done"] is True and done["stopped"] is True and done["reason"] == "engine switch", done
        assert done["chunks"] < LONG_REPLY.count(".") // 3  # it really was cut short
        assert server.get("/api/status").json()["engine"] == "turbo"

        messages = list(server.stream({"text": "Hello from a cloned voice.", "voice": "clone", "seed": 8}))
        assert messages[-1]["done"] is True and messages[-1]["stopped"] is False, messages
        pcm = audio_of(messages)
        assert all(m["sample_rate"] == SAMPLE_RATE for m in messages if "audio" in m)
        assert abs(len(pcm) - (TOKENS + 3) * SAMPLES_PER_TOKEN) <= 1
        assert np.sqrt(np.mean(pcm.astype(np.float64) ** 2)) > 0.001
        again = audio_of(list(server.stream({"text": "Hello from a cloned voice.", "voice": "clone", "seed": 8})))
        assert np.array_equal(pcm, again)  # the same seed over HTTP: the same reply, sample for sample
        faster = audio_of(list(server.stream({"text": "Hello from a cloned voice.", "voice": "clone", "seed": 8,
                                              "speed": 2.0})))  # fmt: skip
        assert abs(len(faster) - len(pcm) / 2) <= 2

        r = server.post("/api/vox_speak_wav", {"text": "Hi.", "voice": "clone", "cfg_weight": 0.3})
        assert r.status_code == 400 and "Chatterbox Turbo cannot use cfg_weight" in r.json()["error"], r.text

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
        r = server.post("/api/vox_speak_wav", {"text": "Too short.", "voice": "short"})
        assert r.status_code == 400 and "longer than 5 seconds" in r.json()["error"], r.text

        loaded_mb = server.get("/api/status").json()["memory_mb"]
        r = server.post("/api/unload_tts", timeout=60)
        assert r.status_code == 200 and r.json()["loaded"] is False
        unloaded_mb = server.get("/api/status").json()["memory_mb"]
        assert unloaded_mb < loaded_mb - 100, (loaded_mb, unloaded_mb)  # the small checkpoint is ~600 MB

        # The next request loads the engine that was unloaded (Turbo), not the configured default (Piper).
        messages = list(server.stream({"text": "Back again.", "voice": "clone"}))  # loads first (60 s read timeout)
        assert messages[-1]["done"] is True and messages[-1]["stopped"] is False, messages
        assert all(m["sample_rate"] == SAMPLE_RATE for m in messages if "audio" in m)
        status = server.get("/api/status").json()
        assert status["engine"] == "turbo" and status["loaded"] is True and status["sample_rate"] == SAMPLE_RATE
    finally:
        server.stop()

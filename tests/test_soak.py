"""Soak: 8 concurrent clients send 500+ mixed requests to a real server; nothing breaks or leaks."""

from __future__ import annotations

import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests

from tests.conftest import sse_messages, start_server

CLIENTS = 8
REQUESTS = 2000
TIME_LIMIT = 150.0
RSS_GROWTH_MB = 60
"""Documented bound: Python's allocator and onnxruntime keep some arenas after a burst."""
TEXTS = ["Hi.", "Short one. And another.", "A third reply, with a comma. Then a second sentence. And a third.",
         "- a bullet\n- another **bold** bullet"]


def test_soak(tmp_path):
    s = start_server(tmp_path, config="[server]\nrelease_memory_after_s = 0.5\n")
    try:
        s.post("/api/tts_load", {"engine": "piper"})
        for _ in range(3):
            list(s.stream({"text": "Warm up the engine and its buffers."}))
        base = s.get("/api/status").json()
        stats = {"5xx": [], "unfinished_streams": 0, "streams": 0, "requests": 0}
        lock = threading.Lock()
        started = time.monotonic()

        def one(i: int) -> None:
            rng = random.Random(i)
            kind = rng.choice(["stream", "stream", "disconnect", "stop", "stop_all", "status", "speaking", "wav"])
            text = rng.choice(TEXTS)
            if time.monotonic() - started > TIME_LIMIT:
                return
            if kind in ("stream", "disconnect"):
                with requests.post(s.url + "/api/vox_speak_wav_stream", json={"text": text}, stream=True,
                                   timeout=60) as r:
                    code = r.status_code
                    if code == 200:
                        last = None
                        for m in sse_messages(r):
                            last = m
                            if kind == "disconnect":
                                break
                        if kind == "stream":
                            with lock:
                                stats["streams"] += 1
                                if not last or not ("done" in last or "error" in last):
                                    stats["unfinished_streams"] += 1
            elif kind == "stop":
                code = s.post("/api/vox_stop").status_code
            elif kind == "stop_all":
                code = s.post("/api/stop_all_vox").status_code
            elif kind == "status":
                code = s.get("/api/status").status_code
            elif kind == "speaking":
                code = s.get("/api/tts_is_speaking").status_code
            else:
                code = s.post("/api/vox_speak_wav", {"text": text}).status_code
            with lock:
                stats["requests"] += 1
                if code >= 500:
                    stats["5xx"].append((kind, code))

        with ThreadPoolExecutor(CLIENTS) as pool:
            list(pool.map(one, range(REQUESTS)))
        assert stats["requests"] >= 500, f"only {stats['requests']} requests in {TIME_LIMIT} s"
        assert stats["5xx"] == []
        assert stats["unfinished_streams"] == 0 and stats["streams"] > 50
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            after = s.get("/api/status").json()
            if after["threads"] <= base["threads"] and not after["speaking"]:
                break
            time.sleep(0.1)
        assert after["threads"] <= base["threads"], (base["threads"], after["threads"])
        time.sleep(1.0)  # quiet for release_memory_after_s: freed heap goes back to the OS
        after = s.get("/api/status").json()
        assert after["memory_mb"] - base["memory_mb"] < RSS_GROWTH_MB
        assert list(s.stream({"text": "Still speaking after the soak."}))[-1]["done"]
    finally:
        s.stop()


def test_memory_goes_back_once_quiet(tmp_path):
    """A reply leaves tens of MB of freed heap behind; it is kept while replies follow each other and handed
    back to the OS once Vox has been quiet for release_memory_after_s."""
    s = start_server(tmp_path, config="[server]\nrelease_memory_after_s = 2\n")
    try:
        s.post("/api/tts_load", {"engine": "piper"})
        reply = " ".join(TEXTS[2] for _ in range(4))
        for _ in range(2):
            assert list(s.stream({"text": reply}))[-1]["done"]
        hot = s.get("/api/status").json()["memory_mb"]
        time.sleep(3.5)
        quiet = s.get("/api/status").json()["memory_mb"]
        assert quiet < hot - 5, (hot, quiet)
    finally:
        s.stop()

"""Clients that stop reading, never finish their request, or hang on: they cost other clients nothing, and
their threads, buffers and jobs are released within a bounded time (issue 18, defects 1 and 9)."""

from __future__ import annotations

import json
import socket
import time

import requests

from tests.conftest import sse_messages, start_server

LONG = " ".join(f"Sentence number {i} goes on for a little while, so that there is plenty to say." for i in range(80))
TIMEOUT = 1.5
"""server.client_timeout_s in these tests."""
QUIET = "release_memory_after_s = 0.3\n"
"""The memory trimmer's timer is a thread too: keep it short-lived so thread counts settle."""
BOUND = 40.0
"""Generous: the buffers fill in a second or two, the timeout is 1.5 s; the machine is small and shared."""


def open_and_stall(port: int, payload: dict, session: str, path: str = "/api/vox_speak_wav_stream") -> socket.socket:
    """A client that sends a request and never reads a byte of the answer (a hung tab, a stopped process)."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", port))
    body = json.dumps(payload).encode()
    s.sendall(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
              f"Content-Length: {len(body)}\r\nX-Vox-Session: {session}\r\n\r\n".encode() + body)  # fmt: skip
    return s


def wait_for(check, timeout: float = BOUND, every: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    return check()


def speak_ok(server, session: str, text: str = "Still here. Yes.") -> bool:
    """A well-behaved client's reply: True when it was spoken to the end."""
    with requests.post(server.url + "/api/vox_speak_wav_stream", json={"text": text}, stream=True, timeout=60,
                       headers={"X-Vox-Session": session}) as r:  # fmt: skip
        if r.status_code != 200:
            return False
        last = list(sse_messages(r))[-1]
        return bool(last.get("done")) and not last["stopped"]


def test_stalled_readers_in_other_sessions_are_dropped_and_free_the_job_limit(tmp_path):
    s = start_server(tmp_path, config=f"[server]\nmax_queued_jobs = 2\nclient_timeout_s = {TIMEOUT}\n{QUIET}")
    stalled = []
    try:
        s.post("/api/tts_load", {"engine": "piper"})
        assert speak_ok(s, "warm")
        time.sleep(1)
        base = s.get("/api/status").json()["threads"]
        stalled = [open_and_stall(s.port, {"text": LONG}, f"stalled-{i}") for i in range(2)]
        time.sleep(0.5)
        t0 = time.monotonic()
        # Every limit slot is held by a client that stopped reading; they are disconnected once their writes have
        # waited client_timeout_s, and a new client in another session is served.
        assert wait_for(lambda: speak_ok(s, "polite"), every=0.3)
        released = time.monotonic() - t0
        assert released < BOUND
        after = wait_for(lambda: (st := s.get("/api/status").json())["threads"] <= base and not st["speaking"])
        assert after, s.get("/api/status").json()
        # The stalled clients' connections were closed by the server: their sockets read to the end.
        for sock in stalled:
            sock.settimeout(10)
            while sock.recv(65536):
                pass
    finally:
        for sock in stalled:
            sock.close()
        s.stop()


def test_a_replaced_stalled_stream_stops_counting_once_off_the_engine(tmp_path):
    """A stalled stream's writer may wait out its whole timeout; once a newer reply has replaced it, the job no
    longer counts against the limit, so the limit of 1 still lets replies through in both sessions."""
    s = start_server(tmp_path, config=f"[server]\nmax_queued_jobs = 1\nclient_timeout_s = 60\n{QUIET}")
    sock = None
    try:
        s.post("/api/tts_load", {"engine": "piper"})
        assert speak_ok(s, "warm")
        time.sleep(1)
        base = s.get("/api/status").json()["threads"]
        sock = open_and_stall(s.port, {"text": LONG}, "tab")
        time.sleep(2.0)  # its buffers fill and its writer blocks
        assert speak_ok(s, "tab", "The newer reply in the same tab.")  # replaces the stalled one
        assert speak_ok(s, "other", "And a reply in another session.")  # the replaced job no longer counts
        sock.close()  # (client_timeout_s is 60: until now the server kept waiting on it)
        sock = None
        assert wait_for(lambda: s.get("/api/status").json()["threads"] <= base, timeout=15)
    finally:
        if sock is not None:
            sock.close()
        s.stop()


def test_a_stalled_wav_download_and_a_silent_connection_are_dropped(tmp_path):
    s = start_server(tmp_path, config=f"[server]\nclient_timeout_s = {TIMEOUT}\n{QUIET}")
    socks = []
    try:
        s.post("/api/tts_load", {"engine": "piper"})
        assert speak_ok(s, "warm")
        time.sleep(1)
        base = s.get("/api/status").json()["threads"]
        socks.append(open_and_stall(s.port, {"text": LONG[:1500]}, "wav", "/api/vox_speak_wav"))
        silent = socket.create_connection(("127.0.0.1", s.port))  # connects and never sends a byte
        half = socket.create_connection(("127.0.0.1", s.port))  # sends half its headers, then nothing
        half.sendall(b"POST /api/vox_speak_wav HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Len")
        socks += [silent, half]
        t0 = time.monotonic()
        for sock in (silent, half):
            sock.settimeout(BOUND)
            assert sock.recv(1024) == b""  # closed by the server
        assert time.monotonic() - t0 < TIMEOUT + 10
        assert wait_for(lambda: s.get("/api/status").json()["threads"] <= base), (base, s.get("/api/status").json())
        assert speak_ok(s, "after")
    finally:
        for sock in socks:
            sock.close()
        s.stop()


def test_headers_cut_off_by_the_end_of_the_stream_are_not_run(tmp_path):
    """The standard library takes end-of-stream as the end of the headers: a DELETE cut off there used to run."""
    s = start_server(tmp_path)
    try:
        from tests.test_bad_input import GOOD_CLIP

        r = requests.post(s.url + "/api/voices", files={"file": ("v.wav", GOOD_CLIP)}, data={"id": "victim"},
                          timeout=30)
        assert r.status_code == 201
        for request in (b"DELETE /api/voices/victim HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n" % s.port,
                        b"DELETE /api/voices/victim HTTP/1.1\r\nHost: 127.0.0.1:%d" % s.port,
                        b"POST /api/stop_all_vox HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nX-A: b\r\n" % s.port):  # fmt: skip
            sock = socket.create_connection(("127.0.0.1", s.port), timeout=10)
            sock.sendall(request)
            sock.shutdown(socket.SHUT_WR)
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
            sock.close()
            head, _, body = answer.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 400"), answer[:200]
            assert b"application/json" in head and "cut off" in json.loads(body)["error"]
        assert s.get("/api/voices/victim").status_code == 200
    finally:
        s.stop()


def test_connections_beyond_max_connections_get_503_at_once(tmp_path):
    s = start_server(tmp_path, config="[server]\nmax_connections = 4\nclient_timeout_s = 30\n")
    idle = []
    try:
        idle = [socket.create_connection(("127.0.0.1", s.port)) for _ in range(4)]
        answers = []  # (status, seconds): the server takes the four in as soon as it gets the CPU

        def refused() -> bool:
            t0 = time.monotonic()
            r = requests.get(s.url + "/api/status", timeout=10)
            answers.append((r, time.monotonic() - t0))
            return r.status_code == 503

        assert wait_for(refused, timeout=10), [r.status_code for r, _ in answers]
        r, seconds = answers[-1]
        assert "max_connections" in r.json()["error"]
        assert r.headers["Retry-After"] == "1" and seconds < 2
        for sock in idle:
            sock.close()
        idle = []
        assert wait_for(lambda: requests.get(s.url + "/api/status", timeout=10).status_code == 200, timeout=10)
    finally:
        for sock in idle:
            sock.close()
        s.stop()

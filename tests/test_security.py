"""Local means local: Host and Origin checks, closed CORS, API key off loopback, size limits. The guard is checked
on the real port (a real server, raw requests with exactly the headers given); what a config setting changes in
the answers is checked on the app in process."""

from __future__ import annotations

import http.client
import json
import subprocess
import sys

import pytest
import requests

from tests.conftest import ROOT, free_port, in_process_app, start_server

STATE_CHANGING = [
    ("POST", "/api/vox_speak_wav_stream"),
    ("POST", "/api/vox_speak_wav"),
    ("POST", "/api/vox_stop"),
    ("POST", "/api/stop_all_vox"),
    ("POST", "/api/tts_load_turbo"),
    ("POST", "/api/unload_tts"),
    ("POST", "/api/voices"),
    ("DELETE", "/api/voices/joe"),
    ("POST", "/api/chat"),
    ("POST", "/api/replies"),
]
ENCODINGS = [
    ("application/json", b'{"text": "You have been hacked."}'),
    ("application/x-www-form-urlencoded", b"text=You+have+been+hacked."),
    ("text/plain", b'{"text": "You have been hacked."}'),
    ("multipart/form-data; boundary=x", b'--x\r\nContent-Disposition: form-data; name="text"\r\n\r\nhi\r\n--x--\r\n'),
]


def raw(server, method: str, path: str, body: bytes = b"", headers: dict | None = None) -> tuple[int, dict]:
    """A request with exactly these headers (requests would fill in Host and friends)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
    headers = {"Host": f"127.0.0.1:{server.port}", **(headers or {})}
    for k, v in headers.items():
        conn.putheader(k, v)
    conn.putheader("Content-Length", str(len(body)))
    conn.endheaders(body)
    r = conn.getresponse()
    data = r.read()
    conn.close()
    return r.status, (json.loads(data) if r.getheader("Content-Type", "").startswith("application/json") else {})


@pytest.mark.parametrize("host", ["evil.example:{port}", "evil.example", "127.0.0.1:1", "localhost.evil.example:{port}",
                                  "192.168.1.5:{port}"])
def test_foreign_host_header_is_403(server, host):
    status, body = raw(server, "GET", "/api/status", headers={"Host": host.format(port=server.port)})
    assert status == 403 and "Host" in body["error"]


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "[::1]:{port}"])
def test_own_host_is_allowed(server, host):
    assert raw(server, "GET", "/api/status", headers={"Host": host.format(port=server.port)})[0] == 200


@pytest.mark.parametrize("method,path", STATE_CHANGING)
@pytest.mark.parametrize("content_type,body", ENCODINGS)
def test_foreign_origin_cannot_change_state(server, method, path, content_type, body):
    status, answer = raw(server, method, path, body,
                         {"Origin": "https://evil.example", "Content-Type": content_type})
    assert status == 403 and "evil.example" in answer["error"]


def test_cross_site_fetch_without_origin_is_refused(server):
    status, _ = raw(server, "POST", "/api/vox_stop", b"", {"Sec-Fetch-Site": "cross-site"})
    assert status == 403


def test_foreign_origin_made_nothing_happen(server):
    before = server.get("/api/status").json()
    raw(server, "POST", "/api/vox_speak_wav_stream", ENCODINGS[0][1],
        {"Origin": "http://localhost:1", "Content-Type": "application/json"})
    after = server.get("/api/status").json()
    assert not after["speaking"] and after["engine_loads"] == before["engine_loads"]


def test_own_origin_is_allowed(server):
    r = requests.post(server.url + "/api/vox_stop", headers={"Origin": server.url}, timeout=10)
    assert r.status_code == 200


def test_cors_closed_by_default_and_open_for_configured_origins(server, tmp_path):
    r = requests.get(server.url + "/api/status", headers={"Origin": "https://evil.example"}, timeout=10)
    assert "Access-Control-Allow-Origin" not in r.headers
    app = in_process_app(tmp_path, config='[server]\nallowed_origins = ["http://localhost:3000"]\n')
    try:
        client = app.test_client()
        r = client.options("/api/vox_stop", headers={
            "Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST"})
        assert r.headers.get("Access-Control-Allow-Origin") == "http://localhost:3000"
        assert client.post("/api/vox_stop", headers={"Origin": "http://localhost:3000"}).status_code == 200
        assert client.post("/api/vox_stop", headers={"Origin": "http://localhost:3001"}).status_code == 403
    finally:
        app.extensions["vox"].shutdown()


def test_non_loopback_without_api_key_refuses_to_start():
    p = subprocess.run([sys.executable, "app.py", "--no-window", "--host", "0.0.0.0", "--port", str(free_port())],
                       cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert p.returncode == 2 and "api_key" in p.stderr


def test_api_key_is_required_when_configured(tmp_path):
    s = start_server(tmp_path, config='[server]\nhost = "0.0.0.0"\napi_key = "s3cret-key"\n')
    try:
        assert requests.get(s.url + "/api/status", timeout=10).status_code == 401
        assert requests.get(s.url + "/api/status", headers={"X-API-Key": "wrong"}, timeout=10).status_code == 401
        assert requests.get(s.url + "/api/status", headers={"X-API-Key": "s3cret-key"}, timeout=10).status_code == 200
        assert requests.get(s.url + "/api/status?api_key=s3cret-key", timeout=10).status_code == 200
    finally:
        s.stop()


def test_text_too_long_is_413(tmp_path):
    app = in_process_app(tmp_path, config="[server]\nmax_text_chars = 1000\n")
    try:
        r = app.test_client().post("/api/vox_speak_wav_stream", json={"text": "word " * 300})
        assert r.status_code == 413 and "1000" in r.get_json()["error"]
    finally:
        app.extensions["vox"].shutdown()


def test_too_many_jobs_is_429_with_retry_after(tmp_path):
    s = start_server(tmp_path, config="[server]\nmax_queued_jobs = 1\n")
    try:
        s.post("/api/tts_load", {"engine": "piper"})
        long_sentence = "and then " * 33  # one long clause: Piper works on it for a good while
        first = requests.post(s.url + "/api/vox_speak_wav_stream", json={"text": long_sentence}, stream=True,
                              timeout=60)
        # another client (session): a reply in the same session would replace the first one instead
        second = s.post("/api/vox_speak_wav_stream", {"text": "Me too."}, headers={"X-Vox-Session": "other"})
        assert second.status_code == 429 and "Too many replies" in second.json()["error"]
        assert int(second.headers["Retry-After"]) >= 1
        first.close()
    finally:
        s.stop()

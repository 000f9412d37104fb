"""The desktop window (pywebview + QtWebEngine) under a private Xvfb screen.

``python app.py`` opens a window titled Vox on the app's page, the page renders and plays audio with no
prior click, and closing the window the way a window manager does (WM_DELETE_WINDOW) or SIGTERM ends the
process cleanly. The page inside the window is driven over QtWebEngine's DevTools port with a minimal
WebSocket client (Playwright cannot attach to QtWebEngine: it lacks browser-context management).
"""

from __future__ import annotations

import base64
import ctypes
import ctypes.util
import importlib.util
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from tests.conftest import ROOT, free_port

pytestmark = pytest.mark.window

TOOLS = ("Xvfb", "xdotool", "import", "convert")
if missing := [t for t in TOOLS if shutil.which(t) is None]:
    pytest.skip(f"missing {', '.join(missing)} (apt-get install xvfb xdotool imagemagick)", allow_module_level=True)
if importlib.util.find_spec("webview") is None or importlib.util.find_spec("PyQt6") is None:
    pytest.skip("pywebview[qt] is not installed", allow_module_level=True)


# ---- a private X screen ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def display():
    """Xvfb on the first free display number; stopped by its PID."""
    for n in range(90, 160):
        if Path(f"/tmp/.X11-unix/X{n}").exists() or Path(f"/tmp/.X{n}-lock").exists():
            continue
        proc = subprocess.Popen(
            ["Xvfb", f":{n}", "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while proc.poll() is None and not Path(f"/tmp/.X11-unix/X{n}").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        if proc.poll() is None and Path(f"/tmp/.X11-unix/X{n}").exists():
            yield f":{n}"
            proc.terminate()
            proc.wait(5)
            return
        proc.kill()
        proc.wait(5)
    pytest.skip("no free X display number")


def x(display: str, *args: str, check: bool = True) -> str:
    out = subprocess.run(args, capture_output=True, text=True, timeout=20, env={**os.environ, "DISPLAY": display})
    if check and out.returncode:
        raise AssertionError(f"{args}: {out.stderr}")
    return out.stdout


def close_like_a_window_manager(display: str, wid: int) -> None:
    """Send WM_DELETE_WINDOW, what a window manager sends when the user clicks the close button."""

    class ClientMessage(ctypes.Structure):
        _fields_ = [("type", ctypes.c_int), ("serial", ctypes.c_ulong), ("send_event", ctypes.c_int),
                    ("display", ctypes.c_void_p), ("window", ctypes.c_ulong), ("message_type", ctypes.c_ulong),
                    ("format", ctypes.c_int), ("data", ctypes.c_long * 5)]  # fmt: skip

    class XEvent(ctypes.Union):
        _fields_ = [("xclient", ClientMessage), ("pad", ctypes.c_long * 24)]

    xlib = ctypes.CDLL(ctypes.util.find_library("X11"))
    xlib.XOpenDisplay.restype = ctypes.c_void_p
    xlib.XOpenDisplay.argtypes = [ctypes.c_char_p]
    xlib.XInternAtom.restype = ctypes.c_ulong
    xlib.XInternAtom.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
    xlib.XSendEvent.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.c_long, ctypes.c_void_p]
    xlib.XFlush.argtypes = xlib.XCloseDisplay.argtypes = [ctypes.c_void_p]
    dpy = xlib.XOpenDisplay(display.encode())
    assert dpy, f"cannot open X display {display}"
    ev = XEvent()
    ev.xclient.type = 33  # ClientMessage
    ev.xclient.window = wid
    ev.xclient.message_type = xlib.XInternAtom(dpy, b"WM_PROTOCOLS", 0)
    ev.xclient.format = 32
    ev.xclient.data[0] = xlib.XInternAtom(dpy, b"WM_DELETE_WINDOW", 0)
    xlib.XSendEvent(dpy, wid, 0, 0, ctypes.byref(ev))
    xlib.XFlush(dpy)
    xlib.XCloseDisplay(dpy)


# ---- the page inside the window, over DevTools ----------------------------------------------------


def cdp_evaluate(ws_url: str, expression: str, timeout: float = 15):
    """Runtime.evaluate over a bare WebSocket (no user gesture); returns the value."""
    u = urlsplit(ws_url)
    with socket.create_connection((u.hostname, u.port), timeout=timeout) as sock:
        key = base64.b64encode(os.urandom(16)).decode()
        sock.sendall(
            f"GET {u.path} HTTP/1.1\r\nHost: {u.netloc}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        reply = b""
        while b"\r\n\r\n" not in reply:
            reply += sock.recv(4096)
        head, _, rest = reply.partition(b"\r\n\r\n")
        assert b" 101 " in head.split(b"\r\n")[0], head
        request = {"id": 1, "method": "Runtime.evaluate",
                   "params": {"expression": expression, "returnByValue": True, "awaitPromise": True}}  # fmt: skip
        payload = json.dumps(request).encode()
        mask = os.urandom(4)
        size = struct.pack("!BH", 0x80 | 126, len(payload)) if len(payload) > 125 else bytes([0x80 | len(payload)])
        sock.sendall(b"\x81" + size + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))
        buf, message = rest, b""

        def take(n: int) -> bytes:
            nonlocal buf
            while len(buf) < n:
                data = sock.recv(65536)
                assert data, "DevTools closed the connection"
                buf += data
            out, buf = buf[:n], buf[n:]
            return out

        while True:
            b0, b1 = take(2)
            n = b1 & 0x7F
            n = struct.unpack("!H", take(2))[0] if n == 126 else struct.unpack("!Q", take(8))[0] if n == 127 else n
            message += take(n)
            if not b0 & 0x80:
                continue  # a fragment: the rest follows
            msg, message = json.loads(message), b""
            if msg.get("id") == 1:
                result = msg["result"]
                assert "exceptionDetails" not in result, result["exceptionDetails"]
                return result["result"].get("value")


def page_ws_url(port: int, timeout: float = 60) -> str:
    """The DevTools WebSocket of the window's page, once the page's scripts have run."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json", timeout=2) as r:
                pages = [p for p in json.load(r) if p.get("type") == "page" and p["url"].startswith("http://127.")]
            if pages and cdp_evaluate(pages[0]["webSocketDebuggerUrl"], "typeof vox") == "object":
                return pages[0]["webSocketDebuggerUrl"]
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError("the window's page never appeared on the DevTools port")


# ---- the app with its window ------------------------------------------------------------------------


@dataclass
class App:
    proc: subprocess.Popen
    port: int
    devtools: int
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture
def app(display, tmp_path):
    port, devtools = free_port(), free_port()
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[window]\nenabled = true\ntitle = "Vox"\n\n[voices]\ndir = "{tmp_path / "voices"}"\n')
    log = tmp_path / "app.log"
    env = {**os.environ, "DISPLAY": display, "XDG_DATA_HOME": str(tmp_path / "data"), "PYTHONUNBUFFERED": "1",
           "QTWEBENGINE_REMOTE_DEBUGGING": str(devtools)}  # fmt: skip
    env.pop("WAYLAND_DISPLAY", None)
    env.pop("QT_QPA_PLATFORM", None)
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "app.py"), "--port", str(port), "--config", str(cfg)],
        cwd=ROOT,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        env=env,
    )
    yield App(proc, port, devtools, log)
    if proc.poll() is None:
        proc.kill()
        proc.wait(10)


def wait_window(display: str, app: App, timeout: float = 60) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert app.proc.poll() is None, f"app exited with {app.proc.returncode}:\n{app.log_text()}"
        ids = x(display, "xdotool", "search", "--onlyvisible", "--name", "^Vox$", check=False).split()
        if ids:
            return int(ids[0])
        time.sleep(0.25)
    raise AssertionError(f"no window titled Vox:\n{app.log_text()}")


def wait_exit(app: App, timeout: float = 15) -> int:
    """The exit code, which must come within ``timeout`` (under a second here; 5+ s once, in a loaded full run)."""
    try:
        return app.proc.wait(timeout)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"the app did not exit within {timeout} s:\n{app.log_text()}") from None


def test_window_opens_renders_speaks_and_closes_cleanly(display, app, tmp_path):
    wid = wait_window(display, app)
    ws = page_ws_url(app.devtools)
    # The page ran its scripts (status polled, voices listed) and drew itself.
    assert cdp_evaluate(ws, "vox.ready.then(() => document.title)") == "Vox"
    shot = tmp_path / "window.png"
    x(display, "import", "-window", "root", str(shot))
    spread = float(x(display, "convert", str(shot), "-format", "%[fx:standard_deviation]", "info:"))
    colors = int(x(display, "convert", str(shot), "-format", "%k", "info:"))
    assert spread > 0.05 and colors > 50, f"the screen looks blank (std {spread}, {colors} colours)"
    # Audio plays without any click: the AudioContext runs and the reply plays to its end.
    cdp_evaluate(ws, "vox.speak('Hello from the window.'), true")
    deadline = time.monotonic() + 60
    while cdp_evaluate(ws, "document.querySelector('.reply').dataset.state") != "done":
        assert time.monotonic() < deadline, cdp_evaluate(ws, "JSON.stringify([vox.ctx && vox.ctx.state, vox.last])")
        time.sleep(0.2)
    assert cdp_evaluate(ws, "vox.ctx.state") == "running"
    # Closing the window ends the whole app: speech stopped, server down, exit code 0.
    close_like_a_window_manager(display, wid)
    assert wait_exit(app) == 0, app.log_text()
    assert "Vox is shutting down" in app.log_text()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{app.port}/health", timeout=2)


def test_sigterm_closes_the_window_and_exits_cleanly(display, app):
    wait_window(display, app)
    page_ws_url(app.devtools)
    app.proc.send_signal(signal.SIGTERM)
    assert wait_exit(app) == 0, app.log_text()
    assert not x(display, "xdotool", "search", "--onlyvisible", "--name", "^Vox$", check=False).split()


@pytest.mark.parametrize("browser_set", [True, False], ids=["BROWSER", "no-BROWSER"])
def test_no_display_falls_back_to_a_browser_tab(tmp_path, browser_set):
    """No DISPLAY: one log line says so; the page opens with $BROWSER if one is named (a console browser is
    never started in the terminal); the server works either way and SIGTERM ends it cleanly."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    opened = tmp_path / "opened.txt"
    browser = tmp_path / "browser.sh"
    browser.write_text(f'#!/bin/sh\necho "$1" > {opened}\n')
    browser.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM", "BROWSER")}
    env.update(PYTHONUNBUFFERED="1", **({"BROWSER": str(browser)} if browser_set else {}))
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[voices]\ndir = "{tmp_path / "voices"}"\n')
    log = tmp_path / "app.log"
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "app.py"), "--port", str(port), "--config", str(cfg)],
        cwd=ROOT, stdout=log.open("w"), stderr=subprocess.STDOUT, env=env,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while "vox.window" not in log.read_text() or (browser_set and not opened.exists()):
            assert time.monotonic() < deadline and proc.poll() is None, log.read_text()
            time.sleep(0.1)
        assert requests.get(url + "health", timeout=5).status_code == 200
        lines = [line for line in log.read_text().splitlines() if "vox.window" in line]
        assert len(lines) == 1 and "no display" in lines[0], lines
        if browser_set:
            assert "browser tab" in lines[0]
            time.sleep(0.2)  # the script writes the URL just after it starts
            assert opened.read_text().strip() == url
        else:
            assert url in lines[0] and not opened.exists()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)

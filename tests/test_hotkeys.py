"""Global hotkeys: under Xvfb, ``xdotool key`` presses the hotkey while another window has the focus,
and the speakers (a PulseAudio null sink, tests/pulse.py) go quiet.

Without a display, or with the hotkeys switched off, Vox logs exactly one line saying so.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator

import pytest
import requests

from tests import pulse
from tests.conftest import VoxServer, sse_messages, start_server
from vox.desktop import hotkeys

LONG_TEXT = " ".join(
    ["The quick brown fox jumps over the lazy dog near the river bank.",
     "A gentle breeze moves the tall grass across the quiet meadow today."] * 6
)  # fmt: skip
CONFIG = """
[chunking]
group_size = 1

[hotkeys]
global_stop = "<ctrl>+<alt>+s"
global_stop_all = "<ctrl>+<alt>+<shift>+s"
"""
STOP_WITHIN = 1.5
"""Key press -> silence, generous so that it holds on a loaded machine (the bench times stops: rows 6d, 6f)."""
"""Seconds from running ``xdotool`` (a process start, an X round trip) to silence at the sink."""


def hotkey_lines(server: VoxServer) -> list[str]:
    return [line for line in server.log_text().splitlines() if "global hotkeys" in line]


def wait_for_line(server: VoxServer, text: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while text not in server.log_text():
        assert time.monotonic() < deadline, f"no {text!r} in the log:\n{server.log_text()}"
        time.sleep(0.05)


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    """A private Xvfb display, started and stopped by its PID."""
    if shutil.which("Xvfb") is None or shutil.which("xdotool") is None:
        pytest.skip("needs Xvfb and xdotool: sudo apt-get install xvfb xdotool")
    read, write = os.pipe()
    proc = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write), "-nolisten", "tcp", "-screen", "0", "640x480x24"],
        pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    os.close(write)
    try:
        with os.fdopen(read) as f:
            number = f.readline().strip()
        assert number.isdigit(), "Xvfb did not report its display"
        yield f":{number}"
    finally:
        pulse.stop_process(proc)


@pytest.fixture(scope="module")
def sink(tmp_path_factory) -> Iterator[pulse.PulseServer]:
    missing = pulse.available()
    if missing:
        pytest.skip(missing)
    with pulse.running(tmp_path_factory.mktemp("pulse")) as server:
        yield server


@pytest.fixture(scope="module")
def vox(display, sink, tmp_path_factory) -> Iterator[VoxServer]:
    server = start_server(tmp_path_factory.mktemp("vox-hotkeys"), config=CONFIG, env={**sink.env, "DISPLAY": display})
    try:
        wait_for_line(server, "global hotkeys (X11 display")
        assert server.post("/api/tts_load", {"engine": "piper"}).status_code == 200
        yield server
    finally:
        server.stop()


@pytest.fixture
def focused_window(display) -> Iterator[int]:
    """Another application's window holding the keyboard focus (this test process is that application)."""
    from Xlib import X
    from Xlib.display import Display

    d = Display(display)
    root = d.screen().root
    window = root.create_window(10, 10, 300, 200, 0, d.screen().root_depth, event_mask=X.KeyPressMask)
    window.map()
    d.sync()
    window.set_input_focus(X.RevertToParent, X.CurrentTime)
    d.sync()
    assert d.get_input_focus().focus.id == window.id
    try:
        yield window.id
    finally:
        window.destroy()
        d.close()


def press(display: str, keys: str) -> None:
    subprocess.run(["xdotool", "key", keys], env={**os.environ, "DISPLAY": display}, check=True, timeout=10)


@pytest.mark.speakers
@pytest.mark.parametrize(("keys", "line"), [("ctrl+alt+s", "stops speaking"), ("ctrl+alt+shift+s", "stops everything")])
def test_global_hotkey_stops_speaker_playback_while_another_window_has_focus(
    vox, sink, display, focused_window, keys, line
):
    recorder = sink.record()
    r = vox.post("/api/vox_speak", {"text": LONG_TEXT})
    assert r.status_code == 200, r.text
    assert recorder.wait_for_sound(), "no speech to stop"
    pressed = time.monotonic()
    press(display, keys)
    while vox.get("/api/tts_is_speaking").json()["speaking"]:
        assert time.monotonic() - pressed < 3, "the hotkey did not stop playback"
        time.sleep(0.01)
    time.sleep(0.4)
    audio = recorder.stop()
    span = pulse.sound_span(audio)
    assert span is not None
    silent = recorder.time_of(span[1]) - pressed
    assert silent < STOP_WITHIN, f"speakers silent {silent * 1000:.0f} ms after the key press"
    assert span[1] < len(audio) - int(0.3 * pulse.RATE), "sound went on after the hotkey"
    wait_for_line(vox, f"{line} ['{r.json()['job']}']")
    assert len(hotkey_lines(vox)) == 1, "exactly one start-up line"


def test_a_hotkey_taken_by_another_program_is_named_and_the_other_works(display, tmp_path):
    from Xlib import XK, X
    from Xlib.display import Display

    d = Display(display)
    root = d.screen().root
    code = d.keysym_to_keycode(XK.string_to_keysym("k"))
    root.grab_key(code, X.ControlMask | X.Mod1Mask, True, X.GrabModeAsync, X.GrabModeAsync)
    d.sync()
    config = '[hotkeys]\nglobal_stop = "<ctrl>+<alt>+k"\nglobal_stop_all = "<ctrl>+<alt>+j"\n'
    try:
        server = start_server(tmp_path, config=config, env={"DISPLAY": display})
        try:
            wait_for_line(server, "global hotkeys (X11 display")
            (only,) = hotkey_lines(server)
            assert "<ctrl>+<alt>+j stops everything" in only
            assert "not grabbed: <ctrl>+<alt>+k (another program has it)" in only
        finally:
            server.stop()
    finally:
        d.close()


@pytest.mark.parametrize(
    ("env", "config", "expected"),
    [
        ({"DISPLAY": "", "WAYLAND_DISPLAY": ""}, "", "no X11 display"),
        ({"DISPLAY": "", "WAYLAND_DISPLAY": "wayland-0"}, "", "Wayland lets no application grab keys"),
        ({"DISPLAY": ":9999"}, "", "cannot open X display ':9999'"),
        ({}, "[hotkeys]\nglobal_enabled = false\n", "global hotkeys are off"),
        ({}, '[hotkeys]\nglobal_stop = "<ctrl>+<alt>"\n', "hotkeys.global_stop = '<ctrl>+<alt>'"),
    ],
    ids=["no-display", "wayland", "display-unreachable", "switched-off", "bad-hotkey"],
)
def test_one_clear_line_when_global_hotkeys_cannot_work(tmp_path, env, config, expected):
    server = start_server(tmp_path, config=config, env=env)
    try:
        wait_for_line(server, expected)
        assert len(hotkey_lines(server)) == 1, hotkey_lines(server)
        assert server.get("/health").status_code == 200
    finally:
        server.stop()


def test_hotkey_parsing():
    assert hotkeys.parse("<ctrl>+<alt>+s") == hotkeys.Hotkey("<ctrl>+<alt>+s", ("Control", "Mod1"), "s")
    assert hotkeys.parse("Ctrl+Shift+Escape").modifiers == ("Control", "Shift")
    assert hotkeys.parse("Ctrl+Shift+Escape").key == "Escape"
    assert hotkeys.parse("<cmd>+<esc>") == hotkeys.Hotkey("<cmd>+<esc>", ("Mod4",), "Escape")
    assert hotkeys.parse("<ctrl>+S").key == "s"
    assert hotkeys.parse("<ctrl>+<f9>").key == "F9"
    for bad in ("<ctrl>+<alt>", "<ctrl>+a+b", "", "<ctrl>++x"):
        with pytest.raises(hotkeys.HotkeyError):
            hotkeys.parse(bad)


def test_global_push_to_talk_is_held_then_released_for_the_page(vox, display, focused_window):
    """The page holds the microphone: the hotkey tells it (on /api/live) when the key goes down and up."""
    heard: list[str] = []

    def listen() -> None:
        with requests.get(vox.url + "/api/live", stream=True, timeout=10) as r:
            for msg in sse_messages(r):
                if "listen" in msg:
                    heard.append(msg["listen"])
                if len(heard) >= 2:
                    return

    reader = threading.Thread(target=listen, daemon=True)
    reader.start()
    time.sleep(0.5)
    env = {**os.environ, "DISPLAY": display}
    subprocess.run(["xdotool", "keydown", "ctrl+alt+space"], env=env, check=True, timeout=10)
    time.sleep(0.8)  # held
    assert heard == ["press"]
    subprocess.run(["xdotool", "keyup", "space", "alt", "ctrl"], env=env, check=True, timeout=10)
    reader.join(5)
    assert heard == ["press", "release"]
    wait_for_line(vox, "<ctrl>+<alt>+space released")

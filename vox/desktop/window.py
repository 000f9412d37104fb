"""The desktop window: pywebview (Qt backend) on the app's page.

``run`` shows the window until the user closes it (or ``stopping`` is set by a signal) and returns True; it
returns False, after one log line saying why, when no window can be opened here (no display, no pywebview
or Qt, missing system libraries), so the caller opens a browser tab instead. Qt aborts the whole process
when its platform plugin cannot load, so the libraries are checked with ``ldd`` before Qt is touched.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import shutil
import subprocess
import threading
from pathlib import Path

from vox.config import Config

log = logging.getLogger("vox.window")

PLUGINS = {"xcb": "libqxcb.so", "wayland": "libqwayland.so", "offscreen": "libqoffscreen.so"}
"""Qt platform name -> its plugin file in PyQt6/Qt6/plugins/platforms."""


def _platform() -> str | None:
    """The Qt platform the window would use, or None when there is no display to show it on."""
    forced = os.environ.get("QT_QPA_PLATFORM", "").split(":")[0].strip()
    if forced:
        return forced
    if os.environ.get("WAYLAND_DISPLAY") and not os.environ.get("DISPLAY"):
        return "wayland"
    if os.environ.get("DISPLAY"):
        return "xcb"
    return None


def can_open_browser() -> bool:
    """A browser tab can be opened: there is a display, or $BROWSER names a browser to use."""
    return _platform() is not None or bool(os.environ.get("BROWSER"))


def _qt_root() -> Path | None:
    spec = importlib.util.find_spec("PyQt6")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "Qt6"


def missing_libraries(platform: str) -> list[str]:
    """Shared libraries the Qt platform plugin or QtWebEngine need that this system lacks (by ``ldd``)."""
    qt = _qt_root()
    if qt is None or shutil.which("ldd") is None:
        return []
    files = [qt / "plugins" / "platforms" / PLUGINS.get(platform, f"libq{platform}.so"),
             qt / "lib" / "libQt6WebEngineCore.so.6", qt / "libexec" / "QtWebEngineProcess"]  # fmt: skip
    missing: list[str] = []
    for f in files:
        if not f.exists():
            continue
        try:
            out = subprocess.run(["ldd", str(f)], capture_output=True, text=True, timeout=10).stdout
        except (OSError, subprocess.SubprocessError):
            continue
        for line in out.splitlines():
            name, _, where = line.strip().partition(" => ")
            if where.strip() == "not found" and name not in missing:
                missing.append(name)
    return missing


def _chromium_flags() -> None:
    """QtWebEngine's Chromium switches: play audio with no prior click, and run as root if need be."""
    flags = os.environ.get("QTWEBENGINE_CHROMIUM_FLAGS", "")
    if "--autoplay-policy" not in flags:
        flags += " --autoplay-policy=no-user-gesture-required"
    if os.geteuid() == 0 and "--no-sandbox" not in flags:
        flags += " --no-sandbox"  # Chromium refuses to run as root with its sandbox on
    os.environ["QTWEBENGINE_CHROMIUM_FLAGS"] = flags.strip()


def _storage_dir() -> Path:
    """Where the window keeps the page's localStorage (speed, voice, panel), so preferences persist."""
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "vox" / "webview"


def run(url: str, config: Config, stopping: threading.Event) -> bool:
    """Show the window until it is closed (or ``stopping`` is set); False if no window could be opened."""
    platform = _platform()
    if platform is None:
        if os.environ.get("BROWSER"):
            log.warning("no display (DISPLAY / WAYLAND_DISPLAY unset): opening the page in a browser tab instead")
        else:  # over SSH, say: don't start a console browser in this terminal
            log.warning("no display (DISPLAY / WAYLAND_DISPLAY unset): open %s in a browser", url)
        return False
    if importlib.util.find_spec("webview") is None or _qt_root() is None:
        log.warning("pywebview with Qt is not installed (pip install 'pywebview[qt]'): opening a browser tab instead")
        return False
    missing = missing_libraries(platform)
    if missing:
        log.warning(
            "the window needs system libraries that are missing (%s; run scripts/system-packages.sh): "
            "opening a browser tab instead",
            ", ".join(missing),
        )
        return False
    _chromium_flags()
    import webview

    window = webview.create_window(
        config.window.title, url, width=config.window.width, height=config.window.height, min_size=(420, 360)
    )
    closed = threading.Event()

    def close_on_stop() -> None:
        # SIGINT/SIGTERM set ``stopping``; pywebview's Qt loop runs Python every 500 ms, so this is prompt.
        stopping.wait()
        if not closed.is_set():
            try:
                window.destroy()
            except Exception as e:  # already gone
                log.debug("window.destroy: %s", e)

    threading.Thread(target=close_on_stop, name="vox-window-stop", daemon=True).start()
    storage = _storage_dir()
    try:
        storage.mkdir(parents=True, exist_ok=True)
        webview.start(gui="qt", private_mode=False, storage_path=str(storage))
    except Exception as e:  # a Qt or pywebview failure that the checks above did not foresee
        log.warning("the window could not open (%s): opening a browser tab instead", e)
        return False
    finally:
        closed.set()
    stopping.set()
    return True

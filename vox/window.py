"""The desktop window: pywebview (Qt) on the app's page. Falls back (returns False) when it cannot open."""

from __future__ import annotations

import logging
import os
import threading

from vox.config import Config

log = logging.getLogger("vox.window")


def run(url: str, config: Config, stopping: threading.Event) -> bool:
    """Show the window until it is closed (or ``stopping`` is set); False if no window could be opened."""
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")) and not os.environ.get("QT_QPA_PLATFORM"):
        log.warning("no display: opening the page in a browser tab instead of a window")
        return False
    flags = os.environ.get("QTWEBENGINE_CHROMIUM_FLAGS", "")
    if "--autoplay-policy" not in flags:
        flags += " --autoplay-policy=no-user-gesture-required"
    if os.geteuid() == 0 and "--no-sandbox" not in flags:
        flags += " --no-sandbox"
    os.environ["QTWEBENGINE_CHROMIUM_FLAGS"] = flags.strip()
    try:
        import webview
    except ImportError as e:
        log.warning("no pywebview (%s): opening a browser tab instead; `pip install 'pywebview[qt]'`", e)
        return False
    window = webview.create_window(config.window.title, url, width=config.window.width, height=config.window.height)
    threading.Thread(target=lambda: (stopping.wait(), window.destroy()), daemon=True).start()
    try:
        webview.start(gui="qt")
    except Exception as e:  # no usable Qt platform plugin, etc.
        log.warning("the window could not open (%s): opening a browser tab instead", e)
        return False
    stopping.set()
    return True

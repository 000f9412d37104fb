"""System-wide stop / stop-all hotkeys, so Vox can be silenced while another application has the focus, and
a push-to-talk hotkey held to talk (its release ends the turn; X's auto-repeat, which sends a release and a
press for every repeat of a held key, is told apart from a real release by their shared timestamp).

X11: a passive grab (``XGrabKey``) on the root window, read by one thread with its own display connection.
The hotkeys call the same Runtime verbs (``stop`` / ``stop_all``) as ``/api/vox_stop`` and
``/api/stop_all_vox``: every stop is one Controller call with a reason. Where a global grab is impossible (Wayland
without X11, no display, the combination taken by another program), Vox logs ONE line saying so and the
in-page hotkeys keep working.

Hotkeys are written like ``<ctrl>+<alt>+s`` (pynput's style; ``Ctrl+Alt+S`` works too).
"""

from __future__ import annotations

import logging
import os
import re
import select
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from vox.config import Config

log = logging.getLogger("vox.hotkeys")

POLL = 0.25
"""Seconds between checks for shutdown while no key arrives."""
REPEAT_WAIT = 0.03
"""Seconds a key release waits for the press that would make it an auto-repeat."""
KEY_ALIASES = {
    "esc": "Escape", "escape": "Escape", "enter": "Return", "return": "Return", "space": "space",
    "tab": "Tab", "backspace": "BackSpace", "delete": "Delete", "del": "Delete", "insert": "Insert",
    "home": "Home", "end": "End", "pause": "Pause", "page_up": "Prior", "page_down": "Next",
    "up": "Up", "down": "Down", "left": "Left", "right": "Right", "minus": "minus", "period": "period",
}  # fmt: skip
MODIFIER_NAMES = {
    "ctrl": "Control", "control": "Control", "ctrl_l": "Control", "ctrl_r": "Control",
    "shift": "Shift", "alt": "Mod1", "alt_l": "Mod1", "alt_gr": "Mod5",
    "super": "Mod4", "cmd": "Mod4", "win": "Mod4", "meta": "Mod4",
}  # fmt: skip
MASKS = {"Shift": 1 << 0, "Control": 1 << 2, "Mod1": 1 << 3, "Mod4": 1 << 6, "Mod5": 1 << 7}
"""X11 modifier masks (X.h: ShiftMask, ControlMask, Mod1Mask, Mod4Mask, Mod5Mask)."""


class HotkeyError(ValueError):
    """A hotkey in config.toml that cannot be understood."""


@dataclass(frozen=True)
class Hotkey:
    spec: str
    modifiers: tuple[str, ...]
    """X modifier names: Control, Shift, Mod1 (Alt), Mod4 (Super), Mod5 (AltGr)."""
    key: str
    """X keysym name, e.g. ``s`` or ``Escape``."""


def parse(spec: str, where: str = "") -> Hotkey:
    """``<ctrl>+<alt>+s`` -> Hotkey(modifiers=("Control", "Mod1"), key="s")."""
    tokens = [t.strip().strip("<>").strip() for t in spec.split("+")]
    if spec.strip().endswith("++"):  # "<ctrl>++" means the plus key
        tokens = [*tokens[:-2], "plus"]
    modifiers, keys = [], []
    for token in tokens:
        if not token:
            raise HotkeyError(f"{where or 'hotkey'} = {spec!r}: empty part; write it like <ctrl>+<alt>+s")
        mod = MODIFIER_NAMES.get(token.lower())
        if mod is not None:
            modifiers.append(mod)
        else:
            keys.append(token)
    if len(keys) != 1:
        raise HotkeyError(f"{where or 'hotkey'} = {spec!r}: name one key besides the modifiers, like <ctrl>+<alt>+s")
    key = keys[0]
    if len(key) == 1:
        key = key.lower()
    elif re.fullmatch(r"f\d{1,2}", key.lower()):
        key = key.upper()
    else:
        key = KEY_ALIASES.get(key.lower(), key)
    return Hotkey(spec, tuple(sorted(set(modifiers))), key)


Binding = tuple[Hotkey, str, Callable[[], Any]]
"""A hotkey, what it does (for the log) and the Controller call that does it."""


class X11Listener:
    """One thread owning one X connection: grabs the hotkeys on the root window and dispatches presses."""

    def __init__(self, bindings: list[Binding], display_name: str,
                 releases: dict[Hotkey, Callable[[], Any]] | None = None) -> None:  # fmt: skip
        self.bindings = bindings
        self.releases = releases or {}
        """Hotkeys held rather than pressed: what their release does."""
        self.display_name = display_name
        self.ready = threading.Event()
        self.result = ""
        """After ``ready``: the one line to log (what is active, or why nothing is)."""
        self.active: list[Hotkey] = []
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="vox-hotkeys", daemon=True)

    def start(self, timeout: float = 5.0) -> bool:
        self._thread.start()
        if not self.ready.wait(timeout):
            self.result = f"global hotkeys: the X display {self.display_name} did not answer in {timeout:.0f} s"
        return bool(self.active)

    def stop(self, timeout: float = 2.0) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        from Xlib.display import Display

        try:
            display = Display(self.display_name)
        except Exception as e:  # DisplayError, ConnectionClosedError, OSError
            self.result = f"global hotkeys unavailable: cannot open X display {self.display_name!r} ({e})"
            self.ready.set()
            return
        try:
            table, taken = self._grab(display)
            self.result = self._summary(taken)
            self.ready.set()
            if table:
                self._loop(display, table)
        except Exception as e:  # the X server went away
            self.result = self.result or f"global hotkeys unavailable: {type(e).__name__}: {e}"
            log.warning("global hotkeys stopped: %s: %s", type(e).__name__, e)
        finally:
            self.ready.set()
            try:
                display.close()
            except Exception:
                pass

    def _grab(self, display: Any) -> tuple[dict[tuple[int, int], Binding], list[str]]:
        """Grab every hotkey on the root window: ({(keycode, modifier mask): binding}, [what failed])."""
        from Xlib import XK, X, error

        root = display.screen().root
        table: dict[tuple[int, int], Binding] = {}
        taken = []
        locks = _lock_variants(display)  # NumLock / CapsLock must not disable the hotkey
        for binding in self.bindings:
            hotkey = binding[0]
            keysym = XK.string_to_keysym(hotkey.key)
            keycode = display.keysym_to_keycode(keysym) if keysym else 0
            if not keycode:
                taken.append(f"{hotkey.spec} (no key {hotkey.key!r} on this keyboard)")
                continue
            mods = 0
            for name in hotkey.modifiers:
                mods |= MASKS[name]
            catch = error.CatchError(error.BadAccess)
            for lock in locks:
                root.grab_key(keycode, mods | lock, True, X.GrabModeAsync, X.GrabModeAsync, onerror=catch)
            display.sync()
            if catch.get_error() is not None:
                for lock in locks:
                    root.ungrab_key(keycode, mods | lock)
                taken.append(f"{hotkey.spec} (another program has it)")
                continue
            table[(keycode, mods)] = binding
            self.active.append(hotkey)
        return table, taken

    def _summary(self, taken: list[str]) -> str:
        where = f"X11 display {self.display_name}"
        active = ", ".join(f"{h.spec} {what}" for h, what, _ in self.bindings if h in self.active)
        line = f"global hotkeys ({where}): {active}" if active else f"global hotkeys unavailable on {where}"
        if taken:
            line += f"; not grabbed: {', '.join(taken)}; change them in config.toml [hotkeys]"
        if os.environ.get("WAYLAND_DISPLAY"):
            line += "; under Wayland (XWayland) they fire only while an X11 window has the focus"
        return line

    def _loop(self, display: Any, table: dict[tuple[int, int], Binding]) -> None:
        from Xlib import X

        relevant = 0
        for mask in MASKS.values():
            relevant |= mask
        fd = display.fileno()
        while not self._stopping.is_set():
            if not display.pending_events():  # reads what has arrived without blocking
                select.select([fd], [], [], POLL)
                continue
            held: Any = None  # a release that may be half of an auto-repeat
            while display.pending_events() or held is not None:
                if held is not None and not display.pending_events():
                    select.select([fd], [], [], REPEAT_WAIT)  # an auto-repeat's press follows at once
                    if not display.pending_events():
                        self._released(held, table)
                        held = None
                        continue
                event = display.next_event()
                if held is not None:
                    if event.type == X.KeyPress and event.detail == held.detail and event.time == held.time:
                        held = None  # auto-repeat: the key is still down
                        continue
                    self._released(held, table)
                    held = None
                if event.type == X.KeyRelease:
                    held = event
                    continue
                if event.type != X.KeyPress:
                    continue
                binding = table.get((event.detail, event.state & relevant))
                if binding is not None:
                    hotkey, what, action = binding
                    result = action()
                    log.info("global hotkey %s: %s %s", hotkey.spec, what, result or "")

    def _released(self, event: Any, table: dict[tuple[int, int], Binding]) -> None:
        """A held hotkey's key went up (its modifiers may already be up: only the key is matched)."""
        for (keycode, _), (hotkey, _what, _action) in table.items():
            release = self.releases.get(hotkey)
            if keycode == event.detail and release is not None:
                release()
                log.info("global hotkey %s released", hotkey.spec)
                return


def _lock_variants(display: Any) -> list[int]:
    """Modifier combinations of CapsLock and NumLock (whichever ModN holds Num_Lock on this server)."""
    from Xlib import XK, X

    numlock = 0
    num_code = display.keysym_to_keycode(XK.string_to_keysym("Num_Lock"))
    for index, codes in enumerate(display.get_modifier_mapping()):
        if num_code and num_code in codes:
            numlock = 1 << index
    return sorted({0, X.LockMask, numlock, X.LockMask | numlock})


_listener: X11Listener | None = None


def start(config: Config, runtime) -> X11Listener | None:
    """Start the global hotkeys from ``config.hotkeys``; logs exactly one line saying what works."""
    global _listener
    cfg = config.hotkeys
    if not cfg.global_enabled:
        log.info("global hotkeys are off (hotkeys.global_enabled = false); the in-page hotkeys work")
        return None
    url = f"http://{config.server.host}:{config.server.port}"
    try:
        bindings = [
            (parse(cfg.global_stop, "hotkeys.global_stop"), "stops speaking", runtime.stop),
            (parse(cfg.global_stop_all, "hotkeys.global_stop_all"), "stops everything", runtime.stop_all),
        ]
        releases = {}
        if cfg.global_push_to_talk:
            talk = parse(cfg.global_push_to_talk, "hotkeys.global_push_to_talk")
            bindings.append((talk, "talks (hold)", lambda: runtime.push_to_talk(True)))
            releases[talk] = lambda: runtime.push_to_talk(False)
    except HotkeyError as e:
        log.warning("global hotkeys off (config.toml): %s", e)
        return None
    display_name = os.environ.get("DISPLAY", "")
    if not display_name:
        if os.environ.get("WAYLAND_DISPLAY"):
            log.warning(
                "global hotkeys unavailable: Wayland lets no application grab keys; bind a desktop shortcut to "
                "`curl -X POST %s/api/vox_stop` instead (the in-page hotkeys still work)", url,
            )  # fmt: skip
        else:
            log.info("global hotkeys unavailable: no X11 display (DISPLAY is not set); the in-page hotkeys work")
        return None
    try:
        import Xlib  # noqa: F401
    except ImportError:
        log.warning("global hotkeys need python-xlib: .venv/bin/pip install -r requirements.txt")
        return None
    listener = X11Listener(bindings, display_name, releases)
    if listener.start():
        log.info("%s", listener.result)
        _listener = listener
        return listener
    log.warning("%s; the in-page hotkeys still work", listener.result)
    listener.stop()
    return None


def stop() -> None:
    """Release the grabs and end the listener thread (at shutdown)."""
    global _listener
    if _listener is not None:
        _listener.stop()
        _listener = None

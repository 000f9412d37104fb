"""Chromium with a fake microphone that plays a WAV file made of Vox's own voice (so the words are known).

Chromium's fake capture device reads ``--use-file-for-fake-audio-capture`` from its start each time a
capture opens (``%noloop``: once, then silence), so a test knows where in the file each clip is from the
moment the page opens the microphone.
"""

from __future__ import annotations

from pathlib import Path

from tests.chromium import CHROMIUM, LAUNCH_ARGS, RECORDER_JS, new_page
from tests.speech_clips import timeline, write_wav

MIC_RATE = 16000


def mic_file(path: Path, parts: list[tuple[str, float]]) -> list[tuple[float, float]]:
    """Write the microphone's recording (see speech_clips.timeline); returns each clip's (start, end) in s."""
    audio, spans = timeline(parts, MIC_RATE)
    write_wav(path, audio, MIC_RATE)
    return spans


def launch_with_mic(playwright, wav: Path, loop: bool = False):
    """Headless Chromium whose microphone plays ``wav`` (permission granted without a prompt)."""
    args = [*LAUNCH_ARGS, "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-audio-capture={wav}{'' if loop else '%noloop'}"]  # fmt: skip
    return playwright.chromium.launch(executable_path=CHROMIUM, args=args)


def chat_page(browser, url: str, init_script: str = RECORDER_JS):
    """Vox's page at ``url``, ready, on the Chat tab (where the microphone is), ``init_script`` run first."""
    page = new_page(browser, url + "/", init_script)
    page.evaluate("() => vox.ready")
    page.click("#mode-chat")
    return page

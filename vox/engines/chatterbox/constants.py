"""Chatterbox constants the package and its callers share: audio and token rates, languages, the shortest
reference clip, the install command."""

from __future__ import annotations

SAMPLE_RATE = 24000
SAMPLES_PER_TOKEN = 960
"""S3 speech tokens run at 25 per second: 2 mel frames of 480 samples each at 24 kHz."""

SUPPORTED_LANGUAGES: tuple[str, ...] = (
    "ar", "da", "de", "el", "en", "es", "fi", "fr", "he", "hi", "it", "ja",
    "ko", "ms", "nl", "no", "pl", "pt", "ru", "sv", "sw", "tr", "zh",
)  # fmt: skip

MIN_REFERENCE_SECONDS = 5.0
INSTALL_COMMAND = (
    ".venv/bin/pip install -r requirements-turbo.txt && .venv/bin/pip install --no-deps chatterbox-tts==0.1.7"
)

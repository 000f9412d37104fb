"""Chatterbox constants the package and its callers share: audio and token rates, languages, install and
test settings."""

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
TEST_SMALL_ENV = "VOX_TEST_SMALL_CHATTERBOX"
"""Test-only: when set to 1, ``load()`` shrinks T3 to match the small random checkpoints the tests build."""
TEST_TOKENS_ENV = "VOX_TEST_CHATTERBOX_TOKENS"
"""Test-only, with TEST_SMALL_ENV: a fixed token count per model call (random weights never stop)."""

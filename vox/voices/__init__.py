"""The voice library: ``library`` (the folder and its files), ``names`` (ids and display names), ``clips``
(decoding uploaded reference clips)."""

from __future__ import annotations

from vox.errors import UnknownVoice
from vox.voices.clips import CLIP_RATE, MAX_CLIP_SECONDS, MIN_CLIP_SECONDS, decode_clip
from vox.voices.library import BUNDLED_ID, CLONE_ENGINES, SIDECAR_SUFFIX, TMP_PREFIX, VoiceLibrary
from vox.voices.names import check_display_name, check_voice_id, default_name, voice_id_from_name

__all__ = [
    "BUNDLED_ID", "CLIP_RATE", "CLONE_ENGINES", "MAX_CLIP_SECONDS", "MIN_CLIP_SECONDS", "SIDECAR_SUFFIX",
    "TMP_PREFIX", "UnknownVoice", "VoiceLibrary", "check_display_name", "check_voice_id", "decode_clip",
    "default_name", "voice_id_from_name",
]  # fmt: skip

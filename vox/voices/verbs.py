"""The Runtime's voice library verbs (the Runtime inherits them): the voice a reply speaks with, and list, add,
rename, delete.

The configured default voice stays put, and a deleted voice leaves nothing cached in the loaded engine.
"""

from __future__ import annotations

import numpy as np

from vox.config import Config
from vox.engines import EngineManager, Voice, engine_class
from vox.errors import DefaultVoice, VoiceNeedsEngine
from vox.voices.library import VoiceLibrary


class VoiceVerbs:
    config: Config
    voices: VoiceLibrary
    engines: EngineManager

    def resolve_voice(self, voice_id: str | None, engine: str | None = None) -> Voice | None:
        """The voice to use, checked against the engine that will speak (``engine``, by default the one that
        speaks next); None means the engine's default."""
        voice_id = voice_id or self.config.engine.voice or None
        if voice_id is None:
            return None
        voice = self.voices.get(voice_id)
        engine = engine or self.engines.active_name
        if engine not in voice.engines:
            loaded = engine_class(engine).capabilities.title
            needs = " or ".join(engine_class(e).capabilities.title for e in voice.engines)
            raise VoiceNeedsEngine(
                f"The voice {voice.name} needs {needs}, but {loaded} is loaded. Choose another voice, or load "
                f"{needs} in the Voices panel.", voice=voice.id, engines=list(voice.engines), loaded=engine,
            )  # fmt: skip
        return voice

    def list_voices(self) -> list[Voice]:
        return self.voices.list()

    def voice(self, voice_id: str) -> Voice:
        """A library voice, or UnknownVoice listing the voices there are."""
        return self.voices.get(voice_id)

    def voice_ids(self) -> list[str]:
        return self.voices.ids()

    def check_voice_free(self, voice_id: str) -> None:
        """VoiceExists when ``voice_id`` is taken (checked before an upload is decoded)."""
        self.voices.check_free(voice_id)

    def add_voice(self, voice_id: str, name: str, pcm: np.ndarray) -> Voice:
        """A reference clip (24 kHz mono) stored as a new voice."""
        return self.voices.add_clip(voice_id, name, pcm)

    def rename_voice(self, voice_id: str, new_id: str | None, name: str | None) -> Voice:
        if new_id is not None and new_id != voice_id:
            self._refuse_if_default(voice_id, "renamed")
        return self.voices.rename(voice_id, new_id, name)

    def delete_voice(self, voice_id: str) -> Voice:
        """Delete a voice; the loaded engine first drops what it cached for it (Chatterbox keeps conditionals per
        clip in memory and on disk, which would otherwise outlive the clip)."""
        self.voices.get(voice_id)
        self._refuse_if_default(voice_id, "deleted")
        return self.voices.delete(voice_id, before_remove=self._forget_cached)

    def _forget_cached(self, voice: Voice) -> None:
        """Called before the file goes, so the engine can still read it to find the entry."""
        engine = self.engines.current
        if engine is not None:
            engine.forget_voice(voice)

    def _refuse_if_default(self, voice_id: str, verb: str) -> None:
        """The configured default voice stays put: without it every request that names no voice would fail."""
        if voice_id == self.config.engine.voice:
            raise DefaultVoice(f"{voice_id!r} is the default voice (engine.voice in config.toml); change that before "
                               f"it can be {verb}.", id=voice_id)  # fmt: skip

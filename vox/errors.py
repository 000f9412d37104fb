"""Domain errors: what went wrong, as a sentence a person can act on, plus details for programs.

Modules below the routes raise these and never speak HTTP; ``vox/web/app.py`` holds the one table that maps each
class to a status code (and the OpenAI-compatible routes to OpenAI's error shape). A message says what is
wrong and what to do next, in plain words: no API paths, no exception names.
"""

from __future__ import annotations

from typing import Any


class VoxError(Exception):
    """Base of every error Vox answers on purpose; ``details`` are extra JSON fields for API clients."""

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message, self.details = message, details


# --- the request ---------------------------------------------------------------------------------------


class InvalidRequest(VoxError):
    """A field is missing, has the wrong type or is out of range."""


class NotJson(VoxError):
    """The body is not JSON (wrong Content-Type)."""


class TooLarge(VoxError):
    """A text, body or upload is over its limit."""


class NothingToSay(InvalidRequest):
    """The text has no speakable words once markdown, code and emoji are left out."""


class NotAllowed(VoxError):
    """The request comes from somewhere that may not control Vox (another site, a foreign Host)."""


class KeyRequired(VoxError):
    """Vox serves beyond this machine and the request lacks the API key."""


# --- jobs ------------------------------------------------------------------------------------------------


class TooManyJobs(VoxError):
    """Too many replies are running at once; ``retry_after`` seconds is a fair wait."""

    retry_after = 1


class ReplyStopped(VoxError):
    """The reply was stopped before it was complete (a stop, or a newer reply replaced it)."""


class UnknownReply(VoxError):
    """No open pushed reply has this id."""


class NoPageOpen(VoxError):
    """A pushed reply should play in the page, but no Vox page is open."""


# --- engines and devices ---------------------------------------------------------------------------------


class EngineUnavailable(VoxError):
    """The engine cannot run here; the message says what to install or where to put files."""


class UnknownModel(VoxError):
    """An OpenAI-compatible request names a model that maps to no Vox engine."""


class ReplicaFailed(EngineUnavailable):
    """An engine replica (``[serve] replicas``) failed or fell silent in the middle of a reply."""


class UnsupportedOption(InvalidRequest):
    """A request option the engine that would speak cannot honour."""


class UnsupportedLanguage(InvalidRequest):
    """The engine that would speak does not speak the language asked for."""


class SpeakersUnavailable(VoxError):
    """Host playback cannot work here; the message says what to install or configure."""


# --- voices ------------------------------------------------------------------------------------------------


class UnknownVoice(VoxError):
    def __init__(self, voice_id: str, valid: list[str]) -> None:
        super().__init__(f"There is no voice called {voice_id!r}. Choose one of: {', '.join(valid)}.", voices=valid)
        self.voice_id, self.valid = voice_id, valid


class VoiceTaken(VoxError):
    """A voice with this id already exists."""


class VoiceNeedsEngine(VoxError):
    """The voice cannot be spoken by the engine that is loaded."""


class BuiltinVoice(VoxError):
    """Built-in voices cannot be renamed or deleted."""


class DefaultVoice(VoxError):
    """The configured default voice cannot be renamed or deleted."""


class BadClip(InvalidRequest):
    """A clip Vox cannot use (not audio, truncated, too short or long, silent, or gone from the library)."""


class VoiceRequired(InvalidRequest):
    """The engine has no built-in voice: the request must name a voice (a reference clip to clone)."""


class StorageFailed(VoxError):
    """A file could not be written (disk full, permissions)."""


# --- the LLM ------------------------------------------------------------------------------------------------


class LlmUnavailable(VoxError):
    """The LLM server could not be reached or answered an error; the message says what to do."""


class UnknownTurn(VoxError):
    """No chat turn in this session has that id."""


class TurnNotInterrupted(VoxError):
    """Only an interrupted chat turn can be shortened to what was heard."""


# --- books (vox/books/) ---------------------------------------------------------------------------------------


class BadBook(InvalidRequest):
    """A document Vox cannot read as a book (corrupt, DRM-protected, not text, empty); the message says why."""


class UnknownBook(VoxError):
    """No book project has this id."""


class BookBusy(VoxError):
    """The project is rendering (or another one is), or its file is not exported yet; the message says what
    to do first."""


# --- listening -------------------------------------------------------------------------------------------------


class RecogniserUnavailable(EngineUnavailable):
    """Speech recognition cannot run here (no model, no package); the message says how to get it. Typing and
    speaking keep working."""


class UnknownListen(VoxError):
    """No open listening stream has this id (it ended, timed out, or was replaced)."""


class ListenEnded(VoxError):
    """The listening stream ended (stopped, replaced, timed out); ``reason`` says why."""


class AudioTooFast(TooManyJobs):
    """A listening client sends audio faster than real time (a file, garbage): refused, 429."""

"""The one table that turns domain errors into HTTP status codes, for every front door: Vox's own JSON errors
(vox/app.py) and the OpenAI-compatible routes, which answer in OpenAI's error shape (vox/routes/transcribe.py).
A module of its own so that routes can use it without importing the app that imports them."""

from __future__ import annotations

from vox import errors

ERROR_STATUS: dict[type[errors.VoxError], int] = {
    errors.InvalidRequest: 400,  # includes NothingToSay, BadClip, UnsupportedOption
    errors.KeyRequired: 401,
    errors.NotAllowed: 403,
    errors.BuiltinVoice: 403,
    errors.UnknownVoice: 404,
    errors.UnknownReply: 404,
    errors.UnknownListen: 404,
    errors.VoiceTaken: 409,
    errors.VoiceNeedsEngine: 409,
    errors.DefaultVoice: 409,
    errors.ReplyStopped: 409,
    errors.NoPageOpen: 409,
    errors.ListenEnded: 409,
    errors.TooLarge: 413,
    errors.NotJson: 415,
    errors.TooManyJobs: 429,
    errors.LlmUnavailable: 502,
    errors.EngineUnavailable: 503,
    errors.SpeakersUnavailable: 503,
    errors.StorageFailed: 507,
}
"""Each domain error's status; a subclass takes its nearest listed ancestor's."""


def status_of(error: errors.VoxError) -> int:
    for cls in type(error).__mro__:
        if cls in ERROR_STATUS:
            return ERROR_STATUS[cls]
    return 500

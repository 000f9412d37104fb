"""The one table that turns domain errors into HTTP answers, for every front door: Vox's own JSON errors and the
OpenAI-compatible routes (``/v1``), which answer in OpenAI's error shape. A module of its own so that any module
can use it without importing the app factory (vox/web/app.py), which imports the routes."""

from __future__ import annotations

import re

from vox import errors

ERROR_STATUS: dict[type[errors.VoxError], int] = {
    errors.InvalidRequest: 400,  # includes NothingToSay, BadClip, UnsupportedOption, BadBook
    errors.KeyRequired: 401,
    errors.NotAllowed: 403,
    errors.BuiltinVoice: 403,
    errors.UnknownVoice: 404,
    errors.UnknownReply: 404,
    errors.UnknownTurn: 404,
    errors.UnknownBook: 404,
    errors.UnknownListen: 404,
    errors.VoiceTaken: 409,
    errors.VoiceNeedsEngine: 409,
    errors.DefaultVoice: 409,
    errors.ReplyStopped: 409,
    errors.NoPageOpen: 409,
    errors.TurnNotInterrupted: 409,
    errors.BookBusy: 409,
    errors.ListenEnded: 409,
    errors.UnknownModel: 404,
    errors.TooLarge: 413,
    errors.NotJson: 415,
    errors.TooManyJobs: 429,
    errors.LlmUnavailable: 502,
    errors.EngineUnavailable: 503,
    errors.SpeakersUnavailable: 503,
    errors.StorageFailed: 507,
}
"""Each domain error's status; a subclass takes its nearest listed ancestor's."""


def _nearest(table: dict, error: errors.VoxError):
    """The table's entry for the error's class or its nearest listed ancestor; None if none is listed."""
    return next((table[cls] for cls in type(error).__mro__ if cls in table), None)


def status_of(error: errors.VoxError) -> int:
    return _nearest(ERROR_STATUS, error) or 500


OPENAI_ERROR_TYPE = {400: "invalid_request_error", 401: "invalid_request_error", 403: "permission_error",
                     404: "invalid_request_error", 405: "invalid_request_error", 409: "invalid_request_error",
                     413: "invalid_request_error", 415: "invalid_request_error", 429: "rate_limit_error"}  # fmt: skip
"""The OpenAI rendering of each status (``/v1`` answers in OpenAI's error shape); 5xx is ``server_error``."""
OPENAI_ERROR_CODE = {
    errors.KeyRequired: "invalid_api_key", errors.UnknownModel: "model_not_found",
    errors.TooManyJobs: "rate_limit_exceeded", errors.RecogniserUnavailable: "model_not_available",
}  # fmt: skip
OPENAI_PARAM = {errors.UnknownVoice: "voice", errors.VoiceNeedsEngine: "voice", errors.UnknownModel: "model",
                errors.NothingToSay: "input"}  # fmt: skip


def openai_error(message: str, status: int, param: str | None = None, code: str | None = None) -> dict:
    """``{"error": {"message", "type", "param", "code"}}``, as OpenAI's clients expect."""
    kind = OPENAI_ERROR_TYPE.get(status, "server_error" if status >= 500 else "invalid_request_error")
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


def openai_code(error: errors.VoxError) -> str:
    """A stable machine-readable code: the table's, else the error's class name in snake case."""
    return _nearest(OPENAI_ERROR_CODE, error) or re.sub(r"(?<!^)(?=[A-Z])", "_", type(error).__name__).lower()


def openai_param(error: errors.VoxError) -> str | None:
    """The request field an error is about: named by the error, by the table, or by its message, which opens
    with the field for validation errors ("'speed' must be ...")."""
    named = re.match(r"'(\w+)'", error.message)
    return error.details.get("param") or OPENAI_PARAM.get(type(error)) or (named.group(1) if named else None)

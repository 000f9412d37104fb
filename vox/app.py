"""The Flask app factory and the one table that turns domain errors into HTTP answers.

``create_app(config, runtime)`` registers one blueprint per front door and has no global side effect, so
tests and the entry point (``app.py`` at the top level) can build as many apps as they like.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from vox import errors
from vox.config import Config
from vox.guard import Guard
from vox.routes import (
    MAX_FORM_FIELD,
    MAX_FORM_PARTS,
    apidoc,
    books,
    chat,
    live,
    openai,
    serve,
    speakers,
    speech,
    voices,
)  # fmt: skip
from vox.runtime import Runtime
from vox.validate import MAX_SPEED, MIN_SPEED

log = logging.getLogger("vox")
ROOT = Path(__file__).resolve().parent.parent

ERROR_STATUS: dict[type[errors.VoxError], int] = {
    errors.InvalidRequest: 400,  # includes NothingToSay, BadClip, UnsupportedOption, BadBook
    errors.KeyRequired: 401,
    errors.NotAllowed: 403,
    errors.BuiltinVoice: 403,
    errors.UnknownVoice: 404,
    errors.UnknownReply: 404,
    errors.UnknownTurn: 404,
    errors.UnknownBook: 404,
    errors.VoiceTaken: 409,
    errors.VoiceNeedsEngine: 409,
    errors.DefaultVoice: 409,
    errors.ReplyStopped: 409,
    errors.NoPageOpen: 409,
    errors.TurnNotInterrupted: 409,
    errors.BookBusy: 409,
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


def status_of(error: errors.VoxError) -> int:
    for cls in type(error).__mro__:
        if cls in ERROR_STATUS:
            return ERROR_STATUS[cls]
    return 500


OPENAI_PREFIX = "/v1/"
OPENAI_ERROR_TYPE = {400: "invalid_request_error", 401: "invalid_request_error", 403: "permission_error",
                     404: "invalid_request_error", 405: "invalid_request_error", 409: "invalid_request_error",
                     413: "invalid_request_error", 415: "invalid_request_error", 429: "rate_limit_error"}  # fmt: skip
"""The OpenAI rendering of each status (``/v1`` answers in OpenAI's error shape); 5xx is ``server_error``."""
OPENAI_ERROR_CODE = {errors.KeyRequired: "invalid_api_key", errors.UnknownModel: "model_not_found",
                     errors.TooManyJobs: "rate_limit_exceeded"}  # fmt: skip
OPENAI_PARAM = {errors.UnknownVoice: "voice", errors.VoiceNeedsEngine: "voice", errors.UnknownModel: "model",
                errors.NothingToSay: "input"}  # fmt: skip


def openai_error(message: str, status: int, param: str | None = None, code: str | None = None) -> dict:
    """``{"error": {"message", "type", "param", "code"}}``, as OpenAI's clients expect."""
    kind = OPENAI_ERROR_TYPE.get(status, "server_error" if status >= 500 else "invalid_request_error")
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


def openai_code(error: errors.VoxError) -> str:
    """A stable machine-readable code: the table's, else the error's class name in snake case."""
    for cls in type(error).__mro__:
        if cls in OPENAI_ERROR_CODE:
            return OPENAI_ERROR_CODE[cls]
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(error).__name__).lower()


def wants_openai_errors() -> bool:
    return request.path.startswith(OPENAI_PREFIX)


def create_app(config: Config, runtime: Runtime) -> Flask:
    app = Flask("vox", static_folder=str(ROOT / "static"), template_folder=str(ROOT / "templates"))
    app.config["MAX_CONTENT_LENGTH"] = config.server.max_upload_mb * 2**20
    app.config["MAX_FORM_PARTS"] = MAX_FORM_PARTS
    app.config["MAX_FORM_MEMORY_SIZE"] = MAX_FORM_FIELD
    app.json.sort_keys = False
    app.extensions["vox"] = runtime
    Guard(config).install(app)
    for module in (speech, speakers, voices, chat, live, openai, apidoc, serve, books):
        app.register_blueprint(module.bp)

    @app.errorhandler(errors.VoxError)
    def domain_error(e: errors.VoxError):
        status = status_of(e)
        headers = {"Retry-After": str(e.details.get("retry_after", 1))} if status == 429 else {}
        if wants_openai_errors():
            named = re.match(r"'(\w+)'", e.message)  # validation messages open with the field they are about
            param = e.details.get("param") or OPENAI_PARAM.get(type(e)) or (named.group(1) if named else None)
            return jsonify(openai_error(e.message, status, param, openai_code(e))), status, headers
        return jsonify(error=e.message, **e.details), status, headers

    @app.errorhandler(HTTPException)
    def http_error(e: HTTPException):
        messages = {
            404: "There is no such page or endpoint here.",
            405: f"{request.method} is not allowed here; use {', '.join(getattr(e, 'valid_methods', None) or [])}.",
            413: f"The request is larger than {config.server.max_upload_mb} MB (server.max_upload_mb).",
        }
        message = messages.get(e.code or 500, e.description or e.name)
        if wants_openai_errors():
            return jsonify(openai_error(message, e.code or 500)), e.code
        return jsonify(error=message), e.code

    @app.errorhandler(Exception)
    def unexpected(e: Exception):
        log.exception("unexpected error")
        message = "Something went wrong inside Vox. Try again; the log says what happened."
        if wants_openai_errors():
            return jsonify(openai_error(message, 500)), 500
        return jsonify(error=message), 500

    @app.get("/")
    def index():
        return render_template("index.html", config=config, engines=runtime.engines_info(),
                               speed_range=(MIN_SPEED, MAX_SPEED))

    return app

"""The Flask app factory and the one table that turns domain errors into HTTP answers.

``create_app(config, runtime)`` registers one blueprint per front door and has no global side effect, so
tests and the entry point (``app.py`` at the top level) can build as many apps as they like.
"""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from vox import errors
from vox.config import Config
from vox.runtime import Runtime
from vox.validate import MAX_SPEED, MIN_SPEED
from vox.web.http_status import openai_code, openai_error, openai_param, status_of
from vox.web.origin_guard import Guard
from vox.web.routes import (
    MAX_FORM_FIELD,
    MAX_FORM_PARTS,
    apidoc,
    books,
    chat,
    listen,
    live,
    openai,
    serve,
    speakers,
    speech,
    transcribe,
    voices,
)  # fmt: skip

log = logging.getLogger("vox")
ROOT = Path(__file__).resolve().parents[2]

OPENAI_PREFIX = "/v1/"


def wants_openai_errors() -> bool:
    """``/v1`` answers errors in OpenAI's shape, as OpenAI's clients expect."""
    return request.path.startswith(OPENAI_PREFIX)


def create_app(config: Config, runtime: Runtime) -> Flask:
    app = Flask("vox", static_folder=str(ROOT / "static"), template_folder=str(ROOT / "templates"))
    app.config["MAX_CONTENT_LENGTH"] = config.server.max_upload_mb * 2**20
    app.config["MAX_FORM_PARTS"] = MAX_FORM_PARTS
    app.config["MAX_FORM_MEMORY_SIZE"] = MAX_FORM_FIELD
    app.json.sort_keys = False
    app.extensions["vox"] = runtime
    Guard(config).install(app)
    for module in (speech, speakers, voices, chat, live, listen, openai, transcribe, apidoc, serve, books):
        app.register_blueprint(module.bp)

    @app.errorhandler(errors.VoxError)
    def domain_error(e: errors.VoxError):
        status = status_of(e)
        headers = {"Retry-After": str(e.details.get("retry_after", 1))} if status == 429 else {}
        if wants_openai_errors():
            return jsonify(openai_error(e.message, status, openai_param(e), openai_code(e))), status, headers
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

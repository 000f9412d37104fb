"""HTTP routes, one blueprint per front door; ``app.py`` lists which URL lives where.

Routes parse and validate requests, call one Runtime verb, and frame the answer (JSON, Server-Sent Events,
audio). Domain errors raised below become JSON answers in ``vox/web/app.py``.
"""

from __future__ import annotations

import json
import re
import select
import socket
from collections.abc import Callable

from flask import current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

from vox.engines import all_languages
from vox.errors import TooLarge
from vox.jobs.controller import DEFAULT_SESSION
from vox.runtime import Runtime
from vox.validate import SpeakRequest, json_object, speak_request

SESSION_HEADER = "X-Vox-Session"
_SESSION = re.compile(r"[A-Za-z0-9_.:-]{1,64}")


def runtime() -> Runtime:
    return current_app.extensions["vox"]


MAX_FORM_PARTS = 16
"""Fields in an upload form (the clip, a name, an id): a form of thousands of parts is not an upload."""
MAX_FORM_FIELD = 200 * 1024
"""Bytes in one text field of a form (a voice name is at most 80 characters). Werkzeug also holds the parser's
read buffer (64 KB at a time, file data included) to this limit, so it must stay well above 64 KB."""


def body_limit_mb() -> int:
    return current_app.config["MAX_CONTENT_LENGTH"] // 2**20


def body(allow_empty: bool = False) -> dict:
    """The JSON object a request sent, or an error saying what is wrong with it."""
    raw = request.get_data(cache=True)
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if request.content_length is None and limit is not None and len(raw) >= limit:
        # A chunked body is cut at the limit by the input stream; it is as over the limit as a declared one.
        raise TooLarge(f"The request body is over the limit of {body_limit_mb()} MB (server.max_upload_mb).")
    return json_object(raw, request.content_type, allow_empty)


def form_fields() -> tuple[dict, dict]:
    """An upload form's files and text fields, or a 413 that names the limit the form broke."""
    try:
        return request.files, request.form
    except RequestEntityTooLarge:
        declared = request.content_length
        if declared is not None and declared > current_app.config["MAX_CONTENT_LENGTH"]:
            raise
        raise TooLarge(
            f"The form is too large: an upload takes at most {MAX_FORM_PARTS} fields, {MAX_FORM_FIELD // 1024} KB "
            f"in a text field, and {body_limit_mb()} MB in all (server.max_upload_mb; the clip goes in the 'file' "
            "field)."
        ) from None


def speak_body(data: dict | None = None, text_key: str = "text") -> SpeakRequest:
    """A validated speak request from the JSON body (or ``data``)."""
    rt = runtime()
    return speak_request(body() if data is None else data, rt.config.server.max_text_chars, all_languages(), text_key)


def session() -> str:
    """The session a request belongs to: ``X-Vox-Session`` (a page tab, an API client) or the default one."""
    return named_session() or DEFAULT_SESSION


def named_session() -> str | None:
    """The session the request names (``X-Vox-Session``, or ``?session=`` where a header cannot be sent, as on
    an EventSource); None when it names none. A stop that names no session stops every session."""
    value = (request.headers.get(SESSION_HEADER) or request.args.get("session") or "").strip()
    return value if _SESSION.fullmatch(value) else None


def sse(payload: dict) -> str:
    """One Server-Sent Events message."""
    return f"data: {json.dumps(payload, separators=(',', ':'))}\n\n"


_HANGUP = select.POLLHUP | select.POLLERR | getattr(select, "POLLRDHUP", 0)


def client_gone_probe() -> Callable[[], bool]:
    """A cheap check, safe to call while a response is being prepared, of whether the client hung up. It never
    waits: the socket has a timeout (vox/web/server.py), so a plain peek would wait for data that never comes."""
    sock = request.environ.get("werkzeug.socket")
    if sock is None:
        return lambda: False

    def gone() -> bool:
        try:
            poller = select.poll()
            poller.register(sock.fileno(), select.POLLIN | _HANGUP)
            events = poller.poll(0)
            if not events:
                return False
            if events[0][1] & _HANGUP:
                return True
            return sock.recv(1, socket.MSG_PEEK) == b""  # readable, so this returns at once
        except (OSError, ValueError):
            return True

    return gone

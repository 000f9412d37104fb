"""HTTP routes, one blueprint per front door; ``app.py`` lists which URL lives where.

Routes parse and validate requests, call one Runtime verb, and frame the answer (JSON, Server-Sent Events,
audio). Domain errors raised below become JSON answers in ``vox/app.py``.
"""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Callable

from flask import current_app, request

from vox.engines import all_languages
from vox.jobs import DEFAULT_SESSION
from vox.runtime import Runtime
from vox.validate import SpeakRequest, json_object, speak_request

SESSION_HEADER = "X-Vox-Session"
_SESSION = re.compile(r"[A-Za-z0-9_.:-]{1,64}")


def runtime() -> Runtime:
    return current_app.extensions["vox"]


def body(allow_empty: bool = False) -> dict:
    """The JSON object a request sent, or an error saying what is wrong with it."""
    return json_object(request.get_data(cache=True), request.content_type, allow_empty)


def speak_body(data: dict | None = None, text_key: str = "text") -> SpeakRequest:
    """A validated speak request from the JSON body (or ``data``)."""
    rt = runtime()
    return speak_request(body() if data is None else data, rt.config.server.max_text_chars, all_languages(), text_key)


def session() -> str:
    """The session a request belongs to: ``X-Vox-Session`` (a page tab, an API client) or the default one."""
    value = request.headers.get(SESSION_HEADER, "").strip()
    return value if _SESSION.fullmatch(value) else DEFAULT_SESSION


def sse(payload: dict) -> str:
    """One Server-Sent Events message."""
    return f"data: {json.dumps(payload, separators=(',', ':'))}\n\n"


def client_gone_probe() -> Callable[[], bool]:
    """A cheap check, safe to call while a response is being prepared, of whether the client hung up."""
    sock = request.environ.get("werkzeug.socket")
    if sock is None:
        return lambda: False

    def gone() -> bool:
        try:
            return sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
        except BlockingIOError:
            return False
        except OSError:
            return True

    return gone

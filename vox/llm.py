"""A small streaming client for OpenAI-compatible chat servers (Ollama, llama.cpp's server, LM Studio).

stdlib only. The response is read line by line as it streams; cancelling the job shuts the socket down, so
a stop-all closes the connection to the LLM server at once instead of waiting for its next token.
"""

from __future__ import annotations

import http.client
import json
import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

from vox.config import Llm
from vox.errors import LlmUnavailable
from vox.jobs import Job

OLLAMA_HINT = (
    "Start a local LLM server, e.g. Ollama: `curl -fsSL https://ollama.com/install.sh | sh`, then "
    "`ollama pull {model}` and `ollama serve`; or set [llm] base_url in config.toml to your server "
    "(llama.cpp's llama-server or LM Studio)."
)


LlmError = LlmUnavailable
"""The LLM server could not be reached or answered an error; the message says what to do."""


def _connection(base_url: str, timeout: float) -> tuple[http.client.HTTPConnection, str]:
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise LlmError(f"[llm] base_url {base_url!r} is not an http(s) URL")
    cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    return cls(parts.hostname, parts.port, timeout=timeout), parts.path.rstrip("/")


def stream_chat(settings: Llm, messages: list[dict], job: Job, connect_timeout: float = 5.0) -> Iterator[str]:
    """Yield the reply's text deltas as the server sends them; stops quietly when ``job`` is cancelled."""
    conn, prefix = _connection(settings.base_url, connect_timeout)
    body = json.dumps({
        "model": settings.model,
        "messages": messages,
        "temperature": settings.temperature,
        "stream": True,
    })
    headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
    if settings.api_key:
        headers["Authorization"] = f"Bearer {settings.api_key}"
    try:
        conn.request("POST", f"{prefix}/chat/completions", body=body, headers=headers)
        response = conn.getresponse()
    except (OSError, http.client.HTTPException) as e:
        conn.close()
        hint = OLLAMA_HINT.format(model=settings.model)
        raise LlmError(f"no LLM server answers at {settings.base_url} ({e}). {hint}") from None
    try:
        if response.status != 200:
            detail = response.read(2000).decode("utf-8", "replace")
            try:
                detail = json.loads(detail).get("error", detail)
                detail = detail.get("message", detail) if isinstance(detail, dict) else detail
            except (ValueError, AttributeError):
                pass
            raise LlmError(f"the LLM server answered {response.status}: {detail}")
        if conn.sock is not None:
            conn.sock.settimeout(None)  # tokens may be slow; a cancel shuts the socket down instead
        job.on_cancel(lambda: _shutdown(conn))
        yield from _deltas(response, job)
    finally:
        conn.close()


def _shutdown(conn: http.client.HTTPConnection) -> None:
    sock = conn.sock
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def _deltas(response: http.client.HTTPResponse, job: Job) -> Iterator[str]:
    """The ``choices[0].delta.content`` of each ``data:`` line until ``[DONE]``."""
    while not job.cancelled:
        try:
            line = response.readline()
        except (OSError, http.client.HTTPException, ValueError):
            if job.cancelled:
                return
            raise LlmError("the LLM server closed the connection mid-reply") from None
        if not line:
            return
        line = line.strip()
        if not line.startswith(b"data:"):
            continue
        data = line[5:].strip()
        if data == b"[DONE]":
            return
        try:
            event = json.loads(data)
        except ValueError:
            continue
        if "error" in event:
            raise LlmError(f"the LLM server reported an error: {event['error']}")
        for choice in event.get("choices") or []:
            content = (choice.get("delta") or {}).get("content")
            if content:
                yield content

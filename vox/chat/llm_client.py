"""A small streaming client for OpenAI-compatible chat servers (Ollama, llama.cpp's server, LM Studio).

stdlib only. The response is read line by line as it streams; cancelling the job shuts the socket down, so
a stop-all closes the connection to the LLM server at once instead of waiting for its next token.
"""

from __future__ import annotations

import http.client
import json
import logging
import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

from vox.config import Llm
from vox.errors import LlmUnavailable
from vox.jobs.controller import Job

OLLAMA_PORT = 11434


def is_ollama(base_url: str) -> bool:
    """Whether ``base_url`` looks like Ollama (its port, or its name in the host)."""
    parts = urlsplit(base_url)
    return parts.port == OLLAMA_PORT or "ollama" in (parts.hostname or "")


def unreachable_hint(settings: Llm) -> str:
    """What to do when nothing answers at ``base_url``: start the server that belongs there. Pulling a model is
    only suggested once the server answers that it lacks one (``missing_model_hint``): the configured name
    may not be an Ollama model at all."""
    if is_ollama(settings.base_url):
        return ("Start Ollama with `ollama serve` (install it from https://ollama.com if it is not installed), "
                "or set [llm] base_url in config.toml to the server you use.")
    return ("Start the LLM server that should answer there (llama.cpp's llama-server, LM Studio, or any "
            "OpenAI-compatible server), or set [llm] base_url in config.toml to the one you use; for Ollama "
            f'that is "http://127.0.0.1:{OLLAMA_PORT}/v1", after `ollama serve`.')


def missing_model_hint(settings: Llm) -> str:
    """The server answers but has no model of that name."""
    if is_ollama(settings.base_url):
        return (f"Fetch it with `ollama pull {settings.model}` if that is a model of the Ollama library "
                "(`ollama list` shows those you have), or set [llm] model in config.toml to one of them.")
    return "Set [llm] model in config.toml to a model your LLM server has loaded."


log = logging.getLogger("vox.llm")

LlmError = LlmUnavailable
"""The LLM server could not be reached or answered an error; the message says what to do."""


def _connection(base_url: str, timeout: float) -> tuple[http.client.HTTPConnection, str]:
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise LlmError(f"[llm] base_url {base_url!r} is not an http(s) address. Set it in config.toml, e.g. "
                       f'"http://127.0.0.1:{OLLAMA_PORT}/v1".')
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
        log.info("no LLM server at %s: %r", settings.base_url, e)
        raise LlmError(f"No LLM server answers at {settings.base_url}. {unreachable_hint(settings)}") from None
    try:
        if response.status != 200:
            detail = response.read(2000).decode("utf-8", "replace")
            try:
                detail = json.loads(detail).get("error", detail)
                detail = detail.get("message", detail) if isinstance(detail, dict) else detail
            except (ValueError, AttributeError):
                pass
            detail = str(detail).strip().rstrip(".")
            if response.status == 404 and "model" in detail.lower():
                raise LlmError(f"The LLM server has no model called {settings.model!r} ({detail}). "
                               f"{missing_model_hint(settings)}")
            raise LlmError(f"The LLM server refused the request (error {response.status}: {detail}). Check [llm] "
                           "in config.toml and the LLM server's log.")
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
            raise LlmError("The LLM server closed the connection in the middle of the reply. Try again.") from None
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
            raise LlmError(f"The LLM server reported an error: {event['error']}. Try again.")
        for choice in event.get("choices") or []:
            content = (choice.get("delta") or {}).get("content")
            if content:
                yield content

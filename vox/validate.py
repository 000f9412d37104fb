"""Request validation: every bad input becomes an ApiError with a status and a sentence a person understands."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

LANGUAGES = (
    "ar", "da", "de", "el", "en", "es", "fi", "fr", "he", "hi", "it", "ja",
    "ko", "ms", "nl", "no", "pl", "pt", "ru", "sv", "sw", "tr", "zh",
)  # fmt: skip
"""Chatterbox Multilingual's languages; Piper voices speak their own language and ignore ``lang``."""
MIN_SPEED, MAX_SPEED = 0.5, 2.0


class ApiError(Exception):
    """An error answered as JSON: ``{"error": message, ...extra}`` with ``status``."""

    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.message, self.extra = status, message, extra

    def body(self) -> dict:
        return {"error": self.message, **self.extra}


def json_object(raw: bytes, content_type: str | None, allow_empty: bool = False) -> dict:
    """The request body as a JSON object, or an ApiError saying what is wrong with it."""
    if not raw.strip():
        if allow_empty:
            return {}
        raise ApiError(400, "the request body is empty; send a JSON object such as {\"text\": \"Hello\"}")
    if (content_type or "").split(";")[0].strip().lower() != "application/json":
        raise ApiError(415, f"send JSON with Content-Type: application/json (got {content_type or 'none'!r})")
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ApiError(400, "the request body is not valid UTF-8") from None
    except json.JSONDecodeError as e:
        raise ApiError(400, f"the request body is not valid JSON: {e.msg} (column {e.colno})") from None
    if not isinstance(data, dict):
        raise ApiError(400, f"the request body must be a JSON object, not {type(data).__name__}")
    return data


def _optional(data: dict, key: str, kind: type, kind_name: str) -> Any:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ApiError(400, f"{key!r} must be {kind_name}, not {type(value).__name__}")
    return value


@dataclass
class SpeakRequest:
    text: str
    voice: str | None
    speed: float | None
    lang: str | None


def speak_request(data: dict, max_chars: int) -> SpeakRequest:
    if "text" not in data:
        raise ApiError(400, "'text' is required: the words to speak")
    text = data["text"]
    if not isinstance(text, str):
        raise ApiError(400, f"'text' must be a string, not {type(text).__name__}")
    if "\x00" in text:
        raise ApiError(400, "'text' contains a NUL character")
    if not text.strip():
        raise ApiError(400, "'text' is empty: there is nothing to say")
    if len(text) > max_chars:
        raise ApiError(413, f"'text' is {len(text)} characters; the limit is {max_chars} (server.max_text_chars)")
    voice = _optional(data, "voice", str, "a voice id string") or None
    speed = _optional(data, "speed", int | float, "a number")
    if speed is not None and not (math.isfinite(speed) and MIN_SPEED <= speed <= MAX_SPEED):
        raise ApiError(400, f"'speed' must be between {MIN_SPEED} and {MAX_SPEED} (1.0 is normal), not {speed}")
    lang = _optional(data, "lang", str, "a language code string") or None
    if lang is not None:
        lang = lang.lower().split("-")[0].split("_")[0]
        if lang not in LANGUAGES:
            raise ApiError(400, f"unknown language {data['lang']!r}; use one of {', '.join(LANGUAGES)}")
    return SpeakRequest(text, voice, float(speed) if speed is not None else None, lang)

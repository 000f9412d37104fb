"""Request validation: the one JSON body reader, and the fields every speak request shares.

Every bad input becomes a domain error (``vox.errors``) with a sentence a person understands; nothing here
knows about HTTP status codes.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

from vox.errors import InvalidRequest, NotJson, TooLarge

MIN_SPEED, MAX_SPEED = 0.5, 2.0
PARAMETER_RANGES: dict[str, tuple[float, float]] = {
    "exaggeration": (0.0, 2.0),
    "cfg_weight": (0.0, 1.0),
    "temperature": (0.05, 2.0),
    "top_p": (0.05, 1.0),
    "repetition_penalty": (1.0, 2.0),
}
"""Generation parameters (Chatterbox) and their accepted ranges; ``seed`` is an integer 0 .. 2**32-1.

The ranges are Resemble's own demo apps' sliders: exaggeration up to 2 ("extreme values can be unstable"),
cfg_weight 0 to 1 (0 for a reference clip in another language), temperature 0.05 to 2 (Turbo's app and
Resemble's hosted Turbo; the Multilingual app allows 5), repetition_penalty 1 to 2 (every app), top_p 0.05
to 1 (the apps start at 0, which is greedy decoding)."""
MAX_SEED = 2**32 - 1
MAX_INT_DIGITS = 20
"""No field takes a whole number longer than this; a longer one is refused before Python converts it (a
4,300-digit integer costs a conversion error, a 400-digit one cannot become a float)."""


class _BadNumber(ValueError):
    """Raised from inside the JSON parser for a number no field could take."""


def _parse_int(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_INT_DIGITS:
        raise _BadNumber(f"a whole number with {len(digits.lstrip('-'))} digits is too large for any field "
                         f"(at most {MAX_INT_DIGITS} digits)")  # fmt: skip
    return int(digits)


def _parse_float(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):
        raise _BadNumber(f"the number {literal[:40]} is too large for any field")
    return value


def _parse_constant(name: str) -> float:
    raise _BadNumber(f"{name} is not a number JSON allows; send a finite number")


def _lone_surrogate(data: Any) -> str | None:
    """The first string (key or value) in ``data`` that holds a lone UTF-16 surrogate (JSON's "\\ud800"
    escape decodes to one), which no encoder, engine or file system can take. Iterative: nesting is as deep
    as the parser allowed."""
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return item
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return None


_SURROGATE = re.compile("[\ud800-\udfff]")


def json_object(raw: bytes, content_type: str | None, allow_empty: bool = False) -> dict:
    """The request body as a JSON object, or an error saying what is wrong with it: not JSON, not UTF-8,
    numbers no field could take (NaN, Infinity, 1e400, a 400-digit integer), nesting deeper than Python can
    parse, or a lone surrogate in a string."""
    if not raw.strip():
        if allow_empty:
            return {}
        raise InvalidRequest('The request body is empty. Send a JSON object such as {"text": "Hello"}.')
    if (content_type or "").split(";")[0].strip().lower() != "application/json":
        raise NotJson(f"Send JSON with Content-Type: application/json (got {content_type or 'none'!r}).")
    try:
        data = json.loads(raw.decode("utf-8"), parse_int=_parse_int, parse_float=_parse_float,
                          parse_constant=_parse_constant)  # fmt: skip
    except UnicodeDecodeError:
        raise InvalidRequest("The request body is not valid UTF-8.") from None
    except json.JSONDecodeError as e:
        raise InvalidRequest(f"The request body is not valid JSON: {e.msg} (column {e.colno}).") from None
    except _BadNumber as e:
        raise InvalidRequest(f"The request body has a number Vox cannot use: {e}.") from None
    except RecursionError:
        raise InvalidRequest("The request body is nested too deeply; send a flat JSON object.") from None
    except ValueError as e:  # int() refusing a number past Python's digit limit, should one get through
        raise InvalidRequest(f"The request body has a number Vox cannot use ({str(e)[:80]}).") from None
    if not isinstance(data, dict):
        raise InvalidRequest(f"The request body must be a JSON object, not {type(data).__name__}.")
    bad = _lone_surrogate(data)
    if bad is not None:
        raise InvalidRequest(f"The request has text with a broken character (a lone UTF-16 surrogate, as in "
                             f"{bad[:30]!a}); send valid Unicode.")  # fmt: skip
    return data


def optional(data: dict, key: str, kind: type, kind_name: str) -> Any:
    """``data[key]`` if it is of ``kind`` (never a bool standing in for a number); None when absent."""
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, kind) or isinstance(value, bool):
        raise InvalidRequest(f"{key!r} must be {kind_name}, not {type(value).__name__}.")
    return value


def speed_of(data: dict) -> float | None:
    speed = optional(data, "speed", int | float, "a number")
    if speed is not None and not (math.isfinite(speed) and MIN_SPEED <= speed <= MAX_SPEED):
        raise InvalidRequest(f"'speed' must be between {MIN_SPEED} and {MAX_SPEED} (1.0 is normal), not {speed}.")
    return float(speed) if speed is not None else None


def parameters_of(data: dict) -> dict[str, float | int]:
    """The generation parameters a request sets, checked against their ranges."""
    params: dict[str, float | int] = {}
    for key, (low, high) in PARAMETER_RANGES.items():
        value = optional(data, key, int | float, "a number")
        if value is None:
            continue
        if not (math.isfinite(value) and low <= value <= high):
            raise InvalidRequest(f"{key!r} must be between {low} and {high}, not {value}.")
        params[key] = float(value)
    seed = optional(data, "seed", int, "a whole number")
    if seed is not None:
        if not 0 <= seed <= MAX_SEED:
            raise InvalidRequest(f"'seed' must be between 0 and {MAX_SEED}, not {seed}.")
        params["seed"] = seed
    return params


def text_of(data: dict, max_chars: int, key: str = "text") -> str:
    if key not in data:
        raise InvalidRequest(f"{key!r} is required: the words to speak.")
    text = data[key]
    if not isinstance(text, str):
        raise InvalidRequest(f"{key!r} must be a string, not {type(text).__name__}.")
    if "\x00" in text:
        raise InvalidRequest(f"{key!r} contains a NUL character.")
    if not text.strip():
        raise InvalidRequest(f"{key!r} is empty: there is nothing to say.")
    if len(text) > max_chars:
        raise TooLarge(f"{key!r} is {len(text)} characters; the limit is {max_chars} (server.max_text_chars).")
    return text


def lang_of(data: dict, languages: tuple[str, ...]) -> str | None:
    """A language code such as "de" ("de-AT" and "de_AT" mean "de"), one of ``languages``."""
    lang = optional(data, "lang", str, "a language code string") or None
    if lang is None:
        return None
    code = lang.lower().split("-")[0].split("_")[0]
    if code not in languages:
        raise InvalidRequest(f"Unknown language {lang!r}; use one of {', '.join(languages)}.")
    return code


@dataclass
class SpeakRequest:
    """What every speak request may say besides its text: voice, speed, language, generation parameters."""

    text: str
    voice: str | None = None
    speed: float | None = None
    lang: str | None = None
    params: dict[str, float | int] = field(default_factory=dict)

    def speak_args(self) -> dict[str, Any]:
        return {"voice_id": self.voice, "speed": self.speed, "lang": self.lang, "params": self.params}


def speak_request(data: dict, max_chars: int, languages: tuple[str, ...], text_key: str = "text") -> SpeakRequest:
    voice = optional(data, "voice", str, "a voice id string") or None
    return SpeakRequest(text_of(data, max_chars, text_key), voice, speed_of(data), lang_of(data, languages),
                        parameters_of(data))  # fmt: skip

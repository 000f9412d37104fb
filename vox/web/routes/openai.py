"""OpenAI-compatible speech, so apps that speak to OpenAI (Open WebUI, SillyTavern, LibreChat, Home Assistant's
OpenAI TTS integrations) can use Vox as their voice.

    POST /v1/audio/speech   {"model", "input", "voice", "response_format"?, "speed"?, "instructions"?,
                            "stream_format"?: "audio" | "sse"}  -> the audio, streamed as it is synthesised
    GET  /v1/models         the model names (OpenAI's list shape)
    GET  /v1/audio/models   the same as {"models": [...]} (Open WebUI reads this)
    GET  /v1/audio/voices   {"voices": [{"id", "name", ...}]}

A reply here is a reply like any other: the same pipeline, session (``X-Vox-Session``), replacement and stop
rules (``/api/stop_all_vox`` ends it; the stream then ends as a complete, shorter file). Errors use OpenAI's
shape (``vox/web/app.py`` renders every domain error that way under ``/v1``).

Model names: ``tts-1``, ``tts-1-hd`` and ``gpt-4o-mini-tts`` mean the engine that is loaded (or configured);
``piper``, ``chatterbox-turbo`` and ``chatterbox-multilingual`` name an engine, which is loaded first when it is
not the current one (as choosing it in the page does). OpenAI's voice names (alloy, nova, ...) mean the default
voice unless the library has a voice with that id.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Callable, Iterator

from flask import Blueprint, Response, jsonify

from vox.audio.encoders import FORMAT_NAMES, content_type, encoder
from vox.audio.pcm import resample
from vox.engines import ENGINE_NAMES, all_languages, engine_class
from vox.errors import InvalidRequest, UnknownModel
from vox.jobs.controller import StopReason
from vox.reply.generation import Generation
from vox.runtime import Runtime
from vox.validate import SpeakRequest, optional, speak_request
from vox.voices import BUNDLED_ID
from vox.web.routes import body, client_gone_probe, runtime, session

log = logging.getLogger("vox")
bp = Blueprint("openai", __name__, url_prefix="/v1")

HEARTBEAT = 0.25
"""Seconds between checks of whether the client hung up while nothing is ready to send."""
OPENAI_VOICES = ("alloy", "ash", "ballad", "coral", "echo", "fable", "nova", "onyx", "sage", "shimmer", "verse",
                 "marin", "cedar")  # fmt: skip
CURRENT_ENGINE_MODELS = ("tts-1", "tts-1-hd", "gpt-4o-mini-tts")
ENGINE_MODELS = {"piper": "piper", "chatterbox-turbo": "turbo", "chatterbox-multilingual": "multilingual"}
"""Model name -> Vox engine. Vox's own engine names (``turbo``, ``multilingual``) are accepted too."""
STREAM_FORMATS = ("audio", "sse")
MAX_INSTRUCTIONS = 4096


def engine_for_model(model: str) -> str | None:
    """The engine a model name asks for; None for the loaded (or configured) one."""
    if model in CURRENT_ENGINE_MODELS or model.startswith("gpt-4o-mini-tts-"):
        return None
    if model in ENGINE_MODELS:
        return ENGINE_MODELS[model]
    if model in ENGINE_NAMES:
        return model
    names = [*CURRENT_ENGINE_MODELS, *ENGINE_MODELS]
    raise UnknownModel(f"There is no model called {model!r}. Use one of: {', '.join(names)}.", param="model")


def voice_id(rt: Runtime, voice: object) -> str | None:
    """The library voice a request names; OpenAI's voice names mean the default voice unless the library has
    a voice with that id."""
    if isinstance(voice, dict):
        voice = voice.get("id")
    if voice is None:
        return None
    if not isinstance(voice, str):
        raise InvalidRequest(f"'voice' must be a voice id string, not {type(voice).__name__}.", param="voice")
    if voice.lower() in OPENAI_VOICES and voice not in {v.id for v in rt.voices.list()}:
        return None
    return voice or None


def choice(data: dict, key: str, allowed: tuple[str, ...], default: str) -> str:
    value = optional(data, key, str, "a string")
    if value is None:
        return default
    if value not in allowed:
        raise InvalidRequest(f"{key!r} must be one of {', '.join(allowed)}, not {value!r}.", param=key)
    return value


def speech_request(rt: Runtime, data: dict) -> tuple[SpeakRequest, str | None, str, str]:
    """The speak request, the engine the model asks for, the audio format and the stream format."""
    model = optional(data, "model", str, "a model name string") or "tts-1"
    engine = engine_for_model(model)
    fmt = choice(data, "response_format", FORMAT_NAMES, "mp3")
    stream_format = choice(data, "stream_format", STREAM_FORMATS, "audio")
    instructions = optional(data, "instructions", str, "a string")
    if instructions is not None and len(instructions) > MAX_INSTRUCTIONS:
        raise InvalidRequest(f"'instructions' is longer than {MAX_INSTRUCTIONS} characters.", param="instructions")
    voice = voice_id(rt, data.get("voice"))
    fields = {k: v for k, v in data.items() if k != "voice"}
    req = speak_request(fields, rt.config.server.max_text_chars, all_languages(), "input")
    req.voice = voice
    return req, engine, fmt, stream_format


@bp.post("/audio/speech")
def speech():
    rt = runtime()
    req, engine, fmt, stream_format = speech_request(rt, body())
    if engine is not None and engine != rt.engines.active_name:
        rt.load(engine)
    gen = rt.speak(req.text, session=session(), heartbeat=HEARTBEAT, **req.speak_args())
    rate = rt.engines.get().sample_rate
    headers = {"X-Vox-Job": gen.job.id, "X-Sample-Rate": str(rate), "Cache-Control": "no-cache",
               "X-Accel-Buffering": "no"}  # fmt: skip
    audio = encoded_audio(gen, fmt, rate, client_gone_probe())
    if stream_format == "sse":
        return Response(sse_events(audio, gen, len(req.text.split())), mimetype="text/event-stream",
                        headers=headers)  # fmt: skip
    return Response(audio_bytes(audio), content_type=content_type(fmt, rate), headers=headers)


def audio_bytes(audio: Iterator[bytes | None]) -> Iterator[bytes]:
    """The encoded audio alone (chunked transfer); closing it stops the reply."""
    try:
        for data in audio:
            if data:
                yield data
    finally:
        audio.close()


def encoded_audio(gen: Generation, fmt: str, rate: int, client_gone: Callable[[], bool]) -> Iterator[bytes | None]:
    """The reply in ``fmt``, each chunk encoded as it arrives; None while nothing is ready (so an SSE writer can
    send a keep-alive). A stopped reply ends as a complete, shorter file; a client that hangs up stops it."""
    enc = encoder(fmt, rate)
    reason = StopReason.CLIENT_GONE
    finished = False
    try:
        for chunk in gen:
            if chunk is None:
                if client_gone():
                    return
                yield None
                continue
            pcm = chunk.audio if chunk.sample_rate == rate else resample(chunk.audio, chunk.sample_rate, rate)
            data = enc.feed(pcm)
            if data:
                yield data
        finished = True
        yield enc.finish()
    except Exception:
        reason = StopReason.ERROR
        log.exception("encoding a reply failed")
        raise
    finally:
        if not finished:
            enc.close()
        gen.close(reason)


def sse_events(audio: Iterator[bytes | None], gen: Generation, words: int) -> Iterator[str]:
    """OpenAI's speech stream events: ``speech.audio.delta`` (base64 audio in the requested format), then
    ``speech.audio.done``. Vox counts no tokens: ``usage`` counts the input's words and the deltas sent."""
    deltas = 0
    try:
        for data in audio:
            if data is None:
                yield ": keep-alive\n\n"
                continue
            if data:
                deltas += 1
                yield _event({"type": "speech.audio.delta", "audio": base64.b64encode(data).decode("ascii")})
    except Exception as e:
        yield _event({"type": "error", "error": {"message": str(e) or "Speaking failed. Try again.",
                                                 "type": "server_error", "param": None, "code": None}})  # fmt: skip
        return
    finally:
        audio.close()
    usage = {"input_tokens": words, "output_tokens": deltas, "total_tokens": words + deltas}
    yield _event({"type": "speech.audio.done", "usage": usage, "stopped": not gen.completed})


def _event(payload: dict) -> str:
    return f"data: {json.dumps(payload, separators=(',', ':'))}\n\n"


def models() -> list[dict]:
    """Every model name, with the engine it speaks with and whether that engine can run here."""
    rt = runtime()
    available = {e["name"]: e["available"] for e in rt.engines_info()}
    current = rt.engines.active_name
    out = [{"id": m, "object": "model", "created": 0, "owned_by": "vox", "engine": current,
            "available": available[current]} for m in CURRENT_ENGINE_MODELS]  # fmt: skip
    out += [{"id": m, "object": "model", "created": 0, "owned_by": "vox", "engine": e, "available": available[e]}
            for m, e in ENGINE_MODELS.items()]  # fmt: skip
    return out


@bp.get("/models")
def list_models():
    return jsonify(object="list", data=models())


@bp.get("/audio/models")
def list_audio_models():
    return jsonify(models=models())


@bp.get("/audio/voices")
def list_voices():
    rt = runtime()
    current = rt.engines.active_name
    voices = [{"id": v.id, "name": v.name, "engines": list(v.engines), "speaks_now": current in v.engines,
               "languages": list(engine_class(v.engines[0]).capabilities.languages)}
              for v in rt.voices.list()]  # fmt: skip
    return jsonify(voices=voices, default=rt.config.engine.voice or BUNDLED_ID, openai_voices=list(OPENAI_VOICES))

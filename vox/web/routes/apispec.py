"""The OpenAPI 3.1 description of every endpoint: the Vox API and the OpenAI-compatible one.

It lives beside the routes and is built from the same constants they validate with (speed range, languages,
formats, text limit, model and voice names), and ``tests/test_openapi.py`` checks that every Flask rule is
described and every described path is served, so the description cannot drift from the server.
"""

from __future__ import annotations

from typing import Any

from vox.audio.encoders import FORMAT_NAMES
from vox.config import Config
from vox.engines import ENGINE_NAMES, all_languages
from vox.validate import MAX_SEED, MAX_SPEED, MIN_SPEED, PARAMETER_RANGES
from vox.web.routes.openai import CURRENT_ENGINE_MODELS, ENGINE_MODELS, OPENAI_VOICES, STREAM_FORMATS

Schema = dict[str, Any]

STR: Schema = {"type": "string"}
BOOL: Schema = {"type": "boolean"}
INT: Schema = {"type": "integer"}
NUM: Schema = {"type": "number"}
OBJ: Schema = {"type": "object"}
NULLABLE_STR: Schema = {"type": ["string", "null"]}

ERROR_TEXT = {
    400: "Bad input, or nothing to say",
    401: "The API key is missing or wrong (off loopback)",
    403: "Another site, a foreign Host, or a built-in voice",
    404: "No such voice, reply, model or book",
    409: "A conflict: a voice the loaded engine cannot speak, a stopped reply, no page open, a book rendering",
    413: "Too large (text over server.max_text_chars, body or upload over server.max_upload_mb, a book over "
         "books.max_source_mb)",
    415: "The body is not JSON",
    429: "Too many replies at once (see Retry-After)",
    502: "The LLM server could not be reached",
    503: "An engine or the speakers cannot run here; the message says what to install",
    507: "The voice could not be stored",
}
GUARD = (401, 403)
"""Every request can meet the guard (vox/guard.py)."""


def obj(required: tuple[str, ...] = (), **properties: Schema) -> Schema:
    schema: Schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    return schema


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def json_content(schema: Schema) -> dict:
    return {"application/json": {"schema": schema}}


def op(summary: str, ok: Schema | dict | None = None, errors: tuple[int, ...] = (), body: Schema | None = None,
       ok_status: int = 200, openai: bool = False, description: str = "", params: list | None = None,
       ok_content: dict | None = None) -> dict:  # fmt: skip
    """One operation: a JSON (or other) success answer and the errors it can give, in Vox's or OpenAI's shape."""
    error_schema = ref("OpenAIError") if openai else ref("Error")
    responses: dict[str, Any] = {
        str(ok_status): {"description": "OK", "content": ok_content or json_content(ok or OBJ)},
    }
    for status in sorted(set(errors) | set(GUARD) | ({415} if body else set())):
        responses[str(status)] = {"description": ERROR_TEXT[status], "content": json_content(error_schema)}
    operation: dict[str, Any] = {"summary": summary, "responses": responses}
    if description:
        operation["description"] = description
    if body is not None:
        operation["requestBody"] = {"required": True, "content": json_content(body)}
    if params:
        operation["parameters"] = params
    return operation


def path_param(name: str, what: str) -> dict:
    return {"name": name, "in": "path", "required": True, "description": what, "schema": STR}


def speak_fields(max_chars: int, text_key: str = "text") -> dict[str, Schema]:
    fields: dict[str, Schema] = {
        text_key: {"type": "string", "minLength": 1, "maxLength": max_chars, "description": "The words to speak "
                   "(markdown is made speakable)."},
        "voice": {"type": "string", "description": "A voice id from the library; default: engine.voice."},
        "speed": {"type": "number", "minimum": MIN_SPEED, "maximum": MAX_SPEED, "description": "1.0 is normal."},
        "lang": {"type": "string", "enum": list(all_languages()), "description": "Chatterbox Multilingual."},
    }  # fmt: skip
    for name, (low, high) in PARAMETER_RANGES.items():
        fields[name] = {"type": "number", "minimum": low, "maximum": high,
                        "description": "Chatterbox only (400 for an engine that cannot honour it)."}  # fmt: skip
    fields["seed"] = {"type": "integer", "minimum": 0, "maximum": MAX_SEED, "description": "Chatterbox only."}
    return fields


def schemas(config: Config) -> dict[str, Schema]:
    max_chars = config.server.max_text_chars
    voice = obj(("id", "name", "engines"), id=STR, name=STR, engines={"type": "array", "items": STR},
                duration=NUM, sample_rate=INT, kind={"type": "string", "enum": ["piper", "clip"]})  # fmt: skip
    return {
        "Error": obj(("error",), error=STR),
        "OpenAIError": obj(("error",), error=obj(("message", "type"), message=STR, type=STR, param=NULLABLE_STR,
                                                 code=NULLABLE_STR)),
        "SpeakRequest": obj(("text",), **speak_fields(max_chars)),
        "SpeakWavRequest": obj(("text",), **speak_fields(max_chars),
                               format={"type": "string", "enum": list(FORMAT_NAMES), "description":
                                       "The file format (default wav; or ask with the Accept header)."}),
        "Voice": voice,
        "Stopped": obj(("ok", "stopped", "speaking"), ok=BOOL, stopped={"type": "array", "items": STR}, speaking=BOOL),
        "EngineStatus": obj(("engine", "state"), engine=STR, state={"type": "string", "enum": [
            "unloaded", "loading", "ready", "error"]}, loaded=BOOL, progress=NUM, message=STR, error=STR,
            sample_rate={"type": ["integer", "null"]}, device=NULLABLE_STR),
        "SpeechRequest": obj(
            ("input",),
            model={"type": "string", "description": "tts-1, tts-1-hd, gpt-4o-mini-tts: the loaded engine; piper, "
                   "chatterbox-turbo, chatterbox-multilingual: that engine (loaded first if need be).",
                   "examples": [*CURRENT_ENGINE_MODELS, *ENGINE_MODELS]},
            input={"type": "string", "minLength": 1, "maxLength": max_chars},
            voice={"oneOf": [STR, obj(("id",), id=STR)], "description": "A library voice id; OpenAI's names ("
                   + ", ".join(OPENAI_VOICES) + ") mean the default voice."},
            response_format={"type": "string", "enum": list(FORMAT_NAMES), "default": "mp3"},
            speed={"type": "number", "minimum": MIN_SPEED, "maximum": MAX_SPEED, "default": 1.0},
            instructions={"type": "string", "maxLength": 4096, "description": "Accepted; no Vox engine uses it."},
            stream_format={"type": "string", "enum": list(STREAM_FORMATS), "default": "audio"},
            lang=speak_fields(max_chars)["lang"],
        ),
        "Model": obj(("id", "object", "created", "owned_by"), id=STR, object=STR, created=INT, owned_by=STR,
                     engine={"type": "string", "enum": list(ENGINE_NAMES)}, available=BOOL),
    }  # fmt: skip


AUDIO = {f"audio/{t}": {"schema": {"type": "string", "format": "binary"}}
         for t in ("wav", "mpeg", "ogg", "aac", "flac", "pcm")}  # fmt: skip
SSE = {"text/event-stream": {"schema": {"type": "object", "description": "One Server-Sent Event; its data is JSON.",
                                        "properties": {"data": STR, "event": STR, "id": STR}}}}
SPEAK_ERRORS = (400, 404, 409, 413, 429, 503)
ListenStream = obj(("id", "rate"), id=STR, mode=STR, rate=INT, job=STR, turn=INT, stt=OBJ)
ListenEvents = obj(("events", "speaking"), events={"type": "array", "items": OBJ}, speaking=BOOL, turn=INT)


def vox_paths() -> dict[str, dict]:
    speak = ref("SpeakRequest")
    voice_id = [path_param("voice_id", "A voice id")]
    reply_id = [path_param("reply_id", "The id POST /api/replies gave")]
    stream_id = [path_param("stream_id", "The id POST /api/listen gave")]
    return {
        "/health": {"get": op("200 once the server is up", obj(("ok",), ok=BOOL))},
        "/api/status": {"get": op("Engine, state, progress, speaking, memory", ref("EngineStatus"))},
        "/api/engines": {"get": op("Every engine, its capabilities and whether it can run here",
                                   obj(("engines",), engines={"type": "array", "items": obj(("name", "available"),
                                       name=STR, title=STR, available=BOOL, reason=STR)}, current=STR))},
        "/api/vox_speak_wav_stream": {"post": op(
            "Speak: Server-Sent Events, one message per chunk (base64 WAV), then done", body=speak,
            errors=SPEAK_ERRORS, ok_content=SSE)},
        "/api/vox_speak_wav": {"post": op(
            "The whole reply as one file (WAV unless `format` or Accept asks for mp3, opus, aac, flac or pcm)",
            body=ref("SpeakWavRequest"), errors=SPEAK_ERRORS, ok_content=AUDIO)},
        "/api/vox_speak": {"post": op(
            "Speak on the host's speakers; answers once playback started (?wait=true: once it ended)",
            obj(("ok",), ok=BOOL), errors=SPEAK_ERRORS, body=speak,
            params=[{"name": "wait", "in": "query", "schema": {"type": "string", "enum": ["true", "false"]}}])},
        "/api/vox_stop": {"post": op("Stop what is speaking", ref("Stopped"))},
        "/api/vox_stop_speak": {"post": op("Stop what is speaking (old name)", ref("Stopped"))},
        "/api/stop_all_vox": {"post": op("Stop everything: speech, speakers, LLM, pushed replies", ref("Stopped"))},
        "/api/tts_is_speaking": {"get": op("Whether a reply is speaking", obj(("speaking",), speaking=BOOL))},
        "/api/tts_load": {"post": {**op("Load an engine (the previous one stays if this fails)", ref("EngineStatus"),
                                        errors=(400, 503)),
                                   "requestBody": {"required": False, "content": json_content(
                                       obj(engine={"type": "string", "enum": list(ENGINE_NAMES)}))}}},
        "/api/tts_load_turbo": {"post": op("Load Chatterbox Turbo", ref("EngineStatus"), errors=(503,))},
        "/api/tts_load_multilingual": {"post": op("Load Chatterbox Multilingual", ref("EngineStatus"), errors=(503,))},
        "/api/unload_tts": {"post": op("Free the engine's memory", ref("EngineStatus"))},
        "/api/tts_unload": {"post": op("Free the engine's memory (old name)", ref("EngineStatus"))},
        "/api/audio_devices": {"get": op("Output devices for the speakers", OBJ, errors=(503,))},
        "/api/voices": {
            "get": op("The voice library", obj(("voices",), voices={"type": "array", "items": ref("Voice")},
                                               default=STR)),
            "post": {**op("Upload a reference clip (wav/flac/ogg/mp3, over 5 s)", obj(("voice",), ok=BOOL,
                          voice=ref("Voice")), errors=(400, 409, 413, 507), ok_status=201),
                     "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": obj(
                         ("file",), file={"type": "string", "format": "binary"}, name=STR, id=STR)}}}},
        },
        "/api/voices/{voice_id}": {
            "get": op("One voice", obj(("voice",), voice=ref("Voice")), errors=(404,), params=voice_id),
            "patch": op("Rename a voice (name and/or id)", obj(("voice",), ok=BOOL, voice=ref("Voice")),
                        body=obj(name=STR, id=STR), errors=(400, 404, 409, 507), params=voice_id),
            "delete": op("Delete a voice", obj(("deleted",), ok=BOOL, deleted=STR), errors=(404, 409, 507),
                         params=voice_id),
        },
        "/api/voices/{voice_id}/audio": {"get": op(
            "The clip, or a short sample of a Piper voice", errors=(404, 409, 429, 503), params=voice_id,
            ok_content={"audio/wav": AUDIO["audio/wav"]})},
        "/api/chat": {"post": op("Chat with the local LLM: SSE of tokens and audio",
                                 body=obj(("message",), message={"type": "string", "minLength": 1}, speak=BOOL,
                                          **{k: v for k, v in speak_fields(10**9).items() if k != "text"}),
                                 errors=(*SPEAK_ERRORS, 502), ok_content=SSE)},
        "/api/chat/history": {
            "get": op("This session's conversation", obj(("messages",), messages={"type": "array", "items": OBJ})),
            "delete": op("Forget this session's conversation", obj(("messages",), ok=BOOL,
                                                                   messages={"type": "array"})),
        },
        "/api/chat/heard": {"post": op(
            "An interrupted reply was heard only this far (characters): the history keeps that part",
            OBJ, body=obj(("job", "heard"), job=STR, heard={"type": "integer", "minimum": 0}),
            errors=(400, 404, 409))},
        "/api/replies": {"post": {**op("Open a reply whose text you push", obj(("id", "sink"), id=STR, sink=STR),
                                       errors=(400, 404, 409, 429, 503), ok_status=201),
                                  "requestBody": {"required": False, "content": json_content(obj(
                                      sink={"type": "string", "enum": ["page", "speakers"]},
                                      **{k: v for k, v in speak_fields(1).items() if k != "text"}))}}},
        "/api/replies/{reply_id}/text": {"post": op(
            "The next piece of the reply's text", obj(("ok",), ok=BOOL, sentences={"type": "array", "items": STR}),
            body=obj(("text",), text=STR), errors=(400, 404, 409, 413), ok_status=202, params=reply_id)},
        "/api/replies/{reply_id}/end": {"post": op(
            "The reply is complete: speak what is left", obj(("ok",), ok=BOOL), errors=(404,), params=reply_id)},
        "/api/replies/{reply_id}": {"delete": op("Cancel the reply", obj(("ok",), ok=BOOL), errors=(404,),
                                                 params=reply_id)},
        "/api/live": {"get": op("SSE for the Vox page: audio of pushed replies, stops (never ends); ?session=ID "
                                "gives that session's events and everyone's", ok_content=SSE)},
        "/api/stt_load": {"post": op("Load the speech recogniser now", obj(("ok",), ok=BOOL), errors=(503,))},
        "/api/listen": {"post": {**op("Start listening: the page then posts its microphone audio", ListenStream,
                                      errors=(400, 409, 429, 503)),
                                 "requestBody": {"required": False, "content": json_content(obj(
                                     mode={"type": "string", "enum": ["push", "hands_free"]},
                                     language={"type": "string", "description": "A language code such as en"}))}}},
        "/api/listen/{stream_id}/audio": {"post": {
            **op("The next slice of microphone audio; answers what was heard so far", ListenEvents,
                 errors=(400, 404, 409, 413), params=[*stream_id, {
                     "name": "level", "in": "query", "schema": NUM,
                     "description": "How loud the page is playing Vox's voice, in dBFS (for barge-in)"}]),
            "requestBody": {"required": True, "content": {"application/octet-stream": {"schema": {
                "type": "string", "format": "binary", "description": "16-bit little-endian mono PCM at 16 kHz"}}}}}},
        "/api/listen/{stream_id}/end": {"post": op(
            "Push-to-talk released: the final words of the turn, then the stream ends",
            {**ListenEvents, "properties": {**ListenEvents["properties"], "final": OBJ}}, errors=(404, 409),
            params=stream_id)},
        "/api/listen/{stream_id}": {"delete": op("Stop listening", obj(("ok",), ok=BOOL), errors=(404, 409),
                                                 params=stream_id)},
        "/api/serve/stats": {"get": op("Engine replicas: each one's state, device, queue, requests served, audio "
                                       "seconds, real-time factor, last error; and totals", OBJ)},
        "/api/admin/stop_all": {"post": op("Stop every session's replies, LLM streams and recordings",
                                           obj(("ok",), ok=BOOL, stopped={"type": "array", "items": STR},
                                               speaking=BOOL))},
    }  # fmt: skip


def openai_paths() -> dict[str, dict]:
    models = obj(("object", "data"), object=STR, data={"type": "array", "items": ref("Model")})
    voices = obj(("voices",), voices={"type": "array", "items": obj(("id", "name"), id=STR, name=STR)},
                 default=STR)  # fmt: skip
    return {
        "/v1/audio/speech": {"post": op(
            "OpenAI-compatible speech, streamed as it is synthesised (chunked)", body=ref("SpeechRequest"),
            errors=SPEAK_ERRORS, openai=True, ok_content={**AUDIO, **SSE},
            description="stream_format sse gives speech.audio.delta events (base64 audio in response_format) "
                        "and one speech.audio.done. pcm is 16-bit little-endian mono at the rate in X-Sample-Rate.")},
        "/v1/audio/transcriptions": {"post": {
            **op("OpenAI-compatible speech recognition (any model name; Vox's recogniser answers)",
                 obj(("text",), text=STR), errors=(400, 413, 503), openai=True,
                 ok_content={**json_content(obj(("text",), text=STR)), "text/plain": {"schema": STR}}),
            "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": obj(
                ("file", "model"), file={"type": "string", "format": "binary"}, model=STR, language=STR, prompt=STR,
                response_format={"type": "string", "enum": ["json", "text", "verbose_json"]},
                temperature=NUM)}}}}},
        "/v1/models": {"get": op("Model names (OpenAI's list shape)", models, openai=True)},
        "/v1/audio/models": {"get": op("Model names, as Open WebUI reads them",
                                       obj(("models",), models={"type": "array", "items": ref("Model")}),
                                       openai=True)},
        "/v1/audio/voices": {"get": op("The library's voices", voices, openai=True)},
    }  # fmt: skip


def doc_paths() -> dict[str, dict]:
    return {
        "/openapi.json": {"get": op("This description")},
        "/docs": {"get": op("This description as a page", ok_content={"text/html": {"schema": STR}})},
        "/": {"get": op("The Vox page", ok_content={"text/html": {"schema": STR}})},
    }


def openapi(config: Config, version: str = "1") -> dict:
    return {
        "openapi": "3.1.0",
        "info": {"title": "Vox", "version": version, "description": (
            "A desktop voice for a local chat assistant. JSON in and out; errors are {\"error\": sentence} (under "
            "/v1, OpenAI's {\"error\": {message, type, param, code}}). Off loopback every request needs the API "
            "key: X-API-Key, Authorization: Bearer, or ?api_key=. X-Vox-Session keeps a client's replies apart.")},
        "servers": [{"url": "/"}],
        "paths": {**vox_paths(), **openai_paths(), **doc_paths()},
        "components": {"schemas": schemas(config)},
    }  # fmt: skip

"""OpenAI-compatible speech recognition, so other apps can use Vox's recogniser too.

    POST /v1/audio/transcriptions   multipart: file, model, language?, prompt?, response_format?
                                    (json | text | verbose_json), temperature?, timestamp_granularities[]?

Any ``model`` is accepted (clients send "whisper-1"); Vox answers with its configured recogniser. Errors use
OpenAI's shape, ``{"error": {"message", "type", "param", "code"}}``, so OpenAI's clients raise them as usual.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from vox import errors
from vox.stt.decode import decode_audio
from vox.web.routes import form_fields, runtime

bp = Blueprint("transcribe", __name__)
FORMATS = ("json", "text", "verbose_json")
MAX_SECONDS = 30 * 60
LANGUAGE_NAMES = {
    "en": "english", "de": "german", "fr": "french", "es": "spanish", "it": "italian", "pt": "portuguese",
    "nl": "dutch", "ru": "russian", "zh": "chinese", "ja": "japanese", "ko": "korean", "pl": "polish",
    "sv": "swedish", "tr": "turkish", "ar": "arabic", "hi": "hindi", "uk": "ukrainian", "da": "danish",
    "fi": "finnish", "no": "norwegian", "el": "greek", "he": "hebrew", "cs": "czech",
}  # fmt: skip


class _BadField(errors.InvalidRequest):
    def __init__(self, message: str, param: str) -> None:
        super().__init__(message, param=param)


@bp.post("/v1/audio/transcriptions")
def transcriptions():
    files, form = form_fields()
    upload = files.get("file")
    if upload is None:
        raise _BadField("Send the audio as the 'file' field of a multipart form.", "file")
    if not form.get("model"):
        raise _BadField("'model' is required (any name works, e.g. whisper-1).", "model")
    response_format = form.get("response_format") or "json"
    if response_format not in FORMATS:
        raise _BadField(f"response_format must be one of: {', '.join(FORMATS)}.", "response_format")
    language = (form.get("language") or "").strip().lower() or None
    if language is not None and not (2 <= len(language) <= 3 and language.isalpha()):
        raise _BadField("'language' must be an ISO-639-1 code such as en or fr.", "language")
    pcm = decode_audio(upload.read(), MAX_SECONDS)
    result = runtime().transcribe(pcm, language)
    if response_format == "text":
        return Response(result.text + "\n", mimetype="text/plain")
    if response_format == "json":
        return jsonify(text=result.text)
    segments = [{"id": i, "start": round(s.start, 3), "end": round(s.end, 3), "text": s.text, **s.detail}
                for i, s in enumerate(result.segments)]
    return jsonify(task="transcribe", language=LANGUAGE_NAMES.get(result.language, result.language),
                   duration=round(result.duration, 3), text=result.text, segments=segments)  # fmt: skip

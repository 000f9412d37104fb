"""The voice library over HTTP: list, upload a clip, rename, delete, preview.

    GET    /api/voices                  {"voices": [voice...], "default": id}
    GET    /api/voices/<id>             {"voice": voice}
    POST   /api/voices                  multipart: file (wav/flac/ogg/mp3), name?, id? -> 201 {"ok", "voice"}
    PATCH  /api/voices/<id>             JSON {"name"?, "id"?} -> {"ok", "voice"}
    DELETE /api/voices/<id>             -> {"ok", "deleted": id}
    GET    /api/voices/<id>/audio       the clip (audio/wav); Piper voices say a short sample

A voice is {"id", "name", "engines", "duration", "sample_rate", "kind": "piper" | "clip"}. Errors are JSON
``{"error": sentence, ...}``: 400 bad input, 403 built-in voice, 404 unknown id (with "voices": valid ids),
409 id taken, 413 upload over server.max_upload_mb.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, send_file

from vox.audio.pcm import wav_bytes
from vox.engines.base import Voice
from vox.errors import DefaultVoice, InvalidRequest, UnknownVoice
from vox.runtime import Runtime
from vox.voices import BUNDLED_ID, check_display_name, check_voice_id, decode_clip, default_name, voice_id_from_name
from vox.voices.files import is_regular
from vox.web.routes import body, form_fields, runtime

bp = Blueprint("voices", __name__)


def voice_json(voice: Voice) -> dict:
    return {
        "id": voice.id,
        "name": voice.name,
        "engines": list(voice.engines),
        "duration": voice.duration,
        "sample_rate": voice.sample_rate,
        "kind": voice.extra.get("kind", "piper" if "piper" in voice.engines else "clip"),
    }


def forget(rt: Runtime):
    """The hook that drops a deleted voice from the loaded engine's caches: Chatterbox keeps conditionals per
    clip in memory and on disk, which would otherwise outlive the clip. Called before the file goes, so the
    engine can still read it to find the entry."""

    def hook(voice: Voice) -> None:
        engine = rt.engines.current
        if engine is not None:
            engine.forget_voice(voice)

    return hook


def _refuse_if_default(rt: Runtime, voice_id: str, verb: str) -> None:
    """The configured default voice stays put: without it every request that names no voice would fail."""
    if voice_id == rt.config.engine.voice:
        raise DefaultVoice(
            f"{voice_id!r} is the default voice (engine.voice in config.toml); change that before it can be {verb}.",
            id=voice_id,
        )


@bp.get("/api/voices")
def list_voices():
    rt = runtime()
    return jsonify(voices=[voice_json(v) for v in rt.voices.list()], default=rt.config.engine.voice or BUNDLED_ID)


@bp.get("/api/voices/<voice_id>")
def get_voice(voice_id: str):
    return jsonify(voice=voice_json(runtime().voices.get(voice_id)))


def _id_and_name(raw_id: str, raw_name: str, filename: str) -> tuple[str, str]:
    """An explicit id is taken as is (or refused); otherwise it is made from the name, or from the file
    name when no name is given."""
    if raw_id:
        voice_id = check_voice_id(raw_id)
        return voice_id, check_display_name(raw_name) if raw_name else default_name(voice_id)
    name = raw_name or filename.rsplit(".", 1)[0]
    if not name.strip():
        raise InvalidRequest("Give the voice a 'name' (or an 'id').")
    return voice_id_from_name(name), check_display_name(name)


@bp.post("/api/voices")
def upload_voice():
    rt = runtime()
    files, form = form_fields()
    upload = files.get("file")
    if upload is None:
        raise InvalidRequest(
            f"Send the clip as the multipart form field 'file' (got fields: "
            f"{', '.join([*files, *form])[:200] or 'none'})."
        )
    voice_id, name = _id_and_name(form.get("id", "").strip(), form.get("name", "").strip(), upload.filename or "")
    rt.voices.check_free(voice_id)
    pcm, _ = decode_clip(upload.stream)
    voice = rt.voices.add_clip(voice_id, name, pcm)
    return jsonify(ok=True, voice=voice_json(voice)), 201, {"Location": f"/api/voices/{voice.id}"}


@bp.patch("/api/voices/<voice_id>")
def rename_voice(voice_id: str):
    rt = runtime()
    data = body()
    unknown = sorted(set(data) - {"name", "id"})
    if unknown or not ({"name", "id"} & set(data)):
        raise InvalidRequest(
            'Send {"name": ...} and/or {"id": ...}' + (f"; unknown: {', '.join(unknown)}." if unknown else ".")
        )
    name = check_display_name(data["name"]) if data.get("name") is not None else None
    new_id = check_voice_id(data["id"]) if data.get("id") is not None else None
    if new_id is not None and new_id != voice_id:
        _refuse_if_default(rt, voice_id, "renamed")
    voice = rt.voices.rename(voice_id, new_id, name)
    return jsonify(ok=True, voice=voice_json(voice))


@bp.delete("/api/voices/<voice_id>")
def delete_voice(voice_id: str):
    rt = runtime()
    rt.voices.get(voice_id)
    _refuse_if_default(rt, voice_id, "deleted")
    voice = rt.voices.delete(voice_id, before_remove=forget(rt))
    return jsonify(ok=True, deleted=voice.id)


@bp.get("/api/voices/<voice_id>/audio")
def voice_audio(voice_id: str):
    """A clip as stored; a Piper voice says a short sample with the current engine (409 when that is not
    Piper, with the hint to load it). A preview never interrupts a reply that is speaking."""
    rt = runtime()
    voice = rt.voices.get(voice_id)
    if voice.extra.get("kind") == "piper":
        pcm, rate = rt.preview(voice)
        return Response(wav_bytes(pcm, rate), mimetype="audio/wav", headers={"Cache-Control": "no-cache"})
    try:
        if not is_regular(voice.path):  # swapped for a FIFO or removed since it was listed
            raise FileNotFoundError(voice.path)
        response = send_file(voice.path, mimetype="audio/wav", conditional=True, max_age=0)
    except FileNotFoundError:
        raise UnknownVoice(voice_id, rt.voices.ids()) from None
    response.headers["Cache-Control"] = "no-cache"
    return response

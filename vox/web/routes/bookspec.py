"""The OpenAPI description of the book endpoints (vox/routes/books.py), built on apispec's helpers and added to
its description by ``with_books`` (vox/routes/apidoc.py serves the two together)."""

from __future__ import annotations

from vox.books.project import FORMATS
from vox.web.routes.apispec import BOOL, INT, NUM, OBJ, STR, Schema, json_content, obj, op, path_param

BOOK_ERRORS = (400, 404, 409)


def book_schemas() -> dict[str, Schema]:
    progress = obj(("state", "chapters_done", "chapters_total", "chars_done", "chars_total", "audio_minutes"),
                   state={"type": "string", "enum": ["idle", "rendering", "exporting", "paused", "cancelled",
                                                     "stopped", "done", "error"]},
                   message=STR, chapter=STR, chapters_done=INT, chapters_total=INT, chars_done=INT, chars_total=INT,
                   audio_minutes=NUM, eta_s={"type": ["number", "null"]}, fraction=NUM,
                   skipped={"type": "array", "items": OBJ})  # fmt: skip
    chapter = obj(("id", "title", "chars", "excluded", "skipped", "done"), id=STR, title=STR, chars=INT,
                  excluded=BOOL, skipped=STR, done=BOOL, seconds={"type": ["number", "null"]})  # fmt: skip
    export = obj(("ready", "url"), ready=BOOL, bytes=INT, url=STR)
    book = obj(("id", "title", "chapters", "progress"), id=STR, title=STR, author=STR, source=OBJ, settings=OBJ,
               chapters={"type": "array", "items": chapter}, progress=progress,
               exports={"type": "object", "additionalProperties": export})  # fmt: skip
    summary = obj(("id", "title"), id=STR, title=STR, author=STR, chapters=INT, format=STR, progress=progress)
    return {"BookProgress": progress, "Book": book, "BookSummary": summary, "BookExport": export}


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def book_paths() -> dict[str, dict]:
    book_id = [path_param("book_id", "A book id from GET /api/books")]
    book = obj(("book",), book=_ref("Book"))
    progress = obj(("progress",), progress=_ref("BookProgress"))
    settings = {"voice": STR, "speed": NUM, "lang": STR, "engine": STR, "author": STR,
                "format": {"type": "string", "enum": list(FORMATS)}}  # fmt: skip
    upload = obj(("file",), file={"type": "string", "format": "binary"}, title=STR, **settings)
    from_text = obj(("text",), text={"type": "string", "minLength": 1}, title=STR, markdown=BOOL, params=OBJ,
                    **settings)  # fmt: skip
    edit = obj(title=STR, params=OBJ, chapters={"type": "array", "items": obj(("id",), id=STR, title=STR,
                                                                             excluded=BOOL)}, **settings)  # fmt: skip
    return {
        "/api/books": {
            "get": op("Every book project", obj(("books",), books={"type": "array", "items": _ref("BookSummary")})),
            "post": {**op("Import a book (txt, md, epub upload; or JSON text) as a project", book,
                          errors=(400, 404, 413, 507), ok_status=201),
                     "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": upload},
                                                                   **json_content(from_text)}}},
        },
        "/api/books/{book_id}": {
            "get": op("A book: settings, chapters (done or not), progress, book files", book, errors=(404,),
                      params=book_id),
            "patch": op("Edit a book: title, author, voice settings, format; chapters renamed, excluded, re-ordered",
                        book, body=edit, errors=BOOK_ERRORS, params=book_id),
            "delete": op("Delete a book and its audio", obj(("ok",), ok=BOOL, deleted=STR), errors=(404, 409, 507),
                         params=book_id),
        },
        "/api/books/{book_id}/merge": {"post": op(
            "Merge chapters into one (at the first one's place)", book,
            body=obj(("chapters",), chapters={"type": "array", "items": STR, "minItems": 2}), errors=BOOK_ERRORS,
            params=book_id)},
        "/api/books/{book_id}/render": {"post": op(
            "Render in the background, or resume (finished chapters are never said again)", progress,
            errors=(*BOOK_ERRORS, 429, 503), ok_status=202, params=book_id)},
        "/api/books/{book_id}/pause": {"post": op("Pause the render (resume continues at the next chunk)", progress,
                                                  errors=(404, 409), params=book_id)},
        "/api/books/{book_id}/cancel": {"post": op("Cancel the render (finished chapters are kept)", progress,
                                                   errors=(404, 409), params=book_id)},
        "/api/books/{book_id}/progress": {"get": op("Chapters, characters, audio minutes, time left", progress,
                                                    errors=(404,), params=book_id)},
        "/api/books/{book_id}/export": {"post": {
            **op("Make the book file in a format (default the book's)", obj(("export",), export=_ref("BookExport")),
                 errors=(*BOOK_ERRORS, 507), params=book_id),
            "requestBody": {"required": False, "content": json_content(obj(
                format={"type": "string", "enum": list(FORMATS)}))}}},
        "/api/books/{book_id}/download/{fmt}": {"get": op(
            "The book file: M4B (chapters), a ZIP of tagged MP3s, WAV or FLAC", errors=(400, 404, 409),
            params=[*book_id, {"name": "fmt", "in": "path", "required": True, "schema": {"type": "string"}}],
            ok_content={"audio/mp4": {"schema": {"type": "string", "format": "binary"}},
                        "application/zip": {"schema": {"type": "string", "format": "binary"}},
                        "audio/wav": {"schema": {"type": "string", "format": "binary"}},
                        "audio/flac": {"schema": {"type": "string", "format": "binary"}}})},
    }  # fmt: skip


def with_books(spec: dict) -> dict:
    """``spec`` (apispec's description) with the book endpoints and their schemas added."""
    spec["paths"] = {**spec["paths"], **book_paths()}
    spec["components"]["schemas"] = {**spec["components"]["schemas"], **book_schemas()}
    return spec

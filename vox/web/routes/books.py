"""Books over HTTP: import a document, edit its chapters and voice, render it in the background, download it.

    GET    /api/books                         {"books": [summary...]}
    POST   /api/books                         multipart: file (txt/md/epub), title?, author?, voice?, speed?, format?
                                              or JSON {"text", "title"?, "markdown"?, settings...} -> 201 {"book"}
    GET    /api/books/<id>                    {"book": {id, title, author, source, settings, chapters, progress,
                                              exports}}
    PATCH  /api/books/<id>                    JSON {title?, author?, format?, engine?, voice?, speed?, lang?, params?,
                                              chapters?: [{"id", "title"?, "excluded"?}, ...] in the new order}
    DELETE /api/books/<id>
    POST   /api/books/<id>/merge              JSON {"chapters": [id, id, ...]} -> {"book"}
    POST   /api/books/<id>/render             start, or resume after a pause -> 202 {"progress"}
    POST   /api/books/<id>/pause|cancel       -> {"progress"}
    GET    /api/books/<id>/progress           {"progress": {state, chapters_done, chapters_total, chars_done,
                                              chars_total, audio_minutes, eta_s, fraction, chapter, message}}
    POST   /api/books/<id>/export             JSON {"format"?} -> {"export": {ready, bytes, url}}
    GET    /api/books/<id>/download/<format>  the book file (m4b, a ZIP of MP3s, wav, flac) as an attachment

Stop (Esc) and stop-all never touch a render; pause and cancel here do.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request, send_file
from werkzeug.exceptions import RequestEntityTooLarge

from vox.errors import InvalidRequest, TooLarge
from vox.web.routes import body, runtime

bp = Blueprint("books", __name__)
SETTING_FIELDS = ("title", "author", "voice", "speed", "format", "engine", "lang")
FORM_SLACK = 2**20
"""Bytes a book upload's form may carry beyond the book itself (its other fields and the multipart framing)."""


def _book(pid: str) -> dict:
    return runtime().books.describe(pid)


def _upload() -> tuple[str, bytes, dict]:
    """The uploaded document (name, bytes) and the settings sent with it."""
    limit = runtime().config.books.max_source_mb * 2**20
    request.max_content_length = limit + FORM_SLACK
    try:
        files, form = request.files, request.form
    except RequestEntityTooLarge:
        raise TooLarge(f"The book is larger than {limit // 2**20} MB (books.max_source_mb in config.toml). Split "
                       "it into parts, or raise the limit.") from None  # fmt: skip
    upload = files.get("file")
    if upload is None:
        raise InvalidRequest("Send the book as the 'file' field of a form (a .txt, .md or .epub file).")
    data = upload.read(limit + 1)
    changes: dict = {k: form[k] for k in SETTING_FIELDS if form.get(k)}
    if "speed" in changes:
        try:
            changes["speed"] = float(changes["speed"])
        except ValueError:
            raise InvalidRequest("'speed' must be a number between 0.5 and 2.0.") from None
    return upload.filename or "book.txt", data, changes


@bp.get("/api/books")
def list_books():
    return jsonify(books=runtime().books.list())


@bp.post("/api/books")
def create_book():
    books = runtime().books
    if (request.content_type or "").startswith("multipart/form-data"):
        name, data, changes = _upload()
        project = books.create(name, data, changes)
    else:
        data = body()
        text = data.get("text")
        if not isinstance(text, str) or not text.strip():
            raise InvalidRequest("Send a book as a file (a form's 'file' field) or as JSON {\"text\": \"...\"}.")
        markdown = data.get("markdown", True)
        if not isinstance(markdown, bool):
            raise InvalidRequest("'markdown' must be true or false.")
        changes = {k: data[k] for k in (*SETTING_FIELDS, "params") if k in data and k != "title"}
        title = data.get("title") or ""
        if not isinstance(title, str):
            raise InvalidRequest("'title' must be a string.")
        project = books.create_from_text(title, text, markdown, changes)
    return jsonify(book=_book(project.id)), 201


@bp.get("/api/books/<book_id>")
def get_book(book_id: str):
    return jsonify(book=_book(book_id))


@bp.patch("/api/books/<book_id>")
def edit_book(book_id: str):
    runtime().books.update(book_id, body())
    return jsonify(book=_book(book_id))


@bp.delete("/api/books/<book_id>")
def delete_book(book_id: str):
    runtime().books.delete(book_id)
    return jsonify(ok=True, deleted=book_id)


@bp.post("/api/books/<book_id>/merge")
def merge_chapters(book_id: str):
    runtime().books.merge(book_id, body().get("chapters"))
    return jsonify(book=_book(book_id))


@bp.post("/api/books/<book_id>/render")
def render_book(book_id: str):
    return jsonify(progress=runtime().books.render(book_id)), 202


@bp.post("/api/books/<book_id>/pause")
def pause_book(book_id: str):
    return jsonify(progress=runtime().books.pause(book_id))


@bp.post("/api/books/<book_id>/cancel")
def cancel_book(book_id: str):
    return jsonify(progress=runtime().books.cancel(book_id))


@bp.get("/api/books/<book_id>/progress")
def book_progress(book_id: str):
    return jsonify(progress=runtime().books.progress(book_id))


@bp.post("/api/books/<book_id>/export")
def export_book(book_id: str):
    fmt = body(allow_empty=True).get("format")
    if fmt is not None and not isinstance(fmt, str):
        raise InvalidRequest("'format' must be m4b, mp3, wav or flac.")
    return jsonify(export=runtime().books.export(book_id, fmt))


@bp.get("/api/books/<book_id>/download/<fmt>")
def download_book(book_id: str, fmt: str):
    path, name, mimetype = runtime().books.download(book_id, fmt)
    return send_file(path, mimetype=mimetype, as_attachment=True, download_name=name, max_age=0)

"""HTTP routes, one blueprint per concern; ``app.py`` lists which URL lives where."""

from __future__ import annotations

from flask import current_app, request

from vox.runtime import Runtime
from vox.validate import json_object


def runtime() -> Runtime:
    return current_app.extensions["vox"]


def body(allow_empty: bool = False) -> dict:
    """The JSON object a request sent, or an ApiError (400/415) saying what is wrong with it."""
    return json_object(request.get_data(cache=True), request.content_type, allow_empty)

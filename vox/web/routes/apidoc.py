"""The published API description: ``GET /openapi.json`` (vox/routes/apispec.py) and ``GET /docs``, the same
description rendered as one plain HTML page on the server: no script, no CDN, so it works offline."""

from __future__ import annotations

import html
import json
from typing import Any

from flask import Blueprint, Response, jsonify

from vox.web.routes import runtime
from vox.web.routes.apispec import openapi as vox_openapi
from vox.web.routes.bookspec import with_books

bp = Blueprint("apidoc", __name__)

METHODS = ("get", "post", "patch", "delete")
STYLE = """
body{font:15px/1.45 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1d1d1f}
h1{margin-bottom:.2rem} h2{margin-top:2.2rem;border-bottom:1px solid #ddd}
.op{border:1px solid #e3e3e3;border-radius:6px;padding:.5rem .8rem;margin:.6rem 0}
.m{display:inline-block;min-width:4.2rem;font:600 12px monospace;text-transform:uppercase;color:#fff;
   border-radius:4px;padding:2px 6px;text-align:center;margin-right:.5rem}
.get{background:#2f7d32}.post{background:#1565c0}.patch{background:#8d5a00}.delete{background:#b3261e}
code,pre{font:13px ui-monospace,monospace;background:#f5f5f7;border-radius:4px}
pre{padding:.5rem;overflow:auto} td{padding:.1rem .6rem .1rem 0;vertical-align:top} .muted{color:#666}
"""


def openapi(config) -> dict:
    """The whole description: the Vox and OpenAI-compatible API (apispec.py) and the books (bookspec.py)."""
    return with_books(vox_openapi(config))


@bp.get("/openapi.json")
def spec():
    return jsonify(openapi(runtime().config))


@bp.get("/docs")
def docs():
    return Response(render(openapi(runtime().config)), mimetype="text/html")


def _e(value: Any) -> str:
    return html.escape(str(value))


def _schema_text(schema: dict, schemas: dict) -> str:
    """A schema as compact JSON, with references to named schemas resolved one level deep."""
    if "$ref" in schema:
        schema = schemas[schema["$ref"].rsplit("/", 1)[1]]
    return json.dumps(schema, indent=1, ensure_ascii=False)


def _operation(path: str, method: str, operation: dict, schemas: dict) -> str:
    parts = [f'<div class="op"><span class="m {method}">{method}</span><code>{_e(path)}</code> '
             f'{_e(operation.get("summary", ""))}']  # fmt: skip
    if operation.get("description"):
        parts.append(f'<p class="muted">{_e(operation["description"])}</p>')
    body = operation.get("requestBody", {}).get("content", {})
    for media, content in body.items():
        parts.append(f"<p>Body ({_e(media)}):</p><pre>{_e(_schema_text(content['schema'], schemas))}</pre>")
    rows = []
    for status, response in operation["responses"].items():
        media = ", ".join(response.get("content", {})) or "-"
        rows.append(f"<tr><td><b>{_e(status)}</b></td><td>{_e(response['description'])}</td>"
                    f'<td class="muted">{_e(media)}</td></tr>')  # fmt: skip
    parts.append(f"<table>{''.join(rows)}</table></div>")
    return "".join(parts)


def render(description: dict) -> str:
    schemas = description["components"]["schemas"]
    sections: dict[str, list[str]] = {"The Vox API": [], "OpenAI-compatible": [], "This description": []}
    for path, item in description["paths"].items():
        section = "OpenAI-compatible" if path.startswith("/v1/") else (
            "This description" if path in ("/openapi.json", "/docs", "/") else "The Vox API")  # fmt: skip
        for method in METHODS:
            if method in item:
                sections[section].append(_operation(path, method, item[method], schemas))
    info = description["info"]
    body = [f"<h1>{_e(info['title'])} API</h1><p>{_e(info['description'])}</p>",
            '<p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1).</p>']  # fmt: skip
    for title, operations in sections.items():
        body.append(f"<h2>{_e(title)}</h2>{''.join(operations)}")
    body.append("<h2>Schemas</h2>")
    for name, schema in schemas.items():
        body.append(f"<h3>{_e(name)}</h3><pre>{_e(json.dumps(schema, indent=1, ensure_ascii=False))}</pre>")
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Vox API</title>'
            f'<meta name="viewport" content="width=device-width,initial-scale=1"><style>{STYLE}</style></head>'
            f"<body>{''.join(body)}</body></html>")  # fmt: skip

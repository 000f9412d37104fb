"""The published API description (``/openapi.json``, ``/docs``): it describes exactly what the server serves,
and schemathesis, generating requests from it against a live server, finds no 500 and no answer that
disagrees with it."""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.conftest import free_port, start_server
from vox.config import Config
from vox.runtime import Runtime
from vox.web.app import create_app

UNDESCRIBED = {"/static/{filename}"}
"""The page's own files."""
SCHEMATHESIS_SECONDS = 60
ST_CONFIG = Path(__file__).with_name("schemathesis.toml")


@pytest.fixture(scope="module")
def app():
    config = Config()
    config.voices.dir = tempfile.mkdtemp(prefix="vox-openapi-")
    return create_app(config, Runtime(config))


def served(app) -> dict[str, set[str]]:
    paths: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        paths.setdefault(path, set()).update(m.lower() for m in rule.methods - {"HEAD", "OPTIONS"})
    return {p: m for p, m in paths.items() if p not in UNDESCRIBED}


def test_every_route_is_described_and_every_description_is_served(app):
    spec = app.test_client().get("/openapi.json").get_json()
    described = {path: {m for m in item if m in ("get", "post", "patch", "delete", "put")}
                 for path, item in spec["paths"].items()}  # fmt: skip
    assert served(app) == described


def test_the_description_is_valid_openapi(app):
    import schemathesis

    raw = app.test_client().get("/openapi.json").get_json()
    schema = schemathesis.openapi.from_dict(raw)
    operations = [op for op in schema.get_all_operations()]
    assert len(operations) == sum(len(m) for m in served(app).values())
    assert raw["openapi"].startswith("3.1")


def test_docs_page_renders_every_endpoint_offline(app):
    page = app.test_client().get("/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    for path in served(app):
        assert f"<code>{path}</code>" in html, path
    assert "<script" not in html and "http://" not in html and "https://" not in html, "the page must work offline"
    assert 'href="/openapi.json"' in html


def test_description_follows_the_config(tmp_path):
    config = Config()
    config.voices.dir = str(tmp_path)
    config.server.max_text_chars = 321
    spec = create_app(config, Runtime(config)).test_client().get("/openapi.json").get_json()
    assert spec["components"]["schemas"]["SpeakRequest"]["properties"]["text"]["maxLength"] == 321


@pytest.mark.schemathesis
def test_schemathesis_finds_no_server_error_and_no_answer_off_the_description(tmp_path):
    """Generated requests (valid and invalid) to every operation but the endless page stream, for a bounded
    time; the engines that cannot run here answer 503 quickly, the LLM is a closed port (502)."""
    config = (f'[server]\nmax_text_chars = 200\n[engine]\nturbo_checkpoint = "{tmp_path}/none"\n'
              f'multilingual_checkpoint = "{tmp_path}/none"\n[llm]\nbase_url = "http://127.0.0.1:{free_port()}/v1"\n'
              '[speakers]\ndevice = "no such device"\n')  # fmt: skip
    server = start_server(tmp_path, config)
    try:
        st = Path(sys.executable).with_name("st")
        checks = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
        result = subprocess.run(
            [str(st), "--config-file", str(ST_CONFIG), "run", f"{server.url}/openapi.json", "--checks", checks,
             "--max-time", str(SCHEMATHESIS_SECONDS),
             "--exclude-path", "/api/live", "--request-timeout", "30", "--workers", "1", "--no-color",
             "--generation-database", "none", "--seed", "15", "--max-examples", "20"],
            capture_output=True, text=True, timeout=SCHEMATHESIS_SECONDS + 120, cwd=tmp_path,
        )  # fmt: skip
    finally:
        server.stop()
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:] + "\n--- server log ---\n" + server.log_text()[-3000:]

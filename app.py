"""Vox: the desktop voice of a local chat assistant. The entry point: parse the command line, check the
config, start the server (and the window, the hotkeys), and stop them all on a signal.

Where each request goes (``vox/web/app.py`` builds the app; one blueprint per front door, in vox/web/routes/):
    GET  /                                   the page (templates/index.html + static/)
    GET  /health, /api/status, /api/engines  speech.py
    POST /api/vox_speak_wav_stream           speech.py  (SSE: one message per chunk)
    POST /api/vox_speak_wav                  speech.py  (one WAV)
    POST /api/vox_stop(_speak), /api/stop_all_vox, GET /api/tts_is_speaking   speech.py
    POST /api/tts_load(_turbo|_multilingual), /api/unload_tts                 speech.py
    POST /api/vox_speak (?wait=true), GET /api/audio_devices                 speakers.py (host speakers)
    GET/POST /api/voices, GET/PATCH/DELETE /api/voices/<id>, GET /api/voices/<id>/audio   voices.py
    POST /api/chat, GET|DELETE /api/chat/history, POST /api/chat/heard      chat.py (local LLM)
    POST /api/replies[/<id>/text|/end], DELETE /api/replies/<id>, GET /api/live  live.py (pushed text)
    POST /v1/audio/speech, GET /v1/models, /v1/audio/models, /v1/audio/voices  openai.py (OpenAI)
    GET/POST /api/books, /api/books/<id>[/merge|/render|/pause|/cancel|/progress|/export|/download/<fmt>]
                                             books.py (book projects, rendered in the background)
    GET  /openapi.json, /docs                apidoc.py (the description: apispec.py)
    GET  /api/serve/stats, POST /api/admin/stop_all                         serve.py (replicas, admin)
    POST /api/stt_load, /api/listen, /api/listen/<id>/audio|/end, DELETE /api/listen/<id>  listen.py
                                             (the page's microphone: turns, hands-free, barge-in)
    POST /v1/audio/transcriptions            transcribe.py (OpenAI-compatible speech recognition)
Outside HTTP:
    --book FILE --out FILE                   vox/books/cli.py (a book rendered without the window)
    --wyoming tcp://HOST:PORT                vox/wyoming/service.py (Home Assistant's Wyoming protocol, same Runtime)
Every route calls Runtime verbs only (vox/runtime.py); every reply takes one path (vox/reply/generation.py -> an
engine in vox/engines/), and every stop is one call on the Controller with a reason (vox/jobs/controller.py).
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import webbrowser

from flask import Flask

from vox import config as vox_config
from vox.desktop import hotkeys
from vox.engines.memory import limit_malloc_arenas
from vox.runtime import Runtime, set_runtime
from vox.speakers import playback as speakers
from vox.web.app import create_app
from vox.web.origin_guard import is_loopback
from vox.web.server import make_server
from vox.wyoming.service import WyomingService, check_uri

log = logging.getLogger("vox")


def serve(app: Flask, host: str, port: int, client_timeout: float = 10.0, max_connections: int = 64):
    """The server (vox/web/server.py: werkzeug's, with timeouts and a connection limit) in the background; returns
    it so the caller can shut it down."""
    server = make_server(host, port, app, client_timeout, max_connections)
    thread = threading.Thread(target=server.serve_forever, name="vox-http", daemon=True)
    thread.start()
    return server, thread


def url_host(host: str) -> str:
    """How a browser names the bound address: a wildcard means this machine, an IPv6 address in brackets."""
    host = host.strip("[]")
    if host in ("0.0.0.0", "::", ""):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="app.py", description="Vox: a desktop voice for a local chat assistant")
    p.add_argument("--no-window", action="store_true", help="only serve; open no window or browser tab")
    p.add_argument("--host", help="address to bind (default from config.toml: 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default from config.toml: 5055)")
    p.add_argument("--config", help="path to config.toml")
    p.add_argument("--say", metavar="TEXT", help="speak TEXT on the speakers and exit")
    p.add_argument("--wyoming", metavar="URI", help="also serve Wyoming (Home Assistant), e.g. tcp://127.0.0.1:10200")
    p.add_argument("--replicas", type=int, metavar="N",
                   help="run the engine as N replicas on Ray Serve (config.toml [serve]; 0: one process, no Ray)")
    book = p.add_argument_group("render a book without the window (vox/books/cli.py)")
    book.add_argument("--book", metavar="FILE", help="a .txt, .md or .epub book to render to --out")
    book.add_argument("--out", metavar="FILE", help="book.m4b | book.wav | book.flac | book.zip (MP3s) | a folder/")
    book.add_argument("--voice", metavar="ID", help="a voice id from the library (default: engine.voice)")
    book.add_argument("--engine", metavar="NAME", help="piper | turbo | multilingual (default: engine.name)")
    args = p.parse_args(argv)
    if (args.book is None) != (args.out is None):
        p.error("--book and --out go together: app.py --book book.epub --out book.m4b")
    return args


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    args = parse_args(argv)
    try:
        config = vox_config.load(args.config)
    except vox_config.ConfigError as e:
        print(f"Vox cannot start: {e}", file=sys.stderr)
        return 2
    config.server.host = args.host or config.server.host
    config.server.port = args.port if args.port is not None else config.server.port
    if args.replicas is not None:
        if not 0 <= args.replicas <= 256:
            print("Vox cannot start: --replicas must be between 0 and 256", file=sys.stderr)
            return 2
        config.serve.replicas = args.replicas
    if not is_loopback(config.server.host) and not config.server.api_key:
        print(
            f"Vox cannot start: binding to {config.server.host} would let other machines make it speak; "
            "set server.api_key in config.toml (clients send it as X-API-Key) or use 127.0.0.1",
            file=sys.stderr,
        )
        return 2
    config.wyoming.uri = args.wyoming if args.wyoming is not None else config.wyoming.uri
    problem = check_uri(config.wyoming.uri, config.wyoming.allow_remote) if config.wyoming.uri else ""
    if problem:
        print(f"Vox cannot start: {problem}", file=sys.stderr)
        return 2
    limit_malloc_arenas()
    runtime = set_runtime(Runtime(config))
    if args.say is not None:
        return speakers.say(runtime, args.say)
    if args.book is not None:
        from vox.books import cli

        try:
            return cli.main(runtime, args.book, args.out, args.voice, args.engine)
        finally:
            runtime.shutdown()
    app = create_app(config, runtime)
    speakers.prepare(config)  # PortAudio and the output device, found in the background
    wyoming = None
    if config.wyoming.uri:  # listening before /health answers, so whoever waits for that can connect at once
        wyoming = WyomingService(runtime, config.wyoming.uri)
        try:
            wyoming.start()
        except OSError as e:
            print(f"Vox cannot start: Wyoming on {config.wyoming.uri}: {e.strerror or e}", file=sys.stderr)
            return 2
    try:
        server, thread = serve(app, config.server.host, config.server.port, config.server.client_timeout_s,
                               config.server.max_connections)
    except OSError as e:
        print(f"Vox cannot start: {config.server.host}:{config.server.port}: {e.strerror}", file=sys.stderr)
        if wyoming is not None:
            wyoming.stop()
        return 2
    url = f"http://{url_host(config.server.host)}:{server.port}/"
    log.info("Vox is listening on %s", url)
    hotkeys.start(config, runtime)
    if config.books.resume_at_start:
        runtime.books.resume_pending()  # a book render that was running when Vox stopped continues
    stopping = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopping.set())
    try:
        if args.no_window or not config.window.enabled:
            stopping.wait()
        else:
            open_ui(url, config, stopping)
    finally:
        log.info("Vox is shutting down")
        hotkeys.stop()
        if wyoming is not None:
            wyoming.stop()
        runtime.shutdown()
        server.shutdown()
        thread.join(5)
    return 0


def open_ui(url: str, config: vox_config.Config, stopping: threading.Event) -> None:
    """The desktop window when a display and pywebview's Qt backend exist, else a browser tab."""
    from vox.desktop import window

    if window.run(url, config, stopping):
        return
    if window.can_open_browser():
        # In a thread: webbrowser waits for browsers it starts itself, and a signal must still stop Vox.
        threading.Thread(target=webbrowser.open, args=(url,), name="vox-browser", daemon=True).start()
    stopping.wait()


if __name__ == "__main__":
    sys.exit(main())

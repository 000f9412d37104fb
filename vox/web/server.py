"""The HTTP server: werkzeug's threaded server, hardened against clients that misbehave.

Why not waitress (measured; the README has the figures): waitress's worker threads wait without any time
limit for a client that stops reading a response in progress (its ``channel_timeout`` only closes idle
channels), so a few stalled streams hold its bounded thread pool for good, and its own 400/413 answers are
plain text. Werkzeug's server gives each connection a thread of its own and a socket Vox can give a timeout,
which is what a stalled reader needs. What this module adds to it:

- Every connection's socket has a timeout (``server.client_timeout_s``) on reads and on writes, and answers
  are written in slices of ``WRITE_SLICE`` bytes: a client that stops reading its stream is disconnected
  once a slice has waited that long, and its reply stops like any disconnect, so its thread, its buffers
  and its job are released. A client that sends half a request is dropped the same way.
- The kernel's send buffer per connection is capped (``SEND_BUFFER``): a stalled reader blocks the writer
  after a few seconds of audio, not after megabytes of synthesis that nobody hears.
- A request whose headers are cut off by the end of the stream is answered 400 and not run (the standard
  library takes end-of-stream as the end of the headers).
- At most ``server.max_connections`` connections are served at once; one more is answered 503 at once.
- Errors the server itself answers (a malformed request line, headers too large) are JSON like the app's.
"""

from __future__ import annotations

import io
import json
import logging
import socket
import threading
from http import HTTPStatus
from typing import Any

from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler

log = logging.getLogger("vox.server")

WRITE_SLICE = 64 * 1024
"""Bytes written per socket call: the client must take at least this much per ``client_timeout_s``."""
SEND_BUFFER = 256 * 1024
"""SO_SNDBUF per connection (the kernel doubles it): enough for loopback and LAN throughput."""


class _SlicedWriter(io.BufferedIOBase):
    """The connection's write side: ``sendall`` in slices, so the socket timeout bounds each slice's wait
    rather than a whole audio message's."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        for start in range(0, len(view), WRITE_SLICE):
            self._sock.sendall(view[start : start + WRITE_SLICE])
        return len(view)

    def fileno(self) -> int:
        return self._sock.fileno()


class _EofWatch:
    """Wraps the read side while the headers are parsed, to notice a header block ended by end-of-stream."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self.eof = False

    def readline(self, size: int = -1) -> bytes:
        line = self._stream.readline(size)
        if not line:
            self.eof = True
        return line

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


class RequestHandler(WSGIRequestHandler):
    timeout = 10.0  # replaced per server by server.client_timeout_s

    def setup(self) -> None:
        super().setup()  # applies ``timeout`` to the socket
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)
        except OSError:
            pass
        self.wfile = _SlicedWriter(self.connection)

    def parse_request(self) -> bool:
        real = self.rfile
        watch = self.rfile = _EofWatch(real)  # type: ignore[assignment]
        try:
            ok = super().parse_request()
        finally:
            self.rfile = real
        if ok and watch.eof:
            self.close_connection = True
            self.send_error(400, "The request's headers were cut off before the blank line that ends them")
            return False
        return ok

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """The standard library's error page, as Vox's JSON error."""
        try:
            phrase = HTTPStatus(code).phrase
        except ValueError:
            phrase = "Error"
        sentence = f"{message or phrase}."
        body = json.dumps({"error": sentence}).encode()
        self.close_connection = True
        try:
            self.send_response(code, phrase)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD" and code >= 200 and code not in (204, 304):
                self.wfile.write(body)
        except OSError:
            pass


class Server(ThreadedWSGIServer):
    """A thread per connection, at most ``max_connections`` of them."""

    def __init__(self, host: str, port: int, app: Any, client_timeout: float, max_connections: int) -> None:
        handler = type("VoxRequestHandler", (RequestHandler,), {"timeout": client_timeout})
        super().__init__(host, port, app, handler)
        self.max_connections = max_connections
        self._open = 0
        self._open_lock = threading.Lock()

    @property
    def open_connections(self) -> int:
        with self._open_lock:
            return self._open

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            full = self._open >= self.max_connections
            if not full:
                self._open += 1
        if full:
            self._refuse(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._closed_one()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._closed_one()

    def _closed_one(self) -> None:
        with self._open_lock:
            self._open -= 1

    def _refuse(self, request: socket.socket) -> None:
        """A short JSON 503 written from the accepting thread (with a small timeout), then the socket closed."""
        body = json.dumps({"error": f"Vox is serving {self.max_connections} connections already "
                                    "(server.max_connections). Try again in a moment."}).encode()  # fmt: skip
        head = (f"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: {len(body)}"
                "\r\nRetry-After: 1\r\nConnection: close\r\n\r\n").encode()  # fmt: skip
        try:
            request.settimeout(0.2)
            request.sendall(head + body)
            request.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        self.shutdown_request(request)
        log.warning("refused a connection: %d are open (server.max_connections)", self.max_connections)


def make_server(host: str, port: int, app: Any, client_timeout: float = 10.0, max_connections: int = 64) -> Server:
    """The server for ``app`` on ``host`` (an IPv6 address with or without brackets) and ``port``."""
    return Server(host.strip("[]"), port, app, client_timeout, max_connections)

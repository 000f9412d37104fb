"""A small OpenAI-compatible streaming chat server for tests: the user's real LLM server cannot run here.

It streams a scripted reply token by token with realistic delays over a real socket, and records what
happened: requests, when each token was sent, and whether the client hung up mid-reply.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def tokenize(text: str) -> list[str]:
    """LLM-like tokens: words with their leading space, long words cut in pieces, punctuation apart."""
    tokens: list[str] = []
    for piece in re.findall(r"\s*[\w']+|\s*[^\w\s]|\s+", text):
        while len(piece) > 6:
            tokens.append(piece[:5])
            piece = piece[5:]
        tokens.append(piece)
    return tokens


@dataclass
class FakeLlm:
    reply: str = "Hello! How can I help you today?"
    tokens_per_second: float = 30.0
    status: int = 200
    error_message: str = "model 'nope' not found"
    requests: list[dict] = field(default_factory=list)
    sent: list[tuple[float, str]] = field(default_factory=list)
    disconnected: threading.Event = field(default_factory=threading.Event)
    finished: threading.Event = field(default_factory=threading.Event)

    def start(self) -> FakeLlm:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                self.close_connection = True  # one request per connection, as Vox's client makes them
                length = int(self.headers.get("Content-Length") or 0)
                fake.requests.append(json.loads(self.rfile.read(length) or b"{}"))
                if fake.status != 200:
                    payload = json.dumps({"error": {"message": fake.error_message}}).encode()
                    self.send_response(fake.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                try:
                    for token in tokenize(fake.reply):
                        time.sleep(1.0 / fake.tokens_per_second)
                        event = {"choices": [{"index": 0, "delta": {"content": token}}]}
                        self._chunk(f"data: {json.dumps(event)}\n\n")
                        fake.sent.append((time.monotonic(), token))
                    self._chunk("data: [DONE]\n\n")
                    self._chunk("")
                    fake.finished.set()
                except (BrokenPipeError, ConnectionResetError):
                    fake.disconnected.set()

            def _chunk(self, text: str) -> None:
                data = text.encode()
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                self.wfile.flush()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def reset(self, **settings) -> FakeLlm:
        """Back to a fresh fake's state with ``settings`` (a server shared by a test module, reset per test)."""
        fresh = FakeLlm(**settings)
        for name in ("reply", "tokens_per_second", "status", "error_message", "requests", "sent", "disconnected",
                     "finished"):
            setattr(self, name, getattr(fresh, name))
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

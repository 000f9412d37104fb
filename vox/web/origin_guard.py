"""Local means local: checks run before every request.

- ``Host`` must be the address Vox serves on (blocks DNS rebinding).
- A state-changing request with a foreign ``Origin`` is refused, whatever its content type: JSON, form,
  text/plain and no-cors requests alike. A browser's cross-site request (``Sec-Fetch-Site: cross-site``) is
  refused even for GET, unless its origin is allowed.
- Off loopback, every request needs the API key (``X-API-Key`` header, ``Authorization: Bearer <key>`` as
  OpenAI's clients send it, or ``?api_key=``).
- CORS is closed unless ``server.allowed_origins`` names an origin.
"""

from __future__ import annotations

import hmac
import ipaddress
from urllib.parse import urlsplit

from flask import Flask, Response, request

from vox.config import Config
from vox.errors import KeyRequired, NotAllowed

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]", "::1")


def is_loopback(host: str) -> bool:
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _host_port(value: str) -> tuple[str, int | None]:
    parts = urlsplit(f"//{value}")
    try:
        return (parts.hostname or "").lower(), parts.port
    except ValueError:
        return "", None


def bearer_token() -> str:
    """The key an OpenAI client sends: ``Authorization: Bearer <key>``."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


class Guard:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.allowed_origins = {o.rstrip("/").lower() for o in config.server.allowed_origins}

    def own_hosts(self, port: int) -> set[tuple[str, int]]:
        """The names Vox answers to: the usual loopback names plus the address it is bound to (another
        loopback address such as 127.0.0.2, or [::1])."""
        names = {"localhost", "127.0.0.1", "::1"}
        host = self.config.server.host.lower().strip("[]")
        if host not in ("", "0.0.0.0", "::"):
            names.add(host)
        return {(n, port) for n in names}

    def check(self) -> None:
        port = request.environ.get("SERVER_PORT")
        server_port = int(port) if port and port.isdigit() else self.config.server.port
        host, host_port = _host_port(request.host)
        loopback_only = is_loopback(self.config.server.host)  # off loopback, the API key guards instead
        if loopback_only and (host.strip("[]"), host_port or 80) not in self.own_hosts(server_port):
            raise NotAllowed(f"Requests must be addressed to this app (Host {request.host!r} is not allowed).")
        if self.config.server.api_key and request.path != "/health":  # a liveness probe needs no key
            given = request.headers.get("X-API-Key") or bearer_token() or request.args.get("api_key") or ""
            if not hmac.compare_digest(given.encode(), self.config.server.api_key.encode()):
                raise KeyRequired("A valid API key is required (the X-API-Key header, Authorization: Bearer, "
                                  "or ?api_key=).")
        origin = request.headers.get("Origin")
        cross_site = request.headers.get("Sec-Fetch-Site") == "cross-site"
        if cross_site and request.method != "OPTIONS" and not (origin and self.origin_allowed(origin, server_port)):
            # Even a GET: an <audio> or <img> on another site must not make Vox synthesise or read its library.
            raise NotAllowed("Cross-site requests may not use Vox (add the site to server.allowed_origins).")
        if request.method in SAFE_METHODS:
            return
        if origin is not None and not self.origin_allowed(origin, server_port):
            raise NotAllowed(f"Requests from {origin} may not control Vox (add it to server.allowed_origins).")

    def origin_allowed(self, origin: str, port: int) -> bool:
        origin = origin.rstrip("/").lower()
        if origin in self.allowed_origins:
            return True
        parts = urlsplit(origin)
        try:
            origin_port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            return False
        return parts.scheme == "http" and ((parts.hostname or ""), origin_port) in self.own_hosts(port)

    def cors(self, response: Response) -> Response:
        origin = (request.headers.get("Origin") or "").rstrip("/").lower()
        if origin and origin in self.allowed_origins:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Allow-Headers"] = "Content-Type, X-API-Key, Authorization, X-Vox-Session"
            response.headers["Access-Control-Allow-Methods"] = "GET, POST, DELETE, PATCH, OPTIONS"
            response.headers["Vary"] = "Origin"
        return response

    def install(self, app: Flask) -> None:
        app.before_request(self.check)
        app.after_request(self.cors)

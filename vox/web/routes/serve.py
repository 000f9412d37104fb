"""Engine replicas (``[serve] replicas``): their statistics, and the stop-all for a server's administrator.

    GET  /api/serve/stats    each replica: state, device, queue, requests served, audio seconds, real-time factor,
                             last error; and the totals ({"enabled": false} when Vox runs the engine itself)
    POST /api/admin/stop_all every session's replies, LLM streams, pushed replies and recordings, whatever the
                             caller's session (``/api/stop_all_vox`` with X-Vox-Session stops only that session's)
"""

from __future__ import annotations

from flask import Blueprint, jsonify

from vox.web.routes import runtime

bp = Blueprint("serve", __name__)


@bp.get("/api/serve/stats")
def serve_stats():
    return jsonify(runtime().serve_stats())


@bp.post("/api/admin/stop_all")
def admin_stop_all():
    rt = runtime()
    return jsonify(ok=True, stopped=rt.stop_all(), speaking=rt.is_speaking())

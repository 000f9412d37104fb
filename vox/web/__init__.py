"""The web layer: the only room that speaks HTTP (Flask, werkzeug).

    app.py          the Flask app factory: one blueprint per front door, errors turned into JSON answers
    origin_guard.py local means local: Host, Origin, cross-site and API-key checks before every request
    server.py       werkzeug's threaded server, hardened against clients that misbehave
    http_status.py  the one table from domain errors to HTTP status codes and OpenAI's error codes
    routes/         the routes: each validates its input and calls Runtime verbs only
"""

"""Engine replicas on Ray Serve: more than one voice at a time (``[serve] replicas = N``).

Nothing here is imported unless ``replicas`` is above 0: with the default of 0 Vox stays one process and never
imports Ray. ``cluster.py`` starts (or attaches to) Ray and deploys the engine; ``replica.py`` is the deployment
(one engine per replica process); ``stats.py`` counts what each replica did for ``GET /api/serve/stats``. The
rest of Vox sees one engine, ``vox/engines/remote.py``, behind the usual contract.
"""

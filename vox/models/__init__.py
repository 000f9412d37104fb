"""Models loaded once: the contract every model in Vox implements (a speech engine, a speech recogniser) and
the slot that loads one lazily, behind a lock, with progress the page can show.

    base.py   Model: ``loaded``, ``load(progress)``, ``unload()``, where it runs; the progress callback
    slot.py   ModelSlot: the current model, loaded on first use once however many ask, its load state, unload

The EngineManager (vox/engines/manager.py: engine switches, turns) and the SttManager (vox/stt/manager.py) are
each a ModelSlot plus what only their side needs.
"""

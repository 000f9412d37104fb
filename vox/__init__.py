"""Vox: a desktop voice for a local chat assistant.

Where things live (one room per concern; the root keeps only what every room shares):

    runtime.py   the Runtime facade: Vox's state behind verbs (speak, stop, push a reply, chat, listen, load...)
    errors.py    domain errors: a sentence a person can act on, mapped to HTTP by the web layer
    config.py    settings from config.toml;  validate.py  request validation
    web/         the web layer: app factory, origin guard, hardened server, error table, routes/
    jobs/        Job, the Controller (every stop is one call with a reason), the cancel signal
    reply/       the reply pipeline: Generation, pacing, piece timing, text feed, pushed replies, events
    text/        speech text: markdown made speakable, sentences, chunks, verbalisation
    engines/     speech engines (Piper, Chatterbox) behind one contract, their manager and registry
    voices/      the voice library
    speakers/    playback on the host's speakers
    listening/   microphone streams, turns, VAD, barge-in;  stt/  speech recognisers (Whisper)
    chat/        chat with a local LLM;  books/  audiobooks;  audio/  PCM, encoders, time stretch
    desktop/     the window and global hotkeys;  wyoming/  Home Assistant's protocol;  serve/  Ray replicas
"""

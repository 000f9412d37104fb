"""Listening: microphone audio streamed from the page, cut into turns, recognised as it arrives, barge-in.

    streams.py    a ListenStream per microphone stream (a LISTEN job): turns, recognition, barge-in, its stops
    registry.py   the open streams, and the clock that ends the ones a page abandoned
    turns.py      where a spoken turn starts and ends (onset, pause, end, echo guard): pure logic
    vad.py        Silero VAD, streamed one 32 ms window at a time
    verbs.py      the Runtime's listening verbs (open a stream, feed it, end a turn, stop it, transcribe)

The recogniser itself (Whisper) is in ``vox/stt/``.
"""

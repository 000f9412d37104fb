"""Listening: microphone audio streamed from the page, cut into turns, recognised as it arrives, barge-in.

    streams.py    a ListenStream per microphone stream (a LISTEN job), and the registry with its clock
    turns.py      where a spoken turn starts and ends (onset, pause, end, echo guard): pure logic
    vad.py        Silero VAD, streamed one 32 ms window at a time

The recogniser itself (Whisper) is in ``vox/stt/``.
"""

"""Audio as numbers and as files, shared by engines, sinks and books (numpy; PyAV for compressed formats).

    pcm.py        small PCM helpers: WAV bytes in and out, 16-bit conversion, RMS, resampling
    encoders.py   streaming encoders from float32 PCM to WAV, PCM, MP3, Opus, AAC and FLAC
    stretch.py    time-stretch audio that arrives in pieces without changing its pitch (Chatterbox's speed)
"""

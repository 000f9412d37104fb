"""Speech recognition on this machine: a small recogniser contract (base.py), faster-whisper behind it
(whisper.py), loaded lazily by the SttManager (manager.py), and a streaming Silero VAD (vad.py) that
decides where a spoken turn starts and ends."""

from vox.stt.base import RATE, FrameStream, Recogniser, Segment, Transcript
from vox.stt.manager import SttManager

__all__ = ["RATE", "FrameStream", "Recogniser", "Segment", "SttManager", "Transcript"]

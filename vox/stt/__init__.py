"""Speech recognition on this machine: a small recogniser contract (base.py), faster-whisper behind it
(whisper.py), loaded lazily by the SttManager (manager.py), and uploaded audio files decoded for it
(decode.py). Where a spoken turn starts and ends (VAD, turn logic) is listening's business: ``vox/listening/``."""

from vox.stt.base import RATE, FrameStream, Recogniser, Segment, Transcript
from vox.stt.manager import SttManager

__all__ = ["RATE", "FrameStream", "Recogniser", "Segment", "SttManager", "Transcript"]

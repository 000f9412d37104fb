"""Playback on the host's speakers (PortAudio through sounddevice).

    playback.py   one reply, one continuous output stream; the verbs (start, speak, say, list_devices)
    line.py       the output stream kept open and running between replies, so a reply never waits for a device
    devices.py    loading PortAudio safely, finding the output device, and doing both early
"""

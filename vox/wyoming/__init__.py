"""Vox as a Wyoming text-to-speech service, the protocol Home Assistant's voice pipeline speaks.

    service.py   the server beside the HTTP one, on the same Runtime: describe, synthesize, streamed synthesis
"""

"""Jobs and stops: every piece of work Vox does (a reply, speaker playback, an LLM stream, a book render, a
microphone stream) is a Job, and every stop is one ``Controller.stop(reason, ...)`` call.

    controller.py   Job, JobKind, StopReason, each kind's stop policy, and the Controller
    cancel.py       the cancel signal a job hands to everything that works for it

A room of its own because every other room (engines, the reply pipeline, chat, listening, books) works for jobs.
"""

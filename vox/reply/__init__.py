"""The reply pipeline: from a reply's text to audio chunks in order, whatever the sink.

    generation.py     the Generation: a producer thread synthesises planned chunks ahead of the sink, one
                      engine turn per chunk
    pacing.py         how big the next chunk may be (only as big as the audio buffered ahead can cover)
    piece_timing.py   where each piece of a chunk starts in its audio (for highlighting)
    text_feed.py      TextFeed: a reply's text (whole, or still arriving) planned into chunks as they are taken
    pushed.py         replies another program pushes delta by delta, and their registry
    stream_events.py  the JSON events a reply produces for pages and API clients (chunk, done, error)
    page_hub.py       LiveHub: the fan-out of events to the open pages

The hub lives here and not in the web layer because the runtime publishes to it (stops, pushed replies), and
the runtime sits below the web layer.
"""

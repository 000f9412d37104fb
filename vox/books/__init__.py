"""Books: documents turned into audiobooks in the background, resumable, with chapters.

    document.py  Document and SourceChapter: what a read document is
    sources.py   a document's bytes -> Document (kind sniffed from the bytes; every bad input a BadBook)
    chapters.py  plain text and Markdown cut at their own chapter headings
    epub.py      EPUB through ebooklib and lxml's HTML parser; DRM and damaged archives refused
    project.py   projects on disk (one folder each) and their chapter list
    files.py     atomic writes: nothing is ever half-written under its final name
    render.py    one chapter to one FLAC, chunk by chunk, on preemptible engine turns; progress
    runner.py    the one render that runs at a time: start, pause, cancel, what a stop keeps
    loudness.py  BS.1770 loudness with numpy, and the gain that makes chapters match
    export.py    the book file: M4B with chapters, tagged MP3s, WAV, FLAC
    service.py   Books, the facade the routes (vox/web/routes/books.py) and the command line (cli.py) call
"""

from vox.books.service import Books

__all__ = ["Books"]

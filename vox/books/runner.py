"""The one render that runs at a time: start, pause, resume, cancel, and what a stop leaves behind.

A run is a RENDER job plus a thread that walks the project's included chapters in order, skipping every one
whose finished audio matches its hash, and exports the book file at the end. How it ended decides what is kept:

    pause            the part file of the chapter it was in (resume continues at its next chunk)
    cancel           the finished chapters (a later render continues with the first unfinished one)
    engine switch    as cancel; the render must be started again with the new engine
    shutdown, kill   the finished chapters, and ``render_wanted``: Vox resumes it when it starts again
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from vox.books.project import Chapter, Project, ProjectStore
from vox.books.render import (
    ChapterRenderer,
    Partial,
    Progress,
    Stopped,
    chapter_hash,
    finished_audio,
    forget_other_audio,
)
from vox.books.sources import NO_SPEECH
from vox.errors import VoxError
from vox.jobs.controller import Job, JobKind, StopReason

log = logging.getLogger("vox.books")
SESSION = "books"
"""The session render jobs belong to (a reply's session never covers them)."""


@dataclass
class Run:
    pid: str
    job: Job
    progress: Progress
    persist: bool
    """Whether Vox resumes this render after a restart (the page's renders; not the command line's)."""
    ending: str = ""
    """"pause" or "cancel" once one was asked for."""
    thread: threading.Thread | None = None
    done: threading.Event = field(default_factory=threading.Event)

    @property
    def running(self) -> bool:
        return not self.done.is_set()


class Runner:
    def __init__(self, runtime, store: ProjectStore, export: Callable[[Project], None]) -> None:
        self.runtime, self.store, self.export = runtime, store, export
        self.lock = threading.Lock()
        self.run: Run | None = None
        self.partials: dict[str, Partial] = {}
        self.last: dict[str, Progress] = {}
        """How the last run of each project ended (paused, cancelled, failed, done), for its progress."""

    def active(self, pid: str | None = None) -> Run | None:
        run = self.run
        if run is None or not run.running or (pid is not None and run.pid != pid):
            return None
        return run

    def start(self, project: Project, voice, options, persist: bool = True) -> Run:
        with self.lock:
            current = self.active()
            if current is not None:
                if current.pid == project.id:
                    return current
                title = self.store.get(current.pid).title
                from vox.errors import BookBusy

                raise BookBusy(f"Another book is rendering ({title}). Pause or cancel it first; one book renders "
                               "at a time.")  # fmt: skip
            job = self.runtime.jobs.start(JobKind.RENDER, SESSION)
            run = Run(project.id, job, Progress(), persist)
            run.progress.state = "rendering"
            self.run = run
        try:
            todo = self._plan(project, run.progress)  # before the thread: the first progress is already true
            with self.store.lock:
                fresh = self.store.get(project.id)
                fresh.render_wanted = persist
                self.store.save(fresh)
        except BaseException:
            self.runtime.jobs.finish(job)
            run.done.set()
            raise
        run.thread = threading.Thread(target=self._work, args=(run, todo, voice, options), daemon=True,
                                      name=f"vox-book-{project.id}")  # fmt: skip
        run.thread.start()
        return run

    def stop(self, pid: str, ending: str) -> bool:
        """Pause or cancel ``pid``'s render; False when it is not rendering."""
        run = self.active(pid)
        if run is None:
            if ending == "cancel" and pid in self.partials:
                self.partials.pop(pid).discard()
                self.last[pid] = _ended("cancelled", "The render was cancelled; finished chapters are kept.")
                return True
            return False
        run.ending = ending
        self.runtime.jobs.stop(StopReason.USER, job=run.job)
        run.done.wait(10)
        return True

    # -- the render thread ---------------------------------------------------------------------------------

    def _work(self, run: Run, todo: list[tuple[Chapter, str]], voice, options) -> None:
        progress = run.progress
        wanted_after = False
        try:
            project = self.store.get(run.pid)
            renderer = ChapterRenderer(self.runtime, run.job, voice, options,
                                       lambda chars, samples: progress.chunk(chars, samples, renderer.rate))
            renderer.on_preempt = lambda: setattr(progress, "preempted", progress.preempted + 1)
            partial = self.partials.pop(run.pid, None)
            if partial is not None and (partial.chapter_id, partial.digest) not in {(c.id, d) for c, d in todo}:
                partial.discard()  # its chapter changed or went since the pause
                partial = None
            if partial is not None:
                progress.chunk(partial.chars, partial.samples, renderer.rate)
                progress.said_chars = 0
            for chapter, digest in todo:
                progress.chapter = chapter.title
                renderer.partial = None
                try:
                    audio = renderer.render(project, chapter, digest, partial)
                except Stopped:
                    if renderer.partial is not None and run.ending == "pause":
                        self.partials[run.pid] = renderer.partial
                    elif renderer.partial is not None:
                        renderer.partial.discard()
                    raise
                partial = None
                if audio is None:
                    self._no_speech(run, chapter)
                    continue
                forget_other_audio(project, chapter, digest)  # its audio for older text or settings
                with progress.lock:
                    progress.chapters_done += 1
            if renderer.preemptions:
                log.info("render of %s: %d chunk(s) said again after a reply took the engine", run.pid,
                         renderer.preemptions)  # fmt: skip
            progress.state, progress.chapter = "exporting", ""
            if run.persist:  # the command line writes its own file where it was asked to
                self.export(self.store.get(run.pid))
            progress.state, progress.message = "done", "The book is ready."
        except Stopped:
            progress.state, progress.message, wanted_after = self._stopped(run)
        except VoxError as e:
            progress.state, progress.message = "error", e.message
        except Exception as e:
            log.exception("rendering %s failed", run.pid)
            progress.state = "error"
            progress.message = f"Rendering stopped because of an error ({e}). Press Render to try again; the " \
                               "finished chapters are kept."  # fmt: skip
        finally:
            self._close(run, wanted_after)

    def _plan(self, project: Project, progress: Progress) -> list[tuple[Chapter, str]]:
        """The chapters still to make (with their hashes); counts the finished ones into ``progress``."""
        todo = []
        for chapter in project.chapters:
            if not chapter.included:
                continue
            digest = chapter_hash(project.text_of(chapter), project.settings)
            progress.chapters_total += 1
            progress.chars_total += chapter.chars
            audio = finished_audio(project, chapter, digest)
            if audio is None:
                todo.append((chapter, digest))
            else:
                progress.chapters_done += 1
                progress.chars_done += chapter.chars
                progress.audio_s += audio.seconds
        return todo

    def _no_speech(self, run: Run, chapter: Chapter) -> None:
        """A chapter the planner found nothing to say in: skipped, with the reason, for good."""
        with self.store.lock:
            project = self.store.get(run.pid)
            project.chapter(chapter.id).skipped = NO_SPEECH
            self.store.save(project)
        with run.progress.lock:
            run.progress.chapters_total -= 1
            run.progress.chars_total -= chapter.chars
            run.progress.skipped.append({"id": chapter.id, "title": chapter.title, "reason": NO_SPEECH})

    def _stopped(self, run: Run) -> tuple[str, str, bool]:
        reason = run.job.reason
        if run.ending == "pause":
            return "paused", "Paused. Resume continues where it stopped.", False
        if run.ending == "cancel":
            return "cancelled", "The render was cancelled; finished chapters are kept.", False
        if reason in (StopReason.ENGINE_SWITCH, StopReason.UNLOAD):
            return "stopped", ("The render stopped because the engine was switched or unloaded. Press Render to "
                               "continue; finished chapters are kept."), False  # fmt: skip
        return "stopped", "Vox was shutting down; the render continues when it starts again.", run.persist

    def _close(self, run: Run, wanted_after: bool) -> None:
        try:
            with self.store.lock:
                project = self.store.get(run.pid)
                if project.render_wanted != wanted_after:
                    project.render_wanted = wanted_after
                    self.store.save(project)
        except VoxError as e:
            log.warning("%s", e.message)
        self.last[run.pid] = run.progress
        self.runtime.jobs.finish(run.job)
        run.done.set()


def _ended(state: str, message: str) -> Progress:
    p = Progress()
    p.state, p.message = state, message
    return p

"""Python's cyclic garbage collector, paused while a step builds data that it keeps.

Reading a workbook, taking in the workers' answers, building the frames, the analysis, the
report and the dashboard's cells each make hundreds of thousands of small objects that live on.
Every time their count passes a threshold the collector walks the objects it tracks again, the
older ones included: on the bench's full run that was a tenth of the CPU time, and in the main
process it came on top of the workers' time.

While a step holds the pause, reference counting still frees whatever is dropped; only objects
that form a cycle wait. The collector resumes as soon as no step holds the pause. A step is one
workbook's read, or one phase of a run that builds the program's data (reading the sources,
the analysis, the report, the dashboard's write), whose cycles are few: reading the bench's
360 workbooks leaves none. Writing flags into each coach's workbook, where openpyxl loads and
saves a whole workbook per coach and leaves its objects in cycles, runs with the collector on.

During a run (``with paused.run_scope():``, which :func:`sheetsync.pipeline.run` holds), what
exists when a step ends is also *frozen* (:func:`gc.freeze`): the program's frames, findings and
analysis, and the modules the step imported, live until the run ends anyway, so the collector is
spared walking them again after every later step (on the bench's nightly re-run, 0.13 s of
collections became 0.01 s). Reference counting frees frozen objects as usual; what they leave
in cycles waits for the end of the run, which unfreezes them, so a long-lived process (the
nightly scheduler) does not grow from one run to the next. A process whose objects someone else
froze before the run keeps its own arrangement: the run's steps then only pause.

A command-line process ends by walking every object the collector tracks once more, to free
what is left in cycles just before the operating system takes all of its memory back: the
command line freezes everything at exit instead (:func:`freeze_at_exit`), which took a tenth off
a nightly re-run's wall time. Every file sheetsync writes is closed, and every state file
replaced, before then.

The pause is counted across threads (the fake Google API answers on its own threads, in the same
process as a run); a collector that someone else turned off stays off; and a child process
forked while the pause is held (the worker processes that read the sources) starts with the
collector running and with what it inherited frozen, as :func:`gc.freeze` advises for a fork.
"""

from __future__ import annotations

import atexit
import functools
import gc
import os
import threading
from collections.abc import Iterator
from contextlib import ContextDecorator, contextmanager
from types import TracebackType


class CollectorPause(ContextDecorator):
    """A reentrant, thread-counted pause of the cyclic collector (use :data:`paused`, as a
    ``with`` block or a function decorator)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._active = 0
        self._paused = False  # this pause turned the collector off (and will turn it on)
        self._runs = 0  # runs in progress that freeze what their steps leave (0: none)

    def __enter__(self) -> None:
        with self._lock:
            self._active += 1
            if self._active == 1 and gc.isenabled():
                gc.disable()
                self._paused = True

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        with self._lock:
            self._active -= 1
            if self._active == 0 and self._paused:
                self._paused = False
                if self._runs:
                    gc.freeze()
                gc.enable()

    @contextmanager
    def run_scope(self) -> Iterator[None]:
        """A run: each step's end freezes what exists, and the run's end unfreezes it all
        (unless objects were frozen before the run began: then its steps only pause)."""
        with self._lock:
            freezing = self._runs > 0 or gc.get_freeze_count() == 0
            self._runs += freezing
        try:
            yield
        finally:
            with self._lock:
                self._runs -= freezing
                if freezing and not self._runs:
                    gc.unfreeze()

    def _after_fork_in_child(self) -> None:
        # The steps that held the pause, and the run, go on in the parent, not here.
        self._lock = threading.Lock()
        self._active = self._runs = 0
        if self._paused:
            self._paused = False
            gc.freeze()  # the parent's objects: never walked here, their pages never copied
            gc.enable()


paused = CollectorPause()
"""The process's one pause: ``with paused:`` around a step (see the module docstring)."""

if hasattr(os, "register_at_fork"):  # not on Windows, which starts workers afresh
    os.register_at_fork(after_in_child=paused._after_fork_in_child)


@functools.cache  # registered once however often it is asked
def freeze_at_exit() -> None:
    """Freeze every object when the process exits, so the interpreter's last collection has
    nothing to walk (see the module docstring)."""
    atexit.register(gc.freeze)

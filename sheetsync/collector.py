"""Python's cyclic garbage collector, paused while a step builds data that it keeps.

Reading a workbook, taking in the workers' answers, building the frames, the analysis, the
report and the dashboard's cells each make hundreds of thousands of small objects that live on.
Every time their count passes a threshold the collector walks the objects it tracks again, the
older ones included: on the bench's full run that was a tenth of the CPU time, and in the main
process it came on top of the workers' time.

While a step holds the pause, reference counting still frees whatever is dropped; only objects
that form a cycle wait. The collector resumes as soon as no step holds the pause, so what one
step leaves in cycles is collected before the next one runs, and a long-lived process (the
nightly scheduler) never grows. A step is one bounded piece of work (one workbook, one phase of
a run), never a loop over every workbook that holds its pause throughout.

The pause is counted across threads (the fake Google API answers on its own threads, in the same
process as a run); a collector that someone else turned off stays off; and a child process
forked while the pause is held starts with the collector as it was before the pause.
"""

from __future__ import annotations

import gc
import os
import threading
from contextlib import ContextDecorator
from types import TracebackType


class CollectorPause(ContextDecorator):
    """A reentrant, thread-counted pause of the cyclic collector (use :data:`paused`, as a
    ``with`` block or a function decorator)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._active = 0
        self._paused = False  # this pause turned the collector off (and will turn it on)

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
                gc.enable()

    def _after_fork_in_child(self) -> None:
        # The steps that held the pause run on in the parent, not here.
        self._lock = threading.Lock()
        self._active = 0
        if self._paused:
            self._paused = False
            gc.enable()


paused = CollectorPause()
"""The process's one pause: ``with paused:`` around a step (see the module docstring)."""

if hasattr(os, "register_at_fork"):  # not on Windows, which starts workers afresh
    os.register_at_fork(after_in_child=paused._after_fork_in_child)

"""The cyclic collector is paused while a step builds data it keeps, and only then."""

from __future__ import annotations

import gc
import multiprocessing
import sys
import threading
import weakref
from dataclasses import replace

import pytest

from sheetsync import collector, pipeline
from sheetsync.collector import CollectorPause, paused
from sheetsync.config import Config


def test_overlapping_steps_resume_the_collector_only_when_the_last_one_ends():
    pause = CollectorPause()
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    during: dict[str, bool] = {}

    def first() -> None:
        with pause:
            first_in.set()
            second_in.wait(5)
        first_out.set()

    def second() -> None:
        first_in.wait(5)
        with pause:
            second_in.set()
            first_out.wait(5)
            during["after the first ended"] = gc.isenabled()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert during == {"after the first ended": False}
    assert gc.isenabled()


def test_a_step_inside_a_step_keeps_the_collector_paused_until_the_outer_one_ends():
    pause = CollectorPause()

    @pause
    def inner() -> bool:
        return gc.isenabled()

    with pause:
        assert inner() is False
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_collector_someone_else_turned_off_stays_off():
    pause = CollectorPause()
    gc.disable()
    try:
        with pause:
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_an_error_in_a_step_still_resumes_the_collector():
    pause = CollectorPause()
    with pytest.raises(KeyError), pause:
        raise KeyError("boom")
    assert gc.isenabled()


def _report_collector(answers: multiprocessing.SimpleQueue) -> None:
    before, inherited_frozen = gc.isenabled(), gc.get_freeze_count() > 0
    with paused:
        during = gc.isenabled()
    answers.put((before, inherited_frozen, during, gc.isenabled()))


@pytest.mark.skipif(sys.platform == "win32", reason="no fork on Windows")
def test_a_child_forked_during_a_pause_starts_with_the_collector_running():
    context = multiprocessing.get_context("fork")
    answers = context.SimpleQueue()
    with paused:
        child = context.Process(target=_report_collector, args=(answers,))
        child.start()
        child.join(30)
        assert not gc.isenabled()  # the parent's step still holds its pause
    assert child.exitcode == 0
    # in the child: running at start, with what it inherited frozen; paused by its own step,
    # running again after it
    assert answers.get() == (True, True, False, True)
    assert gc.isenabled()


def test_a_run_pauses_the_collector_in_its_steps_and_leaves_it_running(
        example_config: Config, monkeypatch: pytest.MonkeyPatch):
    from sheetsync.analytics import program
    from sheetsync.backends.excel import ExcelBackend
    from sheetsync.report import dashboard
    from sheetsync.sources import load

    seen: dict[str, bool] = {}
    frozen: dict[str, int] = {}

    def watch(module: object, name: str) -> None:
        original = getattr(module, name)

        def watched(*args: object, **kwargs: object) -> object:
            seen[name], frozen[name] = gc.isenabled(), gc.get_freeze_count()
            return original(*args, **kwargs)

        monkeypatch.setattr(module, name, watched)

    watch(load, "validate_raw")  # inside each source's read
    watch(program, "analyse")
    watch(dashboard, "build_sheets")
    watch(ExcelBackend, "write_tabs")
    # one process, so each workbook's read is watched here
    config = replace(example_config, workers=1)
    outcome = pipeline.run(config)
    assert outcome.sources_ok > 0
    assert seen == {"validate_raw": False, "analyse": False, "build_sheets": False,
                    "write_tabs": False}
    assert gc.isenabled()
    assert collector.paused._active == 0
    # what validation made was frozen when it ended, and the run's end unfroze it all
    assert frozen["validate_raw"] == 0 and frozen["analyse"] > 0
    assert gc.get_freeze_count() == 0


class _Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only the collector frees it


def test_a_run_freezes_what_its_steps_leave_and_its_end_lets_the_collector_free_it():
    pause = CollectorPause()
    try:
        with pause.run_scope():
            with pause:
                node = _Node()
            gone = weakref.ref(node)
            assert gc.get_freeze_count() > 0
            del node
            gc.collect()
            assert gone() is not None  # frozen: the collector passes it by during the run
            with pause.run_scope():  # a run inside a run: only the outer one unfreezes
                pass
            assert gc.get_freeze_count() > 0
        assert gc.get_freeze_count() == 0
        gc.collect()
        assert gone() is None
    finally:
        gc.unfreeze()


def test_objects_someone_froze_before_a_run_stay_frozen_and_its_steps_only_pause():
    pause = CollectorPause()
    gc.freeze()
    try:
        before = gc.get_freeze_count()
        with pause.run_scope():
            with pause:
                assert not gc.isenabled()
                made = [_Node() for _ in range(100)]
            assert gc.get_freeze_count() == before  # the step's objects were not frozen
            del made
        assert gc.get_freeze_count() == before
        assert gc.isenabled()
    finally:
        gc.unfreeze()


def test_each_source_is_read_with_the_collector_paused(example_config: Config,
                                                      monkeypatch: pytest.MonkeyPatch):
    from sheetsync.sources import load

    seen: list[bool] = []
    original = load.validate_raw

    def watched(*args: object, **kwargs: object) -> object:
        seen.append(gc.isenabled())
        return original(*args, **kwargs)

    monkeypatch.setattr(load, "validate_raw", watched)
    backends = pipeline.backends_for(example_config)
    found = pipeline.discover(example_config.sources, backends)
    ctx = pipeline.read_context(example_config, pipeline.resolve_as_of(example_config, None),
                                use_cache=False)
    source = found.sources[0]
    item = load.load_one(load._Job(source, backends[source.backend], ctx))
    assert isinstance(item, load.LoadedSource) and item.result is not None
    assert seen == [False]
    assert gc.isenabled()


def test_a_command_freezes_everything_as_its_process_exits_and_registers_that_once():
    import subprocess

    script = (
        "import atexit, gc\n"
        "from sheetsync.collector import freeze_at_exit\n"
        "atexit.register(lambda: print('frozen at exit:', gc.get_freeze_count() > 0))\n"
        "before = atexit._ncallbacks()\n"
        "freeze_at_exit(); freeze_at_exit()\n"
        "print('registered:', atexit._ncallbacks() - before)\n"
        "print('frozen before exit:', gc.get_freeze_count() > 0)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60, check=True)
    assert done.stdout.splitlines() == ["registered: 1", "frozen before exit: False",
                                        "frozen at exit: True"]

"""The fake pauses Python's cyclic collector while it answers, and only then."""

from __future__ import annotations

import gc
import threading

import requests

from sheetsync.testing import FakeGoogle
from sheetsync.testing.fake_google import _CollectorPause


def test_the_collector_is_paused_during_a_request_and_running_after_it():
    seen: list[bool] = []
    with FakeGoogle() as fake:
        answer = fake.handle

        def watched(*args, **kwargs):
            seen.append(gc.isenabled())
            return answer(*args, **kwargs)

        fake.handle = watched  # type: ignore[method-assign]
        reply = requests.get(f"{fake.base_url}/v4/spreadsheets/missing", timeout=10)
    assert reply.status_code in (401, 403, 404)  # answered, by the fake's usual rules
    assert seen == [False]
    assert gc.isenabled()


def test_overlapping_requests_resume_the_collector_only_when_the_last_one_ends():
    pause = _CollectorPause()
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


def test_a_collector_someone_else_turned_off_stays_off():
    pause = _CollectorPause()
    gc.disable()
    try:
        with pause:
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_an_error_while_answering_still_resumes_the_collector():
    pause = _CollectorPause()
    try:
        with pause:
            raise KeyError("boom")
    except KeyError:
        pass
    assert gc.isenabled()

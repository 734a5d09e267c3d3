"""The fake pauses Python's cyclic collector while it answers, and only then."""

from __future__ import annotations

import gc

import requests

from sheetsync.testing import FakeGoogle


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

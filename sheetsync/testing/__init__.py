"""Test doubles that ship with sheetsync, as moto does for AWS.

:class:`FakeGoogle` is a local, faithful fake of the Google OAuth, Sheets v4 and Drive v3 APIs.
Point sheetsync at it with ``SHEETSYNC_GOOGLE_API_BASE=<fake.base_url>``; the real gspread and
google-auth code paths then run against it. Run it on its own with
``python -m sheetsync.testing.fake_google --port P --seed DIR``.

:class:`FakeClock` is the one manual clock for tests: the fake's quota windows, the client's
rate limiter and backoff, and the nightly scheduler all run on it without real waiting.
:mod:`sheetsync.testing.workbooks` writes plain ``.xlsx`` files, fast, for tests and the benchmark.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sheetsync.testing.clock import FakeClock
    from sheetsync.testing.fake_google import CallRecord, FakeGoogle, Fault, QuotaPolicy

__all__ = ["CallRecord", "FakeClock", "FakeGoogle", "Fault", "QuotaPolicy"]

_HOMES = {"FakeClock": "sheetsync.testing.clock", "CallRecord": "sheetsync.testing.fake_google",
          "FakeGoogle": "sheetsync.testing.fake_google", "Fault": "sheetsync.testing.fake_google",
          "QuotaPolicy": "sheetsync.testing.fake_google"}


def __getattr__(name: str) -> Any:
    # Imported lazily so that ``python -m sheetsync.testing.fake_google`` runs the module once.
    if name in _HOMES:
        return getattr(import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'sheetsync.testing' has no attribute {name!r}")

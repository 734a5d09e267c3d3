"""Test doubles that ship with sheetsync, as moto does for AWS.

:class:`FakeGoogle` is a local, faithful fake of the Google OAuth, Sheets v4 and Drive v3 APIs.
Point sheetsync at it with ``SHEETSYNC_GOOGLE_API_BASE=<fake.base_url>``; the real gspread and
google-auth code paths then run against it. Run it on its own with
``python -m sheetsync.testing.fake_google --port P --seed DIR``.

:mod:`sheetsync.testing.workbooks` writes plain ``.xlsx`` files, fast, for tests and the benchmark.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sheetsync.testing.fake_google import (
        CallRecord,
        FakeClock,
        FakeGoogle,
        Fault,
        QuotaPolicy,
    )

__all__ = ["CallRecord", "FakeClock", "FakeGoogle", "Fault", "QuotaPolicy"]


def __getattr__(name: str) -> Any:
    # Imported lazily so that ``python -m sheetsync.testing.fake_google`` runs the module once.
    if name in __all__:
        from sheetsync.testing import fake_google

        return getattr(fake_google, name)
    raise AttributeError(f"module 'sheetsync.testing' has no attribute {name!r}")

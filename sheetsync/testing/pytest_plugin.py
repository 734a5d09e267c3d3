"""pytest fixtures for Google Sheets mode against :class:`~sheetsync.testing.FakeGoogle`.

Import the fixtures you use into a test module (or list this module in ``pytest_plugins``)::

    from sheetsync.testing.pytest_plugin import fake_google, google_account  # noqa: F401

Everything runs on a :class:`~sheetsync.testing.FakeClock` shared by the fake's quota windows
and the client's rate limiter and backoff sleeps, so quota storms take milliseconds.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from sheetsync.backends.google.settings import GoogleSettings
from sheetsync.backends.google.transport import GoogleConnection
from sheetsync.testing.clock import FakeClock
from sheetsync.testing.fake_google import FakeGoogle


@dataclass(frozen=True)
class GoogleAccount:
    """A service account the fake knows: its key file and the email to share with."""

    key_file: Path
    email: str


@pytest.fixture
def fake_clock() -> FakeClock:
    """A manual clock; ``sleep`` advances it instantly."""
    return FakeClock()


@pytest.fixture
def fake_google(fake_clock: FakeClock) -> Iterator[FakeGoogle]:
    """A running fake Google API on 127.0.0.1 whose quota windows follow ``fake_clock``."""
    with FakeGoogle(clock=fake_clock, seed=7) as google:
        yield google


@pytest.fixture
def google_account(fake_google: FakeGoogle, tmp_path: Path) -> GoogleAccount:
    """A service-account key file issued by the fake."""
    key_file = tmp_path / "service-account.json"
    return GoogleAccount(key_file, fake_google.make_service_account_key(key_file))


@pytest.fixture
def google_settings(fake_google: FakeGoogle, google_account: GoogleAccount) -> GoogleSettings:
    """Settings pointing the real gspread/google-auth stack at the fake."""
    return GoogleSettings(credentials_path=google_account.key_file, api_base=fake_google.base_url,
                          quota_per_minute=60, max_attempts=6, max_wait=120.0, timeout=5.0)


@pytest.fixture
def google_connection(google_settings: GoogleSettings, fake_clock: FakeClock
                      ) -> GoogleConnection:
    """A connection whose limiter and backoff sleep on ``fake_clock`` (no real waiting)."""
    return GoogleConnection(google_settings, clock=fake_clock, sleep=fake_clock.sleep,
                            rng=random.Random(0))

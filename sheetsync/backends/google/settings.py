"""Settings for Google Sheets mode: credentials, API base URL, quota and retry bounds."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

API_BASE_ENV = "SHEETSYNC_GOOGLE_API_BASE"
"""Environment variable naming a base URL that replaces every ``*.googleapis.com`` host
(used to point sheetsync at :class:`sheetsync.testing.FakeGoogle`)."""

CREDENTIALS_ENV = "GOOGLE_APPLICATION_CREDENTIALS"

SCOPES = (
    "https://www.googleapis.com/auth/spreadsheets",
    "https://www.googleapis.com/auth/drive.readonly",
)
"""Least privilege: read and write spreadsheets shared with the account, read Drive listings."""


@dataclass(frozen=True)
class GoogleSettings:
    """How to reach Google: what the config's ``[google]`` section and the environment say.

    ``quota_per_minute`` is the per-user Sheets quota sheetsync stays under (Google's default is
    60). ``max_attempts`` and ``max_wait`` bound the retries of one API call: at most that many
    tries, and at most ``max_wait`` seconds spent waiting between them.
    """

    credentials_path: Path | None = None
    api_base: str | None = None
    quota_per_minute: int = 60
    quota_window: float = 60.0
    max_attempts: int = 6
    max_wait: float = 120.0
    timeout: float = 60.0
    read_workers: int = 4

    def resolved_api_base(self) -> str | None:
        """The base URL replacing Google's hosts, or ``None`` for the real Google APIs."""
        base = self.api_base or os.environ.get(API_BASE_ENV) or None
        return base.rstrip("/") if base else None

    def resolved_credentials_path(self) -> Path | None:
        """The key file to use, or ``None`` to fall back to Application Default Credentials."""
        if self.credentials_path is not None:
            return Path(self.credentials_path).expanduser()
        env = os.environ.get(CREDENTIALS_ENV)
        return Path(env).expanduser() if env else None

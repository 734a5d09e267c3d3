"""Google mode's settings: the ``[google]`` section of the config, and the environment.

Declared once, as :class:`GoogleSettings`: each field's metadata names its config key and its
range, and :func:`sheetsync.config.settings_from_table` reads the section from the TOML.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
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

PROVISION_SCOPES = (*SCOPES, "https://www.googleapis.com/auth/drive.file")
"""``sheetsync provision`` also creates files and shares them: ``drive.file`` allows that for
the files sheetsync itself creates, and nothing else in Drive."""

TOKEN_FILE = "google-token.json"
"""The cached sign-in of ``sheetsync login``, in the state folder (mode 0600)."""


@dataclass(frozen=True)
class GoogleSettings:
    """How to reach Google: what the config's ``[google]`` section and the environment say.

    Three identities: a service account (``credentials``, a key file); the same service
    account acting as a user of the district's Workspace domain (``subject``, domain-wide
    delegation, for districts that do not let files be shared outside the domain); or a
    person's own Google account (``oauth_client``, an installed-app OAuth client; ``sheetsync
    login`` signs in once and caches the token in the state folder, ``token_path``).

    ``quota_per_minute`` is the per-user Sheets quota sheetsync stays under (Google's default is
    60 reads a minute, and separately 60 writes); ``write_quota_per_minute`` sets the write
    budget apart when it differs. ``quota_window`` is Google's minute, shorter only for
    trials. ``max_attempts`` and ``max_wait`` bound the retries of one API call: at most that
    many tries, and at most ``max_wait`` seconds spent waiting between them.
    ``max_request_mb`` caps each write request (bigger dashboards go in parts, see
    :mod:`.staging`); ``max_tab_rows`` caps a managed table's rows in Sheets (see
    :mod:`.scoping`).
    """

    credentials_path: Path | None = field(default=None, metadata={"key": "credentials"})
    subject: str | None = None  # domain-wide delegation: the Workspace user to act as
    oauth_client: Path | None = None  # a user's own OAuth client (installed app) instead
    token_path: Path | None = field(default=None, metadata={"key": None})  # the cached sign-in
    api_base: str | None = None  # only for tests and the bundled fake API
    quota_per_minute: int = field(default=60, metadata={"min": 1, "max": 100_000})
    write_quota_per_minute: int | None = field(default=None, metadata={"min": 1,
                                                                       "max": 100_000})
    quota_window: float = field(default=60.0, metadata={"key": "quota_window_seconds",
                                                         "min": 0.01, "max": 3600})
    max_attempts: int = field(default=6, metadata={"min": 1, "max": 100})
    max_wait: float = field(default=120.0, metadata={"key": "max_wait_seconds", "min": 0,
                                                     "max": 86_400})
    provision_folder: str | None = None  # the Drive folder sheetsync provision fills
    max_request_mb: float = field(default=4.0, metadata={"min": 0.1, "max": 10.0})
    max_tab_rows: int = field(default=20_000, metadata={"min": 100, "max": 5_000_000})
    timeout: float = field(default=60.0, metadata={"key": None})
    read_workers: int = field(default=4, metadata={"key": "workers", "min": 1, "max": 64})

    @property
    def request_limit(self) -> int:
        """Bytes per ``batchUpdate`` request; bigger writes are staged (Google's limit: 10 MiB).
        """
        return int(self.max_request_mb * 1024 * 1024)

    @property
    def write_quota(self) -> int:
        """Writes allowed per window (the read quota unless set apart)."""
        return self.write_quota_per_minute or self.quota_per_minute

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

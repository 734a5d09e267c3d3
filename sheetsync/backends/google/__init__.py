"""Google Sheets mode: read sources and write managed tabs through the real gspread client.

Layout (the same shape as the Excel backend):

* :mod:`.settings` - :class:`GoogleSettings` (credentials, API base, quota, retry bounds);
* :mod:`.auth` - key files and Application Default Credentials, least-privilege scopes;
* :mod:`.quota` - the client-side rate limiter, bounded retries, API call counts;
* :mod:`.transport` - the only seam: a routing transport adapter and gspread ``HTTPClient``;
* :mod:`.reader` - :class:`GoogleReader`, one Sheets call per source;
* :mod:`.writer` - :class:`GoogleWriter`, one ``spreadsheets:batchUpdate`` per target;
* :mod:`.staging` - a write too big for one request, sent in parts under the size limit;
* :mod:`.scoping` - over-long dated tables, cut to their latest weeks for Sheets;
* :mod:`.drive` - :class:`DriveIndex`, folder listings (Excel files too), change detection,
  downloads;
* :mod:`.signin` - ``sheetsync login``, a person's own Google account;
* :mod:`.provision` - creating, building and sharing the sheets of a rollout;
* :mod:`.backend` - :class:`GoogleBackend`, all of the above behind the backend contract.

Importing this package is cheap; gspread and google-auth load with the submodules.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sheetsync.backends.google.settings import API_BASE_ENV, SCOPES, GoogleSettings

if TYPE_CHECKING:
    from sheetsync.backends.google.backend import GoogleBackend
    from sheetsync.backends.google.drive import DriveFile, DriveIndex
    from sheetsync.backends.google.quota import ApiStats
    from sheetsync.backends.google.reader import FLAGS_TAB, GoogleReader
    from sheetsync.backends.google.transport import GoogleConnection
    from sheetsync.backends.google.writer import GoogleWriter, WriteSummary

_LAZY = {
    "GoogleBackend": "backend",
    "DriveFile": "drive",
    "DriveIndex": "drive",
    "ApiStats": "quota",
    "FLAGS_TAB": "reader",
    "GoogleReader": "reader",
    "GoogleConnection": "transport",
    "GoogleWriter": "writer",
    "WriteSummary": "writer",
}

__all__ = [
    "API_BASE_ENV",
    "FLAGS_TAB",
    "SCOPES",
    "ApiStats",
    "DriveFile",
    "DriveIndex",
    "GoogleBackend",
    "GoogleConnection",
    "GoogleReader",
    "GoogleSettings",
    "GoogleWriter",
    "WriteSummary",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(f"sheetsync.backends.google.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'sheetsync.backends.google' has no attribute {name!r}")

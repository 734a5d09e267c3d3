"""What the nightly job keeps between runs, in the state folder.

* ``state.json``: when the last successful run finished (for the scheduler's catch-up), its
  as-of date, target and source counts;
* ``failures.log``: one line per failed run, always written, even when the dashboard cannot be;
* ``writeback.json``: a digest of the flags last written into each source, so an unchanged
  flags tab is not rewritten;
* ``flags.json``: which flags the last run wrote to the dashboard, so the Flags tab can mark
  the new ones.

The parse cache and the program snapshot live beside them (see :mod:`sheetsync.sources.cache`),
and so do the workbook files' remembered hashes (``file_versions.json``, see
:mod:`sheetsync.backends.excel.content_versions`).
Every write here is best effort: losing one costs a catch-up run or a rewrite, never data.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

STATE_FILE = "state.json"
FAILURES_FILE = "failures.log"
WRITEBACK_FILE = "writeback.json"
FLAGS_FILE = "flags.json"


def last_success(state_dir: Path) -> datetime | None:
    """When the last successful run finished (None if never)."""
    try:
        data = json.loads((state_dir / STATE_FILE).read_text())
        return datetime.fromisoformat(data["last_success"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _replace_json(path: Path, value: Any, **dump: Any) -> None:
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(value, **dump))
        os.replace(tmp, path)


def record_success(state_dir: Path, finished: datetime, as_of: date, target: str | None,
                   sources_ok: int, sources_failed: int) -> None:
    _replace_json(state_dir / STATE_FILE, {
        "last_success": finished.astimezone(UTC).isoformat(), "as_of": as_of.isoformat(),
        "output": target, "sources_ok": sources_ok, "sources_failed": sources_failed,
    }, indent=2)


def log_failure(state_dir: Path, reason: str, now: datetime) -> None:
    """Append a failed run to ``failures.log``."""
    with contextlib.suppress(OSError):
        state_dir.mkdir(parents=True, exist_ok=True)
        with (state_dir / FAILURES_FILE).open("a", encoding="utf-8") as fh:
            fh.write(f"{now.astimezone(UTC).isoformat()}\t{reason}\n")


def load_flag_keys(state_dir: Path) -> set[tuple[str, str, str, str]] | None:
    """The flags (code, source, tab, cell) of the last run that wrote a dashboard; None if
    there was none (or its record is unreadable: then nothing can be called new)."""
    try:
        data = json.loads((state_dir / FLAGS_FILE).read_text())
        return {(str(k[0]), str(k[1]), str(k[2]), str(k[3])) for k in data["flags"]}
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return None


def save_flag_keys(state_dir: Path, keys: set[tuple[str, str, str, str]]) -> None:
    _replace_json(state_dir / FLAGS_FILE, {"flags": sorted(keys)})


def flags_digest(rows: list[list[object]]) -> str:
    return hashlib.sha256(json.dumps(rows, default=str).encode()).hexdigest()


class WritebackDigests:
    """The digest of the flags last written into each source, by location."""

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / WRITEBACK_FILE
        try:
            self.digests: dict[str, str] = json.loads(self.path.read_text())
        except (OSError, ValueError):
            self.digests = {}

    def unchanged(self, location: str, digest: str) -> bool:
        return self.digests.get(location) == digest

    def remember(self, location: str, digest: str) -> None:
        self.digests[location] = digest

    def save(self) -> None:
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text(json.dumps(self.digests, indent=1, sort_keys=True))

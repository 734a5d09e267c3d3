"""The ``[[sources]]`` a rollout adds, written into the config (or the sources file it
includes) with every comment and blank line kept, and the change shown as a diff first.

Each entry carries ``provision_id`` (the roster row it came from) and ``owner`` (the email it was
shared with), which is how a re-run knows what exists and whose it is.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Entry:
    """One provisioned source, as the sources file keeps it."""

    provision_id: str
    kind: str
    name: str
    owner: str
    google: str | None = None  # a spreadsheet URL
    path: str | None = None  # a file, relative to the sources file's folder


def _document(path: Path) -> Any:
    import tomlkit

    if not path.exists():
        return tomlkit.document()
    return tomlkit.parse(path.read_text(encoding="utf-8"))


def provisioned(paths: list[Path]) -> dict[str, Entry]:
    """Every entry with a ``provision_id`` in these files, by id."""
    found: dict[str, Entry] = {}
    for path in paths:
        for item in _document(path).get("sources", []):
            pid = item.get("provision_id")
            if pid:
                found[str(pid)] = Entry(str(pid), str(item.get("kind", "")),
                                        str(item.get("name", "")), str(item.get("owner", "")),
                                        item.get("google"), item.get("path"))
    return found


def with_entries(path: Path, entries: list[Entry]) -> tuple[str, str]:
    """(the file's text with ``entries`` appended as ``[[sources]]``, the unified diff)."""
    import tomlkit

    before = path.read_text(encoding="utf-8") if path.exists() else ""
    document = _document(path)
    sources = document.get("sources")
    if sources is None:
        sources = tomlkit.aot()
        document.append("sources", sources)
    for entry in entries:
        table = tomlkit.table()
        table.add("kind", entry.kind)
        if entry.google:
            table.add("google", entry.google)
        else:
            table.add("path", entry.path or "")
        table.add("name", entry.name)
        table.add("provision_id", entry.provision_id)
        table.add("owner", entry.owner)
        sources.append(table)
    after = tomlkit.dumps(document)
    diff = "".join(difflib.unified_diff(before.splitlines(keepends=True),
                                        after.splitlines(keepends=True),
                                        fromfile=str(path), tofile=f"{path} (after)"))
    return after, diff


def write(path: Path, text: str) -> None:
    """Replace the file atomically, keeping its permissions."""
    temporary = path.with_name(f".{path.name}.provision")
    temporary.write_text(text, encoding="utf-8")
    if path.exists():
        os.chmod(temporary, path.stat().st_mode & 0o7777)
    os.replace(temporary, path)

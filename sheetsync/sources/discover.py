"""Discovery: the config's ``[[sources]]`` entries become the workbooks to read.

Each entry names one workbook, a glob, a folder or a Drive folder; its backend lists what it
holds (:meth:`sheetsync.backends.base.Backend.sources`). Names are made unique across the
whole program, because findings and dashboard rows are keyed by them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from sheetsync.backends.base import Source, SourceEntry

if TYPE_CHECKING:
    from sheetsync.backends import Backends
    from sheetsync.errors import SourceReadError
    from sheetsync.findings import Finding


@dataclass
class Discovery:
    """Every source of a program, the notices about entries, and the sources that could not
    be listed (they stay visible as failed)."""

    sources: list[Source] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    failures: list[tuple[Source, SourceReadError]] = field(default_factory=list)


def discover(entries: Iterable[SourceEntry], backends: Backends) -> Discovery:
    """Ask each entry's backend what the entry holds.

    A workbook that two entries list (a folder and a file in it) is one source, read once under
    the first entry: its rows must not be counted twice."""
    found = Discovery()
    seen: dict[tuple[str, str], Source] = {}
    for entry in entries:
        listing = backends[entry.backend].sources(entry)
        for source in listing.sources:
            first = seen.setdefault((source.backend, source.location), source)
            if first is source:
                found.sources.append(source)
            else:
                found.findings.append(_listed_twice(source, first))
        found.findings.extend(listing.findings)
        found.failures.extend(listing.failures)
    found.sources = unique_names(found.sources)
    return found


def _listed_twice(source: Source, first: Source) -> Finding:
    from sheetsync.findings import Finding, Severity

    return Finding("duplicate-source", Severity.INFO,
                   f"{source.entry} lists {first.name}, which {first.entry} already lists; it was "
                   "read once.", "Remove one of the two entries from the config.",
                   source=first.name, file=source.location)


def unique_names(sources: list[Source]) -> list[Source]:
    """The second "Lincoln G3" becomes "Lincoln G3 (2)"."""
    seen: dict[str, int] = {}
    out = []
    for s in sources:
        n = seen.get(s.name, 0)
        seen[s.name] = n + 1
        out.append(s if n == 0 else replace(s, name=f"{s.name} ({n + 1})"))
    return out

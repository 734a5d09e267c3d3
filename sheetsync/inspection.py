"""``sheetsync inspect``: how sheetsync understood every tab of every source.

For each tab: the header row, each column and the key it was read as (with its confidence and
the signal it came from: alias, words, content), which rows count as data and which were
skipped and why (titles, totals, subtotals, blank rows, repeated headers, notes, a second
table). ``--write-aliases`` pins the columns that were matched by their words or cells in the
config's ``[aliases.columns]``, editing the TOML in place so that its comments and layout stay.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sheetsync.backends.base import Source
from sheetsync.config import Config, parse_config
from sheetsync.errors import SourceReadError
from sheetsync.grid import column_letter
from sheetsync.pipeline import backends_for, resolve_as_of, schemas_for
from sheetsync.schema import alias_key, normalise_label
from sheetsync.sources.discover import discover
from sheetsync.validation.layout import ALIAS, describe_rows, infer_kind
from sheetsync.validation.workbook import TabReading, ValidationContext, read_tabs

if TYPE_CHECKING:
    from sheetsync.backends.base import Backend

__all__ = ["SourceReading", "config_for_path", "format_readings", "inspect", "pins",
           "readings_as_json", "save_config", "write_aliases"]


@dataclass
class SourceReading:
    """One source: its kind and how each of its tabs was read."""

    name: str
    location: str
    kind: str
    tabs: list[dict[str, Any]] = field(default_factory=list)
    unused_tabs: list[str] = field(default_factory=list)
    problem: str = ""


def config_for_path(path: Path) -> Config:
    """A config that reads one workbook, its kind inferred (``sheetsync inspect FILE``)."""
    path = path.resolve()
    return parse_config({"sources": [{"kind": "auto", "path": str(path)}],
                         "output": {"path": str(path.parent / ".sheetsync-inspect.xlsx")}},
                        path.parent / "sheetsync.toml")


def inspect(config: Config, as_of: date | None = None,
            backends: Mapping[str, Backend] | None = None) -> list[SourceReading]:
    """Read every source of ``config`` and say how each tab was understood."""
    runner = backends_for(config, backends)
    day = resolve_as_of(config, as_of)
    ctx = ValidationContext(as_of=day, reference_date=day,
                            challenge_weeks=config.challenge_weeks, activities=config.activities)
    schemas = schemas_for(config)
    found = discover(config.sources, runner)
    out = [SourceReading(s.name, s.location, s.kind, problem=exc.message)
           for s, exc in found.failures]
    for source in found.sources:
        out.append(_inspect_one(source, runner[source.backend], schemas, ctx))
    return out


def _inspect_one(source: Source, backend: Backend, schemas: dict, ctx: ValidationContext,
                 ) -> SourceReading:
    try:
        raw = backend.read(source)
    except SourceReadError as exc:
        return SourceReading(source.name, source.location, source.kind, problem=exc.message)
    name = raw.title if source.name == source.location and raw.title else source.name
    kind = source.kind if source.kind != "auto" else infer_kind(raw)
    if kind is None:
        return SourceReading(name, source.location, "unknown", unused_tabs=list(raw.tabs),
                             problem="not a team tracker, a coach workbook or a shared "
                                     "coaching log")
    _, readings = read_tabs(raw, schemas[kind], source=name, ctx=ctx)
    used = {r.tab for r in readings}
    return SourceReading(name, source.location, kind,
                         tabs=[_tab_dict(r, schemas[kind]) for r in readings],
                         unused_tabs=[t for t in raw.tabs if t not in used])


def _tab_dict(reading: TabReading, schema: Any) -> dict[str, Any]:
    spec = schema.tab(reading.spec)
    out: dict[str, Any] = {"tab": reading.tab, "read_as": reading.spec,
                           "layout": reading.layout, "problem": reading.problem}
    if reading.header is not None:
        h = reading.header
        keys = {m.col: m for m in h.matches.values()}
        columns = []
        for j in sorted(set(h.texts) | set(keys)):
            m = keys.get(j)
            columns.append({
                "column": column_letter(j + 1), "header": h.texts.get(j, ""),
                "key": m.key if m else None, "name": spec.column(m.key).name if m else None,
                "confidence": m.confidence if m else None,
                "signal": m.signal if m else ("duplicate" if j in h.duplicates else "unused"),
                "note": m.note if m else ""})
        out["header_rows"] = list(h.header_rows)
        out["columns"] = columns
        out["columns_span"] = f"{column_letter(h.span[0] + 1)}:" \
                              f"{column_letter(min(h.span[1], max(h.texts, default=0) + 1))}"
    if reading.wide is not None:
        w = reading.wide
        out["header_rows"] = [w.row + 1]
        out["weeks"] = (f"{column_letter(w.weeks[0][0] + 1)}:{column_letter(w.weeks[-1][0] + 1)}"
                        f" ({len(w.weeks)} weeks across)")
        out["columns"] = sorted(
            [{"row": m.col + 1, "header": m.header, "key": m.key,
              "name": spec.column(m.key).name, "confidence": m.confidence, "signal": m.signal,
              "note": m.note} for m in w.matches.values()]
            + [{"row": r + 1, "header": label, "key": None, "name": None, "confidence": None,
                "signal": "unused", "note": ""} for r, label in w.unknown.items()],
            key=lambda c: c["row"])
    if reading.form:
        out["fields"] = [{"cell": f"{column_letter(f.col + 1)}{f.row + 1}", "label": f.label,
                          "key": f.key, "name": spec.column(f.key).name,
                          "confidence": f.confidence, "signal": f.signal}
                         for f in reading.form.values()]
    out["data_rows"] = describe_rows(reading.data_rows)
    out["data_row_count"] = len(reading.data_rows)
    out["skipped"] = [{"row": s.row, "why": s.kind, "text": s.text} for s in reading.skipped]
    return out


def readings_as_json(readings: list[SourceReading]) -> list[dict[str, Any]]:
    return [{"source": r.name, "location": r.location, "kind": r.kind, "problem": r.problem,
             "tabs": r.tabs, "unused_tabs": r.unused_tabs} for r in readings]


def format_readings(readings: list[SourceReading]) -> str:
    """The readings as text for a terminal."""
    lines: list[str] = []
    for r in readings:
        lines.append(f"{r.name}  ({r.kind.replace('_', ' ')}: {r.location})")
        if r.problem:
            lines.append(f"  not read: {r.problem}")
        for t in r.tabs:
            rows = t.get("header_rows") or []
            where = f", header row {'-'.join(str(x) for x in (rows[0], rows[-1]) if x)}" \
                if rows else ""
            if len(rows) == 1:
                where = f", header row {rows[0]}"
            lines.append(f"  tab {t['tab']!r} read as {t['read_as']} ({t['layout']}{where})")
            if t.get("problem"):
                lines.append(f"    {t['problem']}")
            if t.get("weeks"):
                lines.append(f"    weeks: columns {t['weeks']}")
            for c in t.get("columns", []):
                place = c.get("column") or f"row {c.get('row')}"
                lines.append("    " + _column_line(place, c))
            for f in t.get("fields", []):
                lines.append("    " + _column_line(f["cell"], {**f, "header": f["label"]}))
            if t["layout"] != "form":
                lines.append(f"    data rows: {t['data_rows'] or 'none'} "
                             f"({t['data_row_count']} rows)")
            for s in t["skipped"]:
                text = f": {s['text']}" if s["text"] else ""
                lines.append(f"    skipped row {s['row']}, {s['why']}{text}")
        if r.unused_tabs:
            lines.append("  tabs not read: " + ", ".join(repr(t) for t in r.unused_tabs))
        lines.append("")
    return "\n".join(lines)


def _column_line(place: str, c: dict[str, Any]) -> str:
    header = repr(c["header"]) if c["header"] else "(no header)"
    if c.get("key") is None:
        return f"{place:>6}  {header:<34} not used ({c.get('signal')})"
    note = f"  ({c['note']})" if c.get("note") else ""
    return (f"{place:>6}  {header:<34} -> {c['name']} [{c['key']}]  "
            f"{c['confidence']:.2f} {c['signal']}{note}")


def pins(readings: list[SourceReading]) -> dict[str, list[str]]:
    """The ``[aliases.columns]`` entries that pin every column matched by its words or cells,
    not by an exact name: key (or "Tab.key") -> header texts."""
    out: dict[str, list[str]] = {}
    for r in readings:
        for t in r.tabs:
            for c in [*t.get("columns", []), *t.get("fields", [])]:
                header = c.get("header") or c.get("label") or ""
                if c.get("key") is None or c.get("signal") == ALIAS or not header \
                        or header.startswith("("):
                    continue
                key = alias_key(c["key"], t["read_as"])
                if normalise_label(header) not in {normalise_label(h) for h in out.get(key, [])}:
                    out.setdefault(key, []).append(header)
    return out


def write_aliases(config_path: Path, new: dict[str, list[str]]) -> tuple[str, str]:
    """The config text with ``new`` added to ``[aliases.columns]`` (comments and layout kept),
    and the unified diff from the current text. Nothing is written here."""
    import tomlkit

    text = config_path.read_text(encoding="utf-8")
    doc = tomlkit.parse(text)
    aliases = doc.get("aliases")
    if aliases is None:
        aliases = tomlkit.table(is_super_table=True)
        doc.add("aliases", aliases)
    columns = aliases.get("columns")
    if columns is None:
        columns = tomlkit.table()
        aliases.add("columns", columns)
    for key, headers in new.items():
        current = columns.get(key)
        if current is None:
            array = tomlkit.array()
            array.extend(headers)
            columns.add(key, array)
            continue
        if isinstance(current, str):
            array = tomlkit.array()
            array.append(str(current))
            columns[key] = array
            current = array
        have = {normalise_label(h) for h in current}
        for h in headers:
            if normalise_label(h) not in have:
                current.append(h)
    updated = tomlkit.dumps(doc)
    diff = "".join(difflib.unified_diff(text.splitlines(keepends=True),
                                        updated.splitlines(keepends=True),
                                        fromfile=str(config_path),
                                        tofile=f"{config_path} (with the pins)"))
    return updated, diff


def save_config(path: Path, text: str) -> None:
    """Replace the config file with ``text`` whole (a temporary file beside it, then a rename),
    keeping its permissions: a reader never sees half a file."""
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temp.write_text(text, encoding="utf-8")
    try:
        os.chmod(temp, path.stat().st_mode & 0o7777)
        os.replace(temp, path)
    except OSError:
        temp.unlink(missing_ok=True)
        raise

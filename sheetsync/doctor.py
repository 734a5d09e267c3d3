"""``sheetsync doctor``: check the config, credentials, every source and the target, and say
plainly what to fix. Exits 0 only when everything is well."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sheetsync.config import Config
from sheetsync.errors import SourceReadError
from sheetsync.schema import load_schema
from sheetsync.sources.load import Source, discover, infer_kind, schemas_for
from sheetsync.validate.layout import find_header, match_tabs, read_form


@dataclass
class Check:
    what: str
    ok: bool
    detail: str = ""


def check_workbook_layout(raw, source: Source, config: Config) -> list[Check]:
    """Are the expected tabs and header rows there?"""
    kind = source.kind if source.kind != "auto" else infer_kind(raw)
    if kind is None:
        return [Check(f"{source.name}: kind", False,
                      f"not a team tracker or coach workbook (tabs: {', '.join(raw.tabs)})")]
    schema = schemas_for(config)[kind]
    checks = []
    for spec in schema.tabs:
        tabs = match_tabs(raw.tabs, spec)
        if not tabs:
            checks.append(Check(f"{source.name}: tab {spec.name!r}", not spec.required,
                                "missing" + ("" if spec.required else " (optional)")))
            continue
        for tab in tabs:
            if spec.layout == "form":
                found = read_form(tab, spec)
                checks.append(Check(f"{source.name}: tab {tab.name!r}", bool(found),
                                    f"{len(found)} of {len(spec.columns)} labels found"))
            else:
                header = find_header(tab, spec)
                checks.append(Check(
                    f"{source.name}: tab {tab.name!r}", header is not None,
                    f"header on row {header.row + 1}, {len(header.columns)} columns recognised"
                    if header else "no header row found in the first 20 rows"))
    return checks


def _check_target(config: Config) -> list[Check]:
    if config.output.path is None:
        return []
    path = config.output.path
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not os.access(folder, os.W_OK):
        return [Check(f"target {path}", False, f"cannot write in {folder}")]
    if path.exists():
        # by the permission bits too: os.access says yes to root even for a read-only file
        if not os.access(path, os.W_OK) or not path.stat().st_mode & 0o222:
            return [Check(f"target {path}", False, "the file is read-only")]
        lock = path.with_name(f"~${path.name}")
        if lock.exists():
            return [Check(f"target {path}", False, "the file is open in Excel; close it")]
    return [Check(f"target {path}", True, "writable")]


def collect_checks(config: Config) -> list[Check]:
    from sheetsync.backends.excel.reader import read_excel

    checks = [Check(f"config {config.path}", True, "valid")]
    for s in ("team", "coach"):
        load_schema(s)  # type: ignore[arg-type]
    sources, problems = discover(config)
    for f in problems:
        checks.append(Check(f.source or "sources", False, f.message))
    google = [s for s in sources if s.backend != "excel"]
    if google or config.output.google:
        from sheetsync.google_sources import google_checks

        checks.extend(google_checks(config, google))
    for source in sources:
        if source.backend != "excel":
            continue
        try:
            raw = read_excel(source.location, config.limits)
        except SourceReadError as exc:
            checks.append(Check(source.name, False, f"{exc.message} {exc.hint}".strip()))
            continue
        checks.append(Check(source.name, True, f"readable ({Path(source.location).name})"))
        checks.extend(check_workbook_layout(raw, source, config))
    checks.extend(_check_target(config))
    return checks


def run_doctor(config: Config) -> int:
    from rich.console import Console
    from rich.text import Text

    console = Console(highlight=False, soft_wrap=True)
    checks = collect_checks(config)
    for c in checks:
        mark = Text("ok  ", style="green") if c.ok else Text("FIX ", style="bold red")
        console.print(mark + Text(f"{c.what}: {c.detail}"))
    bad = [c for c in checks if not c.ok]
    console.print(f"{len(checks) - len(bad)} checks ok, {len(bad)} to fix")
    return 0 if not bad else 1

"""``sheetsync doctor``: check the config, every backend, every source and the target, and say
plainly what to fix. Exits 0 only when everything is well.

Each backend checks itself (credentials, whether the target can be written; see
:meth:`sheetsync.backends.base.Backend.check`); reading the sources and finding their tabs and
header rows is the same for every backend, so it is done here.
"""

from __future__ import annotations

from sheetsync.backends.base import Check, RawWorkbook, Source
from sheetsync.config import Config
from sheetsync.errors import SourceReadError
from sheetsync.pipeline import backends_for, schemas_for
from sheetsync.sources.discover import discover
from sheetsync.validation.layout import find_header, infer_kind, match_tabs, read_form

__all__ = ["Check", "check_workbook_layout", "collect_checks", "run_doctor"]


def check_workbook_layout(raw: RawWorkbook, source: Source, config: Config) -> list[Check]:
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


def collect_checks(config: Config) -> list[Check]:
    checks = [Check(f"config {config.path}", True, "valid")]
    backends = backends_for(config)
    target = config.output.target
    found = discover(config.sources, backends)
    used = dict.fromkeys([*(s.backend for s in config.sources), target.backend])
    for name in used:
        checks.extend(backends[name].check(target.location if name == target.backend else None))
    for f in found.findings:
        checks.append(Check(f.source or "sources", False, f.message))
    for source, exc in found.failures:
        checks.append(Check(source.name, False, exc.message))
    for source in found.sources:
        backend = backends[source.backend]
        try:
            raw = backend.read(source)
        except SourceReadError as exc:
            checks.append(Check(source.name, False, f"{exc.message} {exc.hint}".strip()))
            continue
        named = Source(raw.title or source.name, source.kind, source.location, source.backend)
        checks.append(Check(named.name, True, backend.read_ok))
        checks.extend(check_workbook_layout(raw, named, config))
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

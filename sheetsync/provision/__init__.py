"""``sheetsync provision``: roll a program out from a roster, in Google Drive or as .xlsx files.

1. Read the roster (:mod:`.roster`): one row per coach workbook or team tracker.
2. Match each row, by its roster id, with what exists: the ``[[sources]]`` entries a rollout
   wrote (``provision_id``), and, in Google mode, the sheets tagged with that id in the rollout
   folder (a sheet created by a run that stopped before writing the config is adopted, never
   made twice). A row whose owner's email changed is reported, not provisioned again.
3. Plan every action with its API calls and say how long the quota makes it take; ``--dry-run``
   stops here.
4. Create the new workbooks: native Google Sheets built from the schemas and shared
   (:mod:`sheetsync.backends.google.provision`), or pre-filled .xlsx files (``--excel DIR``,
   never overwriting a file that exists).
5. Write the new sources into the config, or the sources file it includes, keeping its comments
   (:mod:`.sources_file`); the diff is printed first.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from sheetsync.provision.roster import RosterError, RosterRow, read_roster
from sheetsync.provision.sources_file import Entry, provisioned, with_entries, write

if TYPE_CHECKING:
    from sheetsync.config import Config

__all__ = ["Action", "ProvisionError", "ProvisionReport", "RosterError", "provision"]


class ProvisionError(Exception):
    """The rollout cannot start (a missing folder setting, no credentials): nothing was made."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


@dataclass
class Action:
    """One thing the rollout does, with the API calls it costs."""

    what: str
    calls: Counter[str] = field(default_factory=Counter)


@dataclass
class ProvisionReport:
    actions: list[Action] = field(default_factory=list)
    created: list[Entry] = field(default_factory=list)
    adopted: list[Entry] = field(default_factory=list)  # found in Drive, missing in the config
    unchanged: int = 0
    owner_changes: list[str] = field(default_factory=list)
    diff: str = ""
    sources_file: Path | None = None
    seconds: float = 0.0
    quota_bound_s: float = 0.0

    def calls(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for action in self.actions:
            total.update(action.calls)
        return total


def _sources_file(config: Config) -> tuple[Path, list[Path]]:
    """(where new sources go, every file holding sources)."""
    import tomllib

    from sheetsync.config import includes

    with config.path.open("rb") as fh:
        included = includes(tomllib.load(fh), config.path)
    return (included[0] if included else config.path), [config.path, *included]


def _quota_bound(sheets_writes: int, per_window: int, window: float) -> float:
    """The least time the write quota allows: the first window's worth at once, then one
    window per further ``per_window`` writes."""
    return max(0, (sheets_writes - 1) // per_window) * window


def provision(config: Config, roster: Path, *, excel_dir: Path | None = None,
              dry_run: bool = False, say: Callable[[str], None] = print,
              connection: object | None = None) -> ProvisionReport:
    """Roll the roster out (see the module docstring). Raises :class:`RosterError` or
    :class:`ProvisionError` before changing anything."""
    rows = read_roster(roster)
    target, files = _sources_file(config)
    known = provisioned(files)
    report = ProvisionReport(sources_file=target)
    fresh: list[RosterRow] = []
    for row in rows:
        entry = known.get(row.id)
        if entry is None:
            fresh.append(row)
            continue
        report.unchanged += 1
        if entry.owner and entry.owner.lower() != row.email:
            report.owner_changes.append(
                f"{row.title}: the roster now names {row.email}, but it was shared with "
                f"{entry.owner} (line {row.line}). Share it with the new owner in Drive, and "
                "set owner in the sources file, if the workbook should change hands.")
    if excel_dir is not None:
        _excel(config, fresh, excel_dir, target, report, dry_run, say)
    else:
        _google(config, fresh, target, report, dry_run, say, connection)
    new = report.adopted + report.created
    if new:
        text, report.diff = with_entries(target, new)
        say(report.diff.rstrip("\n"))
        if not dry_run:
            write(target, text)
    return report


def _excel(config: Config, rows: list[RosterRow], folder: Path, target: Path,
           report: ProvisionReport, dry_run: bool, say: Callable[[str], None]) -> None:
    from sheetsync.backends.excel.templates import prefilled_workbook
    from sheetsync.schema import load_schema

    folder = folder if folder.is_absolute() else Path.cwd() / folder
    for row in rows:
        path = folder / row.file_name
        if path.exists():
            # Someone may already be typing into it: it is adopted, never overwritten.
            report.actions.append(Action(f"keep {path} (it exists) and add it to the sources"))
        else:
            report.actions.append(Action(f"write {path} for {row.name} ({row.email})"))
            if not dry_run:
                schema = load_schema(row.kind)
                prefilled_workbook(schema, config.activities, row.fields(), path,
                                   config.framework)
        relative = os.path.relpath(path, target.parent)
        report.created.append(Entry(row.id, row.kind, row.title, row.email, path=relative))
    say(f"{len(rows)} workbook(s) to write in {folder}; {report.unchanged} already in the "
        "config")


def _google(config: Config, rows: list[RosterRow], target: Path, report: ProvisionReport,
            dry_run: bool, say: Callable[[str], None], connection: object | None) -> None:
    from sheetsync.backends.google.backend import settings_for
    from sheetsync.backends.google.provision import CALLS_PER_SHEET, GoogleProvisioner
    from sheetsync.backends.google.settings import PROVISION_SCOPES
    from sheetsync.backends.google.transport import GoogleConnection
    from sheetsync.errors import SourceReadError

    settings = settings_for(config)
    folder = settings.provision_folder
    if not folder:
        raise ProvisionError("[google] provision_folder is not set: name the Drive folder "
                             "the new sheets go in.",
                             hint='Add provision_folder = "https://drive.google.com/drive/'
                             'folders/<id>" to the [google] section, or use --excel DIR.')
    conn = connection if isinstance(connection, GoogleConnection) else GoogleConnection(
        replace(settings), scopes=PROVISION_SCOPES)
    provisioner = GoogleProvisioner(conn)
    listing = Action(f"list the sheets already in {folder}", Counter({"drive.files.list": 1}))
    report.actions.append(listing)
    try:
        found = provisioner.existing(folder) if rows else {}
    except SourceReadError as exc:
        raise ProvisionError(exc.message, exc.hint) from exc
    plans: list[tuple[RosterRow, Action]] = []
    for row in rows:
        if row.id in found:
            sheet = found[row.id]
            report.adopted.append(Entry(row.id, row.kind, row.title, row.email,
                                        google=provisioner.url(sheet.key)))
            report.actions.append(Action(f"adopt {sheet.name!r}: created earlier, not yet in "
                                         "the config"))
            continue
        people = [(row.email, "writer"), *((v, "reader") for v in row.viewers
                                          if v != row.email)]
        action = Action(f"create {row.title!r} in {folder}, share it with "
                        + ", ".join(f"{e} ({'Editor' if r == 'writer' else 'Viewer'})"
                                    for e, r in people),
                        Counter({**CALLS_PER_SHEET, "drive.permissions.create": len(people)}))
        report.actions.append(action)
        plans.append((row, action))
    calls = report.calls()
    writes = calls["spreadsheets.batchUpdate"]
    report.quota_bound_s = _quota_bound(writes, settings.write_quota, settings.quota_window)
    for action in report.actions:
        say(f"  {action.what}" + (f"  [{sum(action.calls.values())} calls]" if action.calls
                                  else ""))
    say(f"{len(plans)} sheet(s) to create, {len(report.adopted)} to adopt, {report.unchanged} "
        f"already in the config: {sum(calls.values())} API calls ("
        + ", ".join(f"{k} {v}" for k, v in sorted(calls.items()))
        + f"); the write quota makes it take at least {report.quota_bound_s:.0f} s")
    if dry_run:
        # The diff shows what the config would gain; the new sheets' ids are not known yet.
        report.created += [Entry(row.id, row.kind, row.title, row.email,
                                 google=provisioner.url("<new spreadsheet id>"))
                           for row, _action in plans]
        return
    from sheetsync.schema import load_schema

    started = time.perf_counter()
    schemas = {kind: load_schema(kind) for kind in ("coach", "team")}
    from sheetsync.backends.google.provision import build_requests

    try:
        for row, _action in plans:
            key = provisioner.create(row.title, folder, row.id)
            # Recorded at once: if anything later fails, the next run adopts it, not remakes it.
            report.created.append(Entry(row.id, row.kind, row.title, row.email,
                                        google=provisioner.url(key)))
            provisioner.build(key, build_requests(schemas[row.kind], config.activities,
                                                  row.fields(), config.framework), row.title)
            provisioner.share(key, row.email, "writer", row.title)
            for viewer in row.viewers:
                if viewer != row.email:
                    provisioner.share(key, viewer, "reader", row.title)
    except SourceReadError as exc:
        report.seconds = time.perf_counter() - started
        made = report.adopted + report.created
        if made:
            text, report.diff = with_entries(target, made)
            say(report.diff.rstrip("\n"))
            write(target, text)
        raise ProvisionError(
            f"Stopped after {len(report.created)} of {len(plans)} sheet(s): {exc.message}",
            exc.hint or "Fix the cause and run provision again: it carries on where it "
            "stopped, creating nothing twice.") from exc
    report.seconds = time.perf_counter() - started

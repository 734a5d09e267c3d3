"""The ``sheetsync`` command line.

Exit codes (every command): 0 ran, no errors; 1 ran, with data errors in the findings;
2 could not run (bad config, unreadable output, lock held, ...).

Only click is imported at module level so ``sheetsync --help`` stays fast; pandas, openpyxl and
gspread load inside the commands that need them.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import click

from sheetsync import __version__

if TYPE_CHECKING:
    from sheetsync.config import Config

EXIT_OK, EXIT_FINDINGS, EXIT_CANNOT_RUN = 0, 1, 2


CONFIG_ENV = "SHEETSYNC_CONFIG"
TEMPLATE = "sheetsync.template.toml"


def _bundled(name: str) -> Path | None:
    """A file of the ``config`` folder: in a checkout, or bundled into an installed package."""
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "config" / name, here / "_bundled" / "config" / name):
        if candidate.is_file():
            return candidate
    return None


CONFIG_OPTION = click.option(
    "--config", "config_path", type=click.Path(path_type=Path), default=None,
    help=f"Config file (TOML). Default: ${CONFIG_ENV}. `sheetsync init` writes a commented one.")


def _load(config_path: Path | None, *, sources_required: bool = True) -> Config:
    import os

    from sheetsync.config import ConfigError, load_config

    path = config_path or (Path(os.environ[CONFIG_ENV]) if os.environ.get(CONFIG_ENV) else None)
    if path is None:
        _fail("no config given, so there is nothing to run.",
              "Run `sheetsync init` to write a commented sheetsync.toml here, edit its sources, "
              f"then pass --config sheetsync.toml (or set {CONFIG_ENV}). To try the bundled "
              "example from a clone: sheetsync run --config config/example.toml")
    try:
        return load_config(path, sources_required=sources_required)
    except ConfigError as exc:
        _fail(f"config error in {path}: {exc}")
    raise AssertionError  # unreachable


def _fail(message: str, hint: str = "") -> None:
    click.secho(f"sheetsync: {message}", fg="red", err=True)
    if hint:
        click.echo(f"  hint: {hint}", err=True)
    sys.exit(EXIT_CANNOT_RUN)


def _parse_as_of(value: str | None, flag: str = "--as-of") -> date | None:
    if value is None:
        return None
    from sheetsync.config import ConfigError, check_as_of

    try:
        return check_as_of(date.fromisoformat(value), flag)
    except ValueError:
        _fail(f"{flag} must be a date like 2026-11-04, not {value!r}")
    except ConfigError as exc:
        _fail(exc.message)
    return None


class _Group(click.Group):
    """Turns an unexpected exception into one clear line and exit code 2, not a traceback.

    Bad input is already reported as findings; this only catches sheetsync's own bugs and
    environment failures. ``SHEETSYNC_DEBUG=1`` shows the traceback for a bug report.
    """

    def invoke(self, ctx: click.Context):  # type: ignore[override]
        import os

        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException,
                SystemExit, KeyboardInterrupt):
            raise
        except Exception as exc:  # noqa: BLE001 - the last line of defence
            if os.environ.get("SHEETSYNC_DEBUG"):
                raise
            from sheetsync.errors import redact

            _fail(f"unexpected error: {type(exc).__name__}: {redact(str(exc))[:300]}",
                  "This is a bug in sheetsync. Run again with SHEETSYNC_DEBUG=1 to see the "
                  "details, and report them.")


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sheetsync")
def main() -> None:
    """Validate coaches' and breakthrough teams' spreadsheets and roll them up into one
    leaders' dashboard, in Google Sheets or offline Excel files."""
    from sheetsync.collector import freeze_at_exit

    freeze_at_exit()  # a command's process ends with it: no last walk of every object


@main.command()
@CONFIG_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print findings as JSON.")
@click.option("--as-of", "as_of", default=None, help="Treat this date (YYYY-MM-DD) as today.")
def validate(config_path: Path | None, as_json: bool, as_of: str | None) -> None:
    """Check every source and print its findings (nothing is written)."""
    from sheetsync.pipeline import NO_SOURCES_HINT, no_sources_message, nothing_found
    from sheetsync.pipeline import validate as validate_program
    from sheetsync.terminal import ProgressBar, print_findings, print_findings_json

    config = _load(config_path)
    data = validate_program(config, _parse_as_of(as_of),
                            progress=None if as_json else ProgressBar())
    if nothing_found(data):
        _fail(no_sources_message(data), NO_SOURCES_HINT)
    if as_json:
        print_findings_json(data)
    else:
        print_findings(data)
    if any(s.state == "failed" for s in data.sources):
        sys.exit(EXIT_CANNOT_RUN)
    sys.exit(EXIT_FINDINGS if data.findings.has_errors else EXIT_OK)


@main.command()
@CONFIG_OPTION
@click.option("--as-of", "as_of", default=None,
              help="Treat this date (YYYY-MM-DD) as today. Default: [program].as_of, else now in "
                   "the program's timezone.")
@click.option("--output", "output", type=click.Path(path_type=Path), default=None,
              help="Write the dashboard to this .xlsx instead of the config's [output].")
@click.option("--dry-run", is_flag=True, help="Read and analyse everything, write nothing.")
@click.option("--stats", is_flag=True, help="Print the Google API calls made, by kind.")
@click.option("--no-cache", is_flag=True, help="Re-read every source, ignoring the parse cache.")
@click.option("--json", "as_json", is_flag=True,
              help="Print the run summary as JSON (sources, teams by status, coaches below "
                   "target, findings by severity, output, API calls), for a script to act on.")
def run(config_path: Path | None, as_of: str | None, output: Path | None, dry_run: bool,
        stats: bool, no_cache: bool, as_json: bool) -> None:
    """Read, validate and roll up every source, then write the dashboard workbook."""
    from sheetsync.errors import RunFailed
    from sheetsync.pipeline import run as run_program
    from sheetsync.terminal import ProgressBar, print_run_json, print_run_summary

    config = _load(config_path)
    try:
        outcome = run_program(config, as_of=_parse_as_of(as_of), output=output, dry_run=dry_run,
                              use_cache=not no_cache,
                              progress=None if as_json else ProgressBar(),
                              keep_unchanged=output is None)
    except RunFailed as exc:
        _fail(exc.message, exc.hint)
        return
    code = EXIT_FINDINGS if outcome.data.findings.has_errors else EXIT_OK
    if as_json:
        print_run_json(outcome, config, exit_code=code)
    else:
        print_run_summary(outcome, config, stats=stats)
    sys.exit(code)


@main.command()
@click.argument("path", type=click.Path(path_type=Path), default=Path("sheetsync.toml"))
def init(path: Path) -> None:
    """Write a commented config (default: sheetsync.toml here) to edit and run."""
    template = _bundled(TEMPLATE)
    if template is None:  # pragma: no cover - the template ships with the package
        _fail("the config template is missing from this installation.")
        return
    if path.exists():
        _fail(f"{path} already exists; sheetsync leaves it as it is.",
              "Choose another name: sheetsync init other.toml")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(template.read_text(encoding="utf-8"), encoding="utf-8")
    except OSError as exc:
        _fail(f"cannot write {path}: {exc.strerror or exc}")
    click.echo(f"wrote {path}. Next:\n"
               f"  1. put the team trackers in trackers/ and the coach workbooks in coaches/ "
               f"(beside {path.name}), or edit the [[sources]] paths;\n"
               f"  2. sheetsync validate --config {path}\n"
               f"  3. sheetsync run --config {path}")


@main.command()
@click.argument("path", required=False, type=click.Path(path_type=Path))
@CONFIG_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print the readings as JSON.")
@click.option("--write-aliases", is_flag=True,
              help="Pin the columns matched by their words or cells in the config's "
                   "[aliases.columns] (shows the change first).")
@click.option("--yes", is_flag=True, help="With --write-aliases: write without asking.")
@click.option("--as-of", "as_of", default=None, help="Treat this date (YYYY-MM-DD) as today.")
def inspect(path: Path | None, config_path: Path | None, as_json: bool, write_aliases: bool,
            yes: bool, as_of: str | None) -> None:
    """Show how every tab of every source was understood: the header row, each column's key
    with its confidence and signal, and which rows are data and which were skipped, and why.

    Give --config FILE, or the PATH of one workbook."""
    import json

    from sheetsync.config import ConfigError
    from sheetsync.inspection import (
        config_for_path,
        format_readings,
        pins,
        readings_as_json,
    )
    from sheetsync.inspection import (
        inspect as inspect_sources,
    )
    from sheetsync.inspection import write_aliases as aliases_edit

    if path is not None and config_path is not None:
        _fail("give either --config FILE or a workbook PATH, not both")
    if path is not None:
        if write_aliases:
            _fail("--write-aliases edits a config: use --config FILE")
        if not path.exists():
            _fail(f"{path} does not exist")
        try:
            config = config_for_path(path)
        except ConfigError as exc:
            _fail(f"cannot inspect {path}: {exc}")
            return
    else:
        config = _load(config_path)
    readings = inspect_sources(config, _parse_as_of(as_of))
    if as_json:
        click.echo(json.dumps(readings_as_json(readings), indent=2, default=str))
    else:
        click.echo(format_readings(readings))
    if write_aliases:
        new = pins(readings)
        if not new:
            click.echo("Every column was matched by its name or a pinned alias: nothing to pin.",
                       err=as_json)
        else:
            updated, diff = aliases_edit(config.path, new)
            click.echo(diff, err=as_json)
            if yes or click.confirm(f"Write these aliases to {config.path}?", default=False,
                                    err=as_json):
                from sheetsync.inspection import save_config

                save_config(config.path, updated)
                click.echo(f"wrote {config.path}", err=as_json)
    failed = any(r.problem for r in readings) or any(t.get("problem") for r in readings
                                                     for t in r.tabs)
    sys.exit(EXIT_FINDINGS if failed else EXIT_OK)


@main.command()
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=Path("templates"),
              show_default=True, help="Folder to write the blank workbooks into.")
def templates(out_dir: Path) -> None:
    """Write blank team_tracker.xlsx and coach_workbook.xlsx, generated from the schemas."""
    from sheetsync.backends.excel.templates import write_templates

    try:
        paths = write_templates(out_dir)
    except OSError as exc:
        _fail(f"cannot write templates to {out_dir}: {exc.strerror or exc}")
        return
    for p in paths:
        click.echo(f"wrote {p}")


@main.command()
@CONFIG_OPTION
@click.option("--run-now", is_flag=True, help="Run once immediately, then keep the schedule.")
@click.option("--max-runs", type=int, default=None, help="Stop after this many runs.")
@click.option("--every", "every_seconds", type=float, default=None,
              help="Run every N seconds instead of at [schedule].at (for trials).")
def schedule(config_path: Path | None, run_now: bool, max_runs: int | None,
             every_seconds: float | None) -> None:
    """Run the rollup every day at [schedule].at in the program's timezone, until stopped."""
    from sheetsync.pipeline import serve_schedule

    config = _load(config_path)
    sys.exit(serve_schedule(config, run_now=run_now, max_runs=max_runs,
                            every_seconds=every_seconds))


@main.command()
@CONFIG_OPTION
@click.option("--rebuild", is_flag=True, required=True,
              help="Recompute past dates from the sources' own dated rows.")
@click.option("--from", "since", required=True,
              help="The first date to recompute (YYYY-MM-DD), e.g. the challenge's start.")
@click.option("--to", "until", default=None,
              help="The last date (default: [program].as_of, else today).")
@click.option("--every", default=7, show_default=True, type=click.IntRange(1, 366),
              help="Days between recomputed dates (1: every night).")
def history(config_path: Path | None, rebuild: bool, since: str, until: str | None,
            every: int) -> None:
    """Rebuild the program's history (state folder) from the sources' dated rows, so weeks
    before sheetsync was first run still show on the History, Trends and Check-ins tabs. Each
    date recomputed replaces what the history held for it."""
    import sqlite3

    from sheetsync.history.backfill import rebuild as rebuild_history
    from sheetsync.pipeline import resolve_as_of

    config = _load(config_path)
    first = _parse_as_of(since, "--from")
    last = resolve_as_of(config, _parse_as_of(until, "--to"))
    if first is None or first > last:
        _fail(f"--from must be a date on or before {last}, not {since!r}")
        return
    from sheetsync.errors import LockHeld
    from sheetsync.nightly.run_lock import RunLock

    try:
        # one writer at a time: a nightly run and a rebuild share the cache and the history
        with RunLock(config.output.state_dir, command="sheetsync history"):
            days = rebuild_history(config, first, last, every=every,
                                   progress=lambda day: click.echo(f"  recorded {day}"))
    except LockHeld as exc:
        _fail(str(exc), "Wait for the other run to finish.")
        return
    except (OSError, sqlite3.Error) as exc:
        _fail(f"could not write the history in {config.output.state_dir}: {exc}",
              "Check [output].state_dir and its permissions.")
        return
    click.echo(f"History rebuilt: {len(days)} dates from {days[0]} to {days[-1]}.")
    sys.exit(EXIT_OK)


@main.command()
@CONFIG_OPTION
def doctor(config_path: Path | None) -> None:
    """Check the config, credentials, every source and the output target."""
    from sheetsync.doctor import run_doctor

    config = _load(config_path)
    sys.exit(run_doctor(config))


@main.command()
@CONFIG_OPTION
@click.option("--roster", "roster", type=click.Path(path_type=Path), required=True,
              help="The roster: a .csv or .xlsx with kind, name, email, school, team, lead and "
                   "viewers columns.")
@click.option("--excel", "excel_dir", type=click.Path(path_type=Path), default=None,
              help="Write pre-filled .xlsx workbooks into this folder instead of Google Sheets.")
@click.option("--dry-run", is_flag=True,
              help="List every action and its API calls, and show the config change; make "
                   "nothing.")
def provision(config_path: Path | None, roster: Path, excel_dir: Path | None,
              dry_run: bool) -> None:
    """Roll a program out from a roster: one coach workbook or team tracker per row, created
    from the schemas (in Google Drive, or as .xlsx files), shared with its owner, and added to
    the config. A re-run creates only the new rows."""
    from sheetsync.provision import ProvisionError, RosterError
    from sheetsync.provision import provision as roll_out

    config = _load(config_path, sources_required=False)
    try:
        report = roll_out(config, roster, excel_dir=excel_dir, dry_run=dry_run, say=click.echo)
    except RosterError as exc:
        _fail(f"the roster cannot be used: {len(exc.problems)} problem(s)",
              "\n  ".join(exc.problems))
        return
    except ProvisionError as exc:
        _fail(exc.message, exc.hint)
        return
    for change in report.owner_changes:
        click.secho(f"owner changed: {change}", fg="yellow")
    made = len(report.created) + len(report.adopted)
    if dry_run:
        click.echo(f"dry run: nothing was made; {report.sources_file} would gain {made} "
                   "source(s)")
    else:
        click.echo(f"{len(report.created)} created, {len(report.adopted)} adopted, "
                   f"{report.unchanged} already there; {report.sources_file} updated"
                   if made else f"nothing new: {report.unchanged} already there")
    sys.exit(EXIT_FINDINGS if report.owner_changes else EXIT_OK)


@main.command()
@CONFIG_OPTION
@click.option("--no-browser", is_flag=True,
              help="Print the consent page's address instead of opening a browser.")
def login(config_path: Path | None, no_browser: bool) -> None:
    """Sign in with your own Google account ([google] oauth_client) and cache the token in the
    state folder (readable by you only); runs then refresh it by themselves."""
    from sheetsync.backends.google.backend import settings_for
    from sheetsync.backends.google.signin import login as sign_in
    from sheetsync.errors import CredentialsError

    config = _load(config_path)
    try:
        path = sign_in(settings_for(config), open_browser=not no_browser)
    except CredentialsError as exc:
        _fail(exc.message, exc.hint)
        return
    click.echo(f"signed in; the token is cached in {path}")


@main.command()
@click.option("--coaches", type=int, default=1000, show_default=True)
@click.option("--teams", type=int, default=200, show_default=True)
@click.option("--weeks", type=int, default=10, show_default=True)
@click.option("--seed", type=int, default=7, show_default=True)
@click.option("--workdir", type=click.Path(path_type=Path), default=None,
              help="Where to generate the synthetic program (default: a temporary folder).")
@click.option("--quick", is_flag=True, help="A small program, for a fast look.")
@click.option("--scaling/--no-scaling", default=False,
              help="Also time 100, 300 and 1,000 coach workbooks.")
@click.option("--google/--no-google", default=False,
              help="Also count Google API calls against the bundled fake API.")
@click.option("--repeat", type=click.IntRange(1, 20), default=3, show_default=True,
              help="Pairs of (full run, peer) to take the median ratio over.")
@click.option("--baseline/--no-baseline", default=True,
              help="Also time the old naive baseline (pandas read_excel with openpyxl).")
def bench(coaches: int, teams: int, weeks: int, seed: int, workdir: Path | None, quick: bool,
          scaling: bool, google: bool, repeat: int, baseline: bool) -> None:
    """Benchmark a full run on a synthetic program against the real peers (python-calamine,
    polars, pandas with calamine) and the old naive baseline."""
    from sheetsync.benchmark import run_benchmark

    sys.exit(run_benchmark(coaches=coaches, teams=teams, weeks=weeks, seed=seed, workdir=workdir,
                           quick=quick, scaling=scaling, google=google, repeat=repeat,
                           baseline=baseline))


if __name__ == "__main__":  # pragma: no cover
    main()

"""A run whose dashboard would be the last one again keeps the file as it is, and its Run Log row
arrives with the next write; anything that could change a figure makes the run write."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

from sheetsync import benchmark
from sheetsync.config import load_config
from sheetsync.pipeline import run

NIGHT = datetime(2026, 11, 14, 2, 0)


@pytest.fixture
def program(tmp_path: Path) -> benchmark.GeneratedProgram:
    return benchmark.generate_program(tmp_path, coaches=3, teams=2, weeks=10, seed=11)


def _run_log(path: Path) -> list[list]:
    with CalamineWorkbook.from_path(str(path)) as book:
        rows = book.get_sheet_by_name("Run Log").to_python()
    return [r for r in rows[1:] if any(v not in ("", None) for v in r)]


def test_nothing_changed_keeps_the_dashboard_and_its_run_log_row_comes_with_the_next_write(
        program):
    config = load_config(program.config)
    dashboard = config.output.path
    first = run(config, now=NIGHT, keep_unchanged=True)
    assert not first.unchanged
    before = dashboard.read_bytes()

    second = run(config, now=NIGHT + timedelta(hours=1), keep_unchanged=True)
    assert second.unchanged
    assert dashboard.read_bytes() == before  # not rewritten
    # the same summary as the run that read everything
    assert [s.name for s in second.data.sources] == [s.name for s in first.data.sources]
    assert list(second.data.findings) == list(first.data.findings)

    benchmark.change_files(program)
    third = run(config, now=NIGHT + timedelta(hours=2), keep_unchanged=True)
    assert not third.unchanged
    log = _run_log(dashboard)
    assert [row[0][:16] for row in log] == ["2026-11-14 02:00", "2026-11-14 03:00",
                                            "2026-11-14 04:00"]
    assert [row[2] for row in log] == ["ok", "ok, nothing changed", "ok"]


@pytest.mark.parametrize("change", ["as-of", "dashboard edited", "config", "source added"])
def test_anything_that_could_change_a_figure_makes_the_run_write(program, change):
    config = load_config(program.config)
    run(config, now=NIGHT, keep_unchanged=True)
    as_of = None
    if change == "as-of":
        as_of = config.as_of + timedelta(days=1)  # the usual nightly run: the date moves
    elif change == "dashboard edited":
        path = config.output.path
        stat = path.stat()
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    elif change == "config":
        program.config.write_text(program.config.read_text().replace(
            "[output]", "[thresholds]\nstale_contact_days = 14\n\n[output]"))
        config = load_config(program.config)
    else:
        extra = program.coach_files[0].with_name("coach-0999.xlsx")
        extra.write_bytes(program.coach_files[1].read_bytes())
    again = run(config, as_of=as_of, now=NIGHT + timedelta(hours=1), keep_unchanged=True)
    assert not again.unchanged


def test_a_failed_source_is_never_taken_as_unchanged(program):
    config = load_config(program.config)
    program.team_files[0].write_bytes(b"not a workbook")
    run(config, now=NIGHT, keep_unchanged=True)
    assert not run(config, now=NIGHT, keep_unchanged=True).unchanged


def test_without_the_option_every_run_writes(program):
    config = load_config(program.config)
    run(config, now=NIGHT)
    assert not run(config, now=NIGHT).unchanged
    assert len(_run_log(config.output.path)) == 2


def test_an_unchanged_run_imports_neither_pandas_nor_openpyxl(program):
    command = [sys.executable, "-X", "importtime", "-m", "sheetsync", "run", "--config",
               str(program.config)]
    first = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert first.returncode in (0, 1), first.stderr
    assert "| pandas\n" in first.stderr  # the first run rolls up

    again = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert again.returncode == first.returncode, again.stderr
    assert "Nothing changed since the last run" in again.stdout
    imported = {line.rsplit("|", 1)[-1].strip() for line in again.stderr.splitlines()
                if line.startswith("import time:")}
    assert "sheetsync.pipeline" in imported
    assert not imported & {"pandas", "numpy", "openpyxl", "gspread", "polars"}


def test_a_second_night_hashes_only_the_files_that_changed(program, monkeypatch):
    import time

    from sheetsync.backends.excel import content_versions

    # the files were written just now; seen from an hour later, they have settled
    monkeypatch.setattr(content_versions, "_now_ns", lambda: time.time_ns() + 3600 * 10**9)
    hashed: list[str] = []
    real = content_versions.file_hash
    monkeypatch.setattr(content_versions, "file_hash",
                        lambda path: hashed.append(path) or real(path))
    config = load_config(program.config)
    run(config, now=NIGHT, keep_unchanged=True)
    assert len(hashed) == len(program.coach_files) + len(program.team_files)

    hashed.clear()
    assert run(config, now=NIGHT + timedelta(hours=1), keep_unchanged=True).unchanged
    assert hashed == []

    changed = benchmark.change_files(program)
    again = run(config, now=NIGHT + timedelta(hours=2), keep_unchanged=True)
    assert not again.unchanged
    assert sorted(hashed) == sorted(os.path.realpath(p) for p in changed)

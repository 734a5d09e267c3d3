"""The benchmark machinery on a tiny synthetic program; and the bulk tab writer it relies on.

No timing is asserted here: speed is judged by ``sheetsync bench`` itself, on the full size.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections import Counter
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from sheetsync import benchmark
from sheetsync.backends.excel import writer as excel_writer
from sheetsync.config import load_config
from sheetsync.pipeline import validate
from sheetsync.report.model import Chart, Formula, Sheet, Table


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> benchmark.GeneratedProgram:
    root = tmp_path_factory.mktemp("bench")
    return benchmark.generate_program(root, coaches=6, teams=3, weeks=10, seed=3)


def test_generated_program_is_messy_but_almost_all_valid(tiny: benchmark.GeneratedProgram):
    config = load_config(tiny.config)
    data = validate(config, config.as_of, use_cache=False)

    assert [s.state for s in data.sources] == ["ok"] * 9
    frames = {name: len(frame) for name, frame in data.frames.items()}
    assert frames["coaches"] == 6 and frames["goals"] == 3
    assert frames["relationships"] == 6 * benchmark.RELATIONSHIPS_PER_COACH
    assert frames["cycles"] == 6 * benchmark.CYCLES_PER_COACH
    logged = 6 * 10 * benchmark.TIME_ROWS_PER_WEEK
    # a few entries per thousand carry a deliberate mistake; the rest are kept
    assert logged * 0.99 <= frames["time_log"] <= logged
    codes = Counter(f.code for f in data.findings)
    assert set(codes) <= {"unknown-activity", "bad-number"}
    assert sum(codes.values()) <= logged * 0.01
    # dates typed as text and as serial numbers all arrived as real dates
    assert data.frames["time_log"]["date"].notna().all()
    assert data.frames["weekly"]["value"].notna().all()


def test_generation_is_reproducible_and_changes_touch_one_percent(tmp_path: Path):
    first = benchmark.generate_program(tmp_path / "a", coaches=4, teams=2, seed=11)
    second = benchmark.generate_program(tmp_path / "b", coaches=4, teams=2, seed=11)
    for a, b in zip(first.coach_files + first.team_files,
                    second.coach_files + second.team_files, strict=True):
        assert a.read_bytes() == b.read_bytes()

    before = {p: _digest(p) for p in first.coach_files}
    changed = benchmark.change_files(first)
    assert len(changed) == 1  # at least one file, even when 1% rounds to zero
    assert [p for p in first.coach_files if _digest(p) != before[p]] == changed


def test_the_benchmark_reports_every_figure_and_target(tiny: benchmark.GeneratedProgram,
                                                       tmp_path: Path):
    report = benchmark.measure(coaches=6, teams=3, weeks=10, seed=3, workdir=tmp_path,
                               rollup_rows=20_000, repeat=2, nightly_repeat=1)
    text = benchmark.format_report(report)

    assert report.full.rows > 2_000 and report.full.sources == 9
    assert len(report.fulls) == 2 and report.full in report.fulls
    # the re-runs read the same program; the naive baseline reads every tab, header rows too
    assert report.unchanged.rows == report.full.rows
    assert report.changed.rows == report.full.rows
    assert report.baseline.rows > report.full.rows
    assert report.changed_files == 1 and report.rollup.rows == 20_000
    assert report.next_night is not None and report.next_night.rows == report.full.rows
    assert report.full.peak_rss_mb > 0 and report.baseline.seconds > 0
    assert report.baseline_ratio == pytest.approx(report.baseline.seconds / report.full.seconds)

    # every peer read every row of every sheet (polars drops the empty rows), pair by pair
    for name in benchmark.PEERS:
        runs = report.peers[name]
        assert len(runs) == 2 and all(m.seconds > 0 and m.sources == 9 for m in runs)
        ratios = [f.seconds / m.seconds for f, m in zip(report.fulls, runs, strict=True)]
        assert report.peer_ratio(name) == pytest.approx(sum(ratios) / 2)
    floor, pandas = report.peers["floor"][0].rows, report.peers["pandas-calamine"][0].rows
    assert floor >= pandas >= report.peers["polars"][0].rows > report.full.rows
    # the whole-process nightly runs: imports included, so slower than a warm re-run's CPU
    assert len(report.nightly) == len(report.nightly_changed) == 1
    assert report.nightly_s > 0 and report.nightly[0].detail["cpu_s"] > 0

    assert f"Baseline / full run: {report.baseline_ratio:.1f}x" in text
    assert f"{report.full.rows:,}" in text and f"{report.rows_per_second:,.0f}" in text
    for label in ("Full run", "naive baseline", "Re-run, nothing changed",
                  "Re-run, 1 of 6 coach workbooks changed", "Pure rollup", "Machine:",
                  "Next night: as-of date one day later, 1 more changed",
                  "the read floor", "polars read_excel", 'read_excel(engine="calamine")',
                  "Nightly run, nothing changed", f"{report.peer_ratio('floor'):.2f}x"):
        assert label in text
    verdicts = re.findall(r"\b(PASS|FAIL)\b", text)
    assert len(verdicts) == len(report.checks()) == 10
    assert text.strip().endswith("All targets met." if report.passed else
                                 "Some targets were missed.")


def test_a_large_program_has_its_own_targets():
    assert benchmark.Targets.for_program(3000).full_run_s == 20.0
    assert benchmark.Targets.for_program(3000).peak_rss_mb == 1024.0
    assert benchmark.Targets.for_program(1000) == benchmark.Targets()


def test_the_peer_ratio_is_the_median_of_the_pairs():
    m = benchmark.Measurement
    report = _report(full_seconds=10.0)
    report.fulls = [m(10.0), m(30.0), m(12.0)]
    report.peers = {"floor": [m(5.0), m(10.0), m(12.0)]}
    assert report.peer_ratio("floor") == 2.0  # pairs give 2.0, 3.0 and 1.0
    assert report.peer_ratio("polars") is None
    report.peers["polars"] = [m(0.0, detail={"unavailable": "not installed: polars"})]
    assert report.peer_ratio("polars") is None
    assert "not installed: polars" in benchmark.format_report(report)
    checks = {c.name: c for c in report.checks()}
    assert not checks["Full run / the read floor (calamine, 1 process)"].passed


def test_run_benchmark_returns_the_verdict_as_exit_code(monkeypatch: pytest.MonkeyPatch,
                                                         tmp_path: Path):
    captured = {}

    def fake_measure(**kwargs):
        captured.update(kwargs)
        return _report(full_seconds=20.0)

    monkeypatch.setattr(benchmark, "measure", fake_measure)
    out = tmp_path / "report.txt"
    with out.open("w") as stream:
        code = benchmark.run_benchmark(quick=True, workdir=tmp_path / "w", out=stream)
    assert code == 1  # the 20 s full run misses its 15 s target
    assert captured["coaches"] == 50 and captured["teams"] == 10
    text = out.read_text()
    assert "20.0 s" in text and "FAIL" in text and "Some targets were missed." in text

    monkeypatch.setattr(benchmark, "measure", lambda **kwargs: _report(full_seconds=5.0))
    with out.open("w") as stream:
        assert benchmark.run_benchmark(workdir=tmp_path / "w", out=stream) == 0


def _report(full_seconds: float) -> benchmark.BenchReport:
    m = benchmark.Measurement
    return benchmark.BenchReport(
        coaches=50, teams=10, weeks=10, seed=7, machine=benchmark.machine(), generation_s=0.5,
        files=60, data_mb=1.0, full=m(full_seconds, rows=1000, peak_rss_mb=200, sources=60),
        baseline=m(100.0, rows=1100), unchanged=m(1.0, rows=1000), changed=m(1.5, rows=1000),
        changed_files=1, rollup=m(2.0, rows=1_000_000))


def test_process_tree_memory_is_read_from_proc():
    if not Path(f"/proc/{os.getpid()}/status").exists():
        pytest.skip("no /proc on this system")
    assert benchmark.tree_rss_mb(os.getpid()) > 10


# -- the bulk tab writer -------------------------------------------------------------------------

def _model() -> list[Sheet]:
    import numpy as np
    import pandas as pd

    rows = [
        ["Plain", 1, 2.5, date(2026, 9, 8), datetime(2026, 9, 8, 13, 30), time(8, 30),
         timedelta(hours=2), True, None, "=SUM(A1)", "  padded ", "a & b < c > d",
         "_x0041_ literal", "line\r\nbreak", Decimal("1.25"), np.float64(0.5),
         pd.Timestamp("2026-09-08"), pd.NA, float("nan"), "", "-3", "@x", 10**17,
         Formula("=1+1"), -123_456.5, 12],
        ["Second", -4, 1e-9, None, None, None, None, False, "x", "+1", "\ttab", "\u00e9", "",
         "", Decimal("3"), np.int64(7), pd.NaT, None, float("inf"), "N/A", "#N/A", "text", 3.0,
         None, 7.25, -1_234_567],
    ]
    columns = [f"C{i}" for i in range(len(rows[0]))]
    table = Table(columns=columns, rows=rows, title="=Title", row=2, col=2,
                  number_formats={"C1": "0", "C2": "0.00", "C3": "yyyy-mm-dd", "C10": "0%",
                                  "C16": "0.##", "C22": "0"},
                  status_columns=["C0"], data_bar_columns=["C15"], column_widths={"C0": 30})
    side = Table(columns=["-Side", "Value"], rows=[[1, 10], [2, 20], [3, 15]], title="Side",
                 row=1, col=30)
    chart = Chart(kind="line", title="Side values", table=side, category_column="-Side",
                  series_columns=["Value"], anchor="AH2")
    return [Sheet("Big", tables=[table, side], charts=[chart], freeze_rows=3, auto_filter=True),
            Sheet("Small", tables=[Table(columns=["a"], rows=[[1]])])]


def _cells(path: Path) -> list[tuple]:
    from openpyxl import load_workbook

    workbook = load_workbook(path)
    out: list[tuple] = []
    for ws in workbook.worksheets:
        out.append((ws.title, ws.freeze_panes, ws.auto_filter.ref, ws.dimensions,
                    {k: v.width for k, v in ws.column_dimensions.items()},
                    sorted((str(cf.sqref), tuple(r.type for r in cf.rules))
                           for cf in ws.conditional_formatting),
                    len(ws._charts)))
        for row in ws.iter_rows():
            for c in row:
                if c.value is None and not c.has_style:
                    continue
                out.append((c.coordinate, c.value, c.data_type, c.number_format, c.font.b,
                            c.font.sz, c.font.color.rgb if c.font.color else None,
                            c.fill.fgColor.rgb, c.alignment.wrap_text, c.quotePrefix))
    return out


def test_bulk_rendered_tabs_hold_exactly_what_openpyxl_cells_would(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    now = datetime(2026, 11, 4, 2, 0)
    monkeypatch.setattr(excel_writer, "BULK_CELLS", 10**9)
    cell_by_cell = excel_writer.write_workbook(tmp_path / "cells.xlsx", _model(), now=now)
    monkeypatch.setattr(excel_writer, "BULK_CELLS", 0)
    bulk = excel_writer.write_workbook(tmp_path / "bulk.xlsx", _model(), now=now)

    assert _cells(tmp_path / "bulk.xlsx") == _cells(tmp_path / "cells.xlsx")
    assert (bulk.rows_written, bulk.truncated_cells) == (cell_by_cell.rows_written,
                                                         cell_by_cell.truncated_cells)
    # and a second write over the bulk-written file keeps working (managed tabs replaced)
    again = excel_writer.write_workbook(tmp_path / "bulk.xlsx", _model(), now=now)
    assert again.managed_tabs == ("Big", "Small")
    assert _cells(tmp_path / "bulk.xlsx") == _cells(tmp_path / "cells.xlsx")


def test_google_mode_call_counts_against_the_fake_api(monkeypatch: pytest.MonkeyPatch,
                                                      tiny: benchmark.GeneratedProgram,
                                                      tmp_path: Path):
    monkeypatch.setattr(benchmark, "GOOGLE_COACHES", 2)
    monkeypatch.setattr(benchmark, "GOOGLE_TEAMS", 1)
    monkeypatch.setattr(benchmark, "GOOGLE_LATENCY_S", 0.0)
    figures = benchmark.measure_google(tiny, tmp_path, lambda _msg: None)

    assert figures["sources"] == 3
    # one read per source, one write of the dashboard; then only the change listing,
    # the dashboard's read and its write
    # a tiny program fits one quota window, so there is no quota-bound ratio to check
    assert figures["_checks"] == {"reads": 1, "writes": 1, "unchanged_calls": 3, "bad": 0,
                                  "ratio": None}
    assert "drive.files.list 1" in figures["nothing changed"]
    report = _report(full_seconds=5.0)
    report.google = figures
    text = benchmark.format_report(report)
    assert "Google: calls when nothing changed" in text and "_checks" not in text
    assert len(report.checks()) == 9

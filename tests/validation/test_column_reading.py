"""Reading a table column by distinct value gives exactly what reading it cell by cell gave.

The reference is the cell-by-cell reading kept in :mod:`tests.validation.percell_reference`.
Each corpus is validated twice, once each way, and every workbook's result must match: its
typed rows (values and their types: 1, 1.0 and True differ, as do 0.0 and -0.0), its findings in
order with their cells, its columns and the window of as-of dates it holds for; then the
program's frames and findings.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pandas.testing import assert_frame_equal

import sheetsync
from sheetsync import benchmark
from sheetsync.sources import load
from sheetsync.testing.workbooks import write_xlsx
from sheetsync.validation import workbook
from tests.corpus.bad_inputs import BAD_INPUTS
from tests.corpus.layouts import write_layout_corpus
from tests.validation import percell_reference

LARGE = {"time-log-100k-rows.xlsx", "wide-5000-columns.xlsx"}  # read alike; only slow to read twice


def _plain(value: Any) -> Any:
    if isinstance(value, set):
        return sorted(value)
    return value


def _result(result: workbook.WorkbookResult) -> str:
    # a record's entries compared by key: the order they were put in carries no meaning
    records = {tab: [sorted((k, type(v).__name__, repr(_plain(v))) for k, v in rec.items())
                     for rec in recs] for tab, recs in result.records.items()}
    return repr((result.kind, records, [repr(f) for f in result.findings], result.columns,
                 result.as_of_window))


def _validated(config: Path, monkeypatch: pytest.MonkeyPatch, reference: bool
               ) -> tuple[dict[str, str], Any]:
    seen: dict[str, str] = {}
    real = load.validate_workbook

    def recording(*args: Any, **kwargs: Any) -> workbook.WorkbookResult:
        result = real(*args, **kwargs)
        seen[result.source] = _result(result)
        return result

    with monkeypatch.context() as patch:
        patch.setattr(load, "validate_workbook", recording)
        if reference:
            patch.setattr(workbook, "_table_records", percell_reference.table_records)
        data = sheetsync.validate(sheetsync.load_config(config), use_cache=False)
    return seen, data


def _same_both_ways(config: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    by_cell, old = _validated(config, monkeypatch, reference=True)
    by_column, new = _validated(config, monkeypatch, reference=False)
    assert by_cell.keys() == by_column.keys()
    for source, expected in by_cell.items():
        assert by_column[source] == expected, source
    assert [repr(f) for f in new.findings] == [repr(f) for f in old.findings]
    assert new.frames.keys() == old.frames.keys()
    for name, frame in old.frames.items():
        assert_frame_equal(new.frames[name], frame, check_exact=True, obj=name)
    return len(by_cell)


def test_the_bench_program_reads_alike(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    program = benchmark.generate_program(tmp_path, coaches=12, teams=4, weeks=10, seed=7)
    benchmark.change_files(program, share=0.25, variant=1)  # the other values a night brings
    assert _same_both_ways(program.config, monkeypatch) == 16


def test_the_layout_corpus_reads_alike(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    config, variants = write_layout_corpus(tmp_path)
    assert _same_both_ways(config, monkeypatch) >= len(variants) - 5


def test_the_bad_inputs_read_alike(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    lines = ['[program]\nname = "Bad inputs"\nas_of = "2026-11-04"\n',
             '[output]\npath = "out/dashboard.xlsx"\n', "[run]\nworkers = 1\n"]
    for item in BAD_INPUTS:
        if item.name in LARGE:
            continue
        item.build(tmp_path / item.name)
        lines.append(f'[[sources]]\nkind = "{item.kind}"\npath = "{item.name}"\n')
    config = tmp_path / "config.toml"
    config.write_text("\n".join(lines), encoding="utf-8")
    assert _same_both_ways(config, monkeypatch) >= 10


@pytest.mark.parametrize("bounded", [False, True], ids=["shared", "bounded"])
def test_equal_values_of_other_types_are_read_apart(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    bounded: bool):
    """1, 1.0, True, "1", 0.0 and -0.0 in one column: each keeps its own reading; and alike
    when the process shares few readings (a full store starts afresh)."""
    if bounded:
        monkeypatch.setattr(workbook, "_SHARED_VALUES", 2)
        monkeypatch.setattr(workbook, "_SHARED_TOTAL", 3)
    rows = [["Date", "Minutes", "Activity", "Teacher(s)"]]
    for k, minutes in enumerate([1, 1.0, True, "1", 0.0, -0.0, 45, "45", "45 min", True, 1.0,
                                 "N/A", None, "#DIV/0!", 700, "x" * 40, 45]):
        rows.append([f"10/{k + 1}/2026", minutes, "Co-planning" if k % 3 else "Bus duty", "Ms. A"])
    rows.append(["11/30/2026", 30, "Co-planning", "Ms. A"])  # a future date
    write_xlsx(tmp_path / "coach.xlsx", {"About": [["Coach Name", "Pat Rivera"]],
                                         "Time Log": rows})
    (tmp_path / "config.toml").write_text(
        '[program]\nname = "Types"\nas_of = "2026-11-04"\n\n[output]\npath = "out/d.xlsx"\n\n'
        '[[sources]]\nkind = "coach"\npath = "coach.xlsx"\n', encoding="utf-8")
    by_cell, _ = _validated(tmp_path / "config.toml", monkeypatch, reference=True)
    if bounded:  # fill the store first, so the run compared below starts it afresh
        _validated(tmp_path / "config.toml", monkeypatch, reference=False)
        assert workbook._shared_count[0] > workbook._SHARED_TOTAL
    assert _same_both_ways(tmp_path / "config.toml", monkeypatch) == 1
    assert "future-date" in by_cell["coach"] and "bad-number" in by_cell["coach"]

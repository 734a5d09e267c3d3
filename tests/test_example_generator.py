"""The example program is reproducible from its seeded generator and has the promised shape."""

from __future__ import annotations

import importlib.util
import json
import sys
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import Any

import openpyxl
import pytest

from sheetsync.findings import CODES
from sheetsync.grid import date_from_serial
from sheetsync.schema import templates_dir

EXAMPLES = templates_dir() / "examples"


@pytest.fixture(scope="module")
def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("example_generator", EXAMPLES / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the file executes
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def regenerated(generator: ModuleType, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("examples")
    generator.generate(out)
    return out


def workbooks(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.glob("*/*.xlsx"))


def cell_content(path: Path) -> dict[str, Any]:
    wb = openpyxl.load_workbook(path)
    return {ws.title: {"merged": sorted(str(r) for r in ws.merged_cells.ranges),
                       "cells": [[(c.value, c.number_format) for c in row]
                                 for row in ws.iter_rows()]}
            for ws in wb.worksheets}


def test_counts_three_schools_six_teams_four_coaches() -> None:
    teams = sorted(EXAMPLES.glob("teams/*.xlsx"))
    coaches = sorted(EXAMPLES.glob("coaches/*.xlsx"))
    assert (len(teams), len(coaches)) == (6, 4)
    schools = set()
    for path in teams:
        goal = openpyxl.load_workbook(path)["Goal"]
        assert goal["A1"].value == "School"
        schools.add(goal["B1"].value)
    assert len(schools) == 3
    for path in coaches:
        about = openpyxl.load_workbook(path).worksheets[0]
        assert about["B2"].value.split(", ")[0] in schools


def test_regenerating_gives_the_committed_files(regenerated: Path) -> None:
    assert workbooks(regenerated) == workbooks(EXAMPLES)
    for name in workbooks(EXAMPLES):
        assert cell_content(regenerated / name) == cell_content(EXAMPLES / name), name
    for name in ("expected_findings.json", "README.md"):
        assert (regenerated / name).read_text("utf-8") == (EXAMPLES / name).read_text("utf-8")


def test_generation_is_byte_stable(generator: ModuleType, regenerated: Path,
                                   tmp_path: Path) -> None:
    generator.generate(tmp_path)
    for name in workbooks(regenerated):
        assert (tmp_path / name).read_bytes() == (regenerated / name).read_bytes(), name


def test_expected_findings_point_at_the_documented_cells() -> None:
    expected = json.loads((EXAMPLES / "expected_findings.json").read_text("utf-8"))
    codes = {e["code"] for e in expected}
    assert codes <= set(CODES)
    assert {"bad-date", "out-of-range", "duplicate-week", "formula-error", "unknown-activity",
            "unknown-column", "bad-number"} <= codes
    readme = (EXAMPLES / "README.md").read_text("utf-8")
    for item in expected:
        ws = openpyxl.load_workbook(EXAMPLES / item["file"])[item["tab"]]
        assert str(ws[item["cell"]].value) == item["value"], item
        assert f"| {item['tab']} | {item['cell']} | `{item['code']}` |" in readme


def test_time_logs_stay_inside_the_program(generator: ModuleType) -> None:
    """About 30 rows a week, nothing after the pinned as-of date, one coach stops early."""
    last_days = {}
    for path in sorted(EXAMPLES.glob("coaches/*.xlsx")):
        ws = openpyxl.load_workbook(path).worksheets[2]  # About, Relationships, Time Log, ...
        dates = [generator_date(c.value) for c in ws["A"][1:] if c.value is not None]
        assert max(dates) <= generator.AS_OF
        weeks = {(d - generator.START).days // 7 for d in dates}
        assert 25 <= len(dates) / len(weeks) <= 35, "about 30 time-log rows a week"
        last_days[path.stem] = max(dates)
    assert last_days.pop("jordan-castillo") == date(2026, 10, 16)  # a two-week logging gap
    assert set(last_days.values()) == {generator.AS_OF}


def generator_date(value: Any) -> date:
    """Read back the three ways the example coaches type dates in a time log."""
    if hasattr(value, "date"):
        return value.date()
    if isinstance(value, int):
        return date_from_serial(value)
    text = str(value)
    if text[:4].isdigit():
        return date.fromisoformat(text)
    if "/" in text:
        month, day = (int(p) for p in text.split("/"))
        return date(2026, month, day)
    month_name, day = text.split()
    months = ("Sept", "Oct", "Nov")
    return date(2026, 9 + months.index(month_name), int(day))


def test_teacher_names_and_private_strings_are_unique() -> None:
    """The privacy tests search leader tabs for these strings, so each must be distinctive."""
    teachers: list[str] = []
    facts: list[str] = []
    for path in sorted(EXAMPLES.glob("coaches/*.xlsx")):
        ws = openpyxl.load_workbook(path).worksheets[1]
        header = [c.value for c in ws[1]]
        start = 1
        if "Professional Fact" not in header:  # a title and a school-name row above the header
            header, start = [c.value for c in ws[3]], 3
        rows = list(ws.iter_rows(min_row=start + 1, values_only=True))
        teachers += [r[0] for r in rows if r[0]]
        for column in ("Professional Fact", "Personal Fact", "Notes"):
            index = header.index(column)
            facts += [r[index] for r in rows if r[index]]
    assert len(teachers) == len(set(teachers)) >= 4 * 8
    assert len(facts) == len(set(facts))
    assert all(len(text) >= 15 for text in facts)

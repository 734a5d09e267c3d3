"""The committed blank templates match the schemas, and regenerating them is stable."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl
import pytest

from sheetsync.backends.excel.templates import INSTRUCTIONS_TAB, LISTS_TAB, write_templates
from sheetsync.schema import default_activities, load_schema, templates_dir

KINDS = ("team", "coach")


def committed(kind: str) -> Path:
    return templates_dir() / load_schema(kind).file_name


def validations(ws: Any) -> list[tuple[str, str, str | None, str | None]]:
    return sorted((str(dv.sqref), dv.type or "", dv.formula1, dv.formula2)
                  for dv in ws.data_validations.dataValidation)


def validation_for(ws: Any, cell: str) -> Any:
    """The data validation covering ``cell`` (each template cell has at most one)."""
    found = [dv for dv in ws.data_validations.dataValidation if cell in dv.sqref]
    assert len(found) == 1, f"{ws.title}!{cell}: expected one validation, got {len(found)}"
    return found[0]


def signature(path: Path) -> dict[str, Any]:
    """Everything a user or reader can see in a template, in comparable form."""
    wb = openpyxl.load_workbook(path)
    sheets = {}
    for ws in wb.worksheets:
        sheets[ws.title] = {
            "state": ws.sheet_state,
            "freeze": ws.freeze_panes,
            "cells": [[c.value for c in row] for row in ws.iter_rows()],
            "validations": validations(ws),
            "formats": {k: d.number_format for k, d in ws.column_dimensions.items()},
            "widths": {k: d.width for k, d in ws.column_dimensions.items()},
        }
    return {"order": wb.sheetnames, "sheets": sheets,
            "created": wb.properties.created, "modified": wb.properties.modified}


@pytest.mark.parametrize("kind", KINDS)
def test_committed_template_has_every_tab_and_column_in_schema_order(kind: str) -> None:
    schema = load_schema(kind)
    wb = openpyxl.load_workbook(committed(kind))
    assert wb.sheetnames[0] == INSTRUCTIONS_TAB
    for tab in schema.tabs:
        ws = wb[tab.name]
        names = [c.name for c in tab.columns]
        if tab.layout == "form":
            assert [ws.cell(row=r, column=1).value for r in range(1, len(names) + 1)] == names
            assert all(ws.cell(row=r, column=2).value is None for r in range(1, len(names) + 1))
            assert ws.cell(row=1, column=1).font.b
        else:
            assert [c.value for c in ws[1]] == names
            assert ws.freeze_panes == "A2"
            assert ws.cell(row=1, column=1).font.b
            assert ws.cell(row=1, column=1).fill.fill_type == "solid"
            assert ws.max_row == 1, "a blank template has no data rows"
    visible = [ws.title for ws in wb.worksheets if ws.sheet_state == "visible"]
    assert visible == [INSTRUCTIONS_TAB, *(t.name for t in schema.tabs)]


@pytest.mark.parametrize("kind", KINDS)
def test_choice_yesno_and_activity_columns_have_dropdowns_with_the_right_lists(kind: str) -> None:
    schema = load_schema(kind)
    wb = openpyxl.load_workbook(committed(kind))
    checked = 0
    for tab in schema.tabs:
        ws = wb[tab.name]
        for index, col in enumerate(tab.columns, start=1):
            letter = openpyxl.utils.get_column_letter(index)
            cell = f"B{index}" if tab.layout == "form" else f"{letter}2"
            if col.type == "choice":
                dv = validation_for(ws, cell)
                assert (dv.type, dv.formula1) == ("list", '"' + ",".join(col.choices) + '"')
            elif col.type == "yesno":
                dv = validation_for(ws, cell)
                assert (dv.type, dv.formula1) == ("list", '"Yes,No"')
            elif col.type == "activity":
                dv = validation_for(ws, cell)
                assert dv.type == "list" and dv.formula1.startswith(f"{LISTS_TAB}!")
                listed = [c.value for row in wb[LISTS_TAB][dv.formula1.split("!")[1].replace(
                    "$", "")] for c in row]
                assert listed == [a.name for a in default_activities().activities]
                assert wb[LISTS_TAB].sheet_state == "hidden"
            else:
                continue
            checked += 1
            if tab.layout == "table":
                assert f"{letter}500" in dv.sqref, "the dropdown covers the rows below the header"
    assert checked >= 2


def test_range_checked_and_formatted_columns() -> None:
    wb = openpyxl.load_workbook(committed("coach"))
    delight = validation_for(wb["Relationships"], "I2")
    assert (delight.type, delight.operator, delight.formula1, delight.formula2) == (
        "whole", "between", "1", "3")
    log = wb["Time Log"]
    assert log.column_dimensions["A"].number_format == "yyyy-mm-dd"
    assert log.column_dimensions["B"].number_format == "hh:mm"
    assert log.column_dimensions["G"].width == load_schema("coach").tab("Time Log").column(
        "activity").width
    goal = openpyxl.load_workbook(committed("team"))["Goal"]
    start_row = [c.name for c in load_schema("team").tab("Goal").columns].index("Start Date") + 1
    assert goal.cell(row=start_row, column=2).number_format == "yyyy-mm-dd"


@pytest.mark.parametrize("kind", KINDS)
def test_instructions_describe_every_tab_and_column(kind: str) -> None:
    schema = load_schema(kind)
    ws = openpyxl.load_workbook(committed(kind))[INSTRUCTIONS_TAB]
    text = [str(c.value) for row in ws.iter_rows() for c in row if c.value is not None]
    joined = "\n".join(text)
    assert "never edits" in joined
    for tab in schema.tabs:
        assert f"Tab: {tab.name}" in text
        for col in tab.columns:
            assert col.name in text
            for choice in col.choices:
                assert choice in joined
    private = [c for t in schema.tabs for c in t.columns if c.private]
    assert joined.count("never shown to leaders") >= len(private)


def test_regenerating_gives_the_committed_content(tmp_path: Path) -> None:
    written = write_templates(tmp_path)
    assert [p.name for p in written] == ["team_tracker.xlsx", "coach_workbook.xlsx"]
    for kind, path in zip(KINDS, written, strict=True):
        assert signature(path) == signature(committed(kind))


def test_regenerating_is_byte_stable(tmp_path: Path) -> None:
    first = write_templates(tmp_path / "first")
    second = write_templates(tmp_path / "second")
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes()

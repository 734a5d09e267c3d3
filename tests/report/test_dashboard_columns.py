"""Dashboard columns computed from whole frames: the values, and their plain Python types."""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pandas as pd

from sheetsync.report import dashboard
from sheetsync.report.dashboard import Col


def _typed(rows: list[list]) -> list[list[tuple[type, object]]]:
    return [[(type(v), v) for v in row] for row in rows]


def test_team_values_are_shown_in_their_unit():
    frame = pd.DataFrame({"value": [0.123456, np.nan, 3.0, 0.5, 12.3456],
                          "unit": ["percent", "count", None, np.nan, "score"]})
    cols = [Col("Value", dashboard._in_unit("value")), Col("Unit", dashboard._unit_labels())]

    assert _typed(dashboard._rows(frame, cols)) == _typed([
        [12.3, "%"], [None, "count"], [3.0, ""], [0.5, ""], [12.35, "score"]])


def test_units_can_come_from_each_rows_source():
    frame = pd.DataFrame({"source": ["a", "b", "c"], "change": [0.05, 2, None]})
    units = dashboard._units_by_source({"a": "percent", "b": "count"})

    assert _typed(dashboard._rows(frame, [Col("Change", dashboard._in_unit("change", units)),
                                          Col("Unit", dashboard._unit_labels(units))])) == \
        _typed([[5.0, "%"], [2.0, "count"], [None, ""]])


def test_relationship_figures_are_hidden_below_the_minimum_of_teachers():
    class Thresholds:
        min_matrix_teachers = 3

    class Analysis:
        thresholds = Thresholds()

    frame = pd.DataFrame({"teachers_listed": pd.array([2, 3, None, 5], dtype="Int64"),
                          "pct_known_by_face": [0.5, 0.25, 1.0, np.nan]})
    got = dashboard._rows(frame, [Col("%", dashboard._few(Analysis(), "pct_known_by_face"))])

    assert _typed(got) == _typed([[None], [0.25], [None], [None]])


def test_actions_done_reads_both_counts():
    frame = pd.DataFrame({"actions_done": [1, 0, 2], "actions_total": [3, 0, 2]})

    assert dashboard._rows(frame, [Col("Done", dashboard._actions_done)]) == [
        ["1 of 3"], [""], ["2 of 2"]]


def test_rows_hold_plain_python_values():
    frame = pd.DataFrame({
        "n": pd.array([1, None], dtype="Int64"), "f": [1.5, np.nan],
        "d": pd.to_datetime(["2026-09-08 00:00", "2026-09-08 10:30"]), "b": [True, False],
        "s": ["a", None],
    })
    cols = [Col(name, name) for name in ("n", "f", "d", "b", "s", "missing")]

    assert _typed(dashboard._rows(frame, cols)) == _typed([
        [1, 1.5, date(2026, 9, 8), True, "a", None],
        [None, None, datetime(2026, 9, 8, 10, 30), False, None, None]])


def test_computed_columns_are_not_asked_about_an_empty_frame():
    def never(frame: pd.DataFrame) -> list:
        raise AssertionError("called on an empty frame")

    assert dashboard._rows(pd.DataFrame(), [Col("x", never), Col("y", "y")]) == []

"""Over months and quarters: Coach Time's shares by period, and the agenda printed per team.

The shares are worked out here again from the tab's own "Minutes by week and group" rows, so a
month's share is checked against the minutes a leader can see on the same tab.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

import openpyxl
import pytest

from sheetsync.pipeline import run

AS_OF = date(2026, 11, 4)


def _table(rows: list[tuple], title: str) -> list[dict]:
    """The rows of the table titled ``title`` (title, intro lines, then the header)."""
    start = next(i for i, row in enumerate(rows) if title in row)
    col = rows[start].index(title)
    header_at = next(i for i in range(start + 1, len(rows)) if rows[i][col] == "Coach")
    header = [h for h in rows[header_at][col:] if h is not None]
    out = []
    for row in rows[header_at + 1:]:
        cells = row[col:col + len(header)]
        if cells[0] is None:
            break
        out.append(dict(zip(header, cells, strict=True)))
    return out


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> openpyxl.Workbook:
    from dataclasses import replace

    from sheetsync.config import load_config
    from tests import REPO

    tmp = tmp_path_factory.mktemp("periods")
    config = load_config(REPO / "config" / "example.toml")
    config = replace(config, output=replace(config.output, path=tmp / "dashboard.xlsx",
                                            state_dir=tmp / "state"))
    run(config, as_of=AS_OF)
    return openpyxl.load_workbook(tmp / "dashboard.xlsx")


@pytest.fixture(scope="module")
def coach_time(book: openpyxl.Workbook) -> list[tuple]:
    return [tuple(r) for r in book["Coach Time"].iter_rows(values_only=True)]


def test_the_check_in_agenda_prints_one_page_per_team(book):
    sheet = book["Check-in Agenda"]
    starts = [cell.row for cell in sheet["A"] if cell.value == "Agenda item"]
    assert len(starts) == 6  # the example's six teams
    # a page break after the row above every team's block but the first
    assert [b.id + 1 for b in sheet.row_breaks.brk] == starts[1:]


def test_monthly_shares_agree_with_the_weekly_minutes_on_the_same_tab(coach_time):
    weekly = [dict(zip(coach_time[1][:6], row[:6], strict=True)) for row in coach_time[2:]
              if row[0] is not None]
    totals: dict[tuple[str, str], float] = defaultdict(float)
    coaching: dict[tuple[str, str], float] = defaultdict(float)
    for row in weekly:
        key = (row["Coach"], f"{row['Week starting']:%Y-%m}")
        totals[key] += row["Minutes"] or 0
        if row["Activity group"] == "Coaching with teachers":  # the first group
            coaching[key] += row["Minutes"] or 0
    months = _table(coach_time, "Coaching share by month")
    assert {m["Coach"] for m in months} == {c for c, _ in totals}
    checked = 0
    for line in months:
        for month, share in line.items():
            if month in ("Coach", "Change") or share is None:
                continue
            key = (line["Coach"], month)
            assert share == pytest.approx(coaching[key] / totals[key])
            checked += 1
    assert checked >= 8  # four coaches, two or three months each


def test_quarters_and_the_change_from_first_to_last(coach_time):
    quarters = _table(coach_time, "Coaching share by quarter of the school year")
    assert quarters, "no quarter table"
    for line in quarters:
        shares = [v for k, v in line.items() if k not in ("Coach", "Change") and v is not None]
        if len(shares) >= 2:
            assert line["Change"] == round((shares[-1] - shares[0]) * 100)
        else:
            assert line["Change"] is None


@pytest.mark.parametrize("period", ["week", "month", "quarter"])
def test_a_share_grid_without_any_dated_week_is_empty_not_an_error(period: str) -> None:
    from types import SimpleNamespace

    import pandas as pd

    from sheetsync.report.trends import coach_share_grid

    config = SimpleNamespace(activities=SimpleNamespace(groups=["Coaching"]),
                             quarter_start_month=8)
    weekly = pd.DataFrame({"source": ["a", "b"], "coach": ["A", "B"],
                           "week_start": [pd.NaT, pd.NaT], "program_week": [1, None],
                           "activity_group": ["Coaching", "Other"], "minutes": [30.0, 20.0]})
    analysis = SimpleNamespace(
        coaches=SimpleNamespace(time_weekly=weekly,
                                overview=pd.DataFrame({"source": ["a", "b"],
                                                       "coach": ["A", "B"]})),
        thresholds=SimpleNamespace(coaching_share_target=0.4))
    table = coach_share_grid(config, analysis, period, row=1, title="Coaching share")
    assert table.columns == ["Coach", "Change"] and table.rows == []
    weekly.loc[0, "week_start"] = pd.Timestamp("2026-09-07")
    table = coach_share_grid(config, analysis, period, row=1, title="Coaching share")
    assert len(table.columns) == 3 and table.rows == [["A", 1.0, None]]

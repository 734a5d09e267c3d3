"""Where the tabs built from the program's history go: after the Weekly Update.

* **Trends** and **History** (:mod:`sheetsync.report.trends`): team status week by week, coaches'
  coaching share by week, month and quarter, relationship depth by month; the long tables;
* **Check-ins** and **Check-in Agenda** (:mod:`sheetsync.report.checkins`): each sponsor
  check-in frozen as the history holds it, and the next one's agenda;
* **Retrospective** (:mod:`sheetsync.report.retrospective`), once a team's challenge has ended,
  with the Cycles table.

Without a history (a dry run, or :func:`sheetsync.rollup`), they show this run alone.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from sheetsync.report.checkins import checkins_sheet
from sheetsync.report.model import Sheet, Table
from sheetsync.report.retrospective import retrospective_sheet
from sheetsync.report.trends import history_sheet, share_grids, trends_sheet, view_of

if TYPE_CHECKING:
    from sheetsync.analytics.program import Analysis
    from sheetsync.config import Config
    from sheetsync.dataset import ProgramData
    from sheetsync.history.records import HistoryView

RHYTHM_TABS = ("Trends", "Check-ins", "Check-in Agenda", "Retrospective", "History")
AFTER_TAB = "Weekly Update"


def with_rhythm_tabs(sheets: list[Sheet], config: Config, data: ProgramData,
                     analysis: Analysis, history: HistoryView | None) -> list[Sheet]:
    """``sheets`` with the rhythm tabs placed after the Weekly Update."""
    view = view_of(config, analysis, history)
    grids = share_grids(config, analysis)
    extra = [trends_sheet(config, analysis, view, grids),
             *checkins_sheet(config, data, analysis, view),
             retrospective_sheet(config, data, analysis, view),
             history_sheet(view)]
    sheets = [with_shares_by_period(s, grids) if s.name == COACH_TIME else s
              for s in sheets]
    names = [s.name for s in sheets]
    at = names.index(AFTER_TAB) + 1 if AFTER_TAB in names else len(sheets)
    return [*sheets[:at], *extra, *sheets[at:]]


COACH_TIME = "Coach Time"


def with_shares_by_period(sheet: Sheet, grids: dict[str, Table]) -> Sheet:
    """The Coach Time tab with each coach's coaching share by month and by quarter of the
    school year (with the change from the first to the last), below its per-coach table: the
    share moving toward the target over the year."""
    if not sheet.tables:
        return sheet
    beside = sheet.tables[-1]  # the per-coach table, to the right of the weekly rows
    tables = list(sheet.tables)
    at = beside.last_row + 3
    for period in ("month", "quarter"):
        table = replace(grids[period], row=at, col=beside.col)
        tables.append(table)
        at = table.last_row + 3
    return replace(sheet, tables=tables)



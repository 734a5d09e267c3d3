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

from typing import TYPE_CHECKING

from sheetsync.report.checkins import checkins_sheet
from sheetsync.report.model import Sheet
from sheetsync.report.retrospective import retrospective_sheet
from sheetsync.report.trends import history_sheet, trends_sheet, view_of

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
    extra = [trends_sheet(config, analysis, view),
             *checkins_sheet(config, data, analysis, view),
             retrospective_sheet(config, data, analysis, view),
             history_sheet(view)]
    names = [s.name for s in sheets]
    at = names.index(AFTER_TAB) + 1 if AFTER_TAB in names else len(sheets)
    return [*sheets[:at], *extra, *sheets[at:]]



"""The leaders' view of coaching plans, outcomes and reach: the Dashboard's school and region
tables, and the Coaching Plans tab (one row per coach).

Everything here is an aggregate of :class:`~sheetsync.analytics.plans.PlanResults`: counts,
shares and the names of school-level focus areas, never a teacher's name, rating or cycle. A
figure that could not be worked out is blank, never 0.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from sheetsync.analytics import wording
from sheetsync.report.model import Benchmark, Cell, Sheet, Table

if TYPE_CHECKING:
    import pandas as pd

    from sheetsync.analytics.plans import PlanResults
    from sheetsync.analytics.program import Analysis

PLANS_TAB = "Coaching Plans"

AREA_COLUMNS = ["Region", "School", "Teams on track", "Coaching share", "Reach",
                "Reached", "Plan-aligned minutes", "Plans missing", "Reviews overdue",
                "Focus areas with no coaching"]
"""The school and region tables, in the Dashboard's ten columns: names, then figures, then the
long text last."""


def _plain(value: Any) -> Any:
    if value is None:
        return None
    try:
        if value != value:  # NaN, NaT
            return None
    except (TypeError, ValueError):
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _of(part: Any, whole: Any) -> str | None:
    part, whole = _plain(part), _plain(whole)
    if part is None or not whole:
        return None
    return f"{int(part)} of {int(whole)}"


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{k: _plain(v) for k, v in row.items()} for row in frame.to_dict("records")]


def _area_row(rec: dict[str, Any], first: str, second: str) -> list[Any]:
    return [first, second, _of(rec["teams_on_track"], rec["teams"]),
            rec["coaching_share_recent"], rec["reach_share"],
            _of(rec["reached"], rec["roster"]), rec["aligned_share"],
            rec["plans_missing"], rec["reviews_overdue"],
            rec["areas_uncoached"] or None]


def _area_table(rows: list[list[Any]], title: str, intro: list[str], row: int,
                analysis: Analysis, plans: PlanResults, second: str = "School") -> Table:
    weeks = analysis.thresholds.recent_weeks
    columns = list(AREA_COLUMNS)
    columns[1] = second
    columns[3] = f"Coaching share, last {weeks} weeks"
    columns[4] = f"Reach, last {weeks} weeks"
    return Table(columns=columns, rows=rows, title=title, row=row, intro=intro,
                 number_formats={columns[3]: "0%", columns[4]: "0%", "Plan-aligned minutes": "0%",
                                 "Plans missing": "0", "Reviews overdue": "0"},
                 benchmarks={columns[3]: Benchmark(analysis.thresholds.coaching_share_target),
                             columns[4]: Benchmark(plans.reach_target)},
                 wrap_columns=[second, "Focus areas with no coaching"])


def area_tables(analysis: Analysis, row: int) -> list[Table]:
    """The Dashboard's school table, and its region table (with the district's row) when the
    schools have regions, stacked from sheet row ``row``."""
    plans = analysis.plans
    if plans is None or not len(plans.schools):
        return []
    weeks = analysis.thresholds.recent_weeks
    target = wording.share(plans.reach_target)
    schools = [_area_row(r, r["region"] or "", r["school"]) for r in _records(plans.schools)]
    schools.sort(key=lambda r: (r[0].casefold(), str(r[1]).casefold()))
    school_table = _area_table(
        schools, "Schools", [
            f"Coaching share and reach over the last {weeks} weeks (reach: teachers on the "
            f"roster coached; target {target}). Plan-aligned: the share of coaching minutes",
            "spent on the plans' focus areas. Plans missing, reviews overdue, and the plans' "
            "focus areas with no coaching yet. Blank: not known."], row, analysis, plans)
    regions = _records(plans.regions)
    if not regions and plans.scope is None and len(schools) > 1:  # the district's row here
        schools.append(_area_row({k: _plain(v) for k, v in plans.district.items()}, "District",
                                 wording.count(len(schools), "school")))
        school_table.rows = schools
    tables = [school_table]
    if regions:
        region_rows = []
        for rec in regions:
            count = sum(1 for s in _records(plans.schools) if s["region"] == rec["region"])
            region_rows.append(_area_row(rec, rec["region"], wording.count(count, "school")))
        if plans.scope is None:
            district = {k: _plain(v) for k, v in plans.district.items()}
            region_rows.append(_area_row(district, "District",
                                         wording.count(len(plans.schools), "school")))
        tables.append(_area_table(
            region_rows, "Regions", [
                ("The same figures per region, and for the whole district. "
                 if plans.scope is None else "The same figures for the region. ")
                + "A coach who serves two schools of a region counts once in it."],
            school_table.last_row + 2, analysis, plans, second="Schools"))
    return tables


def _phase(value: Any, model: float) -> Cell | None:
    value = _plain(value)
    if value is None:
        return None
    return Cell(value, f'0%" (model {round(model * 100)}%)"')


def plans_sheet(analysis: Analysis) -> Sheet:
    """The Coaching Plans tab: per coach, the plan, how the coaching lines up with it, the
    outcomes of closed cycles, time in each cycle phase against the model, and reach."""
    plans = analysis.plans
    model = plans.phase_model if plans is not None else (0.25, 0.25, 0.50)
    weeks = analysis.thresholds.recent_weeks
    columns = ["Coach", "School(s)", "Region", "Plan focus areas", "Next review",
               "Review", "Plan-aligned minutes", "Plan-aligned cycles",
               "Focus areas with no coaching", "Closed cycles", "With student evidence",
               "Goal met", "Teacher describes impact", "Applied in a new context",
               "Cycles timed", "Plan", "Act", "Reflect", f"Reach, last {weeks} weeks",
               "Reached"]
    rows = []
    for r in _records(plans.coaches) if plans is not None else []:
        overdue = r["review_overdue"]
        review = ("no plan" if not r["has_plan"] else "no date" if overdue is None
                  else "overdue" if overdue else "on time")
        closed = r["closed_cycles"] or 0

        def share(count: Any, closed: int = closed) -> Cell | None:
            count = _plain(count)
            if count is None or not closed:
                return None
            return Cell(count / closed, f'0%" ({int(count)} of {closed})"')

        rows.append([
            r["coach"], r["schools"], r["region"], r["plan_areas"] if r["has_plan"] else None,
            r["next_review"], review, r["aligned_share"],
            Cell(r["cycles_aligned_share"], f'0%" ({_of(r["cycles_aligned"], r["cycles_total"])})"')
            if r["cycles_aligned_share"] is not None else None,
            r["areas_uncoached_list"], closed, share(r["with_evidence"]), share(r["goal_met"]),
            share(r["describes_impact"]), share(r["applied_new_context"]),
            r["phase_cycles"] or None, _phase(r["phase_plan_share"], model[0]),
            _phase(r["phase_act_share"], model[1]), _phase(r["phase_reflect_share"], model[2]),
            r["reach_share"], _of(r["reached"], r["roster"])])
    intro = [
        "Per coach. The plan's focus areas are school goals from the district's framework; the "
        "coaching minutes and cycles tagged with one of them (or a component of a planned "
        "domain) are plan-aligned. Blank: not known (no plan, or no Focus Area column).",
        "Closed cycles: Complete, or with an Outcome. Cycle phases: days from Plan to Act, Act "
        "to Reflect and Reflect to the end, in closed cycles with all three dates, against "
        f"the model (Plan {round(model[0] * 100)}% / Act {round(model[1] * 100)}% / Reflect "
        f"{round(model[2] * 100)}%). Reach: the coach's listed teachers coached in the last "
        f"{weeks} weeks.",
    ]
    table = Table(columns=columns, rows=rows, title="Coaching plans and outcomes", intro=intro,
                  number_formats={"Plan focus areas": "0", "Next review": "yyyy-mm-dd",
                                  "Plan-aligned minutes": "0%", "Closed cycles": "0",
                                  "Cycles timed": "0", columns[-2]: "0%"},
                  status_columns=[], wrap_columns=["School(s)", "Focus areas with no coaching"],
                  benchmarks={columns[-2]: Benchmark(plans.reach_target if plans else 0.9)},
                  column_widths={"Coach": 18, "School(s)": 22, "Region": 9,
                                 "Plan focus areas": 8, "Next review": 11, "Review": 9,
                                 "Plan-aligned minutes": 9, "Plan-aligned cycles": 13,
                                 "Focus areas with no coaching": 32, "Closed cycles": 8,
                                 "With student evidence": 13, "Goal met": 13,
                                 "Teacher describes impact": 13,
                                 "Applied in a new context": 13, "Cycles timed": 7,
                                 "Plan": 15, "Act": 15, "Reflect": 15, columns[-2]: 9,
                                 "Reached": 9})
    return Sheet(PLANS_TAB, tables=[table], freeze_rows=table.header_row)

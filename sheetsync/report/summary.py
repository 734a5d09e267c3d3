"""``My Summary``: a coach's own summary, written into the coach's own workbook beside
``Sheetsync Flags`` (opt-in per source: ``write_back = true`` and ``my_summary = true``).

It is the coach's, so it names their teachers: the delight x engagement matrix as a 3 x 3 grid
of names, the focus teachers of the quarter, stale contacts, teachers listed but never in the
time log, the coaching share week by week against the target, and open next steps. Nothing here
is ever part of a leader-facing tab: this module's sheet goes only to
:meth:`~sheetsync.backends.base.Backend.write_flags` for the coach's own source.

Cells are plain text, numbers and dates (the write-back writes no number formats), so shares
are written as text ("43%").
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sheetsync.analytics import wording
from sheetsync.report.model import Sheet, Table

if TYPE_CHECKING:
    import pandas as pd

    from sheetsync.analytics.program import Analysis

SUMMARY_TAB = "My Summary"
MAX_FOCUS_TEACHERS = 3
LEVELS = {1: "1 (low)", 2: "2", 3: "3 (high)"}


def _day(value: Any) -> date | None:
    import pandas as pd

    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, pd.Timestamp):
        return value.date()
    return value if isinstance(value, date) else None


def _name(value: Any) -> str | None:
    return " ".join(value.split()) if isinstance(value, str) and value.strip() else None


def _rows(frame: pd.DataFrame | None, source: str) -> pd.DataFrame:
    import pandas as pd

    if frame is None or "source" not in frame.columns:
        return pd.DataFrame()
    return frame[frame["source"] == source]


def _percent(value: Any) -> str:
    return "" if value is None or value != value else wording.share(value)


def my_summary_sheet(source: str, frames: Mapping[str, pd.DataFrame], analysis: Analysis,
                     as_of: date) -> Sheet:
    """The ``My Summary`` tab of one coach workbook (``source``)."""
    from sheetsync.analytics.coaches import NOT_A_NAME, TEACHER_SEPARATORS

    th = analysis.thresholds
    people = _rows(frames.get("relationships"), source)
    time = _rows(frames.get("time_log"), source)
    cycles = _rows(frames.get("cycles"), source)
    teachers = []
    seen = set()
    for rec in people.to_dict("records"):
        name = _name(rec.get("teacher"))
        if name is None or name.casefold() in seen:
            continue
        seen.add(name.casefold())
        teachers.append({**rec, "teacher": name})

    tables: list[Table] = []
    # 1. the delight x engagement matrix, as names
    grid: dict[tuple[int, int], list[str]] = {}
    unrated = []
    for rec in teachers:
        d, e = rec.get("delight"), rec.get("engagement")
        try:
            key = (int(d), int(e))
        except (TypeError, ValueError):
            unrated.append(rec["teacher"])
            continue
        if key[0] in LEVELS and key[1] in LEVELS:
            grid.setdefault(key, []).append(rec["teacher"])
        else:
            unrated.append(rec["teacher"])
    matrix_rows = [[f"Delight {LEVELS[d]}", *("; ".join(sorted(grid.get((d, e), [])))
                                               for e in (1, 2, 3))] for d in (3, 2, 1)]
    tables.append(Table(
        columns=["Delight \\ engagement", *(f"Engagement {LEVELS[e]}" for e in (1, 2, 3))],
        rows=matrix_rows, title="Your teachers on the delight x engagement matrix",
        intro=[f"The aim is the top right. Not rated yet: {'; '.join(sorted(unrated))}."
               if unrated else "Every teacher listed is rated."],
        column_widths={"Delight \\ engagement": 20, "Engagement 1 (low)": 34,
                       "Engagement 2": 34, "Engagement 3 (high)": 34},
        wrap_columns=["Engagement 1 (low)", "Engagement 2", "Engagement 3 (high)"]))

    # 2. the focus teachers of the quarter
    focus = [rec for rec in teachers if rec.get("focus_teacher") is True]
    open_cycle = {(_name(c.get("teacher")) or "").casefold(): c.get("phase")
                  for c in cycles.to_dict("records") if c.get("phase") != "Complete"}
    focus_rows: list[list[Any]] = [[rec["teacher"], _day(rec.get("last_contact")),
                                    open_cycle.get(rec["teacher"].casefold(), "")]
                                   for rec in focus]
    intro = (["None chosen yet: put Yes in the Focus Teacher column of Relationships for up to "
              f"{MAX_FOCUS_TEACHERS} teachers you focus on this quarter."] if not focus else
             [f"{len(focus)} chosen; the quarterly plan suggests at most {MAX_FOCUS_TEACHERS}."]
             if len(focus) > MAX_FOCUS_TEACHERS else [])
    tables.append(Table(columns=["Teacher", "Last contact", "Open cycle phase"],
                        rows=focus_rows, title="Focus teachers this quarter", intro=intro))

    # 3. stale contacts
    stale_rows = []
    for rec in teachers:
        last = _day(rec.get("last_contact"))
        if last is None:
            stale_rows.append([rec["teacher"], None, "no date"])
        elif (as_of - last).days > th.stale_contact_days:
            stale_rows.append([rec["teacher"], last, (as_of - last).days])
    stale_rows.sort(key=lambda r: (r[1] or date.min, r[0]))
    tables.append(Table(columns=["Teacher", "Last contact", "Days ago"], rows=stale_rows,
                        title=f"Stale contacts (more than {th.stale_contact_days} days)",
                        intro=[] if stale_rows else ["None: everyone was contacted recently."]))

    # 4. listed, never in the time log
    named: set[str] = set()
    for cell in set(time["teachers"].dropna()) if "teachers" in time.columns else ():
        named |= {" ".join(p.split()).casefold() for p in TEACHER_SEPARATORS.split(str(cell))}
    named -= set(NOT_A_NAME)
    never = [[rec["teacher"], _name(rec.get("school")) or "", _day(rec.get("last_contact"))]
             for rec in teachers if rec["teacher"].casefold() not in named]
    tables.append(Table(columns=["Teacher", "School", "Last contact"], rows=never,
                        title="Teachers you list but never logged time with",
                        intro=[] if never else ["None: you logged time with every teacher."]))

    # 5. coaching share week by week
    weekly = _rows(analysis.coaches.time_weekly, source)
    coaching_group = weekly["activity_group"].iloc[0] if len(weekly) else None
    week_rows = []
    if len(weekly):
        totals = weekly.groupby("week_start")["minutes"].sum()
        for rec in weekly[weekly["activity_group"] == coaching_group].to_dict("records"):
            total = totals.get(rec["week_start"], 0)
            share = rec["minutes"] / total if total else None
            week_rows.append([_day(rec["week_start"]), rec.get("program_week"),
                              _percent(share), wording.share(th.coaching_share_target),
                              "" if share is None else "at or above" if
                              share >= th.coaching_share_target - 1e-12 else "below",
                              int(total)])
    tables.append(Table(columns=["Week starting", "Program week", "Coaching share", "Target",
                                 "Against the target", "Minutes logged"], rows=week_rows,
                        title="Your coaching share, week by week",
                        intro=[f"The share of the time you logged that went to {coaching_group} "
                               "(the first activity group)." if coaching_group else
                               "No time logged yet."]))

    # 6. open next steps
    steps = []
    for rec in cycles.to_dict("records"):
        if rec.get("phase") == "Complete":
            continue
        total, done = rec.get("next_steps_total"), rec.get("next_steps_done")
        total = None if total is None or total != total else int(total)
        done = 0 if done is None or done != done else int(done)
        if total is not None and done >= total:
            continue
        steps.append([_name(rec.get("teacher")) or "", _name(rec.get("focus")) or "",
                      rec.get("phase") or "", f"{done} of {total} done" if total else
                      "no next steps counted", _day(rec.get("last_update"))])
    tables.append(Table(columns=["Teacher", "Cycle focus", "Phase", "Next steps",
                                 "Last update"], rows=steps, title="Open next steps",
                        intro=[] if steps else ["None open."],
                        column_widths={"Cycle focus": 34}))

    tables[0].intro.insert(0, f"sheetsync's summary of this workbook, as of {as_of.isoformat()}. "
                              "It is yours: leaders never see it. sheetsync rewrites this tab; "
                              "please do not edit it.")
    row = 1
    for table in tables:  # one below the other, a blank row between
        table.row = row
        row = table.last_row + 2
    return Sheet(SUMMARY_TAB, tables=tables)

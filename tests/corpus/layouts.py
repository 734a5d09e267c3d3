"""The layout corpus: workbooks laid out the way districts really keep them, each with its answers.

Every variant starts from canonical rows (time-log entries with their true minutes and activity
group, or a team's weekly values), renders them in one real-world layout (headers in the
district's words, durations typed every way, totals and notes, a Google Form's responses, a
data wall...), and computes its expected figures from those same canonical rows:

* a coach: minutes, coaching share and minutes outside the role over the last 4 complete
  weeks (:data:`WINDOW`);
* a team: the latest value and the status (from an independent, plain reading of the rules);
* or, when the layout cannot be understood, that the figures are unknown, with a finding at a
  named cell.

The layouts rebuild public templates (see :data:`TEMPLATES`): districts' Google Forms coaching
logs, a district's monthly coaching Activity Report, the MI Worklog weekly worklog, a
technology coach's category-by-day tracker, the Saint Paul PLC data chart's merged header,
SMART-goal PLC plans, and weekly breakthrough data walls. All names and numbers are invented.
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sheetsync.testing.workbooks import Tab, write_xlsx

AS_OF = date(2026, 11, 2)
"""A Monday: the nightly run at 2 am counts all of last week."""
START = date(2026, 9, 7)  # Monday of week 1
WINDOW = (date(2026, 10, 5), date(2026, 11, 1))
"""The last 4 complete weeks before :data:`AS_OF`, Monday to Sunday."""
CURRENT_WEEK = 8  # weeks 1..8 have ended by AS_OF
WEEKS = 10

COACHING, COLLAB, OTHER, UNKNOWN = ("Coaching with teachers", "Collaborative", "Other duties",
                                    "Unknown")

TEMPLATES = {
    "google-forms-log": "Google Forms coaching log (a 'Form Responses 1' sheet: Timestamp, "
                        "Email Address, the questions as headers), as districts publish them",
    "teaching-lab-form": "Teaching Lab's Apps Script coaching-log form (TeachingLabHQ/"
                         "coach-log-form): 'What is your name?' with Name(id) choices",
    "activity-report": "A district's monthly instructional-coach Activity Report in Excel "
                       "(coachingchronicles blog): a tab per month, hours in quarter hours, "
                       "Role column, a Total row",
    "mi-worklog": "MI Worklog weekly worklog (bitdepthmedia/mi_worklog): day blocks stacked "
                  "down a week tab, Start/End times, 'Total Daily Hrs' rows",
    "tech-coach-tracker": "Technology-coach time tracker (ISTE 'Definitions for Technology "
                          "Coach Time Tracking'): categories down, days across",
    "saint-paul-plc": "Saint Paul Public Schools PLC/Data Team chart: a header merged over two "
                      "rows, Total rows",
    "smart-goal-plc": "SMART-goal PLC plans (Solution Tree 'Learning by Doing', Broward "
                      "'SMART Goals for PLCs', a Minnesota goal with '55.9% (90/161)'): "
                      "baseline and target in the goal sentence",
    "data-wall": "Weekly breakthrough data wall (FastBridge-style goal line, weeks across)",
    "rti-line-graph": "UT Meadows Center 'Progress Monitoring Line Graph' (Benchmark/Aim rows, "
                      "PM1..PMn across)",
    "relationship-tracker": "Coach relationship tracker (Jim Knight / Choice Literacy "
                            "'know your teachers' lists): Y/N, check marks, High/Med/Low",
}


@dataclass(frozen=True)
class Entry:
    """One canonical time-log row: what really happened."""

    day: date
    minutes: int
    text: str  # the activity as typed
    group: str  # the group it truly belongs to (UNKNOWN: matches no activity)
    outside: bool
    teacher: str


@dataclass
class Expected:
    """What a source should show: figures, or unknown with a finding at a cell."""

    minutes: float | None = None
    share: float | None = None
    outside: float | None = None
    latest: float | None = None
    status: str | None = None
    unknown: bool = False
    finding: tuple[str, str, str] | None = None  # (code, tab, cell) for an unknown variant
    relationships: dict[str, int] | None = None  # per-coach relationship counts, when checked
    over_28_days: Expected | None = None
    """The same figures over the 28 days ending on the as-of date (the window sheetsync used
    before "the last 4 weeks" meant the last 4 complete weeks), to judge an older version."""


@dataclass
class Variant:
    name: str
    kind: str  # team | coach | shared_log
    config_kind: str  # what the config says: team | coach | shared_log | auto
    covers: str  # the reading skill it exercises
    tabs: list[Tab]
    expect: dict[str, Expected]  # by source name (a shared log's coaches: "<file>: <coach>")
    template: str = ""  # a key of TEMPLATES


# -- canonical rows ------------------------------------------------------------------------------

STANDARD = [("Co-planning", COACHING, False), ("Modeling", COACHING, False),
            ("Observation", COACHING, False), ("Feedback/debrief", COACHING, False),
            ("PLC/team meeting", COLLAB, False), ("Lunch duty", OTHER, False),
            ("Substitute coverage", OTHER, True), ("Email", OTHER, False)]
DISTRICT = [("Coaching cycle - observe", COACHING, False), ("Co-plan", COACHING, False),
            ("Sub coverage", OTHER, True), ("Covering a class", OTHER, True),
            ("Testing/assessment admin", OTHER, True), ("Data meeting", COACHING, False),
            ("Walkthrough w/ principal", COACHING, False)]
TEACHERS = ("Ms. Alder", "Mr. Birch", "Ms. Cedar", "Mr. Dogwood", "Ms. Elm", "Mr. Fir")


def entries(seed: int, per_week: int = 5, texts: list[tuple[str, str, bool]] = STANDARD,
            minutes: tuple[int, ...] = (30, 45, 60, 90), until: date = AS_OF) -> list[Entry]:
    """Time-log rows on weekdays from week 1 to the as-of day (about ``per_week`` a week),
    sorted by date."""
    rng = random.Random(seed)
    counts = (0, 1, 1, 2) if per_week >= 5 else (0, 0, 1, 1)
    out = []
    day = START
    while day <= until:
        if day.weekday() < 5:
            for _ in range(rng.choice(counts)):
                text, group, outside = rng.choice(texts)
                out.append(Entry(day, rng.choice(minutes), text, group, outside,
                                 rng.choice(TEACHERS)))
        day += timedelta(days=1)
    return out


def coach_expect(rows: list[Entry], window: tuple[date, date] = WINDOW) -> Expected:
    """The coach figures over the window, from the canonical rows."""
    inside = [e for e in rows if window[0] <= e.day <= window[1]]
    total = sum(e.minutes for e in inside)
    coaching = sum(e.minutes for e in inside if e.group == COACHING)
    figures = Expected(minutes=float(total), share=coaching / total if total else None,
                       outside=float(sum(e.minutes for e in inside if e.outside)))
    if window == WINDOW:
        figures.over_28_days = coach_expect(rows, (AS_OF - timedelta(days=27), AS_OF))
    return figures


def team_expect(baseline: float, target: float, values: dict[int, float]) -> Expected:
    """Latest value and status, by a plain reading of the progress-monitoring rules."""
    if not values:
        return Expected(status="No data")
    weeks = sorted(values)
    latest = values[weeks[-1]]
    sign = 1.0 if target >= baseline else -1.0
    gap = target - baseline

    def aim(w: int) -> float:
        return baseline + gap * min(w / WEEKS, 1.0)

    wrong = [sign * (values[w] - aim(w)) < -1e-9 for w in weeks]
    if sign * (latest - target) >= -1e-9:
        status = "Met"
    else:
        projection_short = False
        if len(weeks) >= 3:
            slope, intercept = statistics.linear_regression(weeks, [values[w] for w in weeks])
            projected = intercept + slope * WEEKS
            projection_short = sign * (projected - target) < -0.1 * abs(gap) - 1e-9
        if (len(weeks) >= 6 and all(wrong[-4:])) or projection_short:
            status = "Off track"
        elif len(weeks) >= 3 and all(wrong[-3:]):
            status = "At risk"
        elif weeks[-1] < CURRENT_WEEK:
            status = "Stale"
        else:
            status = "On track"
    return Expected(latest=latest, status=status)


def on_track_values(baseline: float, target: float, weeks: int = CURRENT_WEEK,
                    lift: float = 0.01, skip: tuple[int, ...] = ()) -> dict[int, float]:
    """Weekly values just above the goal line (rounded as typed)."""
    return {w: round(baseline + (target - baseline) * w / WEEKS + lift, 2)
            for w in range(1, weeks + 1) if w not in skip}


# -- coach workbooks -------------------------------------------------------------------------------

def about(name: str) -> Tab:
    return Tab("About", [["Coach", name], ["School(s)", "Maple Grove ES"],
                         ["Role", "Instructional coach"]])


def relationships() -> Tab:
    return Tab("Relationships", [["Teacher", "Knows Face", "Knows Classroom"],
                                 *[[t, "Y", "Y"] for t in TEACHERS]])


def coach_book(name: str, log_tabs: list[Tab], rel: Tab | None = None) -> list[Tab]:
    return [about(name), rel or relationships(), *log_tabs]


def log_rows(rows: list[Entry], columns: list[tuple[str, Callable[[Entry], Any]]]
             ) -> list[list[Any]]:
    return [[head for head, _ in columns], *[[get(e) for _, get in columns] for e in rows]]


def mdy(day: date) -> str:
    return f"{day.month}/{day.day}/{day.year}"


def clock(minutes_of_day: int, ampm: bool = True) -> str:
    h, m = divmod(minutes_of_day, 60)
    if not ampm:
        return f"{h}:{m:02d}"
    return f"{(h - 1) % 12 + 1}:{m:02d} {'AM' if h < 12 else 'PM'}"


DURATION_STYLES: list[Callable[[int], str]] = [
    lambda m: f"{m // 60}:{m % 60:02d}",
    lambda m: (f"{m // 60}h {m % 60}m" if m % 60 else f"{m // 60}h") if m >= 60 else f"{m}m",
    lambda m: f"{m} min",
    lambda m: f"{m / 60:g} hrs",
    lambda m: f"{m}m",
]


def _coach_variants() -> list[Variant]:
    out: list[Variant] = []

    def simple(name: str, covers: str, head: list[str], cells: list[Callable[[Entry], Any]],
               seed: int, texts: list[tuple[str, str, bool]] = STANDARD,
               template: str = "", minutes: tuple[int, ...] = (30, 45, 60, 90)) -> None:
        rows = entries(seed, texts=texts, minutes=minutes)
        tab = Tab("Time Log", log_rows(rows, list(zip(head, cells, strict=True))))
        out.append(Variant(name, "coach", "coach", covers,
                           coach_book(f"Coach {name.title()}", [tab]),
                           {name: coach_expect(rows)}, template))

    day = lambda e: e.day  # noqa: E731
    mins = lambda e: e.minutes  # noqa: E731
    act = lambda e: e.text  # noqa: E731
    who = lambda e: e.teacher  # noqa: E731
    simple("template-headers", "control: the template's own headers",
           ["Date", "Minutes", "Activity", "Teacher(s)"], [day, mins, act, who], 1)
    simple("date-of-session", "header words: Date of Session, Duration (min), Type of Support, "
           "Teacher(s) Supported", ["Date of Session", "Duration (min)", "Type of Support",
                                    "Teacher(s) Supported"], [day, mins, act, who], 2)
    simple("session-date", "header words: Session Date, Minutes Spent, Coaching Activity, "
           "Staff Member", ["Session Date", "Minutes Spent", "Coaching Activity",
                            "Staff Member"], [mdy_cell, mins, act, who], 3)
    simple("time-minutes", "header words: Date of Coaching Session, Time (minutes), Support "
           "Type, Who", ["Date of Coaching Session", "Time (minutes)", "Support Type", "Who"],
           [day, mins, act, who], 4)
    simple("hrs-column", "an Hrs column in decimal hours", ["Date", "Hrs", "Activity",
                                                           "Teacher"],
           [day, lambda e: e.minutes / 60, act, who], 5)
    simple("durations-typed", "durations typed as 1:30, 1h 30m, 90 min, 1.5 hrs, 45m",
           ["Date", "Duration", "Activity", "Teacher(s)"],
           [day, lambda e: DURATION_STYLES[e.day.toordinal() % 5](e.minutes), act, who], 6)
    simple("start-end", "Start and End times with no duration",
           ["Date", "Start Time", "End Time", "Activity"],
           [day, lambda e: clock(8 * 60 + 15), lambda e: clock(8 * 60 + 15 + e.minutes), act],
           7)
    simple("time-range", "a Time column holding ranges like 9:00-9:45",
           ["Date", "Time", "Activity", "Teacher"],
           [day, lambda e: f"{clock(9 * 60, False)}-{clock(9 * 60 + e.minutes, False)}", act,
            who], 8)
    simple("time-range-ampm", "a Time column holding 8:15 AM \u2013 9:00 AM",
           ["Date", "Time", "Activity", "Teacher"],
           [day, lambda e: f"{clock(8 * 60 + 15)} \u2013 {clock(8 * 60 + 15 + e.minutes)}", act,
            who], 9)
    simple("odd-date-header", "a date column with an odd header, found by its cells",
           ["Logged", "Minutes", "Activity", "Teacher"], [day, mins, act, who], 10)
    simple("odd-minutes-header", "a minutes column with an odd header, found by its cells",
           ["Date", "Amount", "Activity", "Teacher"], [day, mins, act, who], 11)
    simple("district-words", "activities in the district's own words",
           ["Date", "Minutes", "Activity", "Teacher"], [day, mins, act, who], 12,
           texts=DISTRICT)
    simple("unmapped-activity", "an activity that matches nothing counts as Unknown, visibly",
           ["Date", "Minutes", "Activity", "Teacher"], [day, mins, act, who], 13,
           texts=[*STANDARD, ("Yearbook committee", UNKNOWN, False)])

    # Totals, subtotals and averages between the weeks.
    rows = entries(14)
    grid: list[list[Any]] = [["Coaching log 2026-27: Coach Totals"], [],
                             ["Date", "Minutes", "Activity", "Teacher"]]
    week_rows: list[Entry] = []
    for e in rows:
        if week_rows and e.day - timedelta(days=e.day.weekday()) != \
                week_rows[0].day - timedelta(days=week_rows[0].day.weekday()):
            n = (week_rows[0].day - START).days // 7 + 1
            grid.append([f"Week {n} total", sum(w.minutes for w in week_rows)])
            week_rows = []
        grid.append([e.day, e.minutes, e.text, e.teacher])
        week_rows.append(e)
    grid.append(["Total", sum(e.minutes for e in rows)])
    grid.append(["Average", round(sum(e.minutes for e in rows) / len(rows), 1)])
    out.append(Variant("totals-rows", "coach", "coach",
                       "week subtotals, a Total and an Average row are not counted",
                       coach_book("Coach Totals", [Tab("Time Log", grid)]),
                       {"totals-rows": coach_expect(rows)}))

    # A total typed as a formula's text, and a total row with no label at all.
    rows = entries(15)
    grid = log_rows(rows, [("Date", day), ("Minutes", mins), ("Activity", act)])
    grid.append([None, f"=SUM(B2:B{len(rows) + 1})"])
    grid.append([None, sum(e.minutes for e in rows)])
    out.append(Variant("formula-totals", "coach", "coach",
                       "=SUM(...) shown as text, and an unlabelled total row",
                       coach_book("Coach Sums", [Tab("Time Log", grid)]),
                       {"formula-totals": coach_expect(rows)}))

    # The header repeated for every week, blank rows between.
    rows = entries(16)
    head = ["Date", "Mins", "Activity", "Teacher"]
    grid = []
    last_week = None
    for e in rows:
        week = (e.day - START).days // 7
        if week != last_week:
            grid += [[], head] if grid else [head]
            last_week = week
        grid.append([e.day, e.minutes, e.text, e.teacher])
    out.append(Variant("repeated-headers", "coach", "coach",
                       "the header repeated above every week, blank rows between",
                       coach_book("Coach Repeat", [Tab("Time Log", grid)]),
                       {"repeated-headers": coach_expect(rows)}))

    rows = entries(17)
    grid = log_rows(rows, [("Date", day), ("Minutes", mins), ("Activity", act),
                           ("Teacher", who)])
    grid += [[], ["Notes: minutes are rounded to the nearest 15; sub days are logged in full."],
             ["Key:"], ["Updated every Friday by the coach"]]
    out.append(Variant("notes-below", "coach", "coach", "notes below the table",
                       coach_book("Coach Notes", [Tab("Time Log", grid)]),
                       {"notes-below": coach_expect(rows)}))

    # A summary table to the right: not read, noted.
    rows = entries(18)
    grid = log_rows(rows, [("Date", day), ("Minutes", mins), ("Activity", act),
                           ("Teacher", who)])
    sums: dict[str, int] = {}
    for e in rows:
        sums[e.text] = sums.get(e.text, 0) + e.minutes
    side = [["Activity", "Total minutes"], *[[k, v] for k, v in sorted(sums.items())]]
    for i, pair in enumerate(side):
        grid[i] = [*grid[i], None, *pair]
    out.append(Variant("side-summary", "coach", "coach",
                       "a summary table to the right is ignored, with a finding",
                       coach_book("Coach Side", [Tab("Time Log", grid)]),
                       {"side-summary": coach_expect(rows)}))

    # Two logs side by side: September and October, each read as its own table.
    rows = entries(19)
    first = [e for e in rows if e.day < date(2026, 10, 1)]
    second = [e for e in rows if e.day >= date(2026, 10, 1)]
    left = log_rows(first, [("Date", day), ("Minutes", mins), ("Activity", act)])
    right = log_rows(second, [("Date", day), ("Minutes", mins), ("Activity", act)])
    grid = [[*(left[i] if i < len(left) else [None] * 3), None,
             *(right[i] if i < len(right) else [None] * 3)]
            for i in range(max(len(left), len(right)))]
    out.append(Variant("side-by-side-logs", "coach", "coach",
                       "a second log to the right is read as its own table",
                       coach_book("Coach Twin", [Tab("Time Log", grid)]),
                       {"side-by-side-logs": coach_expect(rows)}))

    # A tab per month, each with its own headers.
    rows = entries(20)
    months = [("Time Log - Sept", 9, ["Date", "Mins", "Activity"]),
              ("Time Log - Oct", 10, ["Date of Session", "Duration (min)", "Type of Support"]),
              ("Time Log - Nov", 11, ["Session Date", "Minutes Spent", "Coaching Activity"])]
    tabs = [Tab(tab, log_rows([e for e in rows if e.day.month == m],
                              list(zip(head, [day, mins, act], strict=True))))
            for tab, m, head in months]
    out.append(Variant("month-tabs", "coach", "coach", "a tab per month, worded differently",
                       coach_book("Coach Months", tabs), {"month-tabs": coach_expect(rows)}))

    # The district's monthly Activity Report: a title block, hours in quarter hours, a role.
    rows = entries(21, minutes=(15, 45, 60, 90, 135))
    tabs = []
    for month, label in ((9, "Sept"), (10, "Oct"), (11, "Nov")):
        mine = [e for e in rows if e.day.month == month]
        grid = [["Instructional Coach Activity Report"],
                ["Coach: Coach Report", None, f"Month: {label} 2026"], [],
                ["Date", "Hours", "Activity", "School #", "Role"]]
        grid += [[e.day, e.minutes / 60, e.text, 117, "Classroom Supporter*"] for e in mine]
        grid.append(["Total", sum(e.minutes for e in mine) / 60])
        tabs.append(Tab(f"Activity Report {label}", grid, merged=("A1:E1",)))
    out.append(Variant("activity-report", "coach", "coach",
                       "title rows, quarter-hour decimals, a Total row, a tab per month",
                       coach_book("Coach Report", tabs),
                       {"activity-report": coach_expect(rows)}, "activity-report"))

    # MI Worklog: day blocks stacked down the tab, each with its header and a daily total.
    rows = entries(22)
    grid = [[None, None, None, None, "Week of:", "Weekly worklog"]]
    by_day: dict[date, list[Entry]] = {}
    for e in rows:
        by_day.setdefault(e.day, []).append(e)
    for d, mine in by_day.items():
        grid += [[f"{d:%A}".upper()], [],
                 [None, "Date", "Start Time", "End Time", None, "Grant Source",
                  "Work / Task"]]
        t = 7 * 60 + 45
        for e in mine:
            grid.append([None, d, clock(t), clock(t + e.minutes), None, "Title I", e.text])
            t += e.minutes
        grid.append([None, "Total Daily Hrs", round(sum(e.minutes for e in mine) / 60, 2)])
    out.append(Variant("mi-worklog", "coach", "coach",
                       "day blocks: a weekday label, the header and a daily total for each day",
                       coach_book("Coach Worklog", [Tab("Worklog", grid)]),
                       {"mi-worklog": coach_expect(rows)}, "mi-worklog"))

    # A header merged over two rows: "Time" over "Start" | "End".
    rows = entries(23)
    grid = [["Date", "Time", None, "Activity"], [None, "Start", "End", None]]
    grid += [[e.day, clock(10 * 60), clock(10 * 60 + e.minutes), e.text] for e in rows]
    out.append(Variant("two-row-header", "coach", "coach",
                       "a header merged over two rows (Time over Start | End)",
                       coach_book("Coach Merged", [Tab("Time Log", grid, merged=("B1:C1",))]),
                       {"two-row-header": coach_expect(rows)}, "saint-paul-plc"))

    # Relationships with a two-row header, check marks and High/Med/Low ratings.
    rows = entries(24)
    marks = ["\u2713", "\u2714", "Yes", "Y", True, "N"]
    rel = Tab("Relationships", [
        ["Staff Relationship Tracker: Coach Marks"],
        ["Teacher", "Knows", None, "Delight", "Engagement"],
        [None, "Face", "Classroom", None, None],
        *[[t, marks[i], marks[-1 - i], ("High", "Med", "Low")[i % 3],
           ("Low", "Medium", "High")[i % 3]] for i, t in enumerate(TEACHERS)]],
        merged=("B2:C2",))
    tab = Tab("Time Log", log_rows(rows, [("Date", day), ("Minutes", mins), ("Activity", act)]))
    figures = coach_expect(rows)
    figures.relationships = {"teachers_listed": len(TEACHERS),
                             "known_by_face": sum(m != "N" for m in marks),
                             "known_by_classroom": sum(m != "N" for m in marks),
                             "teachers_rated": len(TEACHERS)}
    out.append(Variant("relationship-marks", "coach", "coach",
                       "a merged Knows over Face | Classroom header, check marks, High/Med/Low",
                       coach_book("Coach Marks", [tab], rel),
                       {"relationship-marks": figures}, "relationship-tracker"))

    # What cannot be read: unknown with a finding, never zero.
    rows = entries(25)
    tab = Tab("Time Log", log_rows(rows, [("Minutes", mins), ("Activity", act),
                                          ("Teacher", who)]))
    out.append(Variant("no-date-column", "coach", "coach",
                       "a time log that lost its Date column: unknown, not 0",
                       coach_book("Coach Nodate", [tab]),
                       {"no-date-column": Expected(unknown=True, finding=(
                           "missing-column", "Time Log", "A1"))}))
    tab = Tab("Time Log", [["Week", "Notes"], *[[f"Week {w}", "busy week"] for w in range(1, 9)]])
    out.append(Variant("no-header", "coach", "coach", "a time log with no usable header",
                       coach_book("Coach Noheader", [tab]),
                       {"no-header": Expected(unknown=True, finding=(
                           "missing-header", "Time Log", ""))}))
    out.append(Variant("no-time-log", "coach", "coach", "a coach workbook with no time log",
                       coach_book("Coach Notab", []),
                       {"no-time-log": Expected(unknown=True, finding=("missing-tab", "", ""))}))
    tab = Tab("Time Log", log_rows(rows, [("Date", day), ("Activity", act),
                                          ("Teacher", who)]))
    out.append(Variant("no-time-column", "coach", "coach",
                       "a time log with no Minutes, Hours or Start/End: unknown, not 0",
                       coach_book("Coach Notime", [tab]),
                       {"no-time-column": Expected(unknown=True, finding=(
                           "missing-column", "Time Log", "A1"))}))
    days = ("Mon", "Tue", "Wed", "Thu", "Fri")
    grid = [["Technology Coach Time Log: Week of 10/12/2026"],
            ["Category", *days, "Total", "% of week"],
            ["Co-Planning", 1, 0.5, None, 1, None, 2.5, "6.7%"],
            ["Co-Teaching", 2, None, 1.5, None, 2, 5.5, "14.7%"],
            ["Tech Support/Troubleshooting", 0.5, 1, 0.5, 0.5, None, 2.5, "6.7%"],
            ["TOTAL", 3.5, 1.5, 2, 1.5, 2, 10.5, "28.1%"]]
    out.append(Variant("tech-coach-grid", "coach", "coach",
                       "categories down, days across: not a layout sheetsync reads; unknown",
                       coach_book("Coach Grid", [Tab("Time Log", grid)]),
                       {"tech-coach-grid": Expected(unknown=True, finding=(
                           "missing-header", "Time Log", ""))}, "tech-coach-tracker"))
    return out


def mdy_cell(e: Entry) -> str:
    return mdy(e.day)


# -- shared logs ----------------------------------------------------------------------------------

FORM_COACHES = ("Coach Finch", "Coach Wren", "Coach Heron")


def _form_rows(seed: int) -> list[tuple[str, Entry]]:
    rng = random.Random(seed)
    out = []
    for k, coach in enumerate(FORM_COACHES):
        for e in entries(seed * 10 + k, per_week=3):
            out.append((coach, e))
    rng.shuffle(out)
    return sorted(out, key=lambda ce: ce[1].day)


def _stamp(e: Entry, k: int) -> datetime:
    return datetime.combine(e.day + timedelta(days=k % 2), datetime.min.time()) + timedelta(
        hours=15, minutes=7 * k % 60)


def _shared_variants() -> list[Variant]:
    out = []

    def expect(name: str, rows: list[tuple[str, Entry]],
               label: Callable[[str], str] = lambda c: c) -> dict[str, Expected]:
        return {f"{name}: {label(c)}": coach_expect([e for cc, e in rows if cc == c])
                for c in FORM_COACHES}

    rows = _form_rows(31)
    grid = [["Timestamp", "Email Address", "Coach Name", "Date of coaching",
             "How many minutes?", "Type of support provided", "Teacher(s)"]]
    grid += [[_stamp(e, k), f"{c.split()[1].lower()}@example.org", c, e.day, e.minutes,
              e.text, e.teacher] for k, (c, e) in enumerate(rows)]
    out.append(Variant("form-responses", "shared_log", "shared_log",
                       "a Google Form's responses for many coaches, set up as a source kind",
                       [Tab("Form Responses 1", grid)], expect("form-responses", rows),
                       "google-forms-log"))

    rows = _form_rows(32)
    grid = [["Timestamp", "Email Address", "Coach Name", "School", "Date of coaching",
             "How many minutes?", "Type of support provided", "Teacher(s)", "Focus area"]]
    grid += [[_stamp(e, k), f"{c.split()[1].lower()}@example.org", c, "Riverside MS",
              mdy(e.day), DURATION_STYLES[k % 5](e.minutes) if k % 3 else e.minutes,
              e.text, e.teacher, "Small-group reading"] for k, (c, e) in enumerate(rows)]
    out.append(Variant("form-responses-auto", "shared_log", "auto",
                       "a Google Form's responses found with kind = auto; minutes as free text",
                       [Tab("Form Responses 1", grid)], expect("form-responses-auto", rows),
                       "google-forms-log"))

    rows = _form_rows(33)
    grid = [["Timestamp", "Email Address", "Date of coaching", "How many minutes?",
             "Type of support provided", "Teacher(s)"]]
    grid += [[_stamp(e, k), f"{c.split()[1].lower()}@example.org", e.day, e.minutes, e.text,
              e.teacher] for k, (c, e) in enumerate(rows)]
    out.append(Variant("form-email-only", "shared_log", "auto",
                       "a Form's responses where only the email says who the coach is",
                       [Tab("Form Responses 1", grid)],
                       expect("form-email-only", rows,
                              lambda c: f"{c.split()[1].lower()}@example.org"),
                       "google-forms-log"))

    rows = _form_rows(34)
    grid = [["Timestamp", "What is your name?",
             "Please select the district and the school that you are working for.",
             "Date", "Coaching Duration", "Activities", "Coachee"]]
    ids = {c: 5551200 + i for i, c in enumerate(FORM_COACHES)}
    grid += [[_stamp(e, k), f"{c}({ids[c]})", "Northfield USD-Maple Grove ES", e.day,
              e.minutes, e.text, e.teacher] for k, (c, e) in enumerate(rows)]
    out.append(Variant("teaching-lab-form", "shared_log", "auto",
                       "a coaching-log form whose names carry an id: Name(id)",
                       [Tab("Form Responses 1", grid)],
                       expect("teaching-lab-form", rows, lambda c: f"{c}({ids[c]})"),
                       "teaching-lab-form"))
    return out


# -- team trackers ---------------------------------------------------------------------------------

def goal_tab(baseline: Any, target: Any, *, unit: str | None = "percent",
             goal: str = "Raise the share of students proficient on the weekly check.",
             labels: dict[str, str] | None = None) -> Tab:
    names = {"baseline": "Baseline", "target": "Target", "smart_goal": "SMART Goal",
             **(labels or {})}
    rows = [["School", "Maple Grove ES"], ["Team", "Grade 3"],
            [names["smart_goal"], goal], ["Metric", "% proficient on the weekly check"],
            *([["Unit", unit]] if unit else []),
            [names["baseline"], baseline], [names["target"], target],
            ["Start Date", START]]
    return Tab("Goal", rows)


def weekly_tab(values: dict[int, Any], head: tuple[str, str] = ("Week", "Value"),
               extra: list[list[Any]] | None = None, name: str = "Weekly Progress") -> Tab:
    rows = [list(head), *[[w, v] for w, v in sorted(values.items())], *(extra or [])]
    return Tab(name, rows)


def pct(v: float) -> str:
    return f"{round(v * 100, 1):g}%"


def _team_variants() -> list[Variant]:
    out = []

    def team(name: str, covers: str, tabs: list[Tab], expected: Expected,
             template: str = "", kind: str = "team") -> None:
        out.append(Variant(name, "team", kind, covers, tabs, {name: expected}, template))

    values = on_track_values(0.40, 0.60)
    team("team-template", "control: the template's own tabs",
         [goal_tab("40%", "60%"), weekly_tab({w: pct(v) for w, v in values.items()})],
         team_expect(0.40, 0.60, values))
    values = on_track_values(0.559, 0.70, lift=-0.03)
    team("goal-percent-fraction", "Baseline 55.9% (90/161) and Target at least 70%",
         [goal_tab("55.9% (90/161)", "at least 70%"),
          weekly_tab({w: pct(v) for w, v in values.items()})],
         team_expect(90 / 161, 0.70, values), "smart-goal-plc")
    values = on_track_values(0.70, 0.80)
    team("goal-arrow", "a Target typed as 70% \u2192 80%, the Baseline blank",
         [goal_tab(None, "70% \u2192 80%"), weekly_tab({w: pct(v) for w, v in values.items()})],
         team_expect(0.70, 0.80, values))
    values = on_track_values(0.40, 0.60, lift=0.0)
    team("goal-sentence", "Baseline and Target blank; the SMART goal says from 40% to 60%",
         [goal_tab(None, None, unit=None,
                   goal="The percentage of 3rd graders proficient on fraction CFAs will "
                        "increase from 40% to 60% by November 13"),
          weekly_tab({w: pct(v) for w, v in values.items()})],
         team_expect(0.40, 0.60, values), "smart-goal-plc")
    values = on_track_values(0.55, 0.70)
    team("goal-about", "Target 'about 70': unknown, with the reason",
         [goal_tab("55%", "about 70"), weekly_tab({w: pct(v) for w, v in values.items()})],
         Expected(latest=values[CURRENT_WEEK], unknown=True,
                  finding=("bad-percent", "Goal", "B7")))
    values = on_track_values(0.559, 0.70)
    team("goal-disagrees", "Baseline 60% (90/161): the percent and the fraction disagree",
         [goal_tab("60% (90/161)", "70%"), weekly_tab({w: pct(v) for w, v in values.items()})],
         Expected(latest=values[CURRENT_WEEK], unknown=True,
                  finding=("inconsistent-value", "Goal", "B6")))
    values = {w: 24 - w for w in range(1, CURRENT_WEEK + 1)}
    team("goal-decrease", "a decreasing count: Target 'no more than 12' incidents",
         [goal_tab(24, "no more than 12", unit="count"), weekly_tab(values)],
         team_expect(24, 12, values))
    values = on_track_values(0.40, 0.60, lift=-0.06)
    team("goal-off-track", "weekly values below the goal line", [
        goal_tab("40%", "60%"), weekly_tab({w: pct(v) for w, v in values.items()})],
        team_expect(0.40, 0.60, values))

    # PLC plan wording: labels and headers in the team's words.
    values = on_track_values(0.30, 0.50)
    goal = goal_tab("30%", "50%", labels={"baseline": "Our Current Reality:",
                                          "target": "Target Goal",
                                          "smart_goal": "Team SMART Goal"})
    weekly = Tab("Weekly Progress", [
        ["Week Number", "Week Ending", "Percent Proficient", "Change idea"],
        *[[w, START + timedelta(weeks=w - 1, days=4), pct(v), "re-teach"]
          for w, v in values.items()]])
    team("plc-words", "a PLC plan's own words: Our Current Reality, Week Number, Percent "
         "Proficient", [goal, weekly], team_expect(0.30, 0.50, values), "smart-goal-plc")

    values = on_track_values(0.50, 0.70)
    weekly = Tab("Weekly Progress", [
        ["Week", "Students Meeting", "Out Of", "Value"],
        *[[w, round(v * 40), 40, f"{round(v * 40)} of 40"] for w, v in values.items()]])
    counted = {w: round(v * 40) / 40 for w, v in values.items()}
    team("fractions", "weekly values as 32 of 47", [goal_tab("50%", "70%"), weekly],
         team_expect(0.50, 0.70, counted))

    values = on_track_values(0.40, 0.60)
    extra = [["Average", pct(sum(values.values()) / len(values))], [],
             ["Notes: week 4 had no check (fall break)."]]
    team("weekly-average-notes", "an Average row and notes below the weekly table",
         [goal_tab("40%", "60%"), weekly_tab({w: pct(v) for w, v in values.items()},
                                             extra=extra)],
         team_expect(0.40, 0.60, values))

    # Data walls: weeks across.
    values = on_track_values(0.40, 0.60, skip=(4,))
    wall = [["3rd Grade Breakthrough Goal: 40% \u2192 60% proficient on weekly fraction checks"],
            ["Baseline: 40% (30/75) on 9/4"], [],
            [None, *[f"Wk {w}" for w in range(1, WEEKS + 1)]],
            ["Week of", *[START + timedelta(weeks=w - 1) for w in range(1, WEEKS + 1)]],
            ["Goal line", *[pct(0.40 + 0.02 * w) for w in range(1, WEEKS + 1)]],
            ["Actual", *[pct(values[w]) if w in values else None for w in range(1, WEEKS + 1)]],
            ["What we tried", *["number-line warm-up" if w in values else None
                                for w in range(1, WEEKS + 1)]],
            [], ["Notes: Wk 4 no CFA (fall break). Actual = % of students at 3/4 or better."]]
    team("data-wall-weeks", "a data wall: Wk 1 ... Wk 10 across, Goal line / Actual rows",
         [goal_tab("40%", "60%"), Tab("Data Wall", wall, merged=("A1:K1",))],
         team_expect(0.40, 0.60, values), "data-wall")
    values = on_track_values(0.20, 0.45)
    wall = [[None, *[START + timedelta(weeks=w - 1) for w in range(1, WEEKS + 1)]],
            ["Goal Line", *[pct(0.20 + 0.025 * w) for w in range(1, WEEKS + 1)]],
            ["Actual %", *[pct(values[w]) if w in values else None
                           for w in range(1, WEEKS + 1)]]]
    team("data-wall-dates", "a data wall with dates across",
         [goal_tab("20%", "45%"), Tab("Weekly Progress", wall)],
         team_expect(0.20, 0.45, values), "data-wall")

    # What cannot be read.
    values = on_track_values(0.40, 0.60)
    team("weekly-no-week", "a weekly table with no Week column and no dates: unknown",
         [goal_tab("40%", "60%"), Tab("Weekly Progress", [
             ["Result", "Strategy"], *[[pct(v), "stations"] for v in values.values()]])],
         Expected(unknown=True, finding=("missing-column", "Weekly Progress", "A1")))
    grid = [["", "Sept", "PM1", "PM2", "PM3", "PM4", "Jan"],
            ["Benchmark", 90, 91.7, 93.4, 95.1, 96.8, 103],
            ["Aim", 55, 59, 63, 67, 71, 79],
            ["WCPM", 55, 58, 61, None, 66, 70]]
    team("rti-line-graph", "time points PM1..PMn across: not weeks; unknown",
         [goal_tab(55, 115, unit="score"), Tab("Weekly Progress", grid)],
         Expected(unknown=True, finding=("missing-header", "Weekly Progress", "")),
         "rti-line-graph")
    return out


def build_layout_corpus() -> list[Variant]:
    """Every variant, coach workbooks first, then shared logs, then team trackers."""
    return [*_coach_variants(), *_shared_variants(), *_team_variants()]


def write_layout_corpus(folder: Path) -> tuple[Path, list[Variant]]:
    """Write every variant as ``<name>.xlsx`` under ``folder`` and a config that reads them
    all (``config.toml``); returns the config's path and the variants."""
    folder.mkdir(parents=True, exist_ok=True)
    variants = build_layout_corpus()
    lines = ["[program]", 'name = "Layout corpus"', f'as_of = "{AS_OF.isoformat()}"',
             'timezone = "America/New_York"', "", "[output]", 'path = "out/dashboard.xlsx"',
             "", "[run]", "workers = 1  # read in line: small files, and no forking in tests",
             ""]
    (folder / "sources").mkdir(exist_ok=True)
    for v in variants:
        write_xlsx(folder / "sources" / f"{v.name}.xlsx", v.tabs)
        lines += ["[[sources]]", f'kind = "{v.config_kind}"',
                  f'path = "sources/{v.name}.xlsx"', ""]
    config = folder / "config.toml"
    config.write_text("\n".join(lines), encoding="utf-8")
    return config, variants


@dataclass
class Reading:
    """What a run showed for one expected source: the figures, or None where blank."""

    minutes: float | None = None
    share: float | None = None
    outside: float | None = None
    latest: float | None = None
    status: str | None = None
    present: bool = True
    notes: list[str] = field(default_factory=list)


def read_corpus(config_path: Path) -> dict[str, Reading]:
    """Run sheetsync on the corpus (read, validate, analyse; nothing written) and say what it
    showed for every coach and team, by source. Uses only what every version of sheetsync
    has, so the same corpus can be read before and after a change."""
    import math

    import sheetsync
    from sheetsync.analytics.program import analyse

    config = sheetsync.load_config(config_path)
    data = sheetsync.validate(config, use_cache=False)
    analysis = analyse(data, data.as_of, column_of=data.column_of)

    def num(value: Any) -> float | None:
        try:
            value = float(value)
        except (TypeError, ValueError):
            return None
        return None if math.isnan(value) else value

    out: dict[str, Reading] = {}
    for rec in analysis.coaches.time.to_dict("records"):
        out[rec["source"]] = Reading(minutes=num(rec["minutes_recent"]),
                                     share=num(rec["coaching_share_recent"]),
                                     outside=num(rec["outside_role_minutes_recent"]),
                                     notes=[str(rec.get("time_note") or "")])
    for rec in analysis.coaches.relationships.to_dict("records"):
        if rec["source"] in out:
            out[rec["source"]].notes.append(repr({k: int(rec[k]) for k in (
                "teachers_listed", "known_by_face", "known_by_classroom", "teachers_rated")}))
    for rec in analysis.teams.teams.to_dict("records"):
        out[rec["source"]] = Reading(latest=num(rec["latest_value"]), status=rec["status"],
                                     notes=[str(rec.get("reason") or "")])
    findings = [(f.source, f.code, f.tab, f.cell) for f in data.findings]
    out["\0findings"] = Reading(notes=[repr(f) for f in findings])
    return out


def findings_of(readings: dict[str, Reading]) -> set[tuple[str, str, str, str]]:
    import ast

    return {ast.literal_eval(n) for n in readings["\0findings"].notes}


FIGURES = ("minutes", "share", "outside", "latest")


def close(a: float | None, b: float | None) -> bool:
    return a is not None and b is not None and abs(a - b) <= 1e-6 * max(1.0, abs(b))


def verdict(variant: Variant, source: str, expected: Expected,
            readings: dict[str, Reading]) -> str:
    """How a source was read: "right", "unknown" (blank, with a finding at the named cell),
    "missing" (not shown at all), or "WRONG: ..." (a number shown that is not the truth)."""
    got = readings.get(source)
    if got is None:
        return "missing"
    wrong = []
    for name in FIGURES:
        want, shown = getattr(expected, name), getattr(got, name)
        if shown is not None and (want is None or not close(shown, want)):
            wrong.append(f"{name} {shown:g} (true: {'unknown' if want is None else f'{want:g}'})")
    if expected.status is not None and got.status != expected.status:
        wrong.append(f"status {got.status} (true: {expected.status})")
    if expected.unknown and got.status not in (None, "Unknown"):
        wrong.append(f"status {got.status} (true: unknown)")
    if wrong:
        return "WRONG: " + "; ".join(wrong)
    if expected.unknown:
        code, tab, cell = expected.finding or ("", "", "")
        found = findings_of(readings)
        at = any(f[0] == variant.name and f[1] == code and f[2] == tab and f[3] == cell
                 for f in found)
        blank = all(getattr(got, n) is None for n in ("minutes", "share", "outside"))
        return "unknown" if at and blank else "unknown, finding not at the cell"
    missing = [n for n in FIGURES if getattr(expected, n) is not None
               and getattr(got, n) is None]
    if missing:
        return "blank: " + ", ".join(missing)
    return "right"


def shown(reading: Reading | None) -> str:
    """A reading in a few words, for the before/after table."""
    if reading is None:
        return "not shown"
    if reading.status is not None:
        latest = "blank" if reading.latest is None else f"{reading.latest:.4g}"
        return f"{reading.status}, latest {latest}"
    parts = ["blank" if v is None else f"{v:.3g}" if name == "share" else f"{v:g}"
             for name, v in (("minutes", reading.minutes), ("share", reading.share),
                             ("outside", reading.outside))]
    return "min {} / share {} / outside {}".format(*parts)

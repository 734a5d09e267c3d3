"""Random programs through the whole pipeline: validate, roll up, build the tabs, write the file.

Hypothesis draws team trackers and coach workbooks whose headers come from the schemas' names
and aliases (in any case, order and position, under title rows) and whose rows are either
*good* (every cell a value people really type, with the value it must parse to) or *junk*
(the row's key cell is unusable: a bad week, date, teacher or phase; other cells anything).
Cells mix dates, serials, percents, fractions, formula errors, and text starting with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return.

Whatever is drawn, nothing raises, and every good row is accounted for: each team's weeks and
values reach Team Progress, each coach's minutes reach Coach Time, each listed teacher and
each cycle is counted once. Junk rows never add to the figures.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from python_calamine import CalamineWorkbook

from sheetsync.analytics.program import analyse
from sheetsync.analytics.thresholds import Thresholds
from sheetsync.backends.base import RawTab, RawWorkbook
from sheetsync.backends.excel.writer import write_workbook
from sheetsync.config import parse_config
from sheetsync.dataset import ProgramData, SourceStatus
from sheetsync.findings import Findings
from sheetsync.grid import date_serial
from sheetsync.report.dashboard import build_sheets
from sheetsync.schema import TabSpec, default_activities, load_schema, normalise_label
from sheetsync.validation import ValidationContext, build_frames, validate_workbook
from sheetsync.validation.cells import FORMULA_ERRORS

AS_OF = date(2026, 11, 4)
START = date(2026, 9, 7)
TEAM = load_schema("team")
COACH = load_schema("coach")
ACTIVITIES = default_activities()
CTX = ValidationContext(as_of=AS_OF, reference_date=AS_OF, challenge_weeks=10,
                        activities=ACTIVITIES)
INJECTION_PREFIXES = ["", "", "=", "+", "-", "@", "\t", "\r"]
TITLES = ["Fall 2026", "Type one row per line", "Lincoln Elementary: data", "Updated weekly"]
# Writing a workbook per example makes shrinking slow; failures print the drawn program as is.
PROPERTY_SETTINGS = settings(max_examples=25, deadline=None,
                             phases=[Phase.explicit, Phase.reuse, Phase.generate],
                             suppress_health_check=[HealthCheck.too_slow,
                                                    HealthCheck.data_too_large])


# -- cell values: (what the cell holds, what it must parse to) -------------------------------------

def good_date(low: date, high: date) -> st.SearchStrategy[tuple[Any, date]]:
    days = st.dates(min_value=low, max_value=high)
    return st.one_of(
        days.map(lambda d: (d, d)),
        days.map(lambda d: (datetime.combine(d, time(8, 30)), d)),
        days.map(lambda d: (date_serial(d), d)),
        days.map(lambda d: (d.isoformat(), d)),
        days.map(lambda d: (f"{d.month}/{d.day}/{d.year}", d)),
    )


def injected_text(body: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Text as people type it, sometimes starting like a formula."""
    return st.tuples(st.sampled_from(INJECTION_PREFIXES), body).map("".join)


plain_words = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")),
                      min_size=1, max_size=20)
garbage = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**9),
    st.floats(allow_nan=True, allow_infinity=True), st.dates(), st.datetimes(), st.times(),
    st.sampled_from(["N/A", "-", "lots", "Sept 31", "120%", "32 of 47", "1:30", "\u2713",
                     " ", "=1+1", "+A1", "-2", "@SUM(A1)", "\t=x", "\r=y", "#DIV/0!",
                     '=HYPERLINK("http://example.invalid","x")', "x" * 300]),
    injected_text(plain_words),
)


def good_minutes() -> st.SearchStrategy[tuple[Any, float]]:
    n = st.integers(0, 600)
    return st.one_of(
        n.map(lambda m: (m, float(m))), n.map(lambda m: (f"{m} min", float(m))),
        n.map(lambda m: (str(m), float(m))),
        st.integers(0, 9).map(lambda h: (f"{h}:30", h * 60 + 30.0)),
        st.integers(0, 8).map(lambda h: (f"{h}.5 hrs", h * 60 + 30.0)),
    )


def good_metric(unit: str) -> st.SearchStrategy[tuple[Any, float]]:
    if unit == "percent":
        n = st.integers(0, 100)
        return st.one_of(
            n.map(lambda p: (f"{p}%", p / 100)), n.map(lambda p: (p / 100, p / 100)),
            st.integers(2, 100).map(lambda p: (p, p / 100)),
            st.tuples(st.integers(0, 47), st.just(47)).map(lambda t: (f"{t[0]} of {t[1]}",
                                                                      t[0] / t[1])),
        )
    n = st.integers(0, 500)
    return st.one_of(n.map(lambda c: (c, float(c))), n.map(lambda c: (str(c), float(c))),
                     n.map(lambda c: (f"{c} of 500", float(c))))


def activity_text() -> st.SearchStrategy[str]:
    labels = [label for a in ACTIVITIES.activities for label in (a.name, *a.aliases)]
    return st.tuples(st.sampled_from(labels), st.sampled_from([str, str.upper, str.lower])
                     ).map(lambda t: t[1](t[0]))


def good_cell(tab: str, key: str, ctx: dict[str, Any]) -> st.SearchStrategy[tuple[Any, Any]]:
    """A value for column ``key`` of ``tab`` that must validate, with its parsed value."""
    text = injected_text(st.text(st.characters(codec="ascii", min_codepoint=65,
                                               max_codepoint=122), min_size=1, max_size=12))
    teacher = injected_text(st.integers(1, 999).map(lambda n: f"T. Teacher {n}"))
    typed = {
        ("Relationships", "teacher"): teacher.map(lambda t: (t, t.strip())),
        ("Coaching Cycles", "teacher"): teacher.map(lambda t: (t, t.strip())),
        ("Weekly Progress", "week_of"): good_date(START, AS_OF),
        ("Weekly Progress", "value"): good_metric(ctx.get("unit", "count")),
        ("Weekly Progress", "numerator"): st.integers(0, 40).map(lambda n: (n, float(n))),
        ("Weekly Progress", "denominator"): st.integers(1, 40).map(lambda n: (n, float(n))),
        ("Time Log", "date"): good_date(START, AS_OF),
        ("Time Log", "minutes"): good_minutes(),
        ("Time Log", "activity"): activity_text().map(lambda a: (a, a)),
        ("Relationships", "knows_face"): st.sampled_from([("Yes", True), ("n", False),
                                                          (True, True), ("\u2713", True)]),
        ("Relationships", "knows_classroom"): st.sampled_from([("Y", True), ("No", False)]),
        ("Relationships", "delight"): st.integers(1, 3).map(lambda n: (n, n)),
        ("Relationships", "engagement"): st.integers(1, 3).map(lambda n: (str(n), n)),
        ("Relationships", "last_contact"): good_date(START, AS_OF),
        ("Coaching Cycles", "phase"): st.sampled_from(
            [("Plan", "Plan"), ("act", "Act"), ("Reflecting", "Reflect"),
             ("done", "Complete"), ("Complete", "Complete")]),
        ("Coaching Cycles", "start_date"): good_date(START, AS_OF),
        ("Coaching Cycles", "last_update"): good_date(START, AS_OF),
        ("Coaching Cycles", "next_steps_total"): st.integers(0, 5).map(lambda n: (n, n)),
        ("Coaching Cycles", "next_steps_done"): st.integers(0, 5).map(lambda n: (n, n)),
        ("Time Log", "start"): st.just((None, None)),
        ("Time Log", "end"): st.just((None, None)),
        ("Time Log", "hours"): st.integers(0, 8).map(lambda n: (n, float(n))),
        ("Time Log", "quarter_hours"): st.integers(0, 32).map(lambda n: (n, float(n))),
    }
    return typed.get((tab, key), text.map(lambda t: (t, t)))


# definitely unusable values for a row's key column: the row must not count
BAD_WEEK = st.sampled_from(["lots", "#REF!", 60, -1, 0, "=1+1", 2.5, "week five", True,
                            "@week", None, "N/A"])
BAD_DATE = st.sampled_from(["Sept 31", "lots", "#VALUE!", "=TODAY()", 3_000_000, "2026-13-01",
                            True, "@date", "+1", -5, "1850-01-01", "9999-12-31", None])
BAD_TEACHER = st.sampled_from(sorted(FORMULA_ERRORS))
# ("=Plan" is not here: choices ignore punctuation, so it reads as Plan.)
BAD_PHASE = st.sampled_from(["lots", "=Plann", "#REF!", "Phase 9", 3, True, "+Acted", "@cmd"])


# -- tabs ------------------------------------------------------------------------------------------

def header_label(spec: TabSpec, key: str) -> st.SearchStrategy[str]:
    col = spec.column(key)
    return st.tuples(st.sampled_from([col.name, *col.aliases]),
                     st.sampled_from([str, str.upper, str.lower, lambda s: f" {s} :"])
                     ).map(lambda t: t[1](t[0]))


def tab_name(spec: TabSpec) -> st.SearchStrategy[str]:
    return st.sampled_from([spec.name, *spec.aliases])


@dataclass
class Grid:
    """A drawn table tab: its rows, and the good rows' sheet rows and parsed values."""

    name: str
    rows: list[list[Any]]
    good: dict[int, dict[str, Any]] = field(default_factory=dict)  # sheet row -> key -> value
    junk: list[int] = field(default_factory=list)  # sheet rows
    keys: list[str] = field(default_factory=list)


@st.composite
def table_grid(draw, spec: TabSpec, always: tuple[str, ...], row_key: str,
               bad_key_value: st.SearchStrategy, ctx: dict[str, Any], *,
               distinct: dict[str, list[Any]] | None = None, max_rows: int = 12) -> Grid:
    """A table tab with the ``always`` columns plus a random choice of the others, shuffled.

    ``distinct`` gives, per key, the raw values good rows must use in turn (unique weeks).
    """
    optional = [c.key for c in spec.columns if c.key not in always]
    keys = list(always) + draw(st.lists(st.sampled_from(optional), unique=True,
                                        max_size=len(optional))) if optional else list(always)
    keys = draw(st.permutations(keys))
    header = [draw(header_label(spec, k)) for k in keys]
    if draw(st.booleans()):
        header.append("Colour code")  # a column sheetsync does not use
    titles = draw(st.lists(st.sampled_from(TITLES), max_size=2))
    grid = Grid(draw(tab_name(spec)), [[t] for t in titles] + [header], keys=list(keys))
    pool = {k: list(v) for k, v in (distinct or {}).items()}
    for _ in range(draw(st.integers(0, max_rows))):
        if draw(st.integers(0, 5)) == 0:
            grid.rows.append([])  # blank rows inside the data
            continue
        sheet_row = len(grid.rows) + 1
        if draw(st.integers(0, 3)) == 0 or any(not pool[k] for k in pool):
            row = [draw(bad_key_value) if k == row_key else draw(garbage) for k in keys]
            if "week_of" in keys:  # a valid Week Of would rescue a bad Week
                row[keys.index("week_of")] = None
            grid.junk.append(sheet_row)
        else:
            parsed: dict[str, Any] = {}
            row = []
            for k in keys:
                if k in pool:
                    value = pool[k].pop(0)
                    raw = draw(st.sampled_from([value, str(value), f"Wk {value}",
                                                float(value)]))
                else:
                    raw, value = draw(good_cell(spec.name, k, ctx))
                row.append(raw)
                parsed[k] = value
            grid.good[sheet_row] = parsed
        grid.rows.append(row)
    return grid


GOALS = [("percent", "60%", 0.6, "80%", 0.8), ("percent", 0.7, 0.7, 0.9, 0.9),
         ("count", 12, 12.0, 30, 30.0), ("count", "40", 40.0, "20", 20.0)]


@dataclass
class Workbook:
    raw: RawWorkbook
    kind: str
    grids: dict[str, Grid]
    label: str  # the school + team, or the coach, as the leaders' tabs show it
    school: str = ""
    unit: str = ""


@st.composite
def team_tracker(draw, index: int) -> Workbook:
    unit, base_raw, base, target_raw, target = draw(st.sampled_from(GOALS))
    prefix = draw(st.sampled_from(INJECTION_PREFIXES[:6]))
    school, team = f"{prefix}School {index}", f"{prefix}Team {index}"
    goal = [["School", school], ["Team", team],
            ["SMART Goal", draw(injected_text(plain_words))],
            ["Metric", draw(injected_text(plain_words))], ["Unit", unit],
            ["Baseline", base_raw], ["Target", target_raw],
            ["Start Date", draw(st.sampled_from([START, START.isoformat(), date_serial(START)]))]]
    for label in ("Team Lead", "Coach", "Focus Area", "Members", "Direction", "End Date"):
        if draw(st.booleans()):
            goal.append([label, draw(garbage)])
    weeks = draw(st.permutations(list(range(1, 11))))
    weekly = draw(table_grid(TEAM.tab("Weekly Progress"), ("week", "value"), "week", BAD_WEEK,
                             {"unit": unit}, distinct={"week": weeks}))
    tabs = {draw(tab_name(TEAM.tab("Goal"))): RawTab("Goal", goal),
            weekly.name: RawTab(weekly.name, weekly.rows)}
    if draw(st.booleans()):
        actions = draw(table_grid(TEAM.tab("Action Steps"), ("action",), "action",
                                  st.sampled_from(sorted(FORMULA_ERRORS)), {}, max_rows=5))
        tabs[actions.name] = RawTab(actions.name, actions.rows)
    raw = RawWorkbook(f"team-{index}.xlsx", {n: RawTab(n, t.rows) for n, t in tabs.items()})
    return Workbook(raw, "team", {"weekly": weekly}, team.strip(), school.strip(), unit)


@st.composite
def coach_workbook(draw, index: int) -> Workbook:
    prefix = draw(st.sampled_from(INJECTION_PREFIXES[:6]))
    named = draw(st.booleans())
    coach = f"{prefix}Coach {index}" if named else None
    about = [["Coach", coach], ["School(s)", draw(injected_text(plain_words))]]
    time_log = draw(table_grid(COACH.tab("Time Log"), ("date", "minutes", "activity"), "date",
                               BAD_DATE, {}))
    # some good entries dated after the as-of date: kept, with a warning, but not counted yet
    future = draw(st.lists(st.tuples(st.dates(AS_OF + timedelta(days=1),
                                              AS_OF + timedelta(days=40)),
                                     st.integers(1, 90)), max_size=2))
    keys = time_log.keys
    for day, minutes in future:
        row: list[Any] = [None] * len(keys)
        row[keys.index("date")], row[keys.index("minutes")] = day, minutes
        row[keys.index("activity")] = "Modeling"
        time_log.rows.append(row)
        time_log.good[len(time_log.rows)] = {"date": day, "minutes": float(minutes),
                                             "future": True}
    relationships = draw(table_grid(COACH.tab("Relationships"), ("teacher",), "teacher",
                                    BAD_TEACHER, {}))
    cycles = draw(table_grid(COACH.tab("Coaching Cycles"), ("teacher", "phase"), "phase",
                             BAD_PHASE, {}))
    grids = {"time_log": time_log, "relationships": relationships, "cycles": cycles}
    tabs = {draw(tab_name(COACH.tab("About"))): about,
            **{g.name: g.rows for g in grids.values()}}
    raw = RawWorkbook(f"coach-{index}.xlsx", {n: RawTab(n, rows) for n, rows in tabs.items()})
    return Workbook(raw, "coach", grids, coach.strip() if coach else f"coach-{index}")


@st.composite
def programs(draw) -> list[Workbook]:
    teams = draw(st.integers(1, 3))
    coaches = draw(st.integers(1, 3))
    return ([draw(team_tracker(i)) for i in range(teams)]
            + [draw(coach_workbook(i)) for i in range(coaches)])


# -- the pipeline ----------------------------------------------------------------------------------

CONFIG = parse_config({"program": {"name": "Random program", "as_of": AS_OF.isoformat()},
                       "sources": [{"kind": "auto", "path": "sources/program.xlsx"}],
                       "output": {"path": "dashboard.xlsx"}}, Path("/tmp/sheetsync.toml"))


def run_pipeline(books: list[Workbook]):
    findings = Findings()
    records, statuses = [], []
    for book in books:
        schema = TEAM if book.kind == "team" else COACH
        name = Path(book.raw.location).stem
        result = validate_workbook(book.raw, schema, source=name, ctx=CTX)
        findings.extend(result.findings)
        records.append(result.records)
        statuses.append(SourceStatus(name, book.kind, book.raw.location, "ok",  # type: ignore
                                     rows=result.rows, data_as_of=datetime(2026, 11, 5)))
    groups = {a.name: (a.group, a.outside_role) for a in ACTIVITIES.activities}
    data = ProgramData(frames=build_frames(records, activity_groups=groups), findings=findings,
                       sources=statuses, as_of=AS_OF)
    analysis = analyse(data.frames, AS_OF, Thresholds.from_mapping({}), groups=ACTIVITIES.groups,
                       column_of=data.column_of)
    data.findings.extend(analysis.flags)
    sheets = build_sheets(CONFIG, data, analysis, as_of=AS_OF,
                          generated_at=datetime(2026, 11, 5, 2), duration_s=0.5)
    return data, analysis, {s.name: s for s in sheets}


def table(sheet, index: int = 0) -> list[dict[str, Any]]:
    t = sheet.tables[index]
    return [dict(zip(t.columns, row, strict=True)) for row in t.rows]


def in_unit(value: float, unit: str) -> float:
    return round(value * 100, 1) if unit == "percent" else round(value, 2)


def check_accounting(books: list[Workbook], data: ProgramData, sheets: dict) -> None:
    """Every good input row, and no junk row, is in the frames and the leaders' tabs."""
    progress = table(sheets["Team Progress"])
    coach_weeks = table(sheets["Coach Time"], 0)
    coach_totals = {r["Coach"]: r for r in table(sheets["Coach Time"], 1)}
    relationships = {r["Coach"]: r for r in table(sheets["Relationships"], 0)}
    cycles = {r["Coach"]: r for r in table(sheets["Coaching Cycles"])}
    frames = data.frames
    for book in books:
        source = Path(book.raw.location).stem
        if book.kind == "team":
            grid = book.grids["weekly"]
            weekly = frames["weekly"][frames["weekly"]["source"] == source]
            assert sorted(weekly["row"].tolist()) == sorted(grid.good)
            expected = {v["week"]: in_unit(v["value"], book.unit) for v in grid.good.values()}
            shown = {r["Week"]: r["Value"] for r in progress
                     if r["School"] == book.school and r["Team"] == book.label
                     and r["Week"] >= 1 and r["Value"] is not None}
            assert shown.keys() == expected.keys()
            for week, value in expected.items():
                assert shown[week] == pytest.approx(value, abs=0.051)
            continue
        log = book.grids["time_log"]
        entries = frames["time_log"][frames["time_log"]["source"] == source]
        assert sorted(entries["row"].tolist()) == sorted(log.good)
        counted = sum(v["minutes"] for v in log.good.values() if not v.get("future"))
        assert entries["minutes"].sum() == pytest.approx(sum(v["minutes"]
                                                             for v in log.good.values()))
        assert coach_totals[book.label]["Minutes, whole program"] == pytest.approx(counted)
        assert sum(r["Minutes"] or 0 for r in coach_weeks
                   if r["Coach"] == book.label) == pytest.approx(counted)
        rel = book.grids["relationships"]
        assert relationships[book.label]["Teachers listed"] == len(rel.good)
        rated = len(rel.good) if {"delight", "engagement"} <= set(rel.keys) else 0
        assert relationships[book.label]["Teachers rated"] == rated
        cyc = book.grids["cycles"]
        assert cycles[book.label]["Cycles"] == len(cyc.good) + len(cyc.junk)
        for phase in ("Plan", "Act", "Reflect", "Complete"):
            assert cycles[book.label][phase] == sum(v["phase"] == phase
                                                    for v in cyc.good.values())


def formulas_in(path: Path) -> list[bytes]:
    with zipfile.ZipFile(path) as zf:
        return [f for name in zf.namelist() if name.startswith("xl/worksheets/")
                for f in re.findall(rb"<f>(.*?)</f>", zf.read(name))]


# -- the properties --------------------------------------------------------------------------------

@PROPERTY_SETTINGS
@given(books=programs())
def test_random_programs_are_validated_rolled_up_and_written(books, tmp_path_factory):
    data, analysis, sheets = run_pipeline(books)
    check_accounting(books, data, sheets)
    assert len(analysis.teams.teams) == sum(b.kind == "team" for b in books)
    assert len(analysis.coaches.overview) == sum(b.kind == "coach" for b in books)

    out = tmp_path_factory.mktemp("written") / "dashboard.xlsx"
    result = write_workbook(out, list(sheets.values()), now=datetime(2026, 11, 5, 2))
    assert set(sheets) <= set(result.managed_tabs)
    assert formulas_in(out) == []  # every source text stays text
    written = CalamineWorkbook.from_path(str(out)).get_sheet_by_name("Team Progress")
    rows = written.to_python()
    model = sheets["Team Progress"].tables[0]
    assert len(rows) == len(model.rows) + 1
    texts = [r[:2] for r in rows[1:]]
    assert texts == [[r[0] or "", r[1] or ""] for r in model.rows]  # "=School 1" stays text


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(book=coach_workbook(0), team=team_tracker(0))
def test_one_team_and_one_coach_account_for_every_row(book, team):
    data, _, sheets = run_pipeline([team, book])
    check_accounting([team, book], data, sheets)


def test_the_header_labels_drawn_are_the_schemas_own():
    """The strategies only use labels the schemas declare, so a mapping failure is a bug."""
    for schema in (TEAM, COACH):
        for spec in schema.tabs:
            for col in spec.columns:
                for label in (col.name, *col.aliases):
                    assert normalise_label(label) in col.labels()

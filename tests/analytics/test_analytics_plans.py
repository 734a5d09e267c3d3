"""Plans, cycle outcomes and reach on the example program, against figures worked out by hand
from the workbooks' rows (see sheet_templates/examples/generate.py), and the rules on small
frames."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

import sheetsync
from sheetsync.analytics.plans import SchoolFacts, plan_rollup
from sheetsync.analytics.thresholds import Thresholds
from sheetsync.pipeline import RollupContext, analyse, validate

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "sheet_templates" / "examples"
AS_OF = date(2026, 11, 4)


@pytest.fixture(scope="module")
def plans():
    config = sheetsync.load_config(REPO / "config" / "example.toml")
    data = validate(config, AS_OF, use_cache=False)
    return analyse(data, RollupContext(config, AS_OF, datetime(2026, 11, 4, 6))).plans


def by(frame: pd.DataFrame, key: str, value: str) -> pd.Series:
    (row,) = [r for _, r in frame.iterrows() if r[key] == value]
    return row


def rows_of(path: Path, tab: str, header_row: int = 1) -> list[dict]:
    ws = openpyxl.load_workbook(path, data_only=True)[tab]
    values = list(ws.iter_rows(values_only=True))
    header = values[header_row - 1]
    return [dict(zip(header, row, strict=False)) for row in values[header_row:]
            if any(v is not None for v in row)]


def test_marcus_bell_spends_60_percent_of_his_coaching_minutes_on_his_plan(plans):
    # By hand from his Time Log: the coaching rows (the activity list's first group, his
    # aliases included) with usable minutes, and among them those whose Focus Area is a
    # component of Domain 3 or 2d (his plan), not 1d or blank.
    coaching = {"co-planning", "modeling", "co-teaching", "observation", "feedback/debrief",
                "goal setting", "data conversation", "coplanning", "co-plan",
                "planning with teacher", "modelling", "model lesson", "demo lesson",
                "coteaching", "co-teach", "team teaching", "observe", "classroom observation",
                "walkthrough", "feedback", "debrief", "descriptive feedback", "goal-setting",
                "goals", "cycle planning", "data chat", "data talk", "data meeting"}
    on_plan = {"3c", "3b: Using Questioning and Discussion Techniques", "2d",
               "3d Using Assessment in Instruction"}
    total = aligned = 0
    for row in rows_of(EXAMPLES / "coaches" / "marcus-bell.xlsx", "Time Log"):
        minutes = row["Mins"]
        if str(row["Activity"]).casefold() not in coaching or not isinstance(minutes, int) \
                or minutes < 0:
            continue
        total += minutes
        aligned += minutes if row["Focus Area"] in on_plan else 0
    assert (aligned, total) == (1050, 1750)

    marcus = by(plans.coaches, "coach", "Marcus Bell")
    assert marcus["coaching_minutes"] == 1750 and marcus["aligned_minutes"] == 1050
    assert marcus["aligned_share"] == pytest.approx(0.60)
    # cycles: 3c and 3b serve Domain 3, 1d does not
    assert (marcus["cycles_aligned"], marcus["cycles_total"]) == (2, 3)
    assert marcus["review_overdue"] is True  # next review 2026-10-30, before the as-of date


def test_reach_at_maple_hill_is_12_of_16(plans):
    # Maple Hill's roster: Priya Natarajan's 9 teachers and Jordan Castillo's 7 listed there.
    # In the last 4 weeks (Oct 8 to Nov 4) Priya coached all 9; Jordan, whose log stops on
    # Oct 16, coached 3 of his 7 Maple Hill teachers in that window.
    listed = [r for r in rows_of(EXAMPLES / "coaches" / "jordan-castillo.xlsx",
                                 "Relationship Tracker")
              if r["School"] == "Maple Hill Elementary"]
    assert len(listed) == 7
    maple = by(plans.schools, "school", "Maple Hill Elementary")
    assert (maple["reached"], maple["roster"]) == (12, 16)
    assert maple["reach_share"] == pytest.approx(0.75)
    assert maple["roster_from"] == "teachers listed"
    assert maple["region"] == "North"


def test_student_evidence_in_2_of_3_closed_cycles_in_the_north(plans):
    # One closed cycle each for Marcus Bell (evidence Y), Priya Natarajan (a check mark) and
    # Jordan Castillo (FALSE).
    north = by(plans.regions, "region", "North")
    assert (north["with_evidence"], north["closed_cycles"]) == (2, 3)
    assert north["evidence_share"] == pytest.approx(2 / 3)
    assert north["goal_met"] == 1  # Marcus Met; Priya partly; Jordan not met
    assert north["coaches"] == 3 and north["teams"] == 4


def test_missing_plans_uncoached_focus_areas_and_reviews(plans):
    jordan = by(plans.coaches, "coach", "Jordan Castillo")
    assert not jordan["has_plan"]
    assert pd.isna(jordan["aligned_share"])  # no plan: unknown, never 0%
    assert pd.isna(jordan["areas_uncoached"])
    renata = by(plans.coaches, "coach", "Renata Okafor")
    assert renata["areas_uncoached_list"] == "3b: Using Questioning and Discussion Techniques"
    priya = by(plans.coaches, "coach", "Priya Natarajan")
    assert priya["areas_uncoached_list"] == "4c: Communicating with Families"
    assert priya["review_overdue"] is False  # agreed Aug 26, no review date: due Nov 26
    riverside = by(plans.schools, "school", "Riverside Middle School")
    assert riverside["plans_missing"] == 1  # Jordan there without a plan
    assert riverside["reviews_overdue"] == 1  # Marcus's
    maple = by(plans.schools, "school", "Maple Hill Elementary")
    assert maple["areas_uncoached"] == "4c: Communicating with Families"


def test_phase_time_of_renatas_closed_cycle_against_the_model(plans):
    (closed,) = [r for r in rows_of(EXAMPLES / "coaches" / "renata-okafor.xlsx",
                                    "Coaching Cycles") if r["Phase"] == "Complete"]
    plan = (closed["Act Started"] - closed["Plan Started"]).days
    act = (closed["Reflect Started"] - closed["Act Started"]).days
    reflect = (closed["Ended"] - closed["Reflect Started"]).days
    whole = plan + act + reflect
    renata = by(plans.coaches, "coach", "Renata Okafor")
    assert renata["phase_cycles"] == 1
    assert renata["phase_plan_share"] == pytest.approx(plan / whole)
    assert renata["phase_reflect_share"] == pytest.approx(reflect / whole)
    assert plans.phase_model == (0.25, 0.25, 0.50)


def test_the_district_reach_is_against_the_target(plans):
    # 16 of 16 at Cedar Grove, 12 of 16 at Maple Hill, 14 of 19 at Riverside
    assert (plans.district["reached"], plans.district["roster"]) == (42, 51)
    assert plans.reach_target == 0.90


def test_no_teacher_name_is_in_any_plan_figure(plans):
    teachers = set()
    for path in (EXAMPLES / "coaches").glob("*.xlsx"):
        wb = openpyxl.load_workbook(path, read_only=True)
        for ws in wb.worksheets:
            rows = list(ws.iter_rows(values_only=True))
            for i, row in enumerate(rows):
                if row and any(str(v).startswith("Teacher") for v in row if v):
                    col = next(j for j, v in enumerate(row) if v and str(v).startswith("Teacher"))
                    teachers |= {r[col] for r in rows[i + 1:] if r and len(r) > col and r[col]}
                    break
    assert len(teachers) > 40
    text = " ".join(str(v) for frame in (plans.coaches, plans.schools, plans.regions)
                    for v in frame.to_numpy().ravel())
    assert not [t for t in teachers if str(t) in text]


def frames(**extra):
    base = {
        "coaches": pd.DataFrame({"source": ["a"], "coach": ["A"], "schools": ["Lincoln"],
                                 "role": [None], "region": [None]}),
        "relationships": pd.DataFrame({"source": ["a"] * 3, "coach": ["A"] * 3,
                                       "teacher": ["Lee", "Park", "Diaz"],
                                       "school": [None, "Lincoln", "lincoln "]}),
        "time_log": pd.DataFrame({
            "source": ["a"] * 3, "date": pd.to_datetime(["2026-10-30"] * 3),
            "minutes": [30.0, 30.0, 40.0], "activity_group": ["Coaching with teachers"] * 3,
            "focus_area": ["2a: Creating an Environment of Respect and Rapport", None, None],
            "teachers": ["Lee and Park", None, "Nobody listed"]}),
    }
    base.update(extra)
    return base


ROSTER = pd.DataFrame({"source": ["a"], "coach": ["A"], "schools": ["Lincoln"]})


def test_a_staff_count_in_the_config_is_the_roster_and_a_plan_from_the_workbook_counts():
    plan = pd.DataFrame({"source": ["a"], "row": [2], "school": [None],
                         "focus_area": ["Domain 2: The Classroom Environment"],
                         "agreed": pd.to_datetime(["2026-06-01"]),
                         "next_review": pd.to_datetime([None])})
    out = plan_rollup(frames(plans=plan), None, None, ROSTER, date(2026, 11, 4),
                      schools=[SchoolFacts("Lincoln", "East", staff=20)])
    school = out.schools.iloc[0]
    assert (school["reached"], school["roster"], school["roster_from"]) == (2, 20,
                                                                            "staff count")
    coach = out.coaches.iloc[0]
    assert (coach["reached"], coach["roster"]) == (2, 3)
    assert coach["aligned_share"] == pytest.approx(0.30)
    assert bool(coach["review_overdue"])  # agreed June 1, no review: due after 92 days
    assert coach["region"] == "East" and school["plans_missing"] == 0


def test_unknown_is_never_zero_without_a_plan_or_without_the_column():
    out = plan_rollup(frames(), None, None, ROSTER, date(2026, 11, 4))
    coach = out.coaches.iloc[0]
    assert coach["aligned_minutes"] is None and coach["aligned_share"] is None
    assert coach["review_overdue"] is None and out.schools.iloc[0]["plans_missing"] == 1
    assert out.schools.iloc[0]["aligned_share"] is None


def test_the_phase_model_is_configurable_and_must_add_up():
    th = Thresholds.from_mapping({"phase_plan_share": 0.2, "phase_act_share": 0.3,
                                  "phase_reflect_share": 0.5})
    assert plan_rollup(frames(), None, None, ROSTER, date(2026, 11, 4), th
                       ).phase_model == (0.2, 0.3, 0.5)
    with pytest.raises(ValueError, match="add up to 1"):
        Thresholds.from_mapping({"phase_plan_share": 0.5})


def test_a_region_typed_in_the_workbook_is_used_for_a_school_the_config_does_not_list():
    about = frames()["coaches"].assign(region=["West"])
    out = plan_rollup(frames(coaches=about), None, None, ROSTER, date(2026, 11, 4),
                      schools=[SchoolFacts("Other School", "East")])
    assert out.coaches.iloc[0]["region"] == "West"
    assert set(out.schools["school"]) == {"Lincoln", "Other School"}
    assert out.regions["region"].tolist() == ["East", "West"]
    assert out.sources_in["a"] == (frozenset({"Lincoln"}), frozenset({"West"}))


def test_a_school_and_region_from_the_config_entry_where_the_workbook_names_none():
    roster = ROSTER.assign(schools=[None])
    teams = pd.DataFrame({"source": ["t"], "school": [None], "status": ["On track"]})
    out = plan_rollup(frames(), teams, None, roster, date(2026, 11, 4),
                      placed={"a": ("Lincoln", "North"), "t": ("Lincoln", None)})
    school = out.schools.iloc[0]
    assert (school["school"], school["region"], school["teams_on_track"]) == ("Lincoln",
                                                                                "North", 1)
    assert out.sources_in["a"] == (frozenset({"Lincoln"}), frozenset({"North"}))
    assert out.sources_in["t"] == (frozenset({"Lincoln"}), frozenset({"North"}))


def test_a_source_entry_may_name_its_school_and_region(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[[sources]]\nkind = "coach"\npath = "c/"\nschool = "Lincoln"\n'
                    'region = "North"\n[output]\npath = "o.xlsx"\n', encoding="utf-8")
    (entry,) = sheetsync.load_config(path).sources
    assert (entry.school, entry.region) == ("Lincoln", "North")

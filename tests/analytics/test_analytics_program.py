"""The whole-program analysis: headline figures, flags, privacy and robustness."""

from __future__ import annotations

from dataclasses import fields
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sheetsync.analytics import analyse
from sheetsync.analytics.coaches import PHASES
from sheetsync.analytics.teams import STATUSES
from sheetsync.dataset import ProgramData
from sheetsync.findings import CODES, Finding, Severity
from sheetsync.schema import load_schema

START = date(2026, 9, 7)
AS_OF = date(2026, 10, 6)  # Tuesday of week 5: weeks 1-4 are complete

# Values that must never reach a leader-facing result: teacher names, facts, notes, focus.
SECRETS = {
    "teacher": ["Zelda Quist", "Bram Oduya", "Cleo Vantassel", "Dov Ravensworth",
                "Ines Fairweather"],
    "professional_fact": ["Coaches robotics", "Wrote the phonics unit"],
    "personal_fact": ["Keeps bees", "Runs marathons"],
    "notes": ["Cried after the observation", "Worried about evaluation"],
    "focus": ["Classroom management struggles"],
    "grade_subject": ["Grade 3 ELA sect 7"],
    "room": ["Room 404B"],
    "teachers": ["Zelda Quist, Bram Oduya", "Cleo Vantassel and Dov Ravensworth"],
}


def typed(frame_name: str, rows: list[dict]) -> pd.DataFrame:
    """A frame with the columns and dtypes documented in sheetsync/dataset.py."""
    kind, tab = {"goals": ("team", "Goal"), "weekly": ("team", "Weekly Progress"),
                 "actions": ("team", "Action Steps"), "coaches": ("coach", "About"),
                 "relationships": ("coach", "Relationships"), "time_log": ("coach", "Time Log"),
                 "cycles": ("coach", "Coaching Cycles")}[frame_name]
    spec = load_schema(kind).tab(tab)
    dtype_of = {"date": "datetime64[ns]", "int": "Int64", "number": "float64",
                "percent": "float64", "metric": "float64", "yesno": "boolean"}
    columns = {"source": "object", "coach": "object", "row": "Int64"}
    columns.update({c.key: dtype_of.get(c.type, "object") for c in spec.columns})
    if frame_name == "goals":
        columns.update(weeks="Int64", start_date="datetime64[ns]", end_date="datetime64[ns]")
    if frame_name == "time_log":
        columns.update(activity_group="object", outside_role="boolean")
    data = {}
    for col, dtype in columns.items():
        values = pd.Series([r.get(col) for r in rows], dtype="object")
        if dtype == "datetime64[ns]":
            data[col] = pd.to_datetime(values).astype(dtype)
        else:
            data[col] = values.astype(dtype)
    return pd.DataFrame(data)


def goal_row(source: str, school: str, baseline: float, target: float,
             direction: str = "increase") -> dict:
    return {"source": source, "school": school, "team": source.title(), "coach": "Ana",
            "metric": "score", "unit": "score", "smart_goal": "Goal", "baseline": baseline,
            "target": target, "direction": direction, "start_date": START,
            "end_date": START + timedelta(weeks=10), "weeks": 10}


def weekly_rows(source: str, values: dict[int, float]) -> list[dict]:
    return [{"source": source, "row": w + 1, "week": w, "value": v,
             "what_we_tried": f"Strategy {w}"} for w, v in values.items()]


def example_program() -> dict[str, pd.DataFrame]:
    goals = [goal_row("met", "Oak", 10, 20),  # 21 in week 4: Met
             goal_row("fine", "Oak", 10, 20),  # on the aimline 11, 12, 13, 14: On track
             goal_row("off", "Elm", 10, 20),  # flat at 10: projection 10, Off track
             goal_row("none", "Elm", 10, 20)]  # nothing entered: No data
    weekly = (weekly_rows("met", {1: 12, 2: 15, 3: 18, 4: 21})
              + weekly_rows("fine", {1: 11, 2: 12, 3: 13, 4: 14})
              + weekly_rows("off", {1: 10, 2: 10, 3: 10, 4: 10}))
    day = pd.Timestamp("2026-09-20")
    time_log = [
        # Ana: 240 of 360 minutes coaching overall; 90 of 120 in the last 4 weeks.
        {"source": "ana", "coach": "Ana", "row": 2, "date": "2026-09-01", "minutes": 240,
         "activity": "Modeling", "activity_group": "Coaching with teachers",
         "outside_role": False, "teachers": SECRETS["teachers"][0],
         "notes": SECRETS["notes"][0]},
        {"source": "ana", "coach": "Ana", "row": 3, "date": day, "minutes": 90,
         "activity": "Co-planning", "activity_group": "Coaching with teachers",
         "outside_role": False, "teachers": SECRETS["teachers"][1],
         "notes": SECRETS["notes"][1]},
        {"source": "ana", "coach": "Ana", "row": 4, "date": day, "minutes": 30,
         "activity": "Substitute coverage", "activity_group": "Other duties",
         "outside_role": True, "teachers": None, "notes": None},
        # Ben: 30 of 120 minutes coaching, all recent.
        {"source": "ben", "coach": "Ben", "row": 2, "date": day, "minutes": 30,
         "activity": "Modeling", "activity_group": "Coaching with teachers",
         "outside_role": False, "teachers": SECRETS["teacher"][4], "notes": None},
        {"source": "ben", "coach": "Ben", "row": 3, "date": day, "minutes": 90,
         "activity": "Admin tasks", "activity_group": "Other duties",
         "outside_role": False, "teachers": None, "notes": None},
    ]
    relationships = [
        {"source": "ana", "coach": "Ana", "row": i + 2, "teacher": name,
         "grade_subject": SECRETS["grade_subject"][0], "room": SECRETS["room"][0],
         "knows_face": True, "knows_classroom": i % 2 == 0,
         "professional_fact": SECRETS["professional_fact"][i % 2],
         "personal_fact": SECRETS["personal_fact"][i % 2], "delight": 1 + i % 3,
         "engagement": 3 - i % 3, "last_contact": "2026-09-01" if i == 0 else "2026-10-01",
         "notes": SECRETS["notes"][i % 2]}
        for i, name in enumerate(SECRETS["teacher"])
    ]
    cycles = [{"source": "ana", "coach": "Ana", "row": 2, "teacher": SECRETS["teacher"][0],
               "focus": SECRETS["focus"][0], "start_date": "2026-09-01", "phase": "Act",
               "next_steps_total": 3, "next_steps_done": 1, "last_update": "2026-09-02"}]
    return {
        "goals": typed("goals", goals),
        "weekly": typed("weekly", weekly),
        "actions": typed("actions", [{"source": "off", "row": 2, "action": "Call families",
                                      "due": "2026-09-30", "status": "In progress"}]),
        "coaches": typed("coaches", [{"source": "ana", "coach": "Ana"},
                                     {"source": "ben", "coach": "Ben"}]),
        "relationships": typed("relationships", relationships),
        "time_log": typed("time_log", time_log),
        "cycles": typed("cycles", cycles),
    }


def test_program_figures():
    analysis = analyse(example_program(), AS_OF)
    status = dict(zip(analysis.teams.teams["source"], analysis.teams.teams["status"],
                      strict=True))
    assert status == {"met": "Met", "fine": "On track", "off": "Off track", "none": "No data"}
    program = analysis.program
    assert (program.teams_on_track, program.teams_total, program.teams_met) == (2, 4, 1)
    assert program.on_track_share == pytest.approx(0.5)
    assert program.benchmark_share == 0.75 and program.meets_benchmark is False
    assert program.status_counts == {"Met": 1, "On track": 1, "At risk": 0, "Off track": 1,
                                     "Stale": 0, "No data": 1, "Unknown": 0,
                                     "Not met": 0}
    # Coaching share across the program: (240 + 90 + 30) of (360 + 120) = 0.75;
    # last 4 weeks: (90 + 30) of (120 + 120) = 0.5.
    assert program.coaching_share == pytest.approx(0.75)
    assert program.coaching_share_recent == pytest.approx(0.5)
    assert program.coaches_total == 2 and program.coaches_meeting_target == 1  # Ana 75%
    assert program.outside_role_minutes == 30
    assert program.teachers_reached == 3  # Ana: Cleo and Dov; Ben: Ines
    labels = [label for label, _, _ in program.headline()]
    assert "Share of teams on track" in labels and "Flags: warning" in labels


def test_flags_are_sorted_complete_and_advisory():
    analysis = analyse(example_program(), AS_OF)
    assert analysis.flags == sorted(analysis.flags, key=Finding.sort_key)
    assert len(analysis.flags) == len(analysis.teams.flags) + len(analysis.coaches.flags)
    codes = {(f.source, f.code) for f in analysis.flags}
    assert {("off", "team-off-track"), ("off", "overdue-actions"), ("none", "team-stale"),
            ("ben", "low-coaching-share"), ("ana", "outside-role-time"),
            ("ana", "stale-contacts"), ("ana", "stalled-cycles")} <= codes
    severities = [f.severity.rank for f in analysis.flags]
    assert severities == sorted(severities)
    for flag in analysis.flags:
        assert flag.code in CODES and flag.severity is not Severity.ERROR
        assert flag.message and flag.hint.startswith("Consider")
    counts = analysis.program.flags_by_severity
    assert counts["error"] == 0
    assert counts["warning"] + counts["info"] == len(analysis.flags)
    table = analysis.flags_frame()
    assert list(table.columns) == ["severity", "code", "source", "tab", "cell", "message",
                                   "hint"]
    assert len(table) == len(analysis.flags)


def _leader_facing_text(analysis) -> str:
    """Every value in every result frame, flag and summary, as one searchable string."""
    parts = [repr(analysis.program)]
    for holder in (analysis.teams, analysis.coaches):
        for f in fields(holder):
            value = getattr(holder, f.name)
            if isinstance(value, pd.DataFrame):
                parts.append(value.to_csv(index=False))
                parts.extend(str(c) for c in value.columns)
    parts.extend(repr(flag) for flag in analysis.flags)
    return "\n".join(parts).casefold()


def test_no_private_teacher_detail_in_any_result():
    analysis = analyse(example_program(), AS_OF)
    text = _leader_facing_text(analysis)
    for column, secrets in SECRETS.items():
        for secret in secrets:
            for piece in [secret, *secret.split(", "), *secret.split(" and ")]:
                assert piece.casefold() not in text, (column, piece)
    # And no per-teacher rows: relationship and cycle frames hold one row per coach.
    assert list(analysis.coaches.relationships["source"]) == ["ana", "ben"]
    assert list(analysis.coaches.cycles["source"]) == ["ana", "ben"]
    private = (load_schema("coach").tab("Relationships").private_keys
               | load_schema("coach").tab("Time Log").private_keys)
    for f in fields(analysis.coaches):
        value = getattr(analysis.coaches, f.name)
        if isinstance(value, pd.DataFrame):
            assert not private & set(value.columns), f.name


def test_accepts_program_data_and_its_as_of():
    data = ProgramData(frames=example_program(), as_of=AS_OF)
    analysis = analyse(data)
    assert analysis.as_of == AS_OF and analysis.program.teams_total == 4
    with pytest.raises(ValueError, match="as-of"):
        analyse(example_program())


def test_column_letters_make_flags_point_at_cells():
    letters = {("Weekly Progress", "value"): "C", ("Action Steps", "due"): "C"}
    analysis = analyse(example_program(), AS_OF,
                       column_of=lambda source, tab, key: letters.get((tab, key)))
    off = next(f for f in analysis.flags if f.code == "team-off-track")
    assert off.cell == "C5"  # week 4 of team "off" sits on row 5
    overdue = next(f for f in analysis.flags if f.code == "overdue-actions")
    assert overdue.cell == "C2"


def test_empty_program():
    analysis = analyse({}, AS_OF)
    assert analysis.program.teams_total == 0 and analysis.program.on_track_share is None
    assert analysis.program.meets_benchmark is None
    assert analysis.program.coaching_share is None
    assert analysis.flags == []
    assert analysis.teams.teams.empty and analysis.coaches.overview.empty


def test_deterministic():
    first, second = analyse(example_program(), AS_OF), analyse(example_program(), AS_OF)
    assert first.flags == second.flags
    pd.testing.assert_frame_equal(first.teams.teams, second.teams.teams)
    pd.testing.assert_frame_equal(first.coaches.time_weekly, second.coaches.time_weekly)


# --- property test -------------------------------------------------------------------------------

texts = st.one_of(st.none(), st.text(alphabet="ab ,;&\n-", max_size=8))
maybe = st.one_of(st.none(), st.floats(-1e3, 1e3, allow_nan=False))
days = st.dates(min_value=date(2026, 6, 1), max_value=date(2027, 3, 1))
maybe_days = st.one_of(st.none(), days)


@st.composite
def programs(draw):
    n_teams = draw(st.integers(0, 4))
    goals, weekly, actions = [], [], []
    for i in range(n_teams):
        source = f"team-{i}"
        start = draw(days)
        weeks = draw(st.integers(1, 12))
        goals.append({"source": source, "school": draw(texts), "team": draw(texts),
                      "unit": draw(st.sampled_from(["percent", "count", "score", None])),
                      "baseline": draw(maybe), "target": draw(maybe),
                      "direction": draw(st.sampled_from(["increase", "decrease"])),
                      "start_date": start, "end_date": start + timedelta(weeks=weeks),
                      "weeks": weeks})
        for w in draw(st.lists(st.integers(1, 14), max_size=10)):
            weekly.append({"source": source, "row": w + 1, "week": w, "value": draw(maybe),
                           "what_we_tried": draw(texts)})
        for _ in range(draw(st.integers(0, 2))):
            actions.append({"source": source, "row": 2, "due": draw(maybe_days),
                            "status": draw(st.sampled_from(["Done", "In progress", None]))})
    coach_sources = [f"coach-{i}" for i in range(draw(st.integers(0, 3)))]
    extra = ["coach-extra"] if draw(st.booleans()) else []  # rows with no About tab
    everyone = coach_sources + extra
    time_log, relationships, cycles = [], [], []
    if everyone:
        for _ in range(draw(st.integers(0, 12))):
            time_log.append({
                "source": draw(st.sampled_from(everyone)), "coach": draw(texts), "row": 2,
                "date": draw(maybe_days),
                "minutes": draw(st.one_of(st.none(), st.floats(0, 600))),
                "activity_group": draw(st.sampled_from(
                    ["Coaching with teachers", "Collaborative", "Other duties", "Unknown",
                     "Mentoring", None])),
                "outside_role": draw(st.one_of(st.none(), st.booleans())),
                "teachers": draw(texts)})
        for _ in range(draw(st.integers(0, 8))):
            relationships.append({
                "source": draw(st.sampled_from(everyone)), "row": 3,
                "teacher": draw(st.sampled_from(["T1", "T2", None, " "])),
                "knows_face": draw(st.one_of(st.none(), st.booleans())),
                "knows_classroom": draw(st.one_of(st.none(), st.booleans())),
                "professional_fact": draw(texts), "personal_fact": draw(texts),
                "delight": draw(st.one_of(st.none(), st.integers(1, 3))),
                "engagement": draw(st.one_of(st.none(), st.integers(1, 3))),
                "last_contact": draw(maybe_days)})
        for _ in range(draw(st.integers(0, 4))):
            cycles.append({
                "source": draw(st.sampled_from(everyone)), "row": 4,
                "phase": draw(st.sampled_from([*PHASES, None])),
                "start_date": draw(maybe_days), "last_update": draw(maybe_days),
                "next_steps_total": draw(st.one_of(st.none(), st.integers(0, 5))),
                "next_steps_done": draw(st.one_of(st.none(), st.integers(0, 5)))})
    frames = {
        "goals": typed("goals", goals), "weekly": typed("weekly", weekly),
        "actions": typed("actions", actions),
        "coaches": typed("coaches", [{"source": s, "coach": draw(texts)}
                                     for s in coach_sources]),
        "time_log": typed("time_log", time_log),
        "relationships": typed("relationships", relationships),
        "cycles": typed("cycles", cycles),
    }
    return frames, {g["source"] for g in goals}, set(everyone) if (
        time_log or relationships or cycles or coach_sources) else set(coach_sources)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs(), days)
def test_random_valid_programs_never_raise_and_list_everyone(program, as_of):
    frames, teams, coaches = program
    analysis = analyse(frames, as_of)

    assert set(analysis.teams.teams["source"]) == teams
    assert analysis.teams.teams["status"].isin(STATUSES).all()
    assert analysis.teams.teams["reason"].str.contains("consider").all()
    expected_coaches = {s for s in coaches
                        if any(s in set(frames[n]["source"])
                               for n in ("coaches", "time_log", "relationships", "cycles"))}
    for frame in (analysis.coaches.overview, analysis.coaches.time,
                  analysis.coaches.relationships, analysis.coaches.cycles):
        assert set(frame["source"]) == expected_coaches
        assert frame["source"].is_unique
    for share in ("coaching_share", "coaching_share_recent"):
        values = analysis.coaches.time[share].dropna()
        assert ((values >= -1e-9) & (values <= 1 + 1e-9)).all()
    weekly_shares = analysis.coaches.time_weekly["share"].dropna()
    assert ((weekly_shares >= -1e-9) & (weekly_shares <= 1 + 1e-9)).all()
    shown = analysis.coaches.relationships["matrix_shown"]
    assert (analysis.coaches.relationships.loc[shown, "teachers_rated"] >= 5).all()
    for flag in analysis.flags:
        assert flag.code in CODES and flag.severity is not Severity.ERROR
    assert np.isfinite(analysis.program.teams_total)


def test_public_names_resolve():
    import sheetsync.analytics as analytics

    for name in analytics.__all__:
        assert getattr(analytics, name) is not None, name
    with pytest.raises(AttributeError):
        analytics.no_such_name  # noqa: B018

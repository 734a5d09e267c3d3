"""Coach rollups (time, relationships, cycles), checked against figures worked out by hand.

The as-of date is Tuesday 2026-10-06, so "the last 4 weeks" are the 4 complete weeks before it,
Monday 2026-09-07 to Sunday 2026-10-04 inclusive (the week of the as-of date is not over).
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sheetsync.analytics.coaches import (
    CYCLE_COLUMNS,
    NOT_A_NAME,
    OVERVIEW_COLUMNS,
    RELATIONSHIP_COLUMNS,
    TEACHER_SEPARATORS,
    TIME_COLUMNS,
    TIME_GROUP_COLUMNS,
    TIME_WEEKLY_COLUMNS,
    _factorized_text,
    coach_roster,
    coach_summary,
    cycle_summary,
    delight_engagement_matrix,
    relationship_summary,
    teacher_cell_parts,
    time_rollup,
)
from sheetsync.analytics.thresholds import Thresholds
from sheetsync.findings import CODES, Severity

AS_OF = date(2026, 10, 6)
COACHING = "Coaching with teachers"
COLLAB = "Collaborative"
OTHER = "Other duties"


def coaches_frame(*names: tuple[str, str]) -> pd.DataFrame:
    return pd.DataFrame({"source": [s for s, _ in names], "coach": [c for _, c in names],
                         "schools": "Lincoln", "role": "Instructional coach"}, dtype=object)


def time_frame(source: str, entries: list[tuple], coach: str = "Ana") -> pd.DataFrame:
    """entries: (date, minutes, group, outside_role, teachers[, activity])."""
    rows = []
    for i, entry in enumerate(entries):
        day, minutes, group, outside, teachers, *activity = entry
        rows.append({"source": source, "coach": coach, "row": i + 2, "date": day,
                     "start": None, "end": None, "minutes": minutes, "hours": None,
                     "quarter_hours": None, "activity": activity[0] if activity else group,
                     "activity_group": group, "outside_role": outside, "teachers": teachers,
                     "notes": "private note"})
    frame = pd.DataFrame(rows)
    frame["date"] = pd.to_datetime(frame["date"]).astype("datetime64[ns]")
    frame["row"] = frame["row"].astype("Int64")
    frame["minutes"] = frame["minutes"].astype("float64")
    frame["outside_role"] = frame["outside_role"].astype("boolean")
    for col in ("source", "coach", "activity", "activity_group", "teachers", "notes"):
        frame[col] = frame[col].astype(object)
    return frame


def relationships_frame(source: str, teachers: list[dict], coach: str = "Ana") -> pd.DataFrame:
    rows = []
    for i, t in enumerate(teachers):
        rows.append({"source": source, "coach": coach, "row": i + 2,
                     "teacher": t.get("teacher", f"Teacher {i}"), "school": "Lincoln",
                     "grade_subject": "3", "room": "12", "knows_face": t.get("face"),
                     "knows_classroom": t.get("classroom"),
                     "professional_fact": t.get("professional"),
                     "personal_fact": t.get("personal"), "delight": t.get("delight"),
                     "engagement": t.get("engagement"), "last_contact": t.get("contact"),
                     "notes": "private"})
    frame = pd.DataFrame(rows)
    for col in ("knows_face", "knows_classroom"):
        frame[col] = frame[col].astype("boolean")
    for col in ("delight", "engagement", "row"):
        frame[col] = frame[col].astype("Int64")
    frame["last_contact"] = pd.to_datetime(frame["last_contact"]).astype("datetime64[ns]")
    return frame


def cycles_frame(source: str, cycles: list[tuple], coach: str = "Ana") -> pd.DataFrame:
    """cycles: (phase, start_date, last_update, next_steps_total, next_steps_done)."""
    rows = [{"source": source, "coach": coach, "row": i + 2, "teacher": f"T{i}",
             "focus": "private focus", "start_date": start, "phase": phase,
             "next_steps_total": total, "next_steps_done": done, "last_update": update}
            for i, (phase, start, update, total, done) in enumerate(cycles)]
    frame = pd.DataFrame(rows)
    for col in ("start_date", "last_update"):
        frame[col] = pd.to_datetime(frame[col]).astype("datetime64[ns]")
    for col in ("row", "next_steps_total", "next_steps_done"):
        frame[col] = frame[col].astype("Int64")
    return frame


# --- time ----------------------------------------------------------------------------------------

ANA_LOG = [
    ("2026-09-01", 120, COACHING, False, "Old Teacher"),  # before the window
    ("2026-09-06", 60, COACHING, False, "Edge"),  # the Sunday before the window: just outside
    ("2026-09-07", 60, OTHER, True, None, "Substitute coverage"),  # first day of the window
    ("2026-09-20", 60, COACHING, False, "Lee, Park"),
    ("2026-10-04", 30, COLLAB, False, "Zed"),  # last day; not coaching: not a teacher reached
    ("2026-10-05", 45, COACHING, False, "Current"),  # this week, not over: not in the window
    ("2026-10-07", 100, COACHING, False, "Future"),  # after as-of: ignored everywhere
    ("2026-09-02", 30, OTHER, True, None, "Evaluation-related"),  # outside role, not recent
]


def test_coaching_share_last_four_weeks_and_whole_program():
    result = time_rollup(time_frame("ana", ANA_LOG), AS_OF)
    row = result.summary.iloc[0]
    # Whole program: coaching 120 + 60 + 60 + 45 = 285 of 120+60+60+60+30+45+30 = 405.
    assert row["minutes_total"] == 405
    assert row["minutes_coaching"] == 285
    assert row["coaching_share"] == pytest.approx(285 / 405)
    # Last 4 weeks (09-07..10-04): coaching 60 of 60 + 60 + 30 = 150 -> 0.40, exactly the target.
    assert row["minutes_recent"] == 150
    assert row["coaching_share_recent"] == pytest.approx(0.40)
    assert bool(row["meets_target_recent"]) is True
    assert row["entries"] == 7
    assert row["first_entry"] == pd.Timestamp("2026-09-01")
    assert row["last_entry"] == pd.Timestamp("2026-10-05")


def test_outside_role_minutes_whole_program_and_recent():
    row = time_rollup(time_frame("ana", ANA_LOG), AS_OF).summary.iloc[0]
    assert row["outside_role_minutes"] == 90  # 60 substitute coverage + 30 evaluation
    assert row["outside_role_minutes_recent"] == 60


def test_teachers_reached_counts_coaching_entries_in_the_window_only():
    row = time_rollup(time_frame("ana", ANA_LOG), AS_OF).summary.iloc[0]
    assert row["teachers_reached"] == 2  # Lee and Park; not Old Teacher, Edge, Zed or Future


@pytest.mark.parametrize(
    ("cells", "reached"),
    [
        (["Lee"], 1),
        (["Lee, Park"], 2),
        (["Lee; Park", "park"], 2),  # names match ignoring case
        (["Lee and Park", "Diaz & Moss"], 4),
        (["Lee,Park;Diaz and Moss & Kim + Cho"], 6),
        (["Anderson", "Sandy Lands"], 2),  # "and" inside a name does not split it
        (["  Mary   Lee ", "mary lee"], 1),  # spacing is ignored
        (["N/A", "-", "", None], 0),
        (["Lee\nPark"], 2),
    ],
)
def test_teachers_reached_splits_multi_name_cells(cells, reached):
    log = [("2026-09-20", 30, COACHING, False, cell) for cell in cells]
    row = time_rollup(time_frame("ana", log), AS_OF).summary.iloc[0]
    assert row["teachers_reached"] == reached


def test_teachers_reached_are_counted_per_coach():
    ana = [("2026-09-20", 30, COACHING, False, "Lee, Park"),
           ("2026-09-21", 30, COACHING, False, "Lee, Park"),  # the same cell again
           ("2026-09-22", 30, COACHING, False, "park and Diaz")]
    ben = [("2026-09-20", 30, COACHING, False, "Lee, Park"),  # a cell Ana also wrote
           ("2026-09-23", 30, COACHING, False, None)]
    log = pd.concat([time_frame("ana", ana), time_frame("ben", ben, coach="Ben")])
    log = log.sort_values("date", kind="stable")  # the two workbooks' rows interleaved
    reached = time_rollup(log, AS_OF).summary.set_index("source")["teachers_reached"]
    assert reached.to_dict() == {"ana": 3, "ben": 2}


# Cells are built from these pieces: separators, "and" as a word or inside one, spacing of
# every kind and characters on either side of a word boundary.
CELL_PIECES = ["Lee", "Park", "Anderson", "sandy", "and", "AND", "And", "aNd", "ánd", "_and",
               "and9", "ß", "a", "n", "d", " ", "  ", "\t", "\n", "\r", "\u00a0", "\u2003",
               "\u3000", "\x1c", "\x85", ",", ";", "&", "+", "-", "n/a", "None"]


def names_of(parts: list[str]) -> list[str]:
    cleaned = [" ".join(part.split()).casefold() for part in parts]
    return [name for name in cleaned if name not in NOT_A_NAME]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.sampled_from(CELL_PIECES), max_size=10).map("".join), max_size=6))
def test_cells_split_into_the_names_the_separator_pattern_gives(cells):
    parts, n_parts = teacher_cell_parts(cells)
    assert len(n_parts) == len(cells) and n_parts.sum() == len(parts)
    ends = np.cumsum(n_parts)
    for cell, end, n in zip(cells, ends, n_parts, strict=True):
        assert names_of(parts[end - n:end]) == names_of(TEACHER_SEPARATORS.split(cell))


def test_cells_holding_the_marker_characters_are_still_split():
    parts, n_parts = teacher_cell_parts(["Lee\x01Park, Diaz", "Moss\x00 and Kim"])
    assert list(n_parts) == [2, 2]
    assert names_of(parts[:2]) == ["lee\x01park", "diaz"]
    assert names_of(parts[2:]) == ["moss\x00", "kim"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["ana", "ana ", " ANA", "ben", "", "  ", None,
                                          float("nan"), pd.NA, 1, 1.0, True, "1"]),
                          st.integers(1, 12)), max_size=8))
def test_sources_factorized_by_runs_match_hashing_every_value(runs):
    # A workbook's rows come together, so sources are factorized one run at a time.
    series = pd.Series([value for value, n in runs for _ in range(n)], dtype=object)
    codes, names = _factorized_text(series)
    run_codes, run_names = _factorized_text(series, in_runs=True)
    assert run_codes.tolist() == codes.tolist() and run_names.tolist() == names.tolist()


def test_minutes_by_week_and_group_list_every_group_with_shares():
    result = time_rollup(time_frame("ana", ANA_LOG), AS_OF, program_start=date(2026, 9, 7))
    weekly = result.weekly
    assert list(weekly.columns) == list(TIME_WEEKLY_COLUMNS)
    # Entries fall in the Monday weeks of 08-31, 09-07, 09-14, 09-28 and 10-05.
    starts = sorted(set(weekly["week_start"]))
    assert starts == [pd.Timestamp(d) for d in ("2026-08-31", "2026-09-07", "2026-09-14",
                                                "2026-09-28", "2026-10-05")]
    assert len(weekly) == 5 * 3  # every week lists the 3 built-in groups
    week = weekly[weekly["week_start"] == pd.Timestamp("2026-08-31")].set_index(
        "activity_group")
    assert list(week.index) == [COACHING, COLLAB, OTHER]
    assert week.loc[COACHING, "minutes"] == 180 and week.loc[OTHER, "minutes"] == 30
    assert week.loc[COACHING, "share"] == pytest.approx(180 / 210)
    assert week.loc[COLLAB, "minutes"] == 0
    assert set(week["program_week"]) == {0}
    assert set(weekly.loc[weekly["week_start"] == pd.Timestamp("2026-09-07"),
                          "program_week"]) == {1}
    shares = weekly.groupby("week_start")["share"].sum()
    assert np.allclose(shares, 1.0)
    totals = result.groups.set_index("activity_group")
    assert list(result.groups.columns) == list(TIME_GROUP_COLUMNS)
    assert totals.loc[COACHING, "minutes"] == 285
    assert totals.loc[OTHER, "share"] == pytest.approx(90 / 405)
    # The last 4 weeks are exactly the weekly rows of the 4 weeks before the as-of week.
    window = weekly[(weekly["week_start"] >= pd.Timestamp("2026-09-07"))
                    & (weekly["week_start"] <= pd.Timestamp("2026-09-28"))]
    assert window["minutes"].sum() == result.summary.iloc[0]["minutes_recent"]


def test_the_window_is_the_last_complete_weeks():
    from sheetsync.analytics.coaches import recent_window

    # A nightly run early on Monday counts all of last week, Monday to Sunday.
    assert recent_window(date(2026, 11, 2), 4) == (date(2026, 10, 5), date(2026, 11, 1))
    # On Sunday the week is not over yet: it is left out.
    assert recent_window(date(2026, 11, 1), 4) == (date(2026, 9, 28), date(2026, 10, 25))
    # The program's own week start (a Wednesday start) shifts the weeks.
    assert recent_window(date(2026, 11, 2), 1, week_start=2) == (date(2026, 10, 21),
                                                                 date(2026, 10, 27))


def test_unknown_activity_group_is_listed_last():
    log = [("2026-09-20", 30, COACHING, False, None),
           ("2026-09-21", 30, "Unknown", False, None),
           ("2026-09-22", 30, "Mentoring", False, None)]
    groups = time_rollup(time_frame("ana", log), AS_OF).groups
    assert list(groups["activity_group"]) == [COACHING, COLLAB, OTHER, "Mentoring", "Unknown"]
    row = time_rollup(time_frame("ana", log), AS_OF).summary.iloc[0]
    assert row["coaching_share"] == pytest.approx(1 / 3)  # unknown time still counts


def test_time_rollup_matches_a_plain_groupby():
    """The bincount arithmetic agrees with a straightforward pandas groupby."""
    rng = np.random.default_rng(3)
    n = 3000
    groups = np.array([COACHING, COLLAB, OTHER, "Unknown"], dtype=object)
    log = pd.DataFrame({
        "source": rng.choice(np.array(["a", "b", "c", " b"], dtype=object), n),
        "coach": "x", "row": pd.array(np.arange(n) + 2, dtype="Int64"),
        "date": (np.datetime64("2026-08-01") + rng.integers(0, 90, n)
                 .astype("timedelta64[D]")).astype("datetime64[ns]"),
        "minutes": rng.choice([np.nan, 15.0, 30.0, 45.0], n),
        "activity": "x", "activity_group": rng.choice(groups, n),
        "outside_role": pd.array(rng.random(n) < 0.1, dtype="boolean"),
        "teachers": None,
    })
    result = time_rollup(log, AS_OF).summary.set_index("source")
    kept = log[(log["date"] <= pd.Timestamp(AS_OF)) & log["minutes"].notna()].copy()
    kept["source"] = kept["source"].str.strip()  # " b" is the same workbook as "b"
    # the 4 complete Monday-to-Sunday weeks before the as-of date (Tuesday 10-06)
    recent = kept["date"].between(pd.Timestamp("2026-09-07"), pd.Timestamp("2026-10-04"))
    coaching = kept["activity_group"] == COACHING
    expect = pd.DataFrame({
        "minutes_total": kept.groupby("source")["minutes"].sum(),
        "minutes_coaching_recent": kept[recent & coaching].groupby("source")["minutes"].sum(),
        "outside_role_minutes": kept[kept["outside_role"].astype(bool)]
        .groupby("source")["minutes"].sum(),
    })
    assert sorted(result.index) == ["a", "b", "c"]
    for col in expect.columns:
        assert np.allclose(result.loc[expect.index, col], expect[col]), col


# --- relationships -------------------------------------------------------------------------------

def test_relationship_percentages_and_stale_contacts():
    teachers = [
        # face, classroom, professional, personal -> all four
        {"face": True, "classroom": True, "professional": "Runs chess club", "personal": "Runs",
         "contact": "2026-10-01"},
        {"face": True, "classroom": False, "professional": "Math lead", "personal": None,
         "contact": "2026-09-15"},  # 21 days before as-of: not yet stale
        {"face": False, "classroom": None, "professional": " ", "personal": "Has twins",
         "contact": "2026-09-14"},  # 22 days: stale
        {"face": None, "classroom": True, "professional": None, "personal": None,
         "contact": None},  # no date: undated, not stale
    ]
    out = relationship_summary(relationships_frame("ana", teachers), AS_OF).iloc[0]
    assert out["teachers_listed"] == 4
    assert (out["known_by_face"], out["pct_known_by_face"]) == (2, 0.5)
    assert (out["known_by_classroom"], out["pct_known_by_classroom"]) == (2, 0.5)
    assert (out["with_professional_fact"], out["pct_with_professional_fact"]) == (2, 0.5)
    assert (out["with_personal_fact"], out["pct_with_personal_fact"]) == (2, 0.5)
    assert (out["with_all_four"], out["pct_with_all_four"]) == (1, 0.25)
    assert (out["contacts_stale"], out["contacts_undated"]) == (1, 1)


@pytest.mark.parametrize(("rated", "shown"), [(4, False), (5, True)])
def test_matrix_suppressed_below_minimum_rated(rated, shown):
    ratings = [(3, 3), (3, 3), (1, 2), (2, 1), (3, 1)][:rated]
    teachers = [{"delight": d, "engagement": e} for d, e in ratings]
    teachers.append({"delight": 2, "engagement": None})  # half-rated: not counted
    out = relationship_summary(relationships_frame("ana", teachers), AS_OF).iloc[0]
    assert out["teachers_rated"] == rated
    assert bool(out["matrix_shown"]) is shown
    matrix = delight_engagement_matrix(out)
    if not shown:
        assert matrix is None
        assert all(pd.isna(out[f"matrix_d{d}_e{e}"]) for d in (1, 2, 3) for e in (1, 2, 3))
    else:
        assert out["matrix_d3_e3"] == 2 and out["matrix_d1_e2"] == 1
        # rows: delight 3, 2, 1; columns: engagement 1, 2, 3
        assert matrix == [[1, 0, 2], [1, 0, 0], [0, 1, 0]]
        assert sum(map(sum, matrix)) == 5


def test_matrix_minimum_is_configurable():
    teachers = [{"delight": 3, "engagement": 3}] * 3
    out = relationship_summary(relationships_frame("ana", teachers), AS_OF,
                               Thresholds(min_matrix_teachers=3)).iloc[0]
    assert bool(out["matrix_shown"]) and out["matrix_d3_e3"] == 3


# --- cycles --------------------------------------------------------------------------------------

def test_cycles_by_phase_next_steps_and_stalled():
    cycles = [
        ("Plan", "2026-09-01", "2026-09-14", 3, 1),  # updated 22 days ago: stalled
        ("Act", "2026-09-01", "2026-09-15", 2, 2),  # 21 days: not stalled
        ("Reflect", "2026-09-05", None, None, None),  # no update, started 31 days ago: stalled
        ("Complete", "2026-08-01", "2026-08-20", 4, 4),  # complete: never stalled
        ("Plan", None, None, 1, 0),  # no dates at all: counted as undated
    ]
    out = cycle_summary(cycles_frame("ana", cycles), AS_OF).iloc[0]
    assert list(out.index) == list(CYCLE_COLUMNS)
    assert (out["cycles_total"], out["cycles_plan"], out["cycles_act"], out["cycles_reflect"],
            out["cycles_complete"], out["cycles_open"]) == (5, 2, 1, 1, 1, 4)
    assert (out["next_steps_done"], out["next_steps_total"]) == (7, 10)
    assert out["next_steps_share"] == pytest.approx(0.7)
    assert (out["cycles_stalled"], out["cycles_undated"]) == (2, 1)


def test_roster_names_a_workbook_from_its_first_row_that_names_a_coach():
    entries = [("2026-09-20", 30, COACHING, False, "Lee")] * 3
    log = pd.concat([time_frame("cy", entries), time_frame("dee", entries)], ignore_index=True)
    log["coach"] = pd.Series([None, "Cy", "Other", None, None, None], dtype=object)
    roster = coach_roster(None, log)
    assert roster[["source", "coach"]].values.tolist() == [["cy", "Cy"], ["dee", "dee"]]


# --- all together ------------------------------------------------------------------------------

def test_every_coach_appears_in_every_frame_even_without_rows():
    result = coach_summary(
        coaches_frame(("ana", "Ana"), ("ben", "Ben")),
        relationships_frame("cy", [{"face": True}], coach="Cy"),  # Cy has no About row
        time_frame("ana", ANA_LOG),
        None, AS_OF)
    for frame, columns in ((result.overview, OVERVIEW_COLUMNS), (result.time, TIME_COLUMNS),
                           (result.relationships, RELATIONSHIP_COLUMNS),
                           (result.cycles, CYCLE_COLUMNS)):
        assert list(frame.columns) == list(columns)
        assert list(frame["source"]) == ["ana", "ben", "cy"]
        assert list(frame["coach"]) == ["Ana", "Ben", "Cy"]
    ben = result.time.set_index("source").loc["ben"]
    assert ben["minutes_total"] == 0 and pd.isna(ben["coaching_share"])
    assert pd.isna(ben["meets_target_recent"])
    assert len(result.time_groups) == 3 * 3  # every coach, every group
    assert set(result.time_weekly["source"]) == {"ana"}


def test_coach_flags():
    low_log = [("2026-09-20", 30, COACHING, False, "Lee"),
               ("2026-09-21", 90, OTHER, True, None, "Substitute coverage")]
    result = coach_summary(
        coaches_frame(("ana", "Ana"), ("ben", "Ben")),
        pd.concat([relationships_frame("ben", [{"contact": "2026-09-01"},
                                               {"contact": "2026-09-10"},
                                               {"contact": "2026-10-01"}], coach="Ben")]),
        pd.concat([time_frame("ana", ANA_LOG), time_frame("ben", low_log, coach="Ben")]),
        cycles_frame("ben", [("Act", "2026-09-01", "2026-09-02", 2, 1)], coach="Ben"),
        AS_OF,
        column_of=lambda source, tab, key: {"last_contact": "L", "last_update": "I",
                                            "activity": "G"}.get(key))
    by_code = {(f.source, f.code): f for f in result.flags}
    # Ana sits exactly on the 40% target: no low-share flag; her 60 recent minutes of
    # substitute coverage are flagged.
    assert ("ana", "low-coaching-share") not in by_code
    ana_outside = by_code[("ana", "outside-role-time")]
    assert "60 minutes in the last 4 weeks" in ana_outside.message
    assert "Substitute coverage" in ana_outside.message
    assert ana_outside.cell == "G4"  # ANA_LOG's third entry, sheet row 4
    # Ben: 30 of 120 minutes coaching = 25% < 40%.
    low = by_code[("ben", "low-coaching-share")]
    assert "25%" in low.message and "40% target" in low.message
    assert low.severity is Severity.WARNING and low.tab == "Time Log"
    stale = by_code[("ben", "stale-contacts")]
    assert "2 of 3 teachers" in stale.message and "rows 2 and 3" in stale.message
    assert stale.cell == "L2"  # the oldest stale contact
    assert stale.severity is Severity.INFO
    stalled = by_code[("ben", "stalled-cycles")]
    assert "1 open coaching cycle" in stalled.message and stalled.cell == "I2"
    for flag in result.flags:
        assert flag.code in CODES
        assert flag.hint.startswith("Consider")
        assert "Teacher" not in flag.message  # no names, only counts and rows
    overview = result.overview.set_index("source")
    assert overview.loc["ben", "open_flags"] == 4  # low share, outside role, stale, stalled
    assert overview.loc["ana", "open_flags"] == 1


def test_coach_flags_list_rows_in_order_and_point_at_the_oldest_or_latest():
    # Ben: 10 stale contacts; the one at row 5 has no row number; row 7 is the oldest.
    contacts = [{"contact": "2026-09-01"} for _ in range(10)]
    contacts[5] = {"contact": "2026-08-01"}
    relationships = relationships_frame("ben", contacts, coach="Ben")
    relationships.loc[3, "row"] = pd.NA
    # Outside-role entries of both coaches interleaved: Ben's latest is the later of his two
    # entries on 09-25 (sheet row 4), whatever order the rows come in.
    ben_log = [("2026-09-25", 30, OTHER, True, None, "Evaluation-related"),
               ("2026-09-10", 30, OTHER, True, None, "Substitute coverage"),
               ("2026-09-25", 30, OTHER, True, None, "Evaluation-related"),
               ("2026-09-12", 30, OTHER, True, None, "Substitute coverage")]
    log = pd.concat([time_frame("ana", ANA_LOG), time_frame("ben", ben_log, coach="Ben")])
    result = coach_summary(
        coaches_frame(("ana", "Ana"), ("ben", "Ben")), relationships,
        log.sort_values("date", kind="stable"), None, AS_OF,
        column_of=lambda source, tab, key: {"last_contact": "L", "activity": "G"}.get(key))
    by_code = {(f.source, f.code): f for f in result.flags}
    stale = by_code[("ben", "stale-contacts")]
    assert "10 of 10 teachers were" in stale.message
    assert "(rows 2, 3, 4, 6, 7, 8, 9, 10 and 1 more)" in stale.message
    assert stale.cell == "L7"
    outside = by_code[("ben", "outside-role-time")]
    assert "(Evaluation-related, Substitute coverage)" in outside.message
    assert outside.cell == "G4"
    assert by_code[("ana", "outside-role-time")].cell == "G4"


def test_thresholds_change_the_windows():
    th = Thresholds(recent_weeks=5, coaching_share_target=0.5, stale_contact_days=30)
    result = coach_summary(
        coaches_frame(("ana", "Ana")),
        relationships_frame("ana", [{"contact": "2026-09-10"}]),  # 26 days: fresh at 30
        time_frame("ana", ANA_LOG), None, AS_OF, th)
    row = result.time.iloc[0]
    # 5 complete weeks (08-31..10-04): adds 09-01 (120 coaching), 09-02 (30 other) and
    # 09-06 (60 coaching): coaching 240 of 360.
    assert row["minutes_recent"] == 360
    assert row["coaching_share_recent"] == pytest.approx(240 / 360)
    assert result.relationships.iloc[0]["contacts_stale"] == 0
    assert not any(f.code == "low-coaching-share" for f in result.flags)

"""Reach by distinct value agrees with reading the roster row by row, spelling for spelling."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sheetsync.analytics.coaches import NOT_A_NAME, TEACHER_SEPARATORS
from sheetsync.analytics.frames import texts
from sheetsync.analytics.plans import SchoolNames, _roster_reach, named_in


def _row_by_row(r: pd.DataFrame, named: dict[str, set[str]], names: SchoolNames,
                coach_schools: dict[str, tuple[str, ...]]) -> tuple[Any, Any, Any]:
    """The rule, one row at a time: a coach's first row of each teacher name counts."""
    by_coach: dict[str, tuple[int, int]] = {}
    listed_pairs, reached_pairs = set(), set()
    seen: dict[str, set[str]] = {}
    for source, teacher, school in zip(r["source"].tolist(), texts(r["teacher"]).tolist(),
                                       r["school"].tolist(), strict=True):
        if not isinstance(teacher, str) or not isinstance(source, str):
            continue
        key = " ".join(teacher.split()).casefold()
        if key in NOT_A_NAME or key in seen.setdefault(source, set()):
            continue
        seen[source].add(key)
        reached = key in named.get(source, set())
        listed, got = by_coach.get(source, (0, 0))
        by_coach[source] = (listed + 1, got + reached)
        at = names.name(school)
        if at is None and len(coach_schools.get(source, ())) == 1:
            at = coach_schools[source][0]
        if at is not None:
            listed_pairs.add((at, key))
            if reached:
                reached_pairs.add((at, key))
    return by_coach, listed_pairs, reached_pairs


def _roster(seed: int, rows: int) -> tuple[pd.DataFrame, dict[str, set[str]], dict]:
    rng = random.Random(seed)
    coaches = [f"coach {i}" for i in range(12)] + [None, np.nan]
    teachers = ["Ana Ruiz", " ana  ruiz", "ANA RUIZ", "Ben Lee", "ben lee ", "Chen Wu", "n/a",
                "-", "", "  ", None, "Dara Okafor", "Émile Roux", "ÉMILE ROUX", 45]
    schools = ["Riverside", "riverside ", "RIVERSIDE", "Maple Hill", "maple  hill", None,
               np.nan, "", 7, "Oak Park"]
    r = pd.DataFrame({"source": [rng.choice(coaches) for _ in range(rows)],
                      "teacher": pd.Series([rng.choice(teachers) for _ in range(rows)],
                                           dtype=object),
                      "school": pd.Series([rng.choice(schools) for _ in range(rows)],
                                          dtype=object)})
    keys = ["ana ruiz", "ben lee", "chen wu", "dara okafor", "émile roux", "nobody"]
    named = {c: set(rng.sample(keys, rng.randint(0, 4))) for c in coaches[:12]
             if rng.random() < 0.8}
    one_school = {c: (rng.choice(["Riverside", "Oak Park"]),) for c in coaches[:6]}
    two_schools = {c: ("Riverside", "Maple Hill") for c in coaches[6:9]}
    return r, named, {**one_school, **two_schools}


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("rows", [0, 1, 30, 400])
def test_reach_by_distinct_value_is_the_row_by_row_rule(seed, rows):
    r, named, coach_schools = _roster(seed, rows)
    facts_free = SchoolNames(), SchoolNames()  # each learns its own first spellings
    got = _roster_reach(r, named, facts_free[0], coach_schools)
    want = _row_by_row(r, named, facts_free[1], coach_schools)
    assert got == want
    assert facts_free[0]._names == facts_free[1]._names  # the same spellings learnt first


def test_an_unhashable_school_cell_is_looked_up_as_it_is():
    r = pd.DataFrame({"source": ["a", "a", "b"], "teacher": ["Ana", "Ben", "Ana"],
                      "school": pd.Series([["Riverside"], "Oak Park", None], dtype=object)})
    got = _roster_reach(r, {"a": {"ben"}}, SchoolNames(), {"b": ("Maple Hill",)})
    assert got == ({"a": (2, 1), "b": (1, 0)}, {("Oak Park", "ben"), ("Maple Hill", "ana")},
                   {("Oak Park", "ben")})


def _named_cell_by_cell(log: pd.DataFrame) -> dict[str, set[str]]:
    """The rule, one cell at a time: split on the separators, clean, leave out the non-names."""
    named: dict[str, set[str]] = {}
    for source, cell in zip(log["source"].tolist(), log["teachers"].tolist(), strict=True):
        if isinstance(cell, str):
            named.setdefault(source, set()).update(
                k for k in (" ".join(p.split()).casefold() for p in TEACHER_SEPARATORS.split(cell))
                if k not in NOT_A_NAME)
    return named


CELLS = ["Lee", "Lee, Park", " lee and PARK ", "Kim & Diaz", "Kim;Diaz\n+ Moss", "n/a", "", "-",
         "Anderson", "Sandra Andrews", "x\x01y", "a\x00b, c", 45, None, np.nan, "Émile\u00a0Roux"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["ana", "ben", "cy", None]), st.sampled_from(CELLS)),
                max_size=40))
def test_the_teachers_a_log_names_are_the_cell_by_cell_rule(rows):
    log = pd.DataFrame({"source": pd.Series([s for s, _ in rows], dtype=object),
                        "teachers": pd.Series([c for _, c in rows], dtype=object)})
    assert named_in(log) == _named_cell_by_cell(log)

"""Coaching plans, cycle outcomes and reach, per coach, per school and per region.

Each coach co-writes a plan with the principal, naming the school's focus areas (domains or
components of the district's framework). Leaders see how the coaching lines up with the plans,
as aggregates only: a focus area is a school-level goal, not a rating of a teacher, and no
per-teacher value of a cycle ever leaves this module. The figures:

* **aligned minutes**: of a coach's coaching time to date (the first activity group, dated on or
  before the as-of date), the share whose Focus Area is one of the plan's focus areas, or a
  component of a planned domain. Unknown (blank, never 0%) when the coach has no plan or the
  Time Log has no Focus Area column;
* **aligned cycles**: the same for the coach's coaching cycles;
* **focus areas with no coaching**: plan focus areas that no coaching entry and no cycle served;
* **missing plans**: a coach with no plan row (per school: none naming that school, or blank);
* **overdue reviews**: plans whose Next Review date has passed, or, without one, whose Date
  Agreed is more than ``plan_review_days`` old;
* **cycle outcomes**: of the closed cycles (phase Complete, or an Outcome given), how many have
  evidence of student work, and how many met their goal;
* **phase time**: in closed cycles with Plan, Act and Reflect dates, the days in each phase
  (Plan to Act, Act to Reflect, Reflect to the end: Ended, else Last Update), against the model
  (Plan 25% / Act 25% / Reflect 50% by default);
* **reach**: the teachers on a roster that a coaching entry of the last ``recent_weeks`` weeks
  names, as a share of the roster: the teachers listed in the Relationships tab, or the staff
  count of a school given in the config.

Schools are matched ignoring case and punctuation; a config's ``[[schools]]`` names (and their
aliases) are the canonical spelling and give each school's region and staff count. A coach's
schools are the About tab's School(s), split at commas, semicolons, "&" and "and".
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from sheetsync.analytics.coaches import NOT_A_NAME, teacher_cell_parts
from sheetsync.analytics.frames import ColumnOf, as_timestamp, dates, numbers, texts, with_columns
from sheetsync.analytics.thresholds import DEFAULT_THRESHOLDS, Thresholds
from sheetsync.schema import Framework, default_framework, normalise_label

ON_TRACK = ("Met", "On track")
SCHOOL_SEPARATORS = re.compile(r"\s*(?:[,;&/\n]|\band\b)\s*", re.IGNORECASE)
CLOSED_PHASE = "Complete"

COACH_COLUMNS = (
    "source", "coach", "schools", "region", "plan_rows", "plan_areas", "has_plan",
    "coaching_minutes", "aligned_minutes", "aligned_share", "cycles_total", "cycles_aligned",
    "cycles_aligned_share", "areas_uncoached", "areas_uncoached_list", "next_review",
    "review_overdue", "closed_cycles", "with_evidence", "evidence_share", "goal_met",
    "goal_met_share", "describes_impact", "applied_new_context", "phase_cycles",
    "phase_plan_share", "phase_act_share", "phase_reflect_share", "roster", "reached",
    "reach_share",
)
AREA_COLUMNS = ("school", "region", "teams", "teams_on_track", "on_track_share", "coaches",
                "minutes_recent", "minutes_coaching_recent", "coaching_share_recent", "roster",
                "roster_from", "reached", "reach_share", "coaching_minutes", "aligned_minutes",
                "aligned_share", "cycles_total", "cycles_aligned", "cycles_aligned_share",
                "plans_missing", "reviews_overdue", "areas_uncoached", "closed_cycles",
                "with_evidence", "evidence_share", "goal_met", "goal_met_share")


@dataclass(frozen=True)
class SchoolFacts:
    """What a config says about one school: its region, its staff count, other spellings."""

    name: str
    region: str | None = None
    staff: int | None = None
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class PlanResults:
    """``coaches`` per coach (:data:`COACH_COLUMNS`); ``schools`` per school and ``regions``
    per region (:data:`AREA_COLUMNS`, ``school`` blank in the regions'); ``district`` the whole
    program's reach and outcome figures; ``scope_of`` each source's schools and regions."""

    coaches: pd.DataFrame
    schools: pd.DataFrame
    regions: pd.DataFrame
    district: dict[str, Any]
    reach_target: float
    phase_model: tuple[float, float, float]
    sources_in: dict[str, tuple[frozenset[str], frozenset[str]]] = field(default_factory=dict)
    scope: str | None = None  # a school's or region's dashboard: no district row


# --- schools and regions -----------------------------------------------------------------------

class SchoolNames:
    """One spelling per school: the config's, else the first one seen."""

    def __init__(self, facts: Iterable[SchoolFacts] = ()) -> None:
        self.facts: dict[str, SchoolFacts] = {}
        self._names: dict[str, str] = {}
        for fact in facts:
            self.facts[fact.name] = fact
            for text in (fact.name, *fact.aliases):
                self._names.setdefault(normalise_label(text), fact.name)

    def name(self, text: Any) -> str | None:
        if not isinstance(text, str) or not normalise_label(text):
            return None
        key = normalise_label(text)
        return self._names.setdefault(key, " ".join(text.split()))

    def split(self, text: Any) -> tuple[str, ...]:
        """Several schools in one cell ("Riverside, Maple Hill"); a config name containing a
        separator ("Smith & Jones Academy") is kept whole."""
        if not isinstance(text, str):
            return ()
        whole = self._names.get(normalise_label(text))
        if whole is not None:
            return (whole,)
        names = [self.name(part) for part in SCHOOL_SEPARATORS.split(text)]
        return tuple(dict.fromkeys(n for n in names if n))

    def region(self, school: str, fallback: str | None = None) -> str | None:
        fact = self.facts.get(school)
        return fact.region if fact is not None and fact.region else fallback

    def staff(self, school: str) -> int | None:
        fact = self.facts.get(school)
        return fact.staff if fact is not None else None


def _clean(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    text = " ".join(value.split())
    return text or None


# --- the rollup --------------------------------------------------------------------------------

def plan_rollup(frames: Mapping[str, pd.DataFrame | None], teams: pd.DataFrame | None,
                coach_time: pd.DataFrame | None, roster: pd.DataFrame | None, as_of: date,
                th: Thresholds = DEFAULT_THRESHOLDS, *, framework: Framework | None = None,
                schools: Iterable[SchoolFacts] = (), coaching_group: str | None = None,
                column_of: ColumnOf | None = None,
                placed: Mapping[str, tuple[str | None, str | None]] | None = None
                ) -> PlanResults:
    """Plans, outcomes and reach for every coach workbook on ``roster`` (source, coach,
    schools), and per school and region. ``teams`` is the team results (source, school,
    status), ``coach_time`` the per-coach time summary (minutes_recent,
    minutes_coaching_recent); ``frames`` the validated frames (goals, coaches, relationships,
    time_log, cycles, plans). ``column_of(source, tab, key)`` says which optional columns a
    workbook has (without it, a column counts as present when any of its cells is filled).
    ``placed`` gives a source's (school, region) from its config entry, used where the workbook
    names none."""
    framework = framework or default_framework()
    names = SchoolNames(schools)
    as_of_ts = as_timestamp(as_of)
    roster = with_columns(roster, ("source", "coach", "schools"))
    about = with_columns(frames.get("coaches"), ("source", "region"))
    placed = placed or {}
    region_of_source = {s: _clean(r) for s, r in zip(about["source"], about["region"],
                                                     strict=True)}
    for source, (_school, region) in placed.items():
        if region and not region_of_source.get(source):
            region_of_source[source] = region
    coach_schools = {s: names.split(text) or names.split(placed.get(s, (None, None))[0])
                     for s, text in zip(roster["source"], roster["schools"], strict=True)}

    plans = _plans(frames.get("plans"), names, coach_schools)
    time = _coaching_entries(frames.get("time_log"), as_of_ts, coaching_group)
    cycles = with_columns(frames.get("cycles"), (
        "source", "row", "phase", "focus_area", "student_evidence", "describes_impact",
        "applied_new_context", "outcome", "start_date", "plan_date", "act_date", "reflect_date",
        "end_date", "last_update"))

    def has(frame: pd.DataFrame, source: str, tab: str, key: str) -> bool:
        if column_of is not None:
            return bool(column_of(source, tab, key))
        rows = frame[frame["source"] == source]
        return bool(rows[key].notna().any()) if key in rows else False

    rows = []
    uncoached_at: dict[tuple[str, str], set[str]] = {}
    plans_of, time_of, cycles_of = (_indices(f) for f in (plans, time, cycles))
    nothing = np.array([], dtype=np.int64)
    outcomes_of = _outcomes_by_source(cycles)
    # plain columns, taken once: a coach's rows are positions into them
    plan_school, plan_area = plans["school"].tolist(), plans["focus_area"].tolist()
    plan_review, plan_agreed = plans["next_review"].tolist(), plans["agreed"].tolist()
    cycle_area = cycles["focus_area"].tolist()
    time_minutes = time["minutes"].to_numpy(dtype=float)
    area_codes, area_labels = pd.factorize(time["focus_area"].to_numpy(dtype=object))
    area_labels = list(area_labels)
    on_plan_of: dict[frozenset[str], np.ndarray] = {}
    for source, coach in zip(roster["source"], roster["coach"], strict=True):
        mine = plans_of.get(source, nothing).tolist()
        areas = {plan_area[i] for i in mine}
        at = time_of.get(source, nothing)
        entry_minutes, entry_areas = time_minutes[at], area_codes[at]
        my_areas = [cycle_area[i] for i in cycles_of.get(source, nothing).tolist()]
        rec: dict[str, Any] = {"source": source, "coach": coach,
                               "schools": ", ".join(coach_schools.get(source, ())),
                               "region": _coach_region(names, coach_schools.get(source, ()),
                                                       region_of_source.get(source)),
                               "plan_rows": len(mine), "plan_areas": len(areas),
                               "has_plan": bool(mine)}
        minutes = float(entry_minutes.sum())
        rec["coaching_minutes"] = minutes
        known_time = bool(areas) and has(time, source, "Time Log", "focus_area")
        key = frozenset(areas)
        if key not in on_plan_of:  # code -1 (blank): not aligned
            on_plan_of[key] = np.append(np.array([framework.aligned(a, areas)
                                                  for a in area_labels], dtype=bool), False)
        aligned = (float(entry_minutes[on_plan_of[key][entry_areas]].sum())
                   if known_time else None)
        rec["aligned_minutes"] = aligned
        rec["aligned_share"] = aligned / minutes if aligned is not None and minutes > 0 else None
        rec["cycles_total"] = len(my_areas)
        known_cycles = bool(areas) and has(cycles, source, "Coaching Cycles", "focus_area")
        cycle_aligned = sum(framework.aligned(a, areas) for a in my_areas)
        rec["cycles_aligned"] = cycle_aligned if known_cycles else None
        rec["cycles_aligned_share"] = (cycle_aligned / len(my_areas)
                                       if known_cycles and my_areas else None)
        served = {area_labels[c] for c in np.unique(entry_areas[entry_minutes > 0]) if c >= 0}
        served |= {a for a in my_areas if not pd.isna(a)}
        uncoached = sorted(a for a in areas if not any(framework.aligned(s, {a})
                                                       for s in served))
        for i in mine:
            if plan_area[i] in uncoached:
                uncoached_at.setdefault((source, plan_school[i]), set()).add(plan_area[i])
        rec["areas_uncoached"] = len(uncoached) if known_time or known_cycles else None
        rec["areas_uncoached_list"] = ("; ".join(uncoached)
                                       if known_time or known_cycles else None)
        review, overdue = _review([(plan_school[i], plan_review[i], plan_agreed[i])
                                   for i in mine], as_of, th)
        rec["next_review"], rec["review_overdue"] = review, overdue
        rec.update(_outcomes(outcomes_of.get(source),
                             has(cycles, source, "Coaching Cycles", "student_evidence")))
        rows.append(rec)
    coach_frame = pd.DataFrame(rows, columns=[c for c in COACH_COLUMNS
                                              if c not in ("roster", "reached", "reach_share")])

    reach_by_coach, pairs_listed, pairs_reached = _reach(
        frames.get("relationships"), time, as_of_ts, th, names, coach_schools)
    coach_frame["roster"] = [reach_by_coach.get(s, (0, 0))[0] for s in coach_frame["source"]]
    coach_frame["reached"] = [reach_by_coach.get(s, (0, 0))[1] for s in coach_frame["source"]]
    coach_frame["reach_share"] = [r / n if n else None for r, n in
                                  zip(coach_frame["reached"], coach_frame["roster"], strict=True)]
    coach_frame = coach_frame[list(COACH_COLUMNS)]

    team_frame = with_columns(teams, ("source", "school", "status"))
    goals = with_columns(frames.get("goals"), ("source", "region"))
    team_region = {s: _clean(r) or placed.get(s, (None, None))[1]
                   for s, r in zip(goals["source"], goals["region"], strict=True)}
    team_school = {s: names.name(school) or names.name(placed.get(s, (None, None))[0])
                   for s, school in zip(team_frame["source"], team_frame["school"], strict=True)}
    time_frame = with_columns(coach_time, ("source", "minutes_recent", "minutes_coaching_recent"))
    minutes_of = {s: (float(r or 0), float(c or 0)) for s, r, c in zip(
        time_frame["source"], numbers(time_frame["minutes_recent"]).fillna(0),
        numbers(time_frame["minutes_coaching_recent"]).fillna(0), strict=True)}

    all_schools = dict.fromkeys([*names.facts, *(s for s in team_school.values() if s),
                                 *(s for v in coach_schools.values() for s in v),
                                 *(school for school, _ in pairs_listed)])
    region_seen: dict[str, str | None] = {}
    for source, school in team_school.items():
        if school and team_region.get(source):
            region_seen.setdefault(school, team_region[source])
    for source, listed in coach_schools.items():
        for school in listed:
            if region_of_source.get(source):
                region_seen.setdefault(school, region_of_source[source])
    school_region = {s: names.region(s, region_seen.get(s)) for s in all_schools}

    coach_recs = {r["source"]: r for r in rows}  # the per-coach figures, as plain values
    status_of = dict(zip(team_frame["source"].tolist(), team_frame["status"].tolist(),
                         strict=True))
    listed_at = Counter(school for school, _ in pairs_listed)
    reached_at = Counter(school for school, _ in pairs_reached)
    plan_schools = {(s, sc) for s, sc in zip(plans["source"], plans["school"], strict=True)}

    def area_row(label: dict[str, Any], in_scope: Callable[[str], bool]) -> dict[str, Any]:
        school_list = [s for s in all_schools if in_scope(s)]
        team_sources = [t for t, s in team_school.items() if s and in_scope(s)]
        on_track = sum(status_of.get(t) in ON_TRACK for t in team_sources)
        coaches = [s for s, listed in coach_schools.items() if any(in_scope(x) for x in listed)]
        recent = sum(minutes_of.get(s, (0, 0))[0] for s in coaches)
        coaching = sum(minutes_of.get(s, (0, 0))[1] for s in coaches)
        roster = 0
        from_staff = from_list = 0
        reached = 0
        for school in school_list:
            staff = names.staff(school)
            listed, got = listed_at[school], reached_at[school]
            if staff is not None:
                roster += staff
                from_staff += 1
            else:
                roster += listed
                from_list += 1
            reached += got
        mine = [coach_recs[c] for c in coaches if c in coach_recs]

        def total(key: str, rows: list[dict[str, Any]]) -> float:
            return float(sum(r[key] or 0 for r in rows))

        known = [r for r in mine if _known(r["aligned_minutes"])]
        known_cycles = [r for r in mine if _known(r["cycles_aligned"])]
        plans_missing = 0
        uncoached: set[str] = set()
        for source in coaches:
            for school in coach_schools.get(source, ()):
                if not in_scope(school):
                    continue
                if (source, school) not in plan_schools:
                    plans_missing += 1
                uncoached |= uncoached_at.get((source, school), set())
        reviews_overdue = sum(r["review_overdue"] is True for r in mine)
        closed = int(total("closed_cycles", mine))
        evidence = [r["with_evidence"] for r in mine if _known(r["with_evidence"])]
        met = [r["goal_met"] for r in mine if _known(r["goal_met"])]
        coached = total("coaching_minutes", known)
        cycles_n = total("cycles_total", known_cycles)
        return {**label, "teams": len(team_sources), "teams_on_track": on_track,
                "on_track_share": on_track / len(team_sources) if team_sources else None,
                "coaches": len(coaches), "minutes_recent": recent,
                "minutes_coaching_recent": coaching,
                "coaching_share_recent": coaching / recent if recent > 0 else None,
                "roster": roster if school_list else 0,
                "roster_from": ("staff count" if from_staff and not from_list else
                                "teachers listed" if from_list and not from_staff else
                                "both" if from_staff else ""),
                "reached": reached, "reach_share": reached / roster if roster else None,
                "coaching_minutes": coached if known else None,
                "aligned_minutes": total("aligned_minutes", known) if known else None,
                "aligned_share": (total("aligned_minutes", known) / coached
                                  if known and coached > 0 else None),
                "cycles_total": int(cycles_n) if known_cycles else None,
                "cycles_aligned": int(total("cycles_aligned", known_cycles))
                if known_cycles else None,
                "cycles_aligned_share": (total("cycles_aligned", known_cycles) / cycles_n
                                         if known_cycles and cycles_n else None),
                "plans_missing": plans_missing, "reviews_overdue": reviews_overdue,
                "areas_uncoached": "; ".join(sorted(uncoached)),
                "closed_cycles": closed,
                "with_evidence": int(sum(evidence)) if evidence else None,
                "evidence_share": sum(evidence) / closed if evidence and closed else None,
                "goal_met": int(sum(met)) if met else None,
                "goal_met_share": sum(met) / closed if met and closed else None}

    school_rows = [area_row({"school": s, "region": school_region.get(s)},
                            lambda x, s=s: x == s)
                   for s in sorted(all_schools, key=str.casefold)]
    regions = sorted({r for r in school_region.values() if r}, key=str.casefold)
    region_rows = [area_row({"school": None, "region": r},
                            lambda x, r=r: school_region.get(x) == r) for r in regions]
    district = area_row({"school": None, "region": None}, lambda x: True)

    sources_in: dict[str, tuple[frozenset[str], frozenset[str]]] = {}
    for source, school in team_school.items():
        schools_here = frozenset([school] if school else [])
        sources_in[source] = (schools_here, frozenset(
            r for r in [school_region.get(school) if school else None, team_region.get(source)]
            if r))
    for source, listed in coach_schools.items():
        sources_in[source] = (frozenset(listed), frozenset(
            r for r in [*(school_region.get(s) for s in listed), region_of_source.get(source)]
            if r))
    return PlanResults(
        coaches=coach_frame, schools=pd.DataFrame(school_rows, columns=list(AREA_COLUMNS)),
        regions=pd.DataFrame(region_rows, columns=list(AREA_COLUMNS)), district=district,
        reach_target=th.reach_target,
        phase_model=(th.phase_plan_share, th.phase_act_share, th.phase_reflect_share),
        sources_in=sources_in)


def _known(value: Any) -> bool:
    return value is not None and value == value  # None and NaN are unknown


def _indices(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """Each source's row positions in ``frame`` (one pass, not one filter per coach)."""
    if not len(frame):
        return {}
    return {k: v for k, v in frame.groupby("source", sort=False).indices.items()
            if isinstance(k, str)}


def _coach_region(names: SchoolNames, schools: Sequence[str], own: str | None) -> str | None:
    found = [r for r in (names.region(s) for s in schools) if r]
    return found[0] if found else own


def _plans(plans: pd.DataFrame | None, names: SchoolNames,
           coach_schools: Mapping[str, tuple[str, ...]]) -> pd.DataFrame:
    """Plan rows with a focus area, one per school they apply to (a blank School applies to
    every school of the coach)."""
    p = with_columns(plans, ("source", "row", "school", "focus_area", "agreed", "next_review"))
    p = p[p["focus_area"].notna() & p["source"].notna()]
    out = []
    for source, school, area, agreed, review in zip(p["source"], p["school"], p["focus_area"],
                                                    dates(p["agreed"]), dates(p["next_review"]),
                                                    strict=True):
        named = names.name(school)
        for each in ([named] if named else list(coach_schools.get(source, ())) or [None]):
            out.append((source, each, area, agreed, review))
    return pd.DataFrame(out, columns=["source", "school", "focus_area", "agreed", "next_review"])


def _coaching_entries(time_log: pd.DataFrame | None, as_of: pd.Timestamp,
                      coaching_group: str | None) -> pd.DataFrame:
    t = with_columns(time_log, ("source", "date", "minutes", "activity_group", "focus_area",
                                "teachers"))
    if coaching_group is None:
        from sheetsync.schema import default_activities

        coaching_group = default_activities().coaching_group
    when = dates(t["date"])
    minutes = numbers(t["minutes"])
    keep = (when.notna() & (when <= as_of) & (minutes >= 0)
            & (t["activity_group"] == coaching_group).fillna(False).astype(bool)
            & t["source"].notna())
    return pd.DataFrame({"source": t["source"][keep].to_numpy(dtype=object),
                         "date": when[keep].to_numpy(),
                         "minutes": minutes[keep].to_numpy(dtype=float),
                         "focus_area": t["focus_area"][keep].to_numpy(dtype=object),
                         "teachers": t["teachers"][keep].to_numpy(dtype=object)})


def _review(mine: Sequence[tuple[Any, Any, Any]], as_of: date, th: Thresholds
            ) -> tuple[Any, bool | None]:
    """The plan's next review (the earliest of its schools' latest dates) and whether it is
    overdue, from the plan's (school, next review, agreed) rows; None when the plan gives
    neither a review date nor an agreed date."""
    if not mine:
        return None, None
    latest: dict[Any, list[Any]] = {}  # school -> [latest review, latest agreed]
    for school, review, agreed in mine:
        got = latest.setdefault(None if pd.isna(school) else school, [None, None])
        for k, when in enumerate((review, agreed)):
            if not pd.isna(when) and (got[k] is None or when > got[k]):
                got[k] = when
    overdue = False
    earliest = None
    known = False
    for review, agreed in latest.values():
        if review is not None:
            known = True
            earliest = review if earliest is None or review < earliest else earliest
            overdue |= review.date() < as_of
        elif agreed is not None:
            known = True
            due = agreed.date() + timedelta(days=th.plan_review_days)
            overdue |= due < as_of
    return (earliest.date() if earliest is not None else None), (overdue if known else None)


def _cycle_outcomes(cycles: pd.DataFrame) -> pd.DataFrame:
    """Per cycle, at once: closed or not, evidence, outcome, and its days in each phase
    (0 where not all three phases of a closed cycle are dated: ``usable`` says which are)."""
    phase = cycles["phase"].astype(object)
    outcome = cycles["outcome"].astype(object)
    closed = ((phase == CLOSED_PHASE) | outcome.notna()).to_numpy(dtype=bool)
    plan_start = dates(cycles["plan_date"]).fillna(dates(cycles["start_date"]))
    act, reflect = dates(cycles["act_date"]), dates(cycles["reflect_date"])
    end = dates(cycles["end_date"]).fillna(dates(cycles["last_update"]))
    spans = pd.DataFrame({"plan": (act - plan_start).dt.days, "act": (reflect - act).dt.days,
                          "reflect": (end - reflect).dt.days})
    usable = closed & spans.notna().all(axis=1).to_numpy() & (spans >= 0).all(axis=1).to_numpy()

    def yes(key: str) -> np.ndarray:
        return cycles[key].astype(object).eq(True).to_numpy(dtype=bool) & closed

    return pd.DataFrame({
        "closed": closed, "evidence": yes("student_evidence"),
        "impact": yes("describes_impact"), "applied": yes("applied_new_context"),
        "met": (outcome == "Met").to_numpy(dtype=bool) & closed,
        "has_outcome": outcome.notna().to_numpy(dtype=bool), "usable": usable,
        **{f"days_{k}": spans[k].where(usable, 0).fillna(0).to_numpy(dtype=float)
           for k in spans},
    })


_OUTCOME_SUMS = ("closed", "evidence", "impact", "applied", "met", "usable", "days_plan",
                 "days_act", "days_reflect")


def _outcomes_by_source(cycles: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Each source's sums of :func:`_cycle_outcomes` (and whether any cycle has an outcome),
    in one grouping rather than one filter per coach."""
    if not len(cycles):
        return {}
    per_cycle = _cycle_outcomes(cycles)
    per_cycle["source"] = cycles["source"].to_numpy(dtype=object)
    per_cycle = per_cycle[per_cycle["source"].map(lambda s: isinstance(s, str))]
    grouped = per_cycle.groupby("source", sort=False)
    sums = grouped[list(_OUTCOME_SUMS)].sum()
    sums["has_outcome"] = grouped["has_outcome"].any()
    return {str(k): v for k, v in sums.to_dict(orient="index").items()}


def _outcomes(sums: Mapping[str, float] | None, evidence_known: bool) -> dict[str, Any]:
    """One coach's outcome figures from their sums of :func:`_cycle_outcomes` (None: no
    cycles)."""
    got = dict(sums or {})
    n = int(got.get("closed", 0))

    def count(key: str) -> int | None:
        return int(got.get(key, 0)) if evidence_known else None

    evidence = count("evidence")
    met = int(got.get("met", 0)) if got.get("has_outcome", False) else None
    out: dict[str, Any] = {
        "closed_cycles": n, "with_evidence": evidence,
        "evidence_share": evidence / n if evidence is not None and n else None,
        "goal_met": met, "goal_met_share": met / n if met is not None and n else None,
        "describes_impact": count("impact"), "applied_new_context": count("applied"),
        "phase_cycles": int(got.get("usable", 0)),
    }
    totals = {k: float(got.get(f"days_{k}", 0.0)) for k in ("plan", "act", "reflect")}
    whole = sum(totals.values())
    for key, days in totals.items():
        out[f"phase_{key}_share"] = days / whole if whole > 0 else None
    return out


def _reach(relationships: pd.DataFrame | None, time: pd.DataFrame, as_of: pd.Timestamp,
           th: Thresholds, names: SchoolNames, coach_schools: Mapping[str, tuple[str, ...]]
           ) -> tuple[dict[str, tuple[int, int]], set[tuple[str, str]], set[tuple[str, str]]]:
    """Per coach (listed, reached); and the (school, teacher) pairs listed and reached."""
    r = with_columns(relationships, ("source", "teacher", "school"))
    recent = time[time["date"] > (as_of - pd.Timedelta(days=7 * th.recent_weeks))]
    return _roster_reach(r, named_in(recent), names, coach_schools)


def named_in(log: pd.DataFrame) -> dict[str, set[str]]:
    """Per source, the teachers its time log's Teacher(s) cells name (cleaned keys).

    Each distinct cell is split once, all of them in one pass (see :func:`teacher_cell_parts`),
    and each distinct part cleaned once; a cell that is not text names nobody."""
    cells = log.drop_duplicates(["source", "teachers"])
    teachers = cells["teachers"].to_numpy(dtype=object)
    is_text = np.fromiter((isinstance(c, str) for c in teachers.tolist()), bool, len(teachers))
    codes, distinct = pd.factorize(teachers[is_text])
    parts, n_parts = teacher_cell_parts(distinct.tolist())
    part_codes, part_texts = pd.factorize(np.array(parts, dtype=object))
    cleaned = [" ".join(p.split()).casefold() for p in part_texts.tolist()]
    keys = [cleaned[c] for c in part_codes.tolist()]
    ends = np.cumsum(n_parts).tolist()
    names_of = [[k for k in keys[end - n:end] if k not in NOT_A_NAME]
                for end, n in zip(ends, n_parts.tolist(), strict=True)]
    named: dict[str, set[str]] = {}
    for source, code in zip(cells["source"].to_numpy(dtype=object)[is_text].tolist(),
                            codes.tolist(), strict=True):
        named.setdefault(source, set()).update(names_of[code])
    return named


def _roster_reach(r: pd.DataFrame, named: dict[str, set[str]], names: SchoolNames,
                  coach_schools: Mapping[str, tuple[str, ...]]
                  ) -> tuple[dict[str, tuple[int, int]], set[tuple[str, str]],
                             set[tuple[str, str]]]:
    """Each coach's listed teachers (the first row of each teacher name counts, its school
    with it) and which of them the recent time log names; worked out by distinct value, not
    row by row: a district lists some hundred thousand teachers."""
    teacher = texts(r["teacher"]).to_numpy(dtype=object, na_value=None)
    t_codes, t_uniques = pd.factorize(teacher)  # a missing name: -1
    key_of = [" ".join(t.split()).casefold() for t in t_uniques.tolist()]
    key_codes, keys = pd.factorize(np.array(key_of, dtype=object))
    key_codes = np.append(key_codes, -1)[t_codes]  # one code per key, however it was typed
    keys = keys.tolist()
    is_name = np.array([k not in NOT_A_NAME for k in keys] + [False])[key_codes]
    s_codes, s_uniques = pd.factorize(r["source"].to_numpy(dtype=object))
    sources = s_uniques.tolist()
    is_source = np.array([isinstance(u, str) for u in sources] + [False])[s_codes]
    rows = np.flatnonzero(is_name & is_source)
    pair = s_codes[rows].astype(np.int64) * (len(keys) + 1) + key_codes[rows]
    _, first = np.unique(pair, return_index=True)
    rows, pair = rows[np.sort(first)], pair[np.sort(first)]  # each (coach, teacher) once
    key_index = {k: i for i, k in enumerate(keys)}
    source_index = {u: i for i, u in enumerate(sources)}
    named_pairs = [source_index[source] * (len(keys) + 1) + key_index[k]
                   for source, ks in named.items() if source in source_index
                   for k in ks if k in key_index]
    reached = np.isin(pair, np.array(named_pairs, dtype=np.int64))
    coach = s_codes[rows]
    listed_n = np.bincount(coach, minlength=len(sources))
    reached_n = np.bincount(coach[reached], minlength=len(sources))
    by_coach = {sources[i]: (int(listed_n[i]), int(reached_n[i]))
                for i in np.flatnonzero(listed_n).tolist()}
    school = r["school"].to_numpy(dtype=object)[rows]
    try:
        c_codes, c_uniques = pd.factorize(school, use_na_sentinel=False)
    except TypeError:  # an unhashable cell value: each looked up as it is
        at = np.array([names.name(v) for v in school.tolist()] + [None], dtype=object)[:-1]
    else:  # names in the order the rows first use them, as the names are learnt in order
        at = np.array([names.name(v) for v in c_uniques.tolist()] + [None],
                      dtype=object)[c_codes]
    only = np.array([schools[0] if len(schools := coach_schools.get(u, ())) == 1 else None
                     for u in sources] + [None], dtype=object)[coach]
    unplaced = np.array([a is None for a in at.tolist()], dtype=bool)
    at = np.where(unplaced, only, at)
    key_text = np.array(keys + [None], dtype=object)[key_codes[rows]]
    placed = np.array([a is not None for a in at.tolist()], dtype=bool)
    listed_pairs = set(zip(at[placed].tolist(), key_text[placed].tolist(), strict=True))
    both = placed & reached
    reached_pairs = set(zip(at[both].tolist(), key_text[both].tolist(), strict=True))
    return by_coach, listed_pairs, reached_pairs

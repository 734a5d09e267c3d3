"""Coaches: where their time goes, how well they know their teachers, how their cycles move.

Privacy is built into the shape of the results: every frame here has one row per coach (or per
coach, week and activity group) and holds only counts, minutes and shares. Teacher names, facts,
notes, per-teacher ratings and "knows face / classroom" answers are read to compute those
aggregates and never copied into a result. The delight x engagement counts of a coach are
withheld (NA) when fewer than ``min_matrix_teachers`` teachers are rated, so no one teacher's
rating can be read off them. Flags give counts and sheet rows, never names.

Time figures:

* an entry counts when it has minutes and a date on or before the as-of date;
* weeks are calendar weeks starting on Monday (``week_start``); ``program_week`` numbers them
  from the program's start when one is given;
* "the last 4 weeks" (``recent_weeks``) are the 28 days ending on the as-of date;
* the coaching share is the time in the coaching group (the first activity group,
  "Coaching with teachers" by default) divided by all time logged, unknown activities included;
* teachers reached counts distinct names in the Teacher(s) cells of coaching entries in the last
  4 weeks; a cell may name several teachers, separated by commas, semicolons, "and", "&", "+"
  or line breaks. Names are compared ignoring case and spacing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from sheetsync.analytics import wording
from sheetsync.analytics.frames import (
    ColumnOf,
    as_timestamp,
    dates,
    days_before,
    has_text,
    numbers,
    plain_text,
    texts,
    with_columns,
    yes,
)
from sheetsync.analytics.thresholds import DEFAULT_THRESHOLDS, Thresholds
from sheetsync.findings import Finding, Severity

TIME_TAB = "Time Log"
RELATIONSHIPS_TAB = "Relationships"
CYCLES_TAB = "Coaching Cycles"

PHASES = ("Plan", "Act", "Reflect", "Complete")
"""Coaching-cycle phases, in order; a cycle is open until it is Complete."""

UNKNOWN_GROUP = "Unknown"

TEACHER_SEPARATORS = re.compile(r"\s*(?:[,;&+\n]|\band\b)\s*", re.IGNORECASE)
"""What separates several teachers in one Teacher(s) cell: "Lee, Park & Diaz and Moss"."""

NOT_A_NAME = ("", "-", "--", "n/a", "na", "none")

ROSTER_COLUMNS = ("source", "coach", "schools", "role")
TIME_COLUMNS = (
    "source", "coach", "entries", "minutes_total", "minutes_coaching", "coaching_share",
    "minutes_recent", "minutes_coaching_recent", "coaching_share_recent", "coaching_target",
    "meets_target_recent", "outside_role_minutes", "outside_role_minutes_recent",
    "teachers_reached", "first_entry", "last_entry",
)
TIME_WEEKLY_COLUMNS = ("source", "coach", "week_start", "program_week", "activity_group",
                       "minutes", "share")
TIME_GROUP_COLUMNS = ("source", "coach", "activity_group", "minutes", "share")
MATRIX_COLUMNS = tuple(f"matrix_d{d}_e{e}" for d in (1, 2, 3) for e in (1, 2, 3))
"""``matrix_d{delight}_e{engagement}``: teachers rated delight d and engagement e (1..3)."""
RELATIONSHIP_COLUMNS = (
    "source", "coach", "teachers_listed", "known_by_face", "known_by_classroom",
    "with_professional_fact", "with_personal_fact", "with_all_four", "pct_known_by_face",
    "pct_known_by_classroom", "pct_with_professional_fact", "pct_with_personal_fact",
    "pct_with_all_four", "contacts_stale", "contacts_undated", "teachers_rated",
    "matrix_shown", *MATRIX_COLUMNS,
)
CYCLE_COLUMNS = (
    "source", "coach", "cycles_total", "cycles_plan", "cycles_act", "cycles_reflect",
    "cycles_complete", "cycles_open", "next_steps_done", "next_steps_total", "next_steps_share",
    "cycles_stalled", "cycles_undated",
)
OVERVIEW_COLUMNS = (
    "source", "coach", "schools", "role", "coaching_share_recent", "coaching_share",
    "coaching_target", "minutes_recent", "outside_role_minutes", "teachers_reached",
    "teachers_listed", "pct_with_all_four", "contacts_stale", "cycles_plan", "cycles_act",
    "cycles_reflect", "cycles_complete", "cycles_stalled", "open_flags",
)

FLAG_SEVERITY: dict[str, Severity] = {
    "low-coaching-share": Severity.WARNING,
    "outside-role-time": Severity.WARNING,
    "stale-contacts": Severity.INFO,
    "stalled-cycles": Severity.INFO,
}


@dataclass(frozen=True)
class TimeResults:
    """The time-log rollup: ``summary`` per coach, ``weekly`` per coach x week x activity group
    (every group listed for each week, zeros included), ``groups`` per coach x activity group
    over the whole program."""

    summary: pd.DataFrame
    weekly: pd.DataFrame
    groups: pd.DataFrame


@dataclass(frozen=True)
class CoachResults:
    """Everything the dashboard shows about coaches; per-coach aggregates only.

    ``overview`` (:data:`OVERVIEW_COLUMNS`) is the Dashboard's coach table; ``time``
    (:data:`TIME_COLUMNS`), ``time_weekly`` (:data:`TIME_WEEKLY_COLUMNS`), ``time_groups``
    (:data:`TIME_GROUP_COLUMNS`), ``relationships`` (:data:`RELATIONSHIP_COLUMNS`) and ``cycles``
    (:data:`CYCLE_COLUMNS`) feed their tabs. ``flags`` are addressed to each coach's workbook.
    """

    overview: pd.DataFrame
    time: pd.DataFrame
    time_weekly: pd.DataFrame
    time_groups: pd.DataFrame
    relationships: pd.DataFrame
    cycles: pd.DataFrame
    flags: list[Finding] = field(default_factory=list)


# --- roster ------------------------------------------------------------------------------------

def coach_roster(coaches: pd.DataFrame | None, *frames: pd.DataFrame | None) -> pd.DataFrame:
    """One row per coach workbook (``source``), with the coach's name, schools and role.

    The About tab gives the name; a workbook that appears only in ``frames`` (say its About tab
    failed) still gets a row, named from its rows' ``coach`` column or, failing that, its source.
    Sorted by coach name, then source.
    """
    c = with_columns(coaches, ROSTER_COLUMNS)
    parts = [pd.DataFrame({"source": texts(c["source"]), "coach": texts(c["coach"]),
                           "schools": texts(c["schools"]), "role": texts(c["role"])})]
    for frame in frames:
        f = with_columns(frame, ("source", "coach"))
        f = f[f["source"].notna()]
        if f.empty:
            continue
        # One row per workbook first (cheap on big time logs), then clean the few left.
        named = f.dropna(subset=["coach"]).drop_duplicates("source")
        ids = pd.DataFrame({"source": texts(f.drop_duplicates("source")["source"])})
        first = pd.Series(texts(named["coach"]).to_numpy(),
                          index=texts(named["source"]).to_numpy())
        first = first[~first.index.duplicated()]
        ids["coach"] = ids["source"].map(first)
        parts.append(ids)
    roster = pd.concat(parts, ignore_index=True)
    roster = roster[roster["source"].notna() & roster["source"].ne("")]
    # The About tab comes first, so its name wins; a blank name is filled from the other rows.
    named = roster.dropna(subset=["coach"]).drop_duplicates("source").set_index("source")
    roster = roster.drop_duplicates("source").set_index("source")
    roster["coach"] = roster["coach"].fillna(named["coach"].reindex(roster.index))
    roster["coach"] = roster["coach"].fillna(pd.Series(roster.index, index=roster.index))
    roster = roster.reset_index()
    for col in ROSTER_COLUMNS:
        roster[col] = _text_out(roster[col])
    roster["_key"] = roster["coach"].str.casefold()
    roster = roster.sort_values(["_key", "source"], kind="stable")
    return roster[list(ROSTER_COLUMNS)].reset_index(drop=True)


def _objects(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Text columns as ``object`` (pandas 3 would infer its ``str`` dtype from arrays)."""
    return frame.astype({c: object for c in columns})


def _text_out(series: pd.Series) -> pd.Series:
    cleaned = texts(series)
    return cleaned.astype(object).where(cleaned.notna() & cleaned.ne(""), None)


def _on_roster(roster: pd.DataFrame, figures: pd.DataFrame, columns: Sequence[str],
               fill: dict[str, object]) -> pd.DataFrame:
    """``figures`` (indexed by source) laid onto the roster, so every coach has a row."""
    out = roster[["source", "coach"]].copy()
    aligned = figures.reindex(out["source"])
    for col in columns:
        if col in ("source", "coach"):
            continue
        values = aligned[col].to_numpy() if col in aligned.columns else np.nan
        out[col] = values
        if col in fill:
            out[col] = out[col].fillna(fill[col])
    return out[list(columns)]


# --- time log ----------------------------------------------------------------------------------

def time_rollup(time_log: pd.DataFrame | None, as_of: date, th: Thresholds = DEFAULT_THRESHOLDS, *,
                roster: pd.DataFrame | None = None, groups: Sequence[str] | None = None,
                program_start: date | None = None) -> TimeResults:
    """Roll the time logs up per coach, per week and per activity group.

    ``groups`` lists the activity groups in display order, the coaching group first (default:
    the groups of ``sheet_templates/activities.toml``). Vectorized throughout: a million
    entries take well under a second or two.
    """
    frames, _outside = _time_figures(time_log, as_of, th, roster, groups, program_start)
    return TimeResults(plain_text(frames.summary), plain_text(frames.weekly),
                       plain_text(frames.groups))


def _default_groups() -> tuple[str, ...]:
    from sheetsync.schema import default_activities

    return default_activities().groups


def _factorized_text(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes (-1 for blank) and cleaned distinct values of a text column.

    Only the distinct values are cleaned, which keeps a million-row column cheap; two spellings
    that clean to the same text ("A " and "A") share one code.
    """
    raw_codes, raw_names = pd.factorize(series, use_na_sentinel=True)
    cleaned = texts(pd.Series(np.asarray(raw_names, dtype=object), dtype=object))
    cleaned = cleaned.where(cleaned.ne(""))
    merged, names = pd.factorize(cleaned, use_na_sentinel=True)
    codes = np.append(merged, -1)[raw_codes]  # raw code -1 picks the appended -1
    return codes, np.asarray(names, dtype=object)


def _time_figures(time_log: pd.DataFrame | None, as_of: date, th: Thresholds,
                  roster: pd.DataFrame | None, groups: Sequence[str] | None,
                  program_start: date | None) -> tuple[TimeResults, pd.DataFrame]:
    groups = tuple(groups) if groups else _default_groups()
    t = with_columns(time_log, ("source", "coach", "row", "date", "minutes", "activity",
                                "activity_group", "outside_role", "teachers"))
    if roster is None:
        roster = coach_roster(None, t)

    source_codes, source_names = _factorized_text(t["source"])
    group_codes, group_seen = _factorized_text(t["activity_group"])
    unknown_seen = [UNKNOWN_GROUP] if (group_codes < 0).any() else []
    order = _group_order(groups, [*group_seen, *unknown_seen])
    position = {g: i for i, g in enumerate(order)}
    lookup = np.array([position[g] for g in group_seen]
                      + [position.get(UNKNOWN_GROUP, 0)], dtype=np.int64)
    group = lookup[group_codes]  # index into `order`; the coaching group is 0

    as_of_day = as_timestamp(as_of)
    when = dates(t["date"])
    days = when.to_numpy().astype("datetime64[D]").astype("int64")
    minutes = numbers(t["minutes"]).to_numpy()
    keep = (~when.isna().to_numpy() & (when <= as_of_day).to_numpy() & (minutes >= 0)
            & (source_codes >= 0))  # NaN minutes compare False, so they drop out too
    as_of_days = int(np.datetime64(as_of_day.date(), "D").astype("int64"))
    recent = keep & (days > as_of_days - 7 * th.recent_weeks)
    coaching = group == 0
    outside = yes(t["outside_role"]).to_numpy()
    m = np.where(keep, minutes, 0.0)

    # Per coach: sums of masked minutes, one bincount each (fast on millions of rows).
    n_sources = len(source_names)
    code = np.where(keep, source_codes, n_sources)  # dropped rows go to a spare bin

    def per_source(weights: np.ndarray) -> np.ndarray:
        return np.bincount(code, weights=weights, minlength=n_sources + 1)[:n_sources]

    sums = pd.DataFrame({
        "entries": np.bincount(code, minlength=n_sources + 1)[:n_sources],
        "minutes_total": per_source(m),
        "minutes_coaching": per_source(m * coaching),
        "minutes_recent": per_source(m * recent),
        "minutes_coaching_recent": per_source(m * (coaching & recent)),
        "outside_role_minutes": per_source(m * outside),
        "outside_role_minutes_recent": per_source(m * (outside & recent)),
    }, index=pd.Index(source_names, name="source"))
    first = np.full(n_sources, np.iinfo(np.int64).max)
    last = np.full(n_sources, np.iinfo(np.int64).min)
    np.minimum.at(first, source_codes[keep], days[keep])
    np.maximum.at(last, source_codes[keep], days[keep])
    has_entries = sums["entries"].to_numpy() > 0
    sums["first_entry"] = _day_dates(np.where(has_entries, first, 0), has_entries)
    sums["last_entry"] = _day_dates(np.where(has_entries, last, 0), has_entries)
    sums["teachers_reached"] = _teachers_reached(t["teachers"], source_codes, source_names,
                                                 recent & coaching)
    sums["coaching_share"] = sums["minutes_coaching"] / sums["minutes_total"].where(
        sums["minutes_total"] > 0)
    sums["coaching_share_recent"] = sums["minutes_coaching_recent"] / sums[
        "minutes_recent"].where(sums["minutes_recent"] > 0)
    sums["coaching_target"] = th.coaching_share_target
    sums["meets_target_recent"] = pd.array(
        (sums["coaching_share_recent"] >= th.coaching_share_target - 1e-12)
        .where(sums["coaching_share_recent"].notna()), dtype="boolean")

    zero = {c: 0 for c in ("entries", "minutes_total", "minutes_coaching", "minutes_recent",
                           "minutes_coaching_recent", "outside_role_minutes",
                           "outside_role_minutes_recent", "teachers_reached")}
    summary = _on_roster(roster, sums, TIME_COLUMNS, zero)
    summary["coaching_target"] = th.coaching_share_target
    summary["entries"] = summary["entries"].astype(int)
    summary["teachers_reached"] = summary["teachers_reached"].astype(int)
    summary["meets_target_recent"] = summary["meets_target_recent"].astype("boolean")
    for col in ("first_entry", "last_entry"):
        summary[col] = summary[col].astype("datetime64[ns]")

    kept = _KeptEntries(source_codes[keep], source_names, days[keep], group[keep],
                        minutes[keep], order)
    weekly = _weekly_groups(kept, roster, program_start)
    totals = _group_totals(kept, roster)

    chosen = np.flatnonzero(recent & outside)
    outside_rows = pd.DataFrame({
        "source": source_names[source_codes[chosen]],
        "row": numbers(t["row"]).to_numpy()[chosen], "day": days[chosen],
        "activity": _text_out(t["activity"].iloc[chosen]).to_numpy(),
    })
    return TimeResults(summary, weekly, totals), outside_rows


def _day_dates(days: np.ndarray, present: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 as ``datetime64[ns]``, NaT where not ``present``."""
    out = days.astype("datetime64[D]").astype("datetime64[ns]")
    out[~present] = np.datetime64("NaT")
    return out


@dataclass(frozen=True)
class _KeptEntries:
    """The counted time-log entries as parallel arrays (codes, not text, for speed)."""

    source: np.ndarray  # index into source_names
    source_names: np.ndarray
    day: np.ndarray  # days since 1970-01-01
    group: np.ndarray  # index into order
    minutes: np.ndarray
    order: list[str]


def _teachers_reached(cells: pd.Series, source_codes: np.ndarray, source_names: np.ndarray,
                      mask: np.ndarray) -> np.ndarray:
    """Distinct teacher names per source among the masked Teacher(s) cells."""
    picked = pd.DataFrame({"code": source_codes[mask],
                           "cell": cells.to_numpy(dtype=object)[mask]}).dropna()
    reached = np.zeros(len(source_names), dtype=int)
    if picked.empty:
        return reached
    # Cells repeat a lot ("Lee, Park" every week): split each distinct cell text once, then
    # map the split names back onto the (coach, cell) pairs with vectorised joins.
    picked = picked.drop_duplicates()
    texts_ = pd.unique(picked["cell"].to_numpy(dtype=object))
    split = pd.DataFrame(
        [(text, " ".join(part.split()).casefold())
         for text in texts_ for part in TEACHER_SEPARATORS.split(str(text))],
        columns=["cell", "name"])
    split = split[~split["name"].isin(NOT_A_NAME)]
    names = picked.merge(split, on="cell")[["code", "name"]].drop_duplicates()
    counts = names.groupby("code").size()
    reached[counts.index.to_numpy(dtype=int)] = counts.to_numpy()
    return reached


def _group_order(groups: Sequence[str], seen: Sequence[str]) -> list[str]:
    """The configured groups in their order, then any others seen, "Unknown" last."""
    extra = sorted(set(seen) - set(groups), key=lambda g: (g == UNKNOWN_GROUP, g.casefold()))
    return [*groups, *extra]


def _roster_rank(roster: pd.DataFrame, kept: _KeptEntries) -> np.ndarray:
    """For each source code, its position on the roster (-1 when not on it)."""
    rank = {s: i for i, s in enumerate(roster["source"])}
    return np.array([rank.get(s, -1) for s in kept.source_names], dtype=np.int64)


def _weekly_groups(kept: _KeptEntries, roster: pd.DataFrame,
                   program_start: date | None) -> pd.DataFrame:
    """Minutes per coach, calendar week and group: every group listed for each week logged."""
    n_groups = len(kept.order)
    # Calendar weeks start on Monday; day 0 (1970-01-01) was a Thursday.
    week_start = kept.day - (kept.day + 3) % 7
    weeks, week_code = _distinct_weeks(week_start)
    n_weeks, n_sources = len(weeks), len(kept.source_names)
    cell = kept.source * n_weeks + week_code
    cube = np.bincount(cell * n_groups + kept.group, weights=kept.minutes,
                       minlength=n_sources * n_weeks * n_groups).reshape(-1, n_groups)
    logged = np.bincount(cell, minlength=n_sources * n_weeks) > 0
    rank = _roster_rank(roster, kept)
    cells = np.flatnonzero(logged)
    source, week = np.divmod(cells, n_weeks) if n_weeks else (cells, cells)
    on_roster = rank[source] >= 0
    cells, source, week = cells[on_roster], source[on_roster], week[on_roster]
    ordered = np.lexsort((week, rank[source]))
    cells, source, week = cells[ordered], source[ordered], week[ordered]

    block = cube[cells]  # one row per coach-week, one column per group
    totals = block.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = np.where(totals > 0, block / np.where(totals > 0, totals, 1), np.nan)
    coach_of = roster.set_index("source")["coach"]
    names = kept.source_names[source]
    start_days = weeks[week] if n_weeks else week
    out = pd.DataFrame({
        "source": np.repeat(names, n_groups).astype(object),
        "coach": np.repeat(coach_of.reindex(names).to_numpy(dtype=object), n_groups),
        "week_start": np.repeat(start_days.astype("datetime64[D]").astype("datetime64[ns]"),
                                n_groups),
        "activity_group": np.tile(np.asarray(kept.order, dtype=object), len(cells)),
        "minutes": block.ravel().astype(float),
        "share": shares.ravel().astype(float),
    })
    if program_start is not None:
        start_day = int(np.datetime64(program_start, "D").astype("int64"))
        program_week = (np.repeat(start_days, n_groups) - (start_day - (start_day + 3) % 7))
        out.insert(3, "program_week", pd.array(program_week // 7 + 1, dtype="Int64"))
    else:
        out.insert(3, "program_week", pd.array([pd.NA] * len(out), dtype="Int64"))
    return _objects(out[list(TIME_WEEKLY_COLUMNS)], ("source", "coach", "activity_group"))


def _distinct_weeks(week_start: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct week starts, sorted, and each entry's index into them."""
    if week_start.size == 0:
        return week_start, week_start
    low = week_start.min()
    offset = (week_start - low) // 7
    if offset.max() > 100_000:  # absurd date spans: a sort is safer than a huge count array
        return np.unique(week_start, return_inverse=True)
    present = np.bincount(offset) > 0
    return low + 7 * np.flatnonzero(present), (np.cumsum(present) - 1)[offset]


def _group_totals(kept: _KeptEntries, roster: pd.DataFrame) -> pd.DataFrame:
    """Minutes per coach and group over the whole program; every roster coach, every group."""
    n_groups, n_sources = len(kept.order), len(kept.source_names)
    sums = np.bincount(kept.source * n_groups + kept.group, weights=kept.minutes,
                       minlength=n_sources * n_groups).reshape(n_sources, n_groups)
    code = {s: i for i, s in enumerate(kept.source_names)}
    rows = np.array([code.get(s, -1) for s in roster["source"]], dtype=np.int64)
    block = np.zeros((len(roster), n_groups))
    present = rows >= 0
    block[present] = sums[rows[present]]
    totals = block.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = np.where(totals > 0, block / np.where(totals > 0, totals, 1), np.nan)
    out = pd.DataFrame({
        "source": np.repeat(roster["source"].to_numpy(dtype=object), n_groups),
        "coach": np.repeat(roster["coach"].to_numpy(dtype=object), n_groups),
        "activity_group": np.tile(np.asarray(kept.order, dtype=object), len(roster)),
        "minutes": block.ravel(),
        "share": shares.ravel(),
    })
    return _objects(out[list(TIME_GROUP_COLUMNS)], ("source", "coach", "activity_group"))


# --- relationships -----------------------------------------------------------------------------

def relationship_summary(relationships: pd.DataFrame | None, as_of: date,
                         th: Thresholds = DEFAULT_THRESHOLDS, *,
                         roster: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per coach: how many teachers are listed, how well they are known, contact freshness and
    the delight x engagement counts (NA when fewer than ``min_matrix_teachers`` are rated)."""
    return plain_text(_relationship_figures(relationships, as_of, th, roster)[0])


def _relationship_figures(relationships: pd.DataFrame | None, as_of: date, th: Thresholds,
                          roster: pd.DataFrame | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    r = with_columns(relationships, ("source", "coach", "row", "teacher", "knows_face",
                                     "knows_classroom", "professional_fact", "personal_fact",
                                     "delight", "engagement", "last_contact"))
    if roster is None:
        roster = coach_roster(None, r)
    r = r[has_text(r["teacher"]) & has_text(r["source"])]
    source = texts(r["source"]).to_numpy(dtype=object)
    face = yes(r["knows_face"])
    classroom = yes(r["knows_classroom"])
    professional = has_text(r["professional_fact"])
    personal = has_text(r["personal_fact"])
    contact = dates(r["last_contact"])
    age = days_before(as_timestamp(as_of), contact)
    stale = (age > th.stale_contact_days).fillna(False)
    delight = numbers(r["delight"]).round()
    engagement = numbers(r["engagement"]).round()
    rated = delight.isin([1, 2, 3]) & engagement.isin([1, 2, 3])

    flags = pd.DataFrame({
        "source": source, "listed": 1, "known_by_face": face.to_numpy(),
        "known_by_classroom": classroom.to_numpy(),
        "with_professional_fact": professional.to_numpy(),
        "with_personal_fact": personal.to_numpy(),
        "with_all_four": (face & classroom & professional & personal).to_numpy(),
        "contacts_stale": stale.to_numpy(), "contacts_undated": contact.isna().to_numpy(),
        "teachers_rated": rated.to_numpy(),
    })
    for d in (1, 2, 3):
        for e in (1, 2, 3):
            flags[f"matrix_d{d}_e{e}"] = (rated & delight.eq(d) & engagement.eq(e)).to_numpy()
    sums = flags.groupby("source").sum(numeric_only=True)
    sums = sums.rename(columns={"listed": "teachers_listed"})
    for col in ("known_by_face", "known_by_classroom", "with_professional_fact",
                "with_personal_fact", "with_all_four"):
        sums[f"pct_{col}"] = sums[col] / sums["teachers_listed"].where(
            sums["teachers_listed"] > 0)

    counts = [c for c in RELATIONSHIP_COLUMNS
              if c not in ("source", "coach", "matrix_shown") and not c.startswith("pct_")]
    out = _on_roster(roster, sums, RELATIONSHIP_COLUMNS, {c: 0 for c in counts})
    for col in counts:
        out[col] = out[col].astype(int)
    shown = out["teachers_rated"] >= th.min_matrix_teachers
    out["matrix_shown"] = shown.astype(bool)
    for col in MATRIX_COLUMNS:
        # A distribution from too few teachers could reveal one teacher's rating: withhold it.
        out[col] = pd.array(out[col].where(shown), dtype="Int64")

    stale_rows = pd.DataFrame({"source": source, "row": numbers(r["row"]).to_numpy(),
                               "when": contact.to_numpy()})[stale.to_numpy()]
    return out, stale_rows.sort_values(["source", "when", "row"]).reset_index(drop=True)


def delight_engagement_matrix(row: pd.Series) -> list[list[int]] | None:
    """The 3 x 3 counts of one coach's relationship row, delight 3 (top) down to 1, engagement
    1 (left) to 3; ``None`` when they are withheld for too few rated teachers."""
    if not bool(row["matrix_shown"]):
        return None
    return [[int(row[f"matrix_d{d}_e{e}"]) for e in (1, 2, 3)] for d in (3, 2, 1)]


# --- coaching cycles ---------------------------------------------------------------------------

def cycle_summary(cycles: pd.DataFrame | None, as_of: date, th: Thresholds = DEFAULT_THRESHOLDS, *,
                  roster: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per coach: cycles by phase, next steps done out of total, and stalled cycles (not
    Complete, and the last update, or else the start date, more than ``stalled_cycle_days``
    before the as-of date)."""
    return plain_text(_cycle_figures(cycles, as_of, th, roster)[0])


def _cycle_figures(cycles: pd.DataFrame | None, as_of: date, th: Thresholds,
                   roster: pd.DataFrame | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    c = with_columns(cycles, ("source", "coach", "row", "start_date", "phase",
                              "next_steps_total", "next_steps_done", "last_update"))
    if roster is None:
        roster = coach_roster(None, c)
    c = c[has_text(c["source"])]
    source = texts(c["source"]).to_numpy(dtype=object)
    phase = texts(c["phase"]).str.casefold().map({p.casefold(): p for p in PHASES})
    complete = phase.eq("Complete").fillna(False).astype(bool)
    updated = dates(c["last_update"]).fillna(dates(c["start_date"]))
    age = days_before(as_timestamp(as_of), updated)
    stalled = ~complete & (age > th.stalled_cycle_days).fillna(False)

    counts = pd.DataFrame({
        "source": source, "cycles_total": 1,
        **{f"cycles_{p.casefold()}": phase.eq(p).fillna(False).to_numpy() for p in PHASES},
        "cycles_open": (~complete).to_numpy(),
        "next_steps_done": numbers(c["next_steps_done"]).fillna(0).to_numpy(),
        "next_steps_total": numbers(c["next_steps_total"]).fillna(0).to_numpy(),
        "cycles_stalled": stalled.to_numpy(),
        "cycles_undated": (~complete & updated.isna()).to_numpy(),
    })
    sums = counts.groupby("source").sum(numeric_only=True)
    sums["next_steps_share"] = sums["next_steps_done"] / sums["next_steps_total"].where(
        sums["next_steps_total"] > 0)
    whole = [c for c in CYCLE_COLUMNS if c not in ("source", "coach", "next_steps_share")]
    out = _on_roster(roster, sums, CYCLE_COLUMNS, {c: 0 for c in whole})
    for col in whole:
        out[col] = out[col].astype(int)
    stalled_rows = pd.DataFrame({"source": source, "row": numbers(c["row"]).to_numpy(),
                                 "when": updated.to_numpy()})[stalled.to_numpy()]
    return out, stalled_rows.sort_values(["source", "when", "row"]).reset_index(drop=True)


# --- all together ------------------------------------------------------------------------------

def coach_summary(coaches: pd.DataFrame | None, relationships: pd.DataFrame | None,
                  time_log: pd.DataFrame | None, cycles: pd.DataFrame | None, as_of: date,
                  th: Thresholds = DEFAULT_THRESHOLDS, *, groups: Sequence[str] | None = None,
                  program_start: date | None = None,
                  column_of: ColumnOf | None = None) -> CoachResults:
    """Time, relationships and cycles for every coach workbook, plus the coaches' flags.

    Every coach in ``coaches`` (and any workbook seen only in the other frames) gets a row in
    every per-coach frame.
    """
    roster = coach_roster(coaches, relationships, time_log, cycles)
    time, outside_rows = _time_figures(time_log, as_of, th, roster, groups, program_start)
    relationships_out, stale_rows = _relationship_figures(relationships, as_of, th, roster)
    cycles_out, stalled_rows = _cycle_figures(cycles, as_of, th, roster)

    flags = _coach_flags(roster, time.summary, relationships_out, cycles_out, outside_rows,
                         stale_rows, stalled_rows, th, column_of)
    open_flags = pd.Series([f.source for f in flags], dtype=object).value_counts()

    overview = roster.copy()
    for frame in (time.summary, relationships_out, cycles_out):
        # Every per-coach frame is laid on the same roster, so rows line up one to one.
        for col in frame.columns:
            if col in OVERVIEW_COLUMNS and col not in overview.columns:
                overview[col] = frame[col].to_numpy()
    overview["open_flags"] = overview["source"].map(open_flags).fillna(0).astype(int)
    overview = overview[list(OVERVIEW_COLUMNS)]
    return CoachResults(overview=plain_text(overview), time=plain_text(time.summary),
                        time_weekly=plain_text(time.weekly),
                        time_groups=plain_text(time.groups),
                        relationships=plain_text(relationships_out),
                        cycles=plain_text(cycles_out), flags=flags)


def _lists_by_source(rows: pd.DataFrame, columns: Sequence[str]) -> dict[str, dict[str, list]]:
    """Each source's values of ``columns`` as plain lists, in row order, split in one pass.

    Filtering the whole frame once per coach is quadratic; a state-wide program has thousands.
    """
    out: dict[str, dict[str, list]] = {}
    values = [rows[c].tolist() for c in columns]
    for i, source in enumerate(rows["source"].tolist()):
        if not isinstance(source, str):
            continue  # a frame filter on source == name never matches a missing source
        entry = out.get(source)
        if entry is None:
            entry = out[source] = {c: [] for c in columns}
        for c, column in zip(columns, values, strict=True):
            entry[c].append(column[i])
    return out


def _coach_flags(roster: pd.DataFrame, time: pd.DataFrame, relationships: pd.DataFrame,
                 cycles: pd.DataFrame, outside_rows: pd.DataFrame, stale_rows: pd.DataFrame,
                 stalled_rows: pd.DataFrame, th: Thresholds,
                 column_of: ColumnOf | None) -> list[Finding]:
    flags: list[Finding] = []
    weeks = wording.count(th.recent_weeks, "week")
    # A stable sort of the whole frame keeps each source's rows in the order a per-source sort
    # would give, so each source's last row is its latest.
    outside_of = _lists_by_source(outside_rows.sort_values(["day", "row"]), ["activity", "row"])
    stale_of = _lists_by_source(stale_rows, ["row"])
    stalled_of = _lists_by_source(stalled_rows, ["row"])
    nothing: dict[str, list] = {"activity": [], "row": []}

    def cell_for(source: str, tab: str, key: str, row: float | None) -> str:
        if column_of is None or row is None or pd.isna(row):
            return ""
        letter = column_of(source, tab, key)
        return f"{letter}{int(row)}" if letter else ""

    def add(code: str, source: str, message: str, hint: str, tab: str, cell: str) -> None:
        flags.append(Finding(code=code, severity=FLAG_SEVERITY[code], message=message,
                             hint=hint, source=source, tab=tab, cell=cell))

    def rows_text(rows: list) -> str:
        listed = sorted(int(r) for r in rows if not pd.isna(r))
        if not listed:
            return ""
        return f" ({'row' if len(listed) == 1 else 'rows'} {wording.numbers_list(listed)})"

    for t in time.itertuples(index=False):
        if t.minutes_recent > 0 and not pd.isna(t.meets_target_recent) \
                and not t.meets_target_recent:
            add("low-coaching-share", t.source,
                f"Coaching with teachers was {wording.share(t.coaching_share_recent)} of the "
                f"time logged in the last {weeks}, below the "
                f"{wording.share(th.coaching_share_target)} target (whole program: "
                f"{wording.share(t.coaching_share)}).",
                "Consider which other duties could move so that more of the week goes to "
                "working with teachers, and talk it over with your coaching leader.",
                TIME_TAB, "")
        if t.outside_role_minutes_recent > 0:
            mine = outside_of.get(t.source, nothing)
            kinds = sorted({a for a in mine["activity"] if a})
            latest = mine["row"][-1:]
            kinds_text = f" ({', '.join(kinds)})" if kinds else ""
            add("outside-role-time", t.source,
                f"{wording.minutes(t.outside_role_minutes_recent)} in the last {weeks} were "
                f"logged as work outside the coaching role{kinds_text}.",
                "Consider raising this with your coaching leader: substitute coverage, "
                "evaluation and assessment scoring fall outside the coaching role.",
                TIME_TAB, cell_for(t.source, TIME_TAB, "activity",
                                   latest[0] if latest else None))

    for r in relationships.itertuples(index=False):
        if r.contacts_stale > 0:
            mine = stale_of.get(r.source, nothing)
            undated = (f"; {wording.count(r.contacts_undated, 'teacher')} "
                       f"{'has' if r.contacts_undated == 1 else 'have'} no last-contact date"
                       if r.contacts_undated else "")
            verb = "was" if r.contacts_stale == 1 else "were"
            add("stale-contacts", r.source,
                f"{r.contacts_stale} of {r.teachers_listed} teachers {verb} last contacted more "
                f"than {th.stale_contact_days} days ago{rows_text(mine['row'])}{undated}.",
                "Consider a short check-in with each of them this week, then update Last "
                "Contact.",
                RELATIONSHIPS_TAB, cell_for(r.source, RELATIONSHIPS_TAB, "last_contact",
                                            mine["row"][0] if mine["row"] else None))

    for c in cycles.itertuples(index=False):
        if c.cycles_stalled > 0:
            mine = stalled_of.get(c.source, nothing)
            one = c.cycles_stalled == 1
            add("stalled-cycles", c.source,
                f"{wording.count(c.cycles_stalled, 'open coaching cycle')} "
                f"{'has' if one else 'have'} had no update for more than "
                f"{th.stalled_cycle_days} days{rows_text(mine['row'])}.",
                "Consider planning the next step with the teacher, or marking the cycle "
                "Complete if it has ended; then update Last Update.",
                CYCLES_TAB, cell_for(c.source, CYCLES_TAB, "last_update",
                                     mine["row"][0] if mine["row"] else None))
    return flags

"""Coaches: where their time goes, how well they know their teachers, how their cycles move.

Privacy is built into the shape of the results: every frame here has one row per coach (or per
coach, week and activity group) and holds only counts, minutes and shares. Teacher names, facts,
notes, per-teacher ratings and "knows face / classroom" answers are read to compute those
aggregates and never copied into a result. The delight x engagement counts of a coach are
withheld (NA) when fewer than ``min_matrix_teachers`` teachers are rated, so no one teacher's
rating can be read off them. Flags give counts and sheet rows, never names.

Time figures:

* an entry counts when it has minutes and a date on or before the as-of date;
* weeks start on the program's start day (the weekday of the earliest team's start date), or
  on Monday when no team gives one (``week_start``); ``program_week`` numbers them from the
  program's start when one is given;
* "the last 4 weeks" (``recent_weeks``) are the last 4 *complete* weeks before the as-of date
  (:func:`recent_window`): a run on the first day of a week counts all of the week before, and
  the window's minutes are exactly those of the Coach Time tab's weekly rows for those weeks;
* a coach whose time log could not be read (``time_unknown`` on its ``coaches`` row) has no
  time figures at all: they are NaN (blank), with the reason in ``time_note``, never 0;
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
from datetime import date, timedelta
from itertools import chain

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
    text_out,
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

_AND = re.compile(r"[Aa](?<=\b[Aa])[Nn][Dd]\b")
"""The word "and" in any case, as ``\\band\\b`` with ``re.IGNORECASE`` matches it; starting with a
character set lets the regex engine skip quickly to the candidates, about twice as fast."""
_SEPARATOR_CHARS = str.maketrans(dict.fromkeys(",;&+\n", "\x01"))
"""With :data:`_AND`, what :data:`TEACHER_SEPARATORS` splits on, marked ``\\x01`` (see
:func:`teacher_cell_parts`)."""

ROSTER_COLUMNS = ("source", "coach", "schools", "role")
TIME_COLUMNS = (
    "source", "coach", "entries", "minutes_total", "minutes_coaching", "coaching_share",
    "minutes_recent", "minutes_coaching_recent", "coaching_share_recent", "coaching_target",
    "meets_target_recent", "outside_role_minutes", "outside_role_minutes_recent",
    "teachers_reached", "first_entry", "last_entry", "time_note",
)
"""``time_note``: why the coach's time figures are blank (its time log could not be read), or
None; every figure of such a coach is NA."""
TIME_FIGURES = ("entries", "minutes_total", "minutes_coaching", "coaching_share",
                "minutes_recent", "minutes_coaching_recent", "coaching_share_recent",
                "meets_target_recent", "outside_role_minutes", "outside_role_minutes_recent",
                "teachers_reached", "first_entry", "last_entry")
TIME_WEEKLY_COLUMNS = ("source", "coach", "week_start", "program_week", "activity_group",
                       "minutes", "share")
TIME_GROUP_COLUMNS = ("source", "coach", "activity_group", "minutes", "share", "minutes_recent",
                      "share_recent")
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
    "time_note",
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
    over the whole program (``minutes``, ``share``) and the last weeks (``minutes_recent``,
    ``share_recent``)."""

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
    recent_window: tuple[date, date] | None = None
    """The first and last day of "the last weeks" (see :func:`recent_window`)."""


def recent_window(as_of: date, weeks: int, week_start: int = 0) -> tuple[date, date]:
    """The first and last day of the last ``weeks`` complete weeks before ``as_of``.

    Weeks start on weekday ``week_start`` (0 is Monday). The week holding ``as_of`` is not
    complete, even on its last day (the day is not over), so a run on the first day of a week
    counts all of the week before: a nightly run early on Monday covers Monday to Sunday.
    """
    this_week = as_of - timedelta(days=(as_of.weekday() - week_start) % 7)
    return this_week - timedelta(weeks=weeks), this_week - timedelta(days=1)


def week_start_day(program_start: date | None) -> int:
    """The weekday the program's weeks start on: its start date's, else Monday."""
    return program_start.weekday() if program_start is not None else 0


# --- roster ------------------------------------------------------------------------------------

def coach_roster(coaches: pd.DataFrame | None, *frames: pd.DataFrame | None) -> pd.DataFrame:
    """One row per coach workbook (``source``), with the coach's name, schools and role.

    The About tab gives the name; a workbook that appears only in ``frames`` (say its About tab
    failed) still gets a row, named from its rows' ``coach`` column or, failing that, its source.
    Sorted by coach name, then source.
    """
    return _roster(coaches, [_first_coach_by_source(frame) for frame in frames])


def _roster(coaches: pd.DataFrame | None, named: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """:func:`coach_roster` from the About tabs and each other frame's workbooks (``named``,
    from :func:`_first_coach_by_source`)."""
    c = with_columns(coaches, ROSTER_COLUMNS)
    parts = [pd.DataFrame({"source": texts(c["source"]), "coach": texts(c["coach"]),
                           "schools": texts(c["schools"]), "role": texts(c["role"])})]
    parts += [ids for ids in named if len(ids)]
    roster = pd.concat(parts, ignore_index=True)
    roster = roster[roster["source"].notna() & roster["source"].ne("")]
    # The About tab comes first, so its name wins; a blank name is filled from the other rows.
    named_first = roster.dropna(subset=["coach"]).drop_duplicates("source").set_index("source")
    roster = roster.drop_duplicates("source").set_index("source")
    roster["coach"] = roster["coach"].fillna(named_first["coach"].reindex(roster.index))
    roster["coach"] = roster["coach"].fillna(pd.Series(roster.index, index=roster.index))
    roster = roster.reset_index()
    for col in ROSTER_COLUMNS:
        roster[col] = text_out(roster[col])
    roster["_key"] = roster["coach"].str.casefold()
    roster = roster.sort_values(["_key", "source"], kind="stable")
    return roster[list(ROSTER_COLUMNS)].reset_index(drop=True)


Factorized = tuple[np.ndarray, np.ndarray]
"""Integer codes (-1 for blank) and distinct cleaned values of a text column."""


def _first_coach_by_source(frame: pd.DataFrame | None,
                           sources: Factorized | None = None) -> pd.DataFrame:
    """Each workbook (cleaned ``source``, in order of first appearance) with the coach named on
    its first row that names one (NA when none does).

    ``sources`` may pass the source column already factorized. Works on integer codes and
    looks at each workbook's first row only (further rows only when that one names nobody), so
    a large time log stays cheap.
    """
    f = with_columns(frame, ("source", "coach"))
    codes, names = _factorized_text(f["source"], in_runs=True) if sources is None else sources
    coach = f["coach"].to_numpy(dtype=object)
    # pd.factorize numbers values in order of first appearance, so a code first appears where
    # the running maximum of the codes goes up.
    first = coach[np.flatnonzero(np.diff(np.maximum.accumulate(codes), prepend=-1) > 0)]
    unnamed = pd.isna(first)
    if unnamed.any():
        rows = np.flatnonzero(np.isin(codes, np.flatnonzero(unnamed)))
        rows = rows[pd.notna(coach[rows])]
        rows = rows[~pd.Series(codes[rows]).duplicated().to_numpy()]  # first per workbook
        first[codes[rows]] = coach[rows]
    return pd.DataFrame({"source": pd.Series(names, dtype="string"),
                         "coach": texts(pd.Series(first, dtype=object))})


def _objects(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Text columns as ``object`` (pandas 3 would infer its ``str`` dtype from arrays)."""
    return frame.astype({c: object for c in columns})


def _on_roster(roster: pd.DataFrame, figures: pd.DataFrame, columns: Sequence[str],
               fill: dict[str, object]) -> pd.DataFrame:
    """``figures`` (indexed by source) laid onto the roster, so every coach has a row."""
    aligned = figures.reindex(roster["source"])
    data = {"source": roster["source"], "coach": roster["coach"]}
    for col in columns:
        if col in data:
            continue
        values = pd.Series(aligned[col].to_numpy() if col in aligned.columns else np.nan,
                           index=roster.index)
        data[col] = values.fillna(fill[col]) if col in fill else values
    return pd.DataFrame(data)[list(columns)]  # one frame at once, not a column at a time


# --- time log ----------------------------------------------------------------------------------

def time_rollup(time_log: pd.DataFrame | None, as_of: date, th: Thresholds = DEFAULT_THRESHOLDS, *,
                roster: pd.DataFrame | None = None, groups: Sequence[str] | None = None,
                program_start: date | None = None,
                unknown: pd.Series | None = None) -> TimeResults:
    """Roll the time logs up per coach, per week and per activity group.

    ``groups`` lists the activity groups in display order, the coaching group first (default:
    the groups of ``sheet_templates/activities.toml``). ``unknown`` maps a source to why its
    time log could not be read: those coaches get blank figures with that note. Vectorized
    throughout: a million entries take well under a second or two.
    """
    frames, _outside = _time_figures(time_log, as_of, th, roster, groups, program_start,
                                     unknown=unknown)
    return TimeResults(plain_text(frames.summary), plain_text(frames.weekly),
                       plain_text(frames.groups))


def _default_groups() -> tuple[str, ...]:
    from sheetsync.schema import default_activities

    return default_activities().groups


def _factorized_text(series: pd.Series, *, in_runs: bool = False) -> Factorized:
    """Integer codes (-1 for blank) and cleaned distinct values of a text column.

    Only the distinct values are cleaned, which keeps a million-row column cheap; two spellings
    that clean to the same text ("A " and "A") share one code. ``in_runs`` says the column
    mostly repeats one value for many rows in a row, as ``source`` does (a workbook's rows come
    together): then only the first value of each run is hashed.
    """
    starts = _run_starts(series) if in_runs else None
    if starts is None:
        raw_codes, raw_names = pd.factorize(series, use_na_sentinel=True)
    else:
        head_codes, raw_names = pd.factorize(series.to_numpy(dtype=object)[starts],
                                             use_na_sentinel=True)
        raw_codes = np.repeat(head_codes, np.diff(np.append(starts, len(series))))
    cleaned = texts(pd.Series(np.asarray(raw_names, dtype=object), dtype=object))
    cleaned = cleaned.where(cleaned.ne(""))
    merged, names = pd.factorize(cleaned, use_na_sentinel=True)
    codes = np.append(merged, -1)[raw_codes]  # raw code -1 picks the appended -1
    return codes, np.asarray(names, dtype=object)


def _run_starts(series: pd.Series) -> np.ndarray | None:
    """Where each run of equal values starts, or None when the runs are short (or the values
    cannot be compared, such as ``pd.NA``) and hashing every value is as quick."""
    values = series.to_numpy(dtype=object)
    if len(values) < 2:
        return None
    try:
        changes = np.asarray(values[1:] != values[:-1], dtype=bool)
    except (TypeError, ValueError):
        return None
    starts = np.flatnonzero(np.append(True, changes))
    return starts if len(starts) * 4 <= len(values) else None


def _time_figures(time_log: pd.DataFrame | None, as_of: date, th: Thresholds,
                  roster: pd.DataFrame | None, groups: Sequence[str] | None,
                  program_start: date | None,
                  sources: Factorized | None = None,
                  unknown: pd.Series | None = None) -> tuple[TimeResults, pd.DataFrame]:
    groups = tuple(groups) if groups else _default_groups()
    t = with_columns(time_log, ("source", "coach", "row", "date", "minutes", "activity",
                                "activity_group", "outside_role", "teachers"))
    if sources is None:
        sources = _factorized_text(t["source"], in_runs=True)
    if roster is None:
        roster = _roster(None, [_first_coach_by_source(t, sources)])

    source_codes, source_names = sources
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
    first_day, last_day = recent_window(as_of_day.date(), th.recent_weeks,
                                        week_start_day(program_start))
    window = [int(np.datetime64(d, "D").astype("int64")) for d in (first_day, last_day)]
    recent = keep & (days >= window[0]) & (days <= window[1])
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
    sums["teachers_reached"] = _teachers_reached(t["teachers"], source_codes, n_sources,
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

    summary["time_note"] = None
    blank = _unknown_sources(roster, unknown)
    if blank:
        rows = summary["source"].isin(list(blank)).to_numpy()
        for col in TIME_FIGURES:
            kind = summary[col].dtype
            if col in ("entries", "teachers_reached"):
                summary[col] = pd.array(summary[col], dtype="Int64")
            elif col == "meets_target_recent" or isinstance(kind, pd.BooleanDtype):
                summary[col] = summary[col].astype("boolean")
            summary.loc[rows, col] = pd.NA if col in ("entries", "teachers_reached",
                                                      "meets_target_recent") else np.nan
        summary.loc[rows, "time_note"] = summary.loc[rows, "source"].map(blank)
        summary["time_note"] = summary["time_note"].astype(object)
        keep = keep & ~np.isin(source_codes, [i for i, s in enumerate(source_names)
                                              if s in blank])
    kept = _KeptEntries(source_codes[keep], source_names, days[keep], group[keep],
                        minutes[keep], order, recent[keep])
    weekly = _weekly_groups(kept, roster, program_start)
    totals = _group_totals(kept, roster)
    if blank:
        gone = totals["source"].isin(list(blank)).to_numpy()
        totals.loc[gone, ["minutes", "share"]] = np.nan
        recent = recent & keep

    chosen = np.flatnonzero(recent & outside)
    outside_rows = pd.DataFrame({
        "source": source_names[source_codes[chosen]],
        "row": numbers(t["row"].iloc[chosen]).to_numpy(), "day": days[chosen],
        "activity": text_out(t["activity"].iloc[chosen]).to_numpy(),
    })
    return TimeResults(summary, weekly, totals), outside_rows


def _unknown_sources(roster: pd.DataFrame, unknown: pd.Series | None) -> dict[str, str]:
    """Roster sources whose time log could not be read, with the reason."""
    if unknown is None or not len(unknown):
        return {}
    notes = text_out(unknown.astype(object))
    found = {s: n for s, n in zip(unknown.index.tolist(), notes.tolist(), strict=True)
             if n}
    return {s: found[s] for s in roster["source"].tolist() if s in found}


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
    recent: np.ndarray  # within the last ``recent_weeks`` weeks


def _teachers_reached(cells: pd.Series, source_codes: np.ndarray, n_sources: int,
                      mask: np.ndarray) -> np.ndarray:
    """Distinct teacher names per source among the masked Teacher(s) cells.

    Cells repeat a lot ("Lee, Park" every week), so everything here works on integer codes:
    each distinct cell text is split (and each distinct part cleaned) once, then the coach x
    cell pairs are expanded into coach x name pairs with array indexing.
    """
    reached = np.zeros(n_sources, dtype=int)
    cell_codes, cell_texts = pd.factorize(cells.to_numpy(dtype=object)[mask])
    sources = source_codes[mask]
    present = (cell_codes >= 0) & (sources >= 0)  # a blank cell (None/NaN) names nobody
    if not present.any():
        return reached
    n_cells = len(cell_texts)
    pairs = pd.unique(sources[present] * n_cells + cell_codes[present])
    pair_source, pair_cell = np.divmod(pairs, n_cells)

    # Every part of every distinct cell, in order, then one code per distinct cleaned name.
    parts, n_parts = teacher_cell_parts([str(text) for text in cell_texts])
    part_cell = np.repeat(np.arange(n_cells), n_parts)
    part_codes, part_texts = pd.factorize(np.array(parts, dtype=object))
    cleaned = pd.Series([" ".join(p.split()).casefold() for p in part_texts], dtype=object)
    name_of_part, _names = pd.factorize(cleaned.where(~cleaned.isin(NOT_A_NAME)))
    name = name_of_part[part_codes]  # -1 for parts that are not a name
    part_cell, name = part_cell[name >= 0], name[name >= 0]
    n_names = int(name.max()) + 1 if name.size else 0
    if n_names == 0:
        return reached

    # The names of cell c are name[start[c]:start[c] + size[c]]: gather them for every pair.
    size = np.bincount(part_cell, minlength=n_cells)
    start = np.cumsum(size) - size
    count = size[pair_cell]
    offset = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    pair_names = name[np.repeat(start[pair_cell], count) + offset]
    coach_names = pd.unique(np.repeat(pair_source, count) * n_names + pair_names)
    return np.bincount(coach_names // n_names, minlength=n_sources).astype(int)


def teacher_cell_parts(cells: list[str]) -> tuple[list[str], np.ndarray]:
    """Every part of every Teacher(s) cell, in order, split where :data:`TEACHER_SEPARATORS`
    splits them, and how many parts each cell has.

    The parts may keep the spaces around a separator, and a line break next to another
    separator may add a blank part; neither changes the names, which are compared ignoring
    spacing, with blanks dropped. Splitting cell by cell with the regular expression was the
    slowest step of a large program's rollup, so the cells are joined into one text, the
    separators marked in two passes over it (one regular expression for the word "and", one
    character translation) and the text cut with plain ``str.split``, which also creates no
    list per cell. Cells that hold the marker characters themselves are split one by one.
    """
    joined = "\x00".join(cells)
    if "\x01" in joined or joined.count("\x00") != len(cells) - 1:
        split = [TEACHER_SEPARATORS.split(cell) for cell in cells]
        return list(chain.from_iterable(split)), np.array([len(p) for p in split], dtype=int)
    marked = _AND.sub("\x01", joined).translate(_SEPARATOR_CHARS)
    n_parts = np.array([cell.count("\x01") + 1 for cell in marked.split("\x00")], dtype=int)
    return marked.replace("\x00", "\x01").split("\x01"), n_parts


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
    # Weeks start on the program's start day (Monday = 0); day 0 (1970-01-01) was a Thursday.
    week_start = kept.day - (kept.day + 3 - week_start_day(program_start)) % 7
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
        program_week = np.repeat(start_days, n_groups) - start_day
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
    """Minutes per coach and group over the whole program and over the last weeks (the window
    of the coaching share); every roster coach, every group."""
    n_groups, n_sources = len(kept.order), len(kept.source_names)
    code = {s: i for i, s in enumerate(kept.source_names)}
    rows = np.array([code.get(s, -1) for s in roster["source"]], dtype=np.int64)
    present = rows >= 0

    def per_coach(weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        sums = np.bincount(kept.source * n_groups + kept.group, weights=weights,
                           minlength=n_sources * n_groups).reshape(n_sources, n_groups)
        block = np.zeros((len(roster), n_groups))
        block[present] = sums[rows[present]]
        totals = block.sum(axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            shares = np.where(totals > 0, block / np.where(totals > 0, totals, 1), np.nan)
        return block.ravel(), shares.ravel()

    minutes, shares = per_coach(kept.minutes)
    minutes_recent, shares_recent = per_coach(np.where(kept.recent, kept.minutes, 0.0))
    out = pd.DataFrame({
        "source": np.repeat(roster["source"].to_numpy(dtype=object), n_groups),
        "coach": np.repeat(roster["coach"].to_numpy(dtype=object), n_groups),
        "activity_group": np.tile(np.asarray(kept.order, dtype=object), len(roster)),
        "minutes": minutes,
        "share": shares,
        "minutes_recent": minutes_recent,
        "share_recent": shares_recent,
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
    codes, names = _factorized_text(r["source"], in_runs=True)
    listed = (codes >= 0) & has_text(r["teacher"]).to_numpy()
    r, codes = r[listed], codes[listed]
    source = names[codes]
    face = yes(r["knows_face"]).to_numpy()
    classroom = yes(r["knows_classroom"]).to_numpy()
    professional = has_text(r["professional_fact"]).to_numpy()
    personal = has_text(r["personal_fact"]).to_numpy()
    contact = dates(r["last_contact"])
    stale = (days_before(as_timestamp(as_of), contact) > th.stale_contact_days).to_numpy()
    delight = numbers(r["delight"]).round().to_numpy()
    engagement = numbers(r["engagement"]).round().to_numpy()
    rated = np.isin(delight, [1, 2, 3]) & np.isin(engagement, [1, 2, 3])

    # Per coach: one bincount per figure over integer source codes (no groupby).
    n_sources = len(names)

    def per_source(mask: np.ndarray) -> np.ndarray:
        return np.bincount(codes[mask], minlength=n_sources)

    cell = np.where(rated, (delight - 1) * 3 + (engagement - 1), 0).astype(np.int64)
    matrix = np.bincount(codes[rated] * 9 + cell[rated],
                         minlength=9 * n_sources).reshape(n_sources, 9)  # MATRIX_COLUMNS order
    sums = pd.DataFrame({
        "teachers_listed": np.bincount(codes, minlength=n_sources),
        "known_by_face": per_source(face), "known_by_classroom": per_source(classroom),
        "with_professional_fact": per_source(professional),
        "with_personal_fact": per_source(personal),
        "with_all_four": per_source(face & classroom & professional & personal),
        "contacts_stale": per_source(stale),
        "contacts_undated": per_source(contact.isna().to_numpy()),
        "teachers_rated": per_source(rated),
        **{col: matrix[:, i] for i, col in enumerate(MATRIX_COLUMNS)},
    }, index=pd.Index(names, name="source"))
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
                               "when": contact.to_numpy()})[stale]
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
    codes, names = _factorized_text(c["source"], in_runs=True)
    c, codes = c[codes >= 0], codes[codes >= 0]
    source = names[codes]
    # Phases are few: match each distinct spelling once ("act " -> "Act"), then work on codes.
    phase_codes, phase_seen = _factorized_text(c["phase"])
    canonical = {p.casefold(): i for i, p in enumerate(PHASES)}
    phase = np.array([canonical.get(p.casefold(), -1) for p in phase_seen] + [-1],
                     dtype=np.int64)[phase_codes]  # index into PHASES, -1 for none
    complete = phase == PHASES.index("Complete")
    updated = dates(c["last_update"]).fillna(dates(c["start_date"]))
    age = days_before(as_timestamp(as_of), updated).to_numpy()
    stalled = ~complete & (age > th.stalled_cycle_days)

    n_sources = len(names)

    def per_source(mask: np.ndarray) -> np.ndarray:
        return np.bincount(codes[mask], minlength=n_sources)

    # Next steps are summed the way pandas sums them (compensated), as the figures always were.
    steps = pd.DataFrame({
        "next_steps_done": numbers(c["next_steps_done"]).fillna(0).to_numpy(),
        "next_steps_total": numbers(c["next_steps_total"]).fillna(0).to_numpy(),
    }).groupby(codes).sum().reindex(range(n_sources), fill_value=0.0)
    sums = pd.DataFrame({
        "cycles_total": np.bincount(codes, minlength=n_sources),
        **{f"cycles_{p.casefold()}": per_source(phase == i) for i, p in enumerate(PHASES)},
        "cycles_open": per_source(~complete),
        "next_steps_done": steps["next_steps_done"].to_numpy(),
        "next_steps_total": steps["next_steps_total"].to_numpy(),
        "cycles_stalled": per_source(stalled),
        "cycles_undated": per_source(~complete & updated.isna().to_numpy()),
    }, index=pd.Index(names, name="source"))
    sums["next_steps_share"] = sums["next_steps_done"] / sums["next_steps_total"].where(
        sums["next_steps_total"] > 0)
    whole = [c for c in CYCLE_COLUMNS if c not in ("source", "coach", "next_steps_share")]
    out = _on_roster(roster, sums, CYCLE_COLUMNS, {c: 0 for c in whole})
    for col in whole:
        out[col] = out[col].astype(int)
    stalled_rows = pd.DataFrame({"source": source, "row": numbers(c["row"]).to_numpy(),
                                 "when": updated.to_numpy()})[stalled]
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
    # The time log is by far the largest frame: factorize its sources once, for both.
    time_sources = _factorized_text(with_columns(time_log, ("source",))["source"], in_runs=True)
    roster = _roster(coaches, [_first_coach_by_source(relationships),
                               _first_coach_by_source(time_log, time_sources),
                               _first_coach_by_source(cycles)])
    unknown = None
    if coaches is not None and "time_unknown" in coaches.columns:
        unknown = pd.Series(coaches["time_unknown"].to_numpy(dtype=object),
                            index=texts(coaches["source"]).to_numpy(dtype=object))
    time, outside_rows = _time_figures(time_log, as_of, th, roster, groups, program_start,
                                       time_sources, unknown)
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
                        cycles=plain_text(cycles_out), flags=flags,
                        recent_window=recent_window(as_of, th.recent_weeks,
                                                    week_start_day(program_start)))


def _grouped(source: pd.Series, *keys: np.ndarray) -> tuple[np.ndarray, dict[str, slice]]:
    """An order of the rows that groups them by source, sorted by ``keys`` within each source
    (stable; NaN last), and where each source's rows are in it: ``(order, {source: slice})``.

    One sort over integer codes instead of filtering the frame once per coach (quadratic: a
    state-wide program has thousands). A missing source gets no entry, as a frame filter on
    ``source == name`` would never match it.
    """
    codes, names = pd.factorize(source)
    order = np.lexsort((*reversed(keys), codes))  # np.lexsort sorts by its last key first
    grouped = codes[order]
    if not len(grouped):
        return order, {}
    starts = np.flatnonzero(np.diff(grouped, prepend=-2))
    stops = np.append(starts[1:], len(order))
    labels = [*names.tolist(), None]  # code -1 (missing) picks the None
    return order, {labels[code]: slice(start, stop)
                   for code, start, stop in zip(grouped[starts].tolist(), starts.tolist(),
                                                stops.tolist(), strict=True)
                   if isinstance(labels[code], str)}


def _row_lists(rows: pd.DataFrame) -> dict[str, tuple[float, list[int]]]:
    """Per source: its first row (``rows`` are sorted by source, date and row), where the flag
    points, and all its rows in ascending order, for the flag's "(rows 3, 5 and 9)"."""
    row = rows["row"].to_numpy(dtype=float)
    order, at = _grouped(rows["source"])  # each source's rows in the frame's order
    in_order = row[order].tolist()
    order, ascending_at = _grouped(rows["source"], row)
    ascending = row[order]
    # Missing rows sort last within each source: count the numbered ones to cut them off.
    numbered = ~np.isnan(ascending)
    numbered_before = np.append(0, np.cumsum(numbered))
    listed = np.where(numbered, ascending, 0).astype(np.int64).tolist()
    return {s: (in_order[at[s].start],
                listed[sl.start:sl.start + numbered_before[sl.stop] - numbered_before[sl.start]])
            for s, sl in ascending_at.items()}


def _coach_flags(roster: pd.DataFrame, time: pd.DataFrame, relationships: pd.DataFrame,
                 cycles: pd.DataFrame, outside_rows: pd.DataFrame, stale_rows: pd.DataFrame,
                 stalled_rows: pd.DataFrame, th: Thresholds,
                 column_of: ColumnOf | None) -> list[Finding]:
    flags: list[Finding] = []
    weeks = wording.count(th.recent_weeks, "week")
    # Each source's outside-role rows by day and row, so its last one is its latest.
    order, outside_of = _grouped(outside_rows["source"], outside_rows["day"].to_numpy(),
                                 outside_rows["row"].to_numpy(dtype=float))
    activities = outside_rows["activity"].to_numpy(dtype=object)[order].tolist()
    outside_row = outside_rows["row"].to_numpy(dtype=float)[order].tolist()
    stale_of = _row_lists(stale_rows)
    stalled_of = _row_lists(stalled_rows)
    nothing: tuple[float | None, list[int]] = (None, [])

    def cell_for(source: str, tab: str, key: str, row: float | None) -> str:
        if column_of is None or row is None or pd.isna(row):
            return ""
        letter = column_of(source, tab, key)
        return f"{letter}{int(row)}" if letter else ""

    def add(code: str, source: str, message: str, hint: str, tab: str, cell: str) -> None:
        flags.append(Finding(code=code, severity=FLAG_SEVERITY[code], message=message,
                             hint=hint, source=source, tab=tab, cell=cell))

    def rows_text(listed: list[int]) -> str:
        if not listed:
            return ""
        return f" ({'row' if len(listed) == 1 else 'rows'} {wording.numbers_list(listed)})"

    def chosen(frame: pd.DataFrame, columns: Sequence[str]) -> zip:
        """Rows of ``frame`` (already filtered) as tuples of plain Python values."""
        return zip(*(frame[c].tolist() for c in columns), strict=True)

    meets = time["meets_target_recent"]
    t = time.assign(_low=(time["minutes_recent"] > 0) & meets.notna() & ~meets.fillna(True),
                    _outside=time["outside_role_minutes_recent"] > 0)
    t = t[(t["_low"] | t["_outside"]).to_numpy(dtype=bool)]
    for source, low, outside_role, share_recent, share, minutes_outside in chosen(
            t, ("source", "_low", "_outside", "coaching_share_recent", "coaching_share",
                "outside_role_minutes_recent")):
        if low:
            add("low-coaching-share", source,
                f"Coaching with teachers was {wording.share(share_recent)} of the "
                f"time logged in the last {weeks}, below the "
                f"{wording.share(th.coaching_share_target)} target (whole program: "
                f"{wording.share(share)}).",
                "Consider which other duties could move so that more of the week goes to "
                "working with teachers, and talk it over with your coaching leader.",
                TIME_TAB, "")
        if outside_role:
            at = outside_of.get(source, slice(0, 0))
            kinds = sorted(a for a in set(activities[at]) if isinstance(a, str) and a)
            latest = outside_row[at][-1:]
            kinds_text = f" ({', '.join(kinds)})" if kinds else ""
            add("outside-role-time", source,
                f"{wording.minutes(minutes_outside)} in the last {weeks} were "
                f"logged as work outside the coaching role{kinds_text}.",
                "Consider raising this with your coaching leader: substitute coverage, "
                "evaluation and assessment scoring fall outside the coaching role.",
                TIME_TAB, cell_for(source, TIME_TAB, "activity", latest[0] if latest else None))

    r = relationships[relationships["contacts_stale"].to_numpy() > 0]
    for source, stale, listed_total, undated_total in chosen(
            r, ("source", "contacts_stale", "teachers_listed", "contacts_undated")):
        first, listed = stale_of.get(source, nothing)
        undated = (f"; {wording.count(undated_total, 'teacher')} "
                   f"{'has' if undated_total == 1 else 'have'} no last-contact date"
                   if undated_total else "")
        verb = "was" if stale == 1 else "were"
        add("stale-contacts", source,
            f"{stale} of {listed_total} teachers {verb} last contacted more "
            f"than {th.stale_contact_days} days ago{rows_text(listed)}{undated}.",
            "Consider a short check-in with each of them this week, then update Last "
            "Contact.",
            RELATIONSHIPS_TAB, cell_for(source, RELATIONSHIPS_TAB, "last_contact", first))

    c = cycles[cycles["cycles_stalled"].to_numpy() > 0]
    for source, stalled in chosen(c, ("source", "cycles_stalled")):
        first, listed = stalled_of.get(source, nothing)
        one = stalled == 1
        add("stalled-cycles", source,
            f"{wording.count(stalled, 'open coaching cycle')} "
            f"{'has' if one else 'have'} had no update for more than "
            f"{th.stalled_cycle_days} days{rows_text(listed)}.",
            "Consider planning the next step with the teacher, or marking the cycle "
            "Complete if it has ended; then update Last Update.",
            CYCLES_TAB, cell_for(source, CYCLES_TAB, "last_update", first))
    return flags

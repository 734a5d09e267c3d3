"""Finding the data in a tab: which tabs match, where the header row is, which column is which,
and which rows hold data.

People put titles, school names and instructions above their headers, word columns their own way
("Date of Session", "Teacher(s) Supported"), merge a header over two rows, repeat the header for
every week, add totals, notes and a small summary table beside the log, turn a tracker sideways
(weeks across the columns), and split a log into a tab per month. This module maps all of that
onto the schema without changing anything.

A tab's layout is inferred once (:func:`find_header`, :func:`find_wide`); nothing here runs per
cell of the data, except :func:`classify_row`, which validation asks only about the few rows that
did not read as data.

How a header maps to a column key, most certain first:

* ``alias``: the header is the column's name or one of its aliases (case, spacing and
  punctuation ignored), including aliases pinned in the config;
* ``words``: the header's words hold words the schema declares for the column
  (``words = [...]``), as "Date of Session" holds "date";
* ``content``: the cells below it look like the column's type (dates, small whole numbers,
  durations, activity names). Content also breaks ties between word matches, and lowers the
  confidence of a word match whose cells do not fit.

Each mapping carries a confidence from 0 to 1; below :data:`CERTAIN`, validation says which
column it chose, as an info finding whose hint is the config line that pins it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

from sheetsync.backends.base import RawTab, RawWorkbook
from sheetsync.report.model import FLAGS_TAB
from sheetsync.schema import (
    ActivityMatcher,
    ColumnSpec,
    TabSpec,
    load_schema,
    normalise_label,
    phrase_words,
    shared_log_coach_key,
    words_of,
)
from sheetsync.validation import cells
from sheetsync.validation.cells import MONTHS, CellProblem

HEADER_SCAN_ROWS = 20
SAMPLE_ROWS = 40  # data cells looked at per column when content is a signal
MANAGED_SOURCE_TABS = {normalise_label(FLAGS_TAB)}
_MONTH_WORDS = sorted(MONTHS, key=len, reverse=True)

CERTAIN = 0.8
"""Mappings at or above this confidence are taken without comment."""
ALIAS, WORDS, CONTENT = "alias", "words", "content"

# Kinds of rows that are not data (see classify_row).
TITLE, BLANK, TOTAL, SUBTOTAL, AVERAGE, REPEATED_HEADER, NOTE, SECTION = (
    "title", "blank", "total", "subtotal", "average", "repeated header", "note", "section label")


def _strip_period_words(label: str) -> str:
    """Remove month names, years and a trailing number, so "Time Log - Sept 2026" and
    "Form Responses 1" match "Time Log" and "Form Responses"."""
    out = re.sub(r"(19|20)\d{2}", "", label)
    for word in _MONTH_WORDS:
        if out.startswith(word):
            out = out[len(word):]
            break
    for word in _MONTH_WORDS:
        if out.endswith(word):
            out = out[: -len(word)]
            break
    return re.sub(r"\d{1,2}$", "", out)


def match_tabs(tabs: dict[str, RawTab], spec: TabSpec) -> list[RawTab]:
    """The workbook's tabs that hold ``spec``: an exact (alias) match, else every per-month tab."""
    labels = spec.labels()
    exact = [t for name, t in tabs.items() if normalise_label(name) in labels]
    if exact:
        return exact[:1]
    return [t for name, t in tabs.items()
            if normalise_label(name) not in MANAGED_SOURCE_TABS
            and _strip_period_words(normalise_label(name)) in labels
            and _strip_period_words(normalise_label(name)) != normalise_label(name)]


# -- the vocabulary of one tab ----------------------------------------------------------------

class Vocabulary:
    """A tab's header words, prepared once: exact labels, each column's word phrases, and the
    scores of every header text seen (headers repeat across a program's workbooks)."""

    def __init__(self, spec: TabSpec) -> None:
        self.spec = spec
        self.filler = frozenset(spec.filler)
        self.exact: dict[str, str] = {}
        for col in spec.columns:
            for label in col.labels():
                self.exact.setdefault(label, col.key)
        self.phrases = {col.key: phrase_words((col.name, *col.aliases, *col.words), self.filler)
                        for col in spec.columns}
        self.required = {c.key for c in spec.columns if c.required}
        self._scores: dict[Any, tuple[tuple[str, float, str], ...]] = {}

    def candidates(self, text: Any) -> tuple[tuple[str, float, str], ...]:
        """(key, score, signal) for a header cell, best first; empty when it names nothing."""
        if text is None or not isinstance(text, str):
            return ()
        found = self._scores.get(text)
        if found is None:
            found = self._score(text)
            if len(self._scores) < 50_000:
                self._scores[text] = found
        return found

    def _score(self, text: str) -> tuple[tuple[str, float, str], ...]:
        label = normalise_label(text)
        if not label:
            return ()
        key = self.exact.get(label)
        if key is not None:
            return ((key, 1.0, ALIAS),)
        if len(text) > 60:
            return ()  # a sentence or a note, not a header
        have = set(words_of(text, self.filler))
        if not have:
            return ()
        out = []
        for key, phrases in self.phrases.items():
            covered: set[str] = set()
            for phrase in phrases:
                if phrase <= have:
                    covered |= phrase
            if covered and len(covered) * 4 >= len(have):  # a word or two among many is noise
                out.append((key, round(0.5 + 0.4 * len(covered) / len(have), 3), WORDS))
        return tuple(sorted(out, key=lambda c: -c[1]))


@lru_cache(maxsize=64)
def vocabulary(spec: TabSpec) -> Vocabulary:
    return Vocabulary(spec)


# -- what a header row says -------------------------------------------------------------------

@dataclass
class ColumnMatch:
    """How one column of a tab was understood."""

    key: str
    col: int  # 0-based
    header: str
    confidence: float
    signal: str  # alias, words, content, or "words+content"
    note: str = ""

    @property
    def uncertain(self) -> bool:
        return self.confidence < CERTAIN


@dataclass
class SkippedRow:
    """A row inside or around the table that is not read as data, and why."""

    row: int  # 1-based sheet row
    kind: str
    text: str = ""


@dataclass
class HeaderMatch:
    """Where a table's header is and how its columns map to schema keys."""

    row: int  # 0-based index into RawTab.rows of the (last) header row
    columns: dict[str, int]  # schema key -> 0-based column index
    unknown: dict[int, str] = field(default_factory=dict)  # column index -> header text
    duplicates: dict[int, str] = field(default_factory=dict)  # column index -> key it repeats
    matches: dict[str, ColumnMatch] = field(default_factory=dict)
    first_row: int = -1  # 0-based first header row (a header merged over two rows)
    span: tuple[int, int] = (0, 1 << 30)  # the columns [lo, hi) this table covers
    texts: dict[int, str] = field(default_factory=dict)  # column index -> header text
    skipped: list[SkippedRow] = field(default_factory=list)
    side_tables: list[SideTable] = field(default_factory=list)

    @property
    def header_rows(self) -> tuple[int, ...]:
        """1-based sheet rows of the header."""
        first = self.first_row if self.first_row >= 0 else self.row
        return tuple(range(first + 1, self.row + 2))


@dataclass
class SideTable:
    """A second table beside the main one on the same tab."""

    lo: int  # first column, 0-based
    hi: int  # one past the last column
    top: int  # 0-based row of its first non-empty cell
    header: HeaderMatch | None  # set when it is a table of the same kind, read as its own


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _combined_labels(upper: Sequence[Any], lower: Sequence[Any]) -> list[Any]:
    """A header merged over two rows ("Knows" over "Face" | "Classroom") as single labels
    ("Knows Face", "Knows Classroom"). A merged upper cell holds its text in its first column
    only, so the upper text carries right over the columns whose lower cells are labelled."""
    width = max(len(upper), len(lower))
    out: list[Any] = []
    carry: str | None = None
    for j in range(width):
        top = upper[j] if j < len(upper) else None
        low = lower[j] if j < len(lower) else None
        if not _blank(top):
            carry = str(top).strip() if not _blank(low) else None
            out.append(f"{str(top).strip()} {str(low).strip()}" if not _blank(low)
                       else str(top).strip())
        elif not _blank(low):
            out.append(f"{carry} {str(low).strip()}" if carry else str(low).strip())
        else:
            carry = None
            out.append(None)
    return out


def _assign(labels: Sequence[Any], vocab: Vocabulary, lo: int = 0,
            hi: int = 1 << 30) -> tuple[HeaderMatch, float]:
    """Map one header row's cells (by alias and words): each key and each column at most once,
    the strongest candidates first. Returns the match and its score."""
    match = HeaderMatch(row=-1, columns={}, span=(lo, hi))
    pending: list[tuple[float, int, str, str]] = []
    for j in range(lo, min(hi, len(labels))):
        cell = labels[j]
        if _blank(cell):
            continue
        match.texts[j] = str(cell).strip()
        found = vocab.candidates(cell)
        if found and found[0][2] == ALIAS:
            key = found[0][0]
            if key in match.columns:
                match.duplicates[j] = key
            else:
                match.columns[key] = j
                match.matches[key] = ColumnMatch(key, j, match.texts[j], 1.0, ALIAS)
            continue
        for key, score, signal in found:
            pending.append((score, j, key, signal))
        if not found:
            match.unknown[j] = match.texts[j]
    taken = set(match.columns.values()) | set(match.duplicates)
    for score, j, key, signal in sorted(pending, key=lambda p: (-p[0], p[1])):
        if j in taken or key in match.columns:
            continue
        match.columns[key] = j
        match.matches[key] = ColumnMatch(key, j, match.texts[j], score, signal)
        taken.add(j)
    for _, j, _, _ in pending:
        if j not in taken:
            match.unknown.setdefault(j, match.texts[j])
    score = sum(m.confidence for m in match.matches.values())
    return match, score


def _series(row: Sequence[Any], vocab: Vocabulary, lo: int, hi: int) -> bool:
    """Three or more cells that would all name the same column (a row of week labels)."""
    seen: dict[str, int] = {}
    for cell in row[lo:hi]:
        found = vocab.candidates(cell) if isinstance(cell, str) else ()
        if found and found[0][2] != ALIAS:
            seen[found[0][0]] = seen.get(found[0][0], 0) + 1
            if seen[found[0][0]] >= 3:
                return True
    return False


def _enough(match: HeaderMatch, vocab: Vocabulary) -> bool:
    """Two columns named, or every required one, and named with confidence."""
    return (len(match.columns) >= 2
            or bool(vocab.required and vocab.required <= set(match.columns)
                    and all(m.confidence >= CERTAIN for m in match.matches.values())))


def _perfect(match: HeaderMatch) -> bool:
    """Every labelled cell is a known alias: nothing later can be a better header."""
    return (not match.unknown and len(match.columns) >= 2
            and all(m.signal == ALIAS for m in match.matches.values()))


def find_header(tab: RawTab, spec: TabSpec, activities: ActivityMatcher | None = None,
                lo: int = 0, hi: int = 1 << 30, top: int = 0,
                side_tables: bool = True) -> HeaderMatch | None:
    """The table's header: the row within the first rows that names the most schema columns
    (at least two, or every required one), by alias or by words; a header merged over two
    rows counts as one. Then the cells below settle what the words left open, find a required
    column whose header is odd, and a second table beside this one is noted."""
    vocab = vocabulary(spec)
    best: HeaderMatch | None = None
    best_score = 0.0
    rows = tab.rows
    stop = min(len(rows), top + HEADER_SCAN_ROWS)
    for i in range(top, stop):
        row = rows[i]
        if not row or all(_blank(v) for v in row[lo:hi]):
            continue
        if _series(row, vocab, lo, hi):
            continue  # "Wk 1", "Wk 2", ...: labels of a series across, not a header
        match, score = _assign(row, vocab, lo, hi)
        if _enough(match, vocab) and score > best_score + 1e-9:
            match.row = match.first_row = i
            best, best_score = match, score
            if _perfect(match):
                break
        lower = rows[i + 1] if i + 1 < len(rows) else None
        upper = [v for v in row[lo:hi] if not _blank(v)]
        # A header over two rows: group labels above ("Knows" over "Face" | "Classroom"), never
        # a one-cell title, with labels only below.
        if lower and len(upper) >= 2 and all(isinstance(v, str) and len(v) <= 40 for v in upper) \
                and all(isinstance(v, str) for v in lower[lo:hi] if not _blank(v)):
            merged, merged_score = _assign(_combined_labels(row, lower), vocab, lo, hi)
            if _enough(merged, vocab) and merged_score > best_score + 0.3:
                merged.first_row, merged.row = i, i + 1
                best, best_score = merged, merged_score
    if best is None:
        return None
    _settle_by_content(tab, best, spec, vocab, activities)
    if side_tables:
        _find_side_tables(tab, best, spec, activities)
    return best


# -- content as a second signal ----------------------------------------------------------------

_CLOCK_RE = re.compile(r"^\s*\d{1,2}(:\d{2})?\s*([ap]\.?m\.?)?\s*$", re.I)
_SERIAL_DAYS = (36526, 73415)  # 2000-01-01 .. 2100-12-31 as serial day numbers


def column_sample(tab: RawTab, j: int, start: int, limit: int = SAMPLE_ROWS,
                  header: str | None = None) -> list[Any]:
    """Up to ``limit`` non-blank cells of column ``j`` from row index ``start`` down, leaving
    out what is plainly not data: totals, averages, notes, the header repeated."""
    out = []
    again = normalise_label(header) if header else None
    for row in tab.rows[start:]:
        if j >= len(row) or _blank(row[j]) or cells.is_missing(row[j]):
            continue
        value = row[j]
        if isinstance(value, str) and (
                _TOTAL_RE.search(value) or _AVERAGE_RE.search(value) or _FORMULA_RE.match(value)
                or len(value.split()) >= 5 or normalise_label(value) == again):
            continue
        out.append(value)
        if len(out) >= limit:
            break
    return out


def _ok(parse: Any, value: Any) -> bool:
    try:
        return parse(value) is not None
    except (CellProblem, ValueError, TypeError, OverflowError):
        return False


def _is_date(value: Any) -> bool:
    if isinstance(value, datetime | date):
        return True
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _SERIAL_DAYS[0] <= value <= _SERIAL_DAYS[1]
    if isinstance(value, str) and len(value) <= 40 and re.search(r"\d", value):
        return _ok(lambda v: cells.parse_date(v, date(2026, 1, 1)), value) \
            and not _CLOCK_RE.match(value)
    return False


def _is_clock(value: Any) -> bool:
    """A time of day: a time cell, or text such as "8:15" or "2 pm" (not a range)."""
    if isinstance(value, time):
        return True
    if isinstance(value, datetime):
        return value.time() != time(0)
    if not isinstance(value, str) or cells.TIME_RANGE_RE.search(value):
        return False
    return bool(_CLOCK_RE.match(value)) and (":" in value or
                                             bool(re.search(r"[ap]\.?m", value, re.I)))


def _is_duration(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return 0 < value <= 600
    if isinstance(value, timedelta):
        return True
    if isinstance(value, str):
        return _ok(cells.parse_duration_minutes, value) and not _is_date(value)
    return False


def fit(col: ColumnSpec, values: Sequence[Any], activities: ActivityMatcher | None) -> float:
    """How well a column's cells fit the schema column's type (the share that do), from 0
    to 1; 0.5 when there is nothing to go on (no cells, or any text fits a text column)."""
    if not values:
        return 0.5
    kind = col.type
    if kind == "date":
        good = sum(_is_date(v) for v in values)
    elif kind == "time":
        good = sum(_is_clock(v) for v in values)
    elif kind == "number" and col.key == "minutes":
        good = sum(1.0 if _is_duration(v) and not _is_clock(v) else 0.5 if _is_clock(v) else 0
                   for v in values)
    elif kind == "number" and col.key == "hours":
        good = sum(isinstance(v, int | float) and not isinstance(v, bool) and 0 < v <= 12
                   or isinstance(v, str) and _ok(cells.parse_duration_minutes, v)
                   for v in values)
    elif kind in ("number", "int"):
        good = sum(_ok(cells.parse_number, v) for v in values)
    elif kind in ("percent", "metric"):
        good = sum(_ok(lambda v: cells.parse_metric(v, None), v)
                   or _ok(cells.parse_percent, v) for v in values)
    elif kind == "yesno":
        good = sum(_ok(cells.parse_yesno, v) for v in values)
    elif kind == "activity":
        if activities is None:
            return 0.5
        good = sum(isinstance(v, str) and activities.match(v) is not None for v in values)
    elif kind == "choice":
        good = sum(_ok(lambda v: cells.parse_choice(v, col.choices, col.choice_aliases), v)
                   for v in values)
    else:  # text: numbers and dates are evidence against
        good = sum(isinstance(v, str) and not _is_date(v)
                   and not _ok(cells.parse_number, v) for v in values)
        return 0.5 if good == len(values) else good / len(values)
    return good / len(values)


def _settle_by_content(tab: RawTab, header: HeaderMatch, spec: TabSpec, vocab: Vocabulary,
                       activities: ActivityMatcher | None) -> None:
    """Content as the second signal: confirm or doubt word matches, settle ties, and find a
    missing required column among the unnamed ones (once per tab, on a sample of cells)."""
    start = header.row + 1
    word_matched = [m for m in header.matches.values() if m.signal != ALIAS]
    needs = _missing_needs(spec, header)
    if not word_matched and not needs:
        return
    samples: dict[int, list[Any]] = {}

    def sample(j: int) -> list[Any]:
        if j not in samples:
            samples[j] = column_sample(tab, j, start, header=header.texts.get(j))
        return samples[j]

    # Every (column, key) word candidate, rescored with its content.
    scored: list[tuple[float, int, str, float]] = []  # (score, column, key, base)
    for j, text in header.texts.items():
        found = vocab.candidates(text)
        if not found or found[0][2] == ALIAS:
            continue
        for key, base, _ in found:
            if key in header.matches and header.matches[key].signal == ALIAS:
                continue
            f = fit(spec.column(key), sample(j), activities)
            scored.append((base + 0.3 * (f - 0.5), j, key, base))
    if scored:
        for m in word_matched:
            del header.columns[m.key]
            del header.matches[m.key]
            header.unknown[m.col] = m.header
        taken = set(header.columns.values()) | set(header.duplicates)
        scored.sort(key=lambda s: (-s[0], s[1]))
        for score, j, key, base in scored:
            if j in taken or key in header.columns:
                continue
            f = fit(spec.column(key), sample(j), activities)
            rivals = [(s, k, c) for s, c, k, _ in scored
                      if (c == j) != (k == key) and s >= score - 0.1
                      and c not in taken and k not in header.columns]
            confidence = min(0.95, base + (0.05 if f >= 0.8 else 0.0))
            note = ""
            if f < 0.3 and sample(j):
                confidence = min(confidence, base - 0.3)
                note = f"its cells do not look like {spec.column(key).name}"
            if rivals:
                confidence = min(confidence, CERTAIN - 0.05)
                s, k, c = rivals[0]
                note = (f"column {_letter(c)} ({header.texts.get(c, '')!r}) could also be "
                        f"{spec.column(k).name}" if k == key else
                        f"it could also be {spec.column(k).name}")
            if confidence < 0.45:
                continue  # the cells say it is not this column at all
            signal = "words+content" if f >= 0.8 else WORDS
            header.columns[key] = j
            header.matches[key] = ColumnMatch(key, j, header.texts[j], round(confidence, 2),
                                              signal, note)
            header.unknown.pop(j, None)
            taken.add(j)
    needs = _missing_needs(spec, header)
    if not needs:
        return
    # A needed column with an odd header: the unnamed column whose cells fit best.
    taken = set(header.columns.values()) | set(header.duplicates)
    lo, hi = header.span
    width = min(hi, max((len(r) for r in tab.rows[start:start + SAMPLE_ROWS]), default=0))
    free = [j for j in range(lo, width) if j not in taken]
    for key in needs:
        col = spec.column(key)
        ranked = sorted(((fit(col, sample(j), activities), j) for j in free if sample(j)),
                        key=lambda r: (-r[0], r[1]))
        if not ranked or ranked[0][0] < (0.6 if col.type == "activity" else 0.8):
            continue
        f, j = ranked[0]
        if col.type == "number" and not _plausible_minutes(sample(j)):
            continue
        rival = next(((g, c) for g, c in ranked[1:] if g >= f - 0.05), None)
        confidence = round(0.35 + 0.4 * f, 2)
        note = "found by its cells"
        if rival is not None:
            confidence = min(confidence, 0.6)
            note += f"; column {_letter(rival[1])} looked alike"
        text = header.texts.get(j, "")
        header.columns[key] = j
        header.matches[key] = ColumnMatch(key, j, text, confidence, CONTENT, note)
        header.unknown.pop(j, None)
        free.remove(j)


def _plausible_minutes(values: Sequence[Any]) -> bool:
    """Minutes look like minutes: mostly multiples of 5, and not one repeated code."""
    numbers = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    if not numbers:
        return True  # durations typed as text
    fives = sum(float(v).is_integer() and v % 5 == 0 for v in numbers)
    return fives >= 0.7 * len(numbers) and len(set(numbers)) > 1


def _missing_needs(spec: TabSpec, header: HeaderMatch) -> list[str]:
    """Required keys, and the first key of a "one of" group none of whose keys were found."""
    needs = [c.key for c in spec.columns if c.required and c.key not in header.columns]
    for group in one_of_groups(spec):
        if not any(all(k in header.columns for k in keys) for keys in group):
            needs.append(group[0][0])
    return needs


def one_of_groups(spec: TabSpec) -> list[tuple[tuple[str, ...], ...]]:
    """The tab's "give one of these" column sets, as the schema declares them (for the time
    log: Minutes, Hours, 15-min Units, or Start and End)."""
    return [spec.one_of] if spec.one_of else []


def _letter(j: int) -> str:
    from sheetsync.grid import column_letter

    return column_letter(j + 1)


# -- a second table beside the first -------------------------------------------------------------

def _find_side_tables(tab: RawTab, header: HeaderMatch, spec: TabSpec,
                      activities: ActivityMatcher | None) -> None:
    """Split the header's columns where a fully empty column separates two tables. The part
    holding the most schema columns is the table; another part that is a whole table of the
    same kind is read as its own; any other part is noted as a side table, not read."""
    rows = tab.rows
    lo, hi = header.span
    labelled = sorted(header.texts)
    if not labelled:
        return
    start = header.first_row if header.first_row >= 0 else header.row
    last = labelled[-1]
    width = min(hi, max((len(r) for r in rows[start:]), default=0))
    gaps = [j for j in range(labelled[0] + 1, last) if j not in header.texts]
    if not gaps and width <= last + 1:
        return  # one block: the common case, decided without looking at any cell
    candidates = set(gaps) | set(range(last + 1, width))
    filled: set[int] = set()
    for row in rows[start:]:
        for j in candidates - filled:
            if j < len(row) and not _blank(row[j]):
                filled.add(j)
        if len(filled) == len(candidates):
            break
    gutters = sorted(candidates - filled)
    blocks: list[tuple[int, int]] = []
    left = labelled[0]
    for g in [*gutters, width]:
        if g > left and any(j in header.texts or j in filled for j in range(left, g)):
            blocks.append((left, g))
        left = g + 1
    if len(blocks) <= 1:
        return

    def keys_in(block: tuple[int, int]) -> set[str]:
        return {k for k, j in header.columns.items() if block[0] <= j < block[1]}

    main = max(blocks, key=lambda b: (len(keys_in(b)), -b[0]))
    keep = [main]
    for block in sorted(blocks, key=lambda b: abs(b[0] - main[0])):
        if block is main:
            continue
        mine = set().union(*(keys_in(b) for b in keep))
        theirs = keys_in(block)
        adjacent = any(abs(block[0] - b[1]) <= 1 or abs(b[0] - block[1]) <= 1 for b in keep)
        if theirs and not theirs & mine and adjacent:
            keep.append(block)  # one table with an empty column inside it
    first, stop = min(b[0] for b in keep), max(b[1] for b in keep)
    for block in blocks:
        if block in keep:
            continue
        for j in range(block[0], block[1]):
            for key in [k for k, c in header.columns.items() if c == j]:
                del header.columns[key]
                header.matches.pop(key, None)
            header.unknown.pop(j, None)
            header.duplicates.pop(j, None)
            header.texts.pop(j, None)
        side = find_header(tab, spec, activities, lo=block[0], hi=block[1], top=start,
                           side_tables=False)
        whole = side is not None and not _missing_needs(spec, side)
        top_row = next((i for i in range(start, len(rows))
                        if any(not _blank(v) for v in rows[i][block[0]:block[1]])), start)
        header.side_tables.append(SideTable(block[0], block[1], top_row,
                                            side if whole else None))
    header.span = (first, stop)
    for j in list(header.unknown):
        if not first <= j < stop:
            del header.unknown[j]


# -- rows that are not data ---------------------------------------------------------------------

_TOTAL_RE = re.compile(r"^\s*(grand\s+totals?|sub-?\s*totals?|totals?|sum)\b"
                       r"|\b(sub-?\s*)?totals?[\s:.]*$", re.I)
_AVERAGE_RE = re.compile(r"^\s*(average|avg|mean)\b|\b(average|avg)[\s:.]*$", re.I)
_NOTE_RE = re.compile(r"^\s*(notes?|nb|n\.b\.|key|legend|source|comments?)\b", re.I)
_FORMULA_RE = re.compile(r"^\s*=\s*(sum|subtotal|average|avg|count|counta)\s*\(", re.I)
_SECTION_RE = re.compile(
    r"^\s*(mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)[a-z]*\.?\s*$"
    r"|^\s*(week|wk)\s*#?\s*\d+\b.*$"
    r"|^\s*(" + "|".join(_MONTH_WORDS) + r")\.?(\s+\d{4})?\s*$", re.I)


def classify_row(row: Sequence[Any], header: HeaderMatch,
                 spec: TabSpec | None = None) -> tuple[str, str] | None:
    """Why a row inside a table is not data: (kind, the text that says so), or None for data.

    Asked only about rows that did not read cleanly, so it may take its time: a repeated
    header; a total, subtotal or average ("Total", "Week 3 total", "=SUM(B2:B9)"); a section
    label ("MONDAY", "Week 3", "October"); a note below or between the rows.
    """
    lo, hi = header.span
    filled = [(j, v) for j, v in enumerate(row[lo:hi], start=lo) if not _blank(v)]
    if not filled:
        return None
    texts = [(j, v.strip()) for j, v in filled if isinstance(v, str)]
    same = sum(1 for j, t in texts if normalise_label(header.texts.get(j, "\0")) ==
               normalise_label(t))
    if texts and same >= max(2, (len(header.texts) + 1) // 2):
        return REPEATED_HEADER, texts[0][1]
    for _, t in texts:
        if _FORMULA_RE.match(t):
            return TOTAL, t
    # A total's label is the row's first cell ("Total", "Week 3 total", "Total Daily Hrs"),
    # and the rest of the row holds numbers.
    if texts and texts[0][0] == filled[0][0] and len(texts[0][1]) <= 30 \
            and all(_numeric(v) for _, v in filled[1:]):
        t = texts[0][1]
        if _TOTAL_RE.search(t):
            return (SUBTOTAL if re.search(r"sub|week|wk|day|daily|month", t, re.I) else TOTAL,
                    t)
        if _AVERAGE_RE.search(t):
            return AVERAGE, t
    if len(filled) == 1 and texts:
        t = texts[0][1]
        if _SECTION_RE.match(t):
            return SECTION, t
        words = t.split()
        if _NOTE_RE.match(t) or (t.endswith(":") and len(t) > 2) or (
                len(words) >= 6 and sum(w.isalpha() for w in words) >= 0.7 * len(words)):
            return NOTE, t
    return None


def _numeric(value: Any) -> bool:
    """A number as a totals row holds it: a number, "57%", "1:30", or a formula's text."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float | timedelta):
        return True
    if isinstance(value, str):
        return bool(_FORMULA_RE.match(value)) or _ok(cells.parse_percent, value) \
            or _ok(cells.parse_duration_minutes, value)
    return False


def is_unlabelled_total(values: Sequence[float], total: float) -> bool:
    """A row with only a number that equals the sum of the numbers above it (since the last
    total): a totals row whose label was left out."""
    return len(values) >= 2 and abs(sum(values) - total) < 1e-6 * max(1.0, abs(total))


# -- wide trackers: weeks across the columns -----------------------------------------------------

_WEEK_LABEL_RE = re.compile(r"^\s*(?:week|wk|w)\.?\s*#?\s*(\d{1,2})\b", re.I)


@dataclass
class WideLayout:
    """A tracker turned sideways (a data wall): weeks run across the columns, one row per
    field ("Actual", "What we tried")."""

    row: int  # 0-based row of the week labels (or dates)
    weeks: list[tuple[int, int | None, Any]]  # (column, week number or None, date cell or None)
    label_col: int
    fields: dict[str, int]  # schema key -> 0-based row
    matches: dict[str, ColumnMatch] = field(default_factory=dict)  # col is the row index here
    unknown: dict[int, str] = field(default_factory=dict)  # row -> label not used
    skipped: list[SkippedRow] = field(default_factory=list)


def find_wide(tab: RawTab, spec: TabSpec, ref: date | None = None) -> WideLayout | None:
    """A data wall: a row of week labels ("Wk 1" ... "Wk 10") or of dates a week apart across
    the columns, with field labels down the first column. None when the tab is not one."""
    vocab = vocabulary(spec)
    rows = tab.rows
    for i, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        weeks: list[tuple[int, int | None, Any]] = []
        for j, v in enumerate(row):
            if isinstance(v, str) and (m := _WEEK_LABEL_RE.match(v)):
                weeks.append((j, int(m.group(1)), None))
        if len(weeks) < 3:
            dated = [(j, None, v) for j, v in enumerate(row) if _is_date(v)]
            if len(dated) >= 3 and _weekly_dates([v for _, _, v in dated], ref):
                weeks = dated
        if len(weeks) < 3:
            continue
        label_col = next((j for j in range(weeks[0][0]) if any(
            isinstance(r[j], str) for r in rows[i:i + 12] if j < len(r))), None)
        if label_col is None:
            continue
        layout = WideLayout(row=i, weeks=weeks, label_col=label_col, fields={})
        for r in range(max(0, i - 3), min(len(rows), i + 30)):
            if r == i:
                continue
            cells_r = rows[r]
            label = cells_r[label_col] if label_col < len(cells_r) else None
            if _blank(label):
                continue
            found = vocab.candidates(label)
            if found and found[0][1] >= 0.7 and found[0][0] not in layout.fields:
                key, score, signal = found[0]
                layout.fields[key] = r
                layout.matches[key] = ColumnMatch(key, r, str(label).strip(), score, signal)
            elif any(not _blank(cells_r[j]) for j, _, _ in weeks if j < len(cells_r)):
                layout.unknown[r] = str(label).strip()
            else:
                layout.skipped.append(SkippedRow(r + 1, NOTE if r > i else TITLE,
                                                 str(label).strip()))
        if "week_of" not in layout.fields and weeks[0][2] is not None:
            layout.matches["week_of"] = ColumnMatch("week_of", i, "(dates across)", 0.9,
                                                    CONTENT)
        if "week" not in layout.fields and weeks[0][1] is not None:
            layout.matches["week"] = ColumnMatch("week", i, "(weeks across)", 0.95, CONTENT)
        if layout.fields:
            return layout
    return None


def _weekly_dates(values: Sequence[Any], ref: date | None) -> bool:
    try:
        days = [cells.parse_date(v, ref) for v in values]
    except CellProblem:
        return False
    days = [d for d in days if d is not None]
    steps = [(b - a).days for a, b in zip(days, days[1:], strict=False)]
    return len(days) >= 3 and all(s == 7 for s in steps)


# -- forms: a label, then its value ---------------------------------------------------------------

@dataclass
class FormField:
    key: str
    value: Any
    row: int  # 0-based
    col: int  # 0-based
    label: str = ""
    confidence: float = 1.0
    signal: str = ALIAS
    label_col: int = 0  # 0-based


def read_form(tab: RawTab, spec: TabSpec) -> dict[str, FormField]:
    """Label/value tabs: a label in one cell, its value in the next non-empty cell to the right.

    Labels match by alias, else by words ("Our Current Reality:" is the Baseline)."""
    vocab = vocabulary(spec)
    found: dict[str, FormField] = {}
    worded: list[tuple[float, int, str, FormField]] = []
    for i, row in enumerate(tab.rows):
        for j, cell in enumerate(row):
            if cell is None:
                continue
            cands = vocab.candidates(cell) if isinstance(cell, str) else ()
            if not cands:
                break  # only the first non-empty cell of a row can be a label
            value_col = next((k for k in range(j + 1, len(row)) if row[k] is not None), j + 1)
            value = row[value_col] if value_col < len(row) else None
            key, score, signal = cands[0]
            if signal == ALIAS:
                if key not in found:
                    found[key] = FormField(key, value, i, value_col, str(cell).strip(),
                                           label_col=j)
            elif score >= 0.7:
                worded.append((score, i, key, FormField(key, value, i, value_col,
                                                        str(cell).strip(), score, signal, j)))
            break
    for _, _, key, f in sorted(worded, key=lambda w: (-w[0], w[1])):
        if key not in found:
            found[key] = f
    return found


# -- which kind of workbook -----------------------------------------------------------------------

def infer_kind(raw: RawWorkbook) -> str | None:
    """Tell a team tracker, a coach workbook and a shared coaching log apart by their tabs
    (None: cannot tell). A log tab with a column naming the coach, in a workbook without a
    coach's About or Relationships tabs, is a shared log."""
    if _shared_log_tab(raw) is not None:
        return "shared_log"
    scores = {}
    for kind in ("team", "coach"):
        schema = load_schema(kind)  # type: ignore[arg-type]
        scores[kind] = sum(bool(match_tabs(raw.tabs, t)) for t in schema.tabs)
    if scores["team"] == scores["coach"]:
        return None
    return max(scores, key=scores.get)  # type: ignore[arg-type]


def _shared_log_tab(raw: RawWorkbook) -> RawTab | None:
    coach = load_schema("coach")
    log_spec = load_schema("shared_log").tabs[0]
    own = [t for t in coach.tabs if t.name != log_spec.name and t.required]
    if any(match_tabs(raw.tabs, t) for t in own):
        return None
    found = match_tabs(raw.tabs, log_spec) or list(raw.tabs.values())[:3]
    key = shared_log_coach_key()
    for tab in found:
        header = find_header(tab, log_spec, side_tables=False)
        if header is not None and key in header.columns and "date" in header.columns:
            return tab
    return None


def describe_rows(rows: Iterable[int]) -> str:
    """Sheet rows as ranges: [3, 4, 5, 9] -> "3-5, 9"."""
    out: list[str] = []
    run: list[int] = []
    for r in sorted(set(rows)):
        if run and r == run[-1] + 1:
            run.append(r)
            continue
        if run:
            out.append(f"{run[0]}-{run[-1]}" if len(run) > 1 else str(run[0]))
        run = [r]
    if run:
        out.append(f"{run[0]}-{run[-1]}" if len(run) > 1 else str(run[0]))
    return ", ".join(out)

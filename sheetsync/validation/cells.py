"""Parsers for the values people really type into spreadsheet cells.

Every parser takes one raw cell value (see :mod:`sheetsync.backends.base`) and returns the typed
value, ``None`` when the cell is blank or says "N/A", or raises :class:`CellProblem` with a finding
code, a message and a hint written for the coach. None of them raises anything else, whatever the
input: property tests hold them to that.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, time, timedelta
from typing import Any

from sheetsync.grid import MAX_CELL_CHARS, MAX_SERIAL, date_from_serial

# Dates outside these are typos or "someday" placeholders: Excel cannot hold dates before 1900,
# and the rollup's datetime64[ns] frames cannot hold dates after 2262.
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2199, 12, 31)

MISSING_TOKENS = frozenset({"", "na", "n/a", "n.a.", "n/a.", "-", "--", "---", "\u2014", "\u2013",
                            "none", "null", "nil", "."})
FORMULA_ERRORS = frozenset({"#DIV/0!", "#N/A", "#REF!", "#VALUE!", "#NAME?", "#NUM!", "#NULL!",
                            "#SPILL!", "#CALC!", "#GETTING_DATA", "#ERROR!", "#FIELD!",
                            "#BLOCKED!", "#CONNECT!", "#BUSY!", "#UNKNOWN!"})

YES_TOKENS = frozenset({"yes", "y", "true", "t", "x", "1", "\u2713", "\u2714", "\u2611", "\u2705",
                        "checked", "done", "ok", "si", "s\u00ed"})
NO_TOKENS = frozenset({"no", "n", "false", "f", "0", "\u2717", "\u2718", "\u2610", "\u274c",
                       "unchecked", "not yet"})

MONTHS = {
    "jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3, "apr": 4, "april": 4,
    "may": 5, "jun": 6, "june": 6, "jul": 7, "july": 7, "aug": 8, "august": 8, "sep": 9,
    "sept": 9, "september": 9, "oct": 10, "october": 10, "nov": 11, "november": 11, "dec": 12,
    "december": 12,
}
_WEEKDAY = r"(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)[a-z]*\.?,?\s+"


class CellProblem(Exception):
    """A cell whose value cannot be used as typed. Carries a finding code and coach-facing text."""

    def __init__(self, code: str, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.hint = hint


def show(raw: Any) -> str:
    """A short, readable rendering of a raw value for messages."""
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    text = raw if isinstance(raw, str) else str(raw)
    text = text.replace("\n", " ").strip()
    return text if len(text) <= 60 else text[:57] + "..."


def is_missing(raw: Any) -> bool:
    """Blank, N/A, a dash and the like: the cell holds no value."""
    if raw is None:
        return True
    if isinstance(raw, float):
        return math.isnan(raw)
    if isinstance(raw, str):
        return raw.strip().casefold() in MISSING_TOKENS
    return False


def check_formula_error(raw: Any) -> None:
    if isinstance(raw, str) and raw.strip().upper() in FORMULA_ERRORS:
        raise CellProblem("formula-error", f"The formula in this cell shows {raw.strip()}.",
                          "Fix the formula, or type the value in directly.")


def _clean_text(raw: str) -> str:
    return raw.replace("\u00a0", " ").replace("\ufe0f", "").strip()


# -- text ------------------------------------------------------------------------------------------

def parse_text(raw: Any) -> str | None:
    if is_missing(raw):
        return None
    check_formula_error(raw)
    if isinstance(raw, float) and raw.is_integer():
        text = str(int(raw))
    elif isinstance(raw, datetime):
        text = raw.isoformat(sep=" ")
    else:
        text = _clean_text(str(raw))
    return text[:MAX_CELL_CHARS] if text else None


# -- numbers ---------------------------------------------------------------------------------------

_NUMBER_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_THOUSANDS_RE = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$")
_FRACTION_RE = re.compile(r"^([+-]?\d+(?:\.\d+)?)\s*(?:/|of|out of)\s*(\d+(?:\.\d+)?)$", re.I)
_UNIT_SUFFIX_RE = re.compile(
    r"^(.*?)\s*(mins?|minutes?|m|hrs?|hours?|h|students?|pts?|points?)\.?$",
                             re.I)


def _number_from_text(text: str) -> float | None:
    t = text.strip()
    if t.startswith("(") and t.endswith(")"):  # accounting negative: (3)
        t = "-" + t[1:-1]
    if t.startswith("$"):
        t = t[1:].lstrip()
    if _NUMBER_RE.match(t):
        return float(t)
    if _THOUSANDS_RE.match(t):
        return float(t.replace(",", ""))
    return None


def _bad_number(raw: Any, what: str = "a number") -> CellProblem:
    return CellProblem("bad-number", f"\u201c{show(raw)}\u201d is not {what}.",
                       "Type just the number, for example 45 or 3.5 (N/A or blank if unknown).")


def parse_number(raw: Any) -> float | None:
    """A plain number: 45, "45", "1,234.5", "45 min" (the unit word is dropped)."""
    if raw is None:
        return None
    if isinstance(raw, bool):
        raise _bad_number(raw)
    if isinstance(raw, int):
        return float(raw)
    if isinstance(raw, float):
        if math.isnan(raw):
            return None
        if math.isinf(raw):
            raise _bad_number(raw)
        return raw
    if not isinstance(raw, str):
        raise _bad_number(raw)
    if is_missing(raw):
        return None
    check_formula_error(raw)
    text = _clean_text(raw)
    value = _number_from_text(text)
    if value is None:
        unit = _UNIT_SUFFIX_RE.match(text)
        if unit and unit.group(1):
            value = _number_from_text(unit.group(1))
    if value is None or math.isinf(value):
        raise _bad_number(raw)
    return value


def parse_int(raw: Any) -> int | None:
    """A whole number. Accepts 3, 3.0, "3", "Week 3", "Wk 3", "#3"."""
    if isinstance(raw, str):
        m = re.match(r"^\s*(?:week|wk|w|#)\s*#?\s*(\d+)\s*$", raw, re.I)
        if m:
            return int(m.group(1))
    value = parse_number(raw)
    if value is None:
        return None
    if not float(value).is_integer():
        raise CellProblem("bad-number", f"\u201c{show(raw)}\u201d is not a whole number.",
                          "Type a whole number such as 3.")
    return int(value)


def parse_percent(raw: Any) -> float | None:
    """A percentage as a fraction: "85%", 0.85, 85 and "32/47" all work.

    Numbers above 1 are read as percentage points (85 -> 0.85); numbers from 0 to 1 as fractions.
    """
    check_formula_error(raw)
    if isinstance(raw, str):
        text = _clean_text(raw)
        both = _PERCENT_AND_FRACTION_RE.match(text)
        if both:
            return _percent_and_fraction(raw, both)
        if text.endswith("%"):
            value = _number_from_text(text[:-1].strip())
            if value is None or math.isinf(value):
                raise CellProblem("bad-percent", f"\u201c{show(raw)}\u201d is not a percentage.",
                                  "Type a percentage such as 85% (or 0.85).")
            return value / 100.0
        frac = _FRACTION_RE.match(text)
        if frac:
            num, den = float(frac.group(1)), float(frac.group(2))
            if den == 0:
                raise CellProblem("bad-percent", f"\u201c{show(raw)}\u201d divides by zero.",
                                  "Check the total: it cannot be 0.")
            return num / den
    try:
        value = parse_number(raw)
    except CellProblem:
        raise CellProblem("bad-percent", f"\u201c{show(raw)}\u201d is not a percentage.",
                          "Type a percentage such as 85% (or 0.85).") from None
    if value is None:
        return None
    return value / 100.0 if abs(value) > 1 else value


_PERCENT_AND_FRACTION_RE = re.compile(
    r"^(\d+(?:\.\d+)?)\s*%\s*\(\s*(\d+(?:\.\d+)?)\s*(?:/|of|out of)\s*(\d+(?:\.\d+)?)\s*\)$", re.I)


def _percent_and_fraction(raw: Any, m: re.Match[str]) -> float:
    """"55.9% (90/161)": the percentage, when the fraction agrees with it as rounded."""
    shown, num, den = m.group(1), float(m.group(2)), float(m.group(3))
    if den == 0:
        raise CellProblem("bad-percent", f"\u201c{show(raw)}\u201d divides by zero.",
                          "Check the total: it cannot be 0.")
    decimals = len(shown.split(".")[1]) if "." in shown else 0
    if abs(float(shown) - 100 * num / den) > 0.5 * 10 ** -decimals + 1e-9:
        raise CellProblem("inconsistent-value",
                          f"\u201c{show(raw)}\u201d: {shown}% and {m.group(2)}/{m.group(3)} "
                          f"({100 * num / den:.1f}%) disagree.",
                          "Check both numbers, then type the one that is right.")
    return num / den


def parse_fraction(raw: Any) -> tuple[float, float] | None:
    """"32/47", "32 of 47", "32 out of 47" -> (32, 47); anything else -> None."""
    if not isinstance(raw, str):
        return None
    m = _FRACTION_RE.match(_clean_text(raw))
    if not m:
        return None
    return float(m.group(1)), float(m.group(2))


def parse_metric(raw: Any, unit: str | None) -> float | None:
    """A team's weekly metric, read according to the goal's unit.

    For ``percent`` the value is a fraction (0.85). For ``count`` and ``score`` "32 of 47" means 32.
    """
    if unit == "percent":
        return parse_percent(raw)
    frac = parse_fraction(raw)
    if frac is not None:
        return frac[0]
    if isinstance(raw, str) and _clean_text(raw).endswith("%"):
        raise CellProblem("bad-number",
                          f"\u201c{show(raw)}\u201d is a percentage, but this goal counts "
                          f"{unit or 'numbers'}.",
                          "Type the count (for example 32), or set the goal's Unit to percent.")
    return parse_number(raw)


# -- yes/no ----------------------------------------------------------------------------------------

def parse_yesno(raw: Any) -> bool | None:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, (int, float)) and not (isinstance(raw, float) and math.isnan(raw)):
        if raw in (0, 1):
            return bool(raw)
    elif is_missing(raw):
        return None
    elif isinstance(raw, str):
        check_formula_error(raw)
        token = _clean_text(raw).casefold().rstrip(".!")
        if token in YES_TOKENS:
            return True
        if token in NO_TOKENS:
            return False
    raise CellProblem("bad-yes-no", f"\u201c{show(raw)}\u201d is not yes or no.",
                      "Type Yes or No (Y/N, or a check mark, also work).")


# -- choices ---------------------------------------------------------------------------------------

def parse_choice(raw: Any, choices: tuple[str, ...], aliases: dict[str, str] | None = None,
                 ) -> str | None:
    text = parse_text(raw)
    if text is None:
        return None
    key = re.sub(r"[^a-z0-9]+", "", text.casefold())
    for choice in choices:
        if re.sub(r"[^a-z0-9]+", "", choice.casefold()) == key:
            return choice
    for alias, target in (aliases or {}).items():
        if re.sub(r"[^a-z0-9]+", "", alias.casefold()) == key:
            return target
    raise CellProblem("bad-choice", f"\u201c{show(raw)}\u201d is not one of: {', '.join(choices)}.",
                      f"Pick one of {', '.join(choices)} (the template's dropdown lists them).")


# -- dates -----------------------------------------------------------------------------------------

def _bad_date(raw: Any, why: str = "is not a date") -> CellProblem:
    return CellProblem("bad-date", f"\u201c{show(raw)}\u201d {why}.",
                       "Type the date as 2026-09-08 or 9/8/2026.")


def _day_from_serial(serial: float) -> date:
    """A serial day number as a date, if it is one Excel can show (1 to 9999-12-31)."""
    if not (1 <= serial <= MAX_SERIAL):
        raise ValueError(serial)
    return date_from_serial(serial)


class AsOfWindow:
    """The span of as-of dates over which one workbook validates exactly the same.

    Validation reads the run's as-of date in two places: a date typed without a year takes the
    year that puts it nearest the as-of date, and a date that must not be in the future is checked
    against it. Each such reading narrows the window to the as-of dates that give the same answer.
    The parse cache keeps a workbook's result for any later run whose as-of date falls inside the
    window, so a nightly run (a new as-of date every night) re-reads only the files that changed.
    """

    __slots__ = ("as_of", "first", "last")

    def __init__(self, as_of: date) -> None:
        self.as_of = as_of
        self.first, self.last = date.min, date.max

    def narrow(self, first: date | None = None, last: date | None = None) -> None:
        if first is not None and first > self.first:
            self.first = first
        if last is not None and last < self.last:
            self.last = last

    def pin(self) -> None:
        """The result holds for this as-of date only (a finding quotes it, say)."""
        self.narrow(self.as_of, self.as_of)

    @property
    def span(self) -> tuple[date, date]:
        return self.first, self.last


def _infer_year(month: int, day: int, ref: date | None,
                window: AsOfWindow | None = None) -> date:
    """Pick the year that puts month/day closest to the program's reference date."""
    ref = ref or date.today()
    best: date | None = None
    for year in (ref.year - 1, ref.year, ref.year + 1):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if best is None or abs((candidate - ref).days) < abs((best - ref).days):
            best = candidate
    if best is None:
        if window is not None and (month, day) == (2, 29):
            window.pin()  # no leap year near this as-of date; another may have one
        raise ValueError((month, day))
    if window is not None:
        _narrow_to_nearest(window, best)
    return best


def _narrow_to_nearest(window: AsOfWindow, chosen: date) -> None:
    """Keep the as-of dates for which ``chosen`` is still the nearest of its month/day in the
    neighbouring years. A tie goes to the earlier year, as in :func:`_infer_year`."""
    try:
        before = chosen.replace(year=chosen.year - 1)
        after = chosen.replace(year=chosen.year + 1)
    except ValueError:  # 29 February: its neighbours are years away; hold for this date only
        window.pin()
        return
    window.narrow(before + timedelta(days=(chosen - before).days // 2 + 1),
                  chosen + timedelta(days=(after - chosen).days // 2))


def _two_digit_year(y: int) -> int:
    return y + 2000 if y < 100 else y


_ISO_RE = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ t].*)?$")
_US_RE = re.compile(r"^(\d{1,2})[/-](\d{1,2})(?:[/-](\d{2}|\d{4}))?(?:\s+.*)?$")
_MONTH_FIRST_RE = re.compile(r"^([a-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?(?:,?\s+(\d{4}))?$")
_DAY_FIRST_RE = re.compile(r"^(\d{1,2})(?:st|nd|rd|th)?\s+([a-z]+)\.?,?(?:\s+(\d{4}))?$")


def parse_date(raw: Any, ref: date | None = None,
               window: AsOfWindow | None = None) -> date | None:
    """Dates as people type them.

    Accepts date and datetime cells, Excel/Sheets serial numbers, "2026-09-08", "9/8/2026",
    "9/8/26", "9/8", "Sept 8", "September 8th, 2026", "8 Sept", "Tue 9/8". A missing year is taken
    from ``ref`` (the program's dates), choosing the nearest matching day. Dates outside
    :data:`EARLIEST_DATE` .. :data:`LATEST_DATE` are findings. When ``ref`` is the run's as-of
    date, ``window`` notes the as-of dates that would infer the same year.
    """
    value = _parse_date(raw, ref, window)
    if value is not None and not (EARLIEST_DATE <= value <= LATEST_DATE):
        raise _bad_date(raw, f"is not a date between {EARLIEST_DATE.year} and "
                             f"{LATEST_DATE.year}")
    return value


def _parse_date(raw: Any, ref: date | None, window: AsOfWindow | None = None) -> date | None:
    if raw is None:
        return None
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    if isinstance(raw, bool):
        raise _bad_date(raw)
    if isinstance(raw, (int, float)):
        if isinstance(raw, float) and math.isnan(raw):
            return None
        if 19000101 <= raw <= 99991231 and float(raw).is_integer():  # 20260908
            try:
                return datetime.strptime(str(int(raw)), "%Y%m%d").date()
            except ValueError:
                raise _bad_date(raw) from None
        try:
            return _day_from_serial(raw)
        except (ValueError, OverflowError):
            raise _bad_date(raw, "is not a date (as a day number it is out of range)") from None
    if not isinstance(raw, str):
        raise _bad_date(raw)
    if is_missing(raw):
        return None
    check_formula_error(raw)
    text = re.sub(r"\s+", " ", _clean_text(raw).casefold())
    text = re.sub(r"^" + _WEEKDAY, "", text)
    try:
        if m := _ISO_RE.match(text):
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        if m := _US_RE.match(text):
            month, day = int(m.group(1)), int(m.group(2))
            if m.group(3):
                return date(_two_digit_year(int(m.group(3))), month, day)
            return _infer_year(month, day, ref, window)
        m = _MONTH_FIRST_RE.match(text)
        if m and m.group(1) in MONTHS:
            month, day = MONTHS[m.group(1)], int(m.group(2))
            if m.group(3):
                return date(int(m.group(3)), month, day)
            return _infer_year(month, day, ref, window)
        m = _DAY_FIRST_RE.match(text)
        if m and m.group(2) in MONTHS:
            month, day = MONTHS[m.group(2)], int(m.group(1))
            if m.group(3):
                return date(int(m.group(3)), month, day)
            return _infer_year(month, day, ref, window)
        if re.fullmatch(r"\d+(\.\d+)?", text):
            return _day_from_serial(float(text))
    except (ValueError, OverflowError):
        raise _bad_date(raw, "is not a real calendar date") from None
    raise _bad_date(raw)


# -- times of day ----------------------------------------------------------------------------------

_TIME_RE = re.compile(r"^(\d{1,2})(?::|\.|h)?(\d{2})?(?::(\d{2}))?\s*(am|pm|a|p|a\.m\.|p\.m\.)?$")


def parse_time(raw: Any) -> time | None:
    """A time of day: time cells, day fractions (0.375), "8:30", "8:30 AM", "830am", "2pm"."""
    if isinstance(raw, datetime):
        return raw.time()
    if isinstance(raw, time):
        return raw
    if isinstance(raw, timedelta):
        secs = int(raw.total_seconds())
        if 0 <= secs < 86400:
            return time(secs // 3600, secs // 60 % 60)
    elif isinstance(raw, (int, float)) and not isinstance(raw, bool):
        if isinstance(raw, float) and math.isnan(raw):
            return None
        frac = raw % 1 if raw >= 1 else raw  # a datetime serial keeps its time in the fraction
        if 0 <= frac < 1:
            minutes = round(frac * 1440)
            if minutes < 1440:
                return time(minutes // 60, minutes % 60)
    elif isinstance(raw, str):
        if is_missing(raw):
            return None
        check_formula_error(raw)
        text = _clean_text(raw).casefold().replace(" ", "")
        if text in ("noon", "midday"):
            return time(12, 0)
        m = _TIME_RE.match(text)
        if m:
            hour, minute = int(m.group(1)), int(m.group(2) or 0)
            suffix = (m.group(4) or "").replace(".", "")
            if suffix.startswith("p") and hour < 12:
                hour += 12
            elif suffix.startswith("a") and hour == 12:
                hour = 0
            if m.group(2) is None and not suffix and len(m.group(1)) > 2:
                pass
            elif hour < 24 and minute < 60:
                return time(hour, minute)
    raise CellProblem("bad-time", f"\u201c{show(raw)}\u201d is not a time of day.",
                      "Type the time as 8:30 or 2:15 PM.")


TIME_RANGE_RE = re.compile(
    r"^\s*(\d{1,2}(?::\d{2})?\s*(?:[ap]\.?m\.?)?)\s*(?:-|\u2013|\u2014|to|until)\s*"
    r"(\d{1,2}(?::\d{2})?\s*(?:[ap]\.?m\.?)?)\s*$", re.I)
_HOURS_MINUTES_RE = re.compile(
    r"^(?:(\d+(?:\.\d+)?)\s*(?:h|hr|hrs|hour|hours)\.?)?\s*,?\s*(?:and\s+)?"
    r"(?:(\d+(?:\.\d+)?)\s*(?:m|min|mins|minute|minutes)\.?)?$")


def parse_time_range(raw: Any) -> float | None:
    """Minutes between two times of day typed in one cell: "9:00-9:45", "8:15 AM \u2013 9:00 AM".

    An end that reads earlier than the start without AM/PM ("12:30-1:15") is taken as
    afternoon. None when the text is not a range."""
    if not isinstance(raw, str) or len(raw) > 60:
        return None
    m = TIME_RANGE_RE.match(_squeezed(raw))
    if not m:
        return None
    start, end = parse_time(m.group(1)), parse_time(m.group(2))
    if start is None or end is None:
        return None
    minutes = (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)
    marked = re.search(r"[ap]\.?m", m.group(2), re.I)
    if minutes <= 0 and not marked and minutes + 720 > 0:
        minutes += 720
    if minutes <= 0:
        raise CellProblem("inconsistent-value", f"\u201c{show(raw)}\u201d ends before it "
                          "starts.", "Check the times, or type the minutes instead.")
    return float(minutes)


def parse_duration_minutes(raw: Any) -> float | None:
    """Minutes: 45, "45 min", "45m", "1:30" (h:mm), "0:45:00", "1.5 hrs" (90), "1h 30m",
    "1 hour 15 minutes", and a range of times such as "9:00-9:45" (45)."""
    if isinstance(raw, timedelta):
        return raw.total_seconds() / 60
    if isinstance(raw, time):
        return raw.hour * 60 + raw.minute + raw.second / 60
    if isinstance(raw, str) and len(raw) <= 60:  # durations are short; long text is not one
        text = _squeezed(raw).casefold()
        m = re.fullmatch(r"(\d{1,2}):(\d{2})(?::(\d{2}))?", text)
        if m:
            return int(m.group(1)) * 60 + int(m.group(2)) + int(m.group(3) or 0) / 60
        m = _HOURS_MINUTES_RE.match(text)
        if m and (m.group(1) or m.group(2)):
            return float(m.group(1) or 0) * 60 + float(m.group(2) or 0)
        ranged = parse_time_range(raw)
        if ranged is not None:
            return ranged
    return parse_number(raw)


def _squeezed(raw: str) -> str:
    """Clean text with every run of spaces as one: the patterns below then stay linear."""
    return re.sub(r"\s+", " ", _clean_text(raw))


def parse_hours(raw: Any) -> float | None:
    """Hours as a number (1.5), or a duration typed with its units ("1h 30m", "90 min",
    "1:30"); always in hours."""
    if isinstance(raw, str) and _number_from_text(_clean_text(raw)) is None:
        text = _clean_text(raw).casefold()
        if re.fullmatch(r"\d+(?:\.\d+)?\s*(?:h|hr|hrs|hour|hours)\.?", text):
            return float(re.match(r"\d+(?:\.\d+)?", text).group(0))  # type: ignore[union-attr]
        minutes = parse_duration_minutes(raw)
        return None if minutes is None else minutes / 60
    if isinstance(raw, timedelta | time):
        minutes = parse_duration_minutes(raw)
        return None if minutes is None else minutes / 60
    return parse_number(raw)


# -- goals as people write them -------------------------------------------------------------------

_NUM = r"(\d+(?:\.\d+)?)\s*(%|percent)?"
_FROM_TO_RE = re.compile(r"\bfrom\s+" + _NUM + r"\s+(?:to|up to|down to)\s+" + _NUM, re.I)
_ARROW_RE = re.compile(_NUM + r"\s*(?:\u2192|->|=>|\u27f6|\u2794)\s*" + _NUM)
_COMPARATOR_RE = re.compile(
    r"^(?:at\s+least|no\s+less\s+than|a\s+minimum\s+of|minimum\s+of|min\.?|\u2265|>=|"
    r"more\s+than|at\s+most|no\s+more\s+than|fewer\s+than|less\s+than|under|below|"
    r"a\s+maximum\s+of|maximum\s+of|max\.?|\u2264|<=)\s*", re.I)
_CURRENTLY_RE = re.compile(r"\b(?:currently|baseline|now|today)\b[^.;]*?\b(?:at|is|of|was)\s+"
                           + _NUM, re.I)
_WILL_BE_RE = re.compile(r"\b(?:(?:will\s+be|will\s+reach|to\s+reach|reach)\s+(?:at\s+least\s+)?"
                         r"|at\s+least\s+)" + _NUM, re.I)


def _number_text(m: re.Match[str], first: int) -> str:
    return m.group(first) + ("%" if m.group(first + 1) else "")


def goal_pair(raw: Any) -> tuple[str, str] | None:
    """A goal's start and end typed in one cell or sentence: "70 \u2192 80", "from 40% to 60%"
    give ("40%", "60%"); "at least 70% ... Currently ... at 55.9%" gives ("55.9%", "70%").
    None when the text states no pair."""
    if not isinstance(raw, str):
        return None
    text = _squeezed(raw[:500])  # a goal sentence is short; longer text is searched no further
    for pattern in (_FROM_TO_RE, _ARROW_RE):
        m = pattern.search(text)
        if m:
            first, second = _number_text(m, 1), _number_text(m, 3)
            if "%" in first + second:  # "40 to 60%": both are percentages
                first, second = first.rstrip("%") + "%", second.rstrip("%") + "%"
            return first, second
    now, then = _CURRENTLY_RE.search(text), _WILL_BE_RE.search(text)
    if now and then:
        return _number_text(now, 1), _number_text(then, 1)
    return None


def parse_goal_value(raw: Any, unit: str | None, end: bool) -> float | None:
    """A Baseline or Target as people write it: a metric ("55.9% (90/161)", "32 of 47"), with
    a firm comparator ("at least 70%", "\u2265 70%"), or a pair ("70 \u2192 80",
    "from 40% to 60%": the first for a Baseline, the second for a Target, ``end``).

    A vague one ("about 70") is not a number."""
    if isinstance(raw, str):
        text = _squeezed(raw)
        pair = goal_pair(text)
        if pair is not None:
            return parse_metric(pair[1] if end else pair[0], unit)
        bare = _COMPARATOR_RE.sub("", text, count=1)
        if bare != text:
            m = re.match(r"^(\d+(?:\.\d+)?\s*%?(?:\s*\([^)]*\))?)(?:\s+\D.*)?$", bare)
            return parse_metric(m.group(1) if m else bare, unit)
    return parse_metric(raw, unit)

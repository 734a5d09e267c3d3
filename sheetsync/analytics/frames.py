"""Small, vectorized conversions that let the analytics accept any validated frame.

Validation hands over typed frames (see :mod:`sheetsync.dataset`), but a source may lack an
optional tab or column, and pandas 3 may hold text as ``str`` or ``object``. These functions
normalise that once so the rules themselves can stay short.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime

import pandas as pd

ColumnOf = Callable[[str, str, str], "str | None"]
"""``column_of(source, tab, key)``: the column letter of field ``key`` on ``tab`` of ``source``.

Flags use it to point at a cell such as ``C9``; when it is not given (or returns None) a flag
names the tab and row instead.
"""


def with_columns(frame: pd.DataFrame | None, columns: Iterable[str]) -> pd.DataFrame:
    """Just ``columns`` of ``frame``, copied; a missing column (or frame) is filled with NA.

    A missing frame becomes an empty one, so a program without, say, coaching cycles still runs.
    Selecting only the needed columns keeps large time logs cheap to copy.
    """
    columns = list(columns)
    if frame is None:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
    out = frame.reindex(columns=columns)
    for col in columns:
        if col not in frame.columns:
            out[col] = out[col].astype("object")
    return out


def as_timestamp(day: date | datetime | str) -> pd.Timestamp:
    """The as-of day as a midnight timestamp, comparable with the frames' date columns."""
    return pd.Timestamp(day).normalize()


def dates(series: pd.Series) -> pd.Series:
    """A date column as naive ``datetime64[ns]`` (NaT when missing)."""
    out = pd.to_datetime(series, errors="coerce")
    if getattr(out.dt, "tz", None) is not None:
        out = out.dt.tz_localize(None)
    return out.astype("datetime64[ns]")


def numbers(series: pd.Series) -> pd.Series:
    """A numeric column as ``float64`` (NaN when missing or not a number)."""
    return pd.to_numeric(series, errors="coerce").astype("float64")


def texts(series: pd.Series) -> pd.Series:
    """A text column as pandas ``string`` with surrounding spaces removed (NA when missing)."""
    return series.astype("string").str.strip()


def has_text(series: pd.Series) -> pd.Series:
    """True where a text cell holds something other than blanks."""
    return texts(series).str.len().gt(0).fillna(False).astype(bool)


def yes(series: pd.Series) -> pd.Series:
    """True where a yes/no cell is yes; no, blank and unreadable are all False."""
    if series.dtype == bool:
        return series
    if isinstance(series.dtype, pd.BooleanDtype):
        return series.fillna(False).astype(bool)
    folded = series.astype("string").str.strip().str.casefold()
    return folded.isin(["true", "yes", "y", "1", "1.0", "x", "✓", "✔"]).fillna(False).astype(bool)


def days_before(as_of: pd.Timestamp, when: pd.Series) -> pd.Series:
    """Whole days from each date in ``when`` up to ``as_of`` (NaN where the date is missing)."""
    return (as_of - when).dt.days.astype("float64")


def plain_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Every text column as ``object`` holding ``str`` or ``None``, whatever pandas inferred.

    pandas 3 may give text its ``str`` dtype (NaN for missing); result frames use one
    convention so writers and tests see the same values.
    """
    out = frame.copy()
    for col in out.columns:
        if isinstance(out[col].dtype, pd.StringDtype) or out[col].dtype == object:
            values = out[col].astype(object)
            out[col] = values.where(values.notna(), None)
    return out

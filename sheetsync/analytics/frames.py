"""Small, vectorized conversions that let the analytics accept any validated frame.

Validation hands over typed frames (see :mod:`sheetsync.dataset`), but a source may lack an
optional tab or column, and pandas 3 may hold text as ``str`` or ``object``. These functions
normalise that once so the rules themselves can stay short.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime

import numpy as np
import pandas as pd

ColumnOf = Callable[[str, str, str], "str | None"]
"""``column_of(source, tab, key)``: the column letter of field ``key`` on ``tab`` of ``source``.

Flags use it to point at a cell such as ``C9``; when it is not given (or returns None) a flag
names the tab and row instead.
"""


def with_columns(frame: pd.DataFrame | None, columns: Iterable[str]) -> pd.DataFrame:
    """Just ``columns`` of ``frame``; a missing column (or frame) is filled with NA.

    A missing frame becomes an empty one, so a program without, say, coaching cycles still runs.
    The columns are taken without copying (copy-on-write keeps ``frame`` safe from changes to
    the result), which keeps large time logs cheap.
    """
    columns = list(columns)
    if frame is None:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
    return pd.DataFrame({c: frame[c] if c in frame.columns
                         else pd.Series(np.nan, index=frame.index, dtype=object)
                         for c in columns}, copy=False)


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
    found = _distinct_strings(series)
    if found is None:
        return series.astype("string").str.strip()
    codes, distinct = found
    cleaned = pd.Series(distinct, dtype=object).astype("string").str.strip().array
    return pd.Series(cleaned.take(codes, allow_fill=True), index=series.index,
                     name=series.name)


def has_text(series: pd.Series) -> pd.Series:
    """True where a text cell holds something other than blanks."""
    found = _distinct_strings(series)
    if found is None:
        return texts(series).str.len().gt(0).fillna(False).astype(bool)
    codes, distinct = found
    filled = pd.Series(distinct, dtype=object).str.strip().str.len().gt(0).to_numpy(dtype=bool)
    return pd.Series(np.append(filled, False)[codes], index=series.index, name=series.name)


def text_out(series: pd.Series) -> pd.Series:
    """Text for the result frames: ``object`` holding the cleaned ``str``, or ``None`` where
    the cell is missing or blank."""
    found = _distinct_strings(series)
    if found is None:
        cleaned = texts(series)
        return cleaned.astype(object).where(cleaned.notna() & cleaned.ne(""), None)
    codes, distinct = found
    cleaned = [text.strip() or None for text in distinct]  # once per distinct value
    return pd.Series(np.array([*cleaned, None], dtype=object)[codes], index=series.index,
                     name=series.name, dtype=object)


def _distinct_strings(series: pd.Series) -> tuple[np.ndarray, np.ndarray] | None:
    """Codes (-1 for missing) and distinct values of a column of ``str``, or None otherwise.

    Text columns repeat a lot (sources, names, phases), so cleaning only the distinct values
    is much cheaper. Other values take the plain path: hashing would merge ``1`` and ``1.0``,
    which read differently as text.
    """
    codes, distinct = pd.factorize(series, use_na_sentinel=True)
    if pd.api.types.infer_dtype(distinct, skipna=False) != "string":
        return None
    return codes, np.asarray(distinct, dtype=object)


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
            values = out[col].to_numpy(dtype=object, copy=True)
            values[pd.isna(values)] = None
            out[col] = pd.Series(values, index=out.index, dtype=object)
    return out

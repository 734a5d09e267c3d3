"""Turn validated records into the typed program frames documented in :mod:`sheetsync.dataset`."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from sheetsync.dataset import FRAME_NAMES
from sheetsync.schema import frame_specs

if TYPE_CHECKING:
    import pandas as pd

_DTYPE = {"date": "datetime64[ns]", "int": "Int64", "number": "float64", "percent": "float64",
          "metric": "float64", "yesno": "boolean"}


@cache
def _columns(frame: str) -> dict[str, str]:
    """The frame's columns and their pandas dtypes, from the schema that declares it."""
    return {key: _DTYPE.get(kind, "object")
            for key, kind in frame_specs()[frame].frame_columns().items()}


@cache
def _derived(frame: str) -> tuple[str, ...]:
    return frame_specs()[frame].derived_keys


def _typed(records: list[dict[str, Any]], columns: dict[str, str]) -> pd.DataFrame:
    """The frame of ``records`` with pandas' own conversions, column by column (reference path)."""
    import pandas as pd

    data = {}
    for col, dtype in columns.items():
        values = [r.get(col) for r in records]
        data[col] = _pandas_series(values, dtype)
    return pd.DataFrame(data)


def _pandas_series(values: list[Any], dtype: str) -> pd.Series:
    import pandas as pd

    if dtype == "datetime64[ns]":
        return pd.to_datetime(pd.Series(values, dtype="object"), errors="coerce"
                              ).astype("datetime64[ns]")
    if dtype == "object":
        return pd.Series(values, dtype="object")
    return pd.Series(values, dtype="object").astype(dtype)


def empty_frames() -> dict[str, pd.DataFrame]:
    return {name: _typed([], _columns(name)) for name in FRAME_NAMES}


# -- a table's records, column by column ------------------------------------------------------

_SPARSE_PREFIXES = ("_invalid", "_raw_")
"""Keys a record holds only when they say something (see :class:`Rows`)."""


class Rows(Sequence[dict[str, Any]]):
    """A table's records, held column by column: ``columns[key][i]`` is what record ``i`` holds
    at ``key``.

    A table of hundreds of rows is read a column at a time, and its frame is built a column at
    a time: its rows never become one dict each in between, unless someone asks for them as
    records (each then made on demand, without the keys that only say something when set:
    an ``_invalid`` or ``_raw_`` entry that is None)."""

    __slots__ = ("columns", "length")

    def __init__(self, columns: dict[str, list[Any]], length: int) -> None:
        self.columns = columns
        self.length = length

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> dict[str, Any]:  # type: ignore[override]
        return self._record([(key, values[index]) for key, values in self.columns.items()])

    def __iter__(self) -> Iterator[dict[str, Any]]:
        keys = list(self.columns)
        for values in zip(*self.columns.values(), strict=True):
            yield self._record(zip(keys, values, strict=True))

    @staticmethod
    def _record(items: Iterable[tuple[str, Any]]) -> dict[str, Any]:
        return {key: value for key, value in items
                if value is not None or not key.startswith(_SPARSE_PREFIXES)}

    def column(self, key: str) -> list[Any]:
        """Every record's value at ``key`` (None where a record lacks it)."""
        found = self.columns.get(key)
        return found if found is not None else [None] * self.length

    def fill(self, key: str, value: Any) -> None:
        """Give every record ``value`` at ``key``."""
        self.columns[key] = [value] * self.length

    def take(self, indices: list[int]) -> Rows:
        """The records at ``indices``, in that order."""
        return Rows({key: list(map(values.__getitem__, indices))
                     for key, values in self.columns.items()}, len(indices))


def as_records(rows: Rows | list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A table's records as a list of dicts (a :class:`Rows` made into its records)."""
    return list(rows) if isinstance(rows, Rows) else rows


# -- compact column blocks ---------------------------------------------------------------------

_UNIX_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_NS_PER_DAY = 86_400 * 10**9
# The whole days datetime64[ns] can hold, as date ordinals.
_FIRST_NS_DAY, _LAST_NS_DAY = date(1677, 9, 22).toordinal(), date(2262, 4, 11).toordinal()
_NONE = type(None)
_FLOAT_KINDS = frozenset({_NONE, float, int})
_DAY_KINDS = frozenset({_NONE, date})


@dataclass
class FrameColumns:
    """One workbook's rows of one frame, as typed column arrays.

    Worker processes hand these back instead of one dict per row, and the parse cache stores
    them: numeric columns pickle as raw buffers, text columns by value (pickle writes a repeated
    string object once), and :func:`build_frames` only has to concatenate them. Each array
    holds exactly what the frame's column will hold (see :mod:`sheetsync.dataset`); nullable
    integer and yes/no columns are (values, mask) pairs.
    """

    length: int
    arrays: dict[str, Any]

    def __len__(self) -> int:
        return self.length

    def __getstate__(self) -> dict[str, Any]:
        # Sent from a worker to the main process, and kept in the parse cache: each text
        # column as a plain list and each other column as its raw bytes, which pickle in about
        # half the time numpy's own pickling takes array by array (and load a little faster).
        return {"length": self.length,
                "columns": {col: _portable(arr) for col, arr in self.arrays.items()}}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.length = state["length"]
        self.arrays = {col: _restored(part, self.length)
                       for col, part in state["columns"].items()}


def _portable(arr: Any) -> tuple[Any, ...]:
    """A column array (or a (values, mask) pair) as :func:`_restored` takes it back."""
    import numpy as np

    if isinstance(arr, tuple):
        return ("masked", _portable(arr[0]), _portable(arr[1]))
    if arr.dtype == object:
        return ("objects", arr.tolist())  # the very objects the array holds
    # a copy that unpickles writable, whatever the protocol (a worker's answer goes with 4);
    # as bytes, as a datetime64 array exports none itself
    return ("bytes", arr.dtype.str, bytearray(np.ascontiguousarray(arr).view(np.uint8)))


def _restored(part: tuple[Any, ...], length: int) -> Any:
    import numpy as np

    if part[0] == "masked":
        return _restored(part[1], length), _restored(part[2], length)
    if part[0] == "objects":
        return np.fromiter(part[1], dtype=object, count=length)
    return np.frombuffer(part[2], dtype=np.dtype(part[1]))


class PackedFrameColumns(FrameColumns):
    """A program-wide block, as the program snapshot stores it: each text column pickled as its
    distinct values plus integer codes. That pays on a whole program's columns (the snapshot
    loads several times faster); on one workbook's small blocks factorizing costs more than it
    saves, so those pickle plainly."""

    def __getstate__(self) -> dict[str, Any]:
        # Text columns repeat heavily (coach, activity, school...): pickle each distinct value
        # once plus integer codes, which makes the snapshot several times faster to load.
        import numpy as np
        import pandas as pd

        packed: dict[str, Any] = {}
        for col, arr in self.arrays.items():
            if isinstance(arr, np.ndarray) and arr.dtype == object and len(arr):
                codes, uniques = pd.factorize(arr, use_na_sentinel=True)
                packed[col] = ("factorized", codes.astype(np.int32), list(uniques))
            else:
                packed[col] = arr
        return {"length": self.length, "arrays": packed}

    def __setstate__(self, state: dict[str, Any]) -> None:
        import numpy as np

        arrays: dict[str, Any] = {}
        for col, value in state["arrays"].items():
            if isinstance(value, tuple) and len(value) == 3 and value[0] == "factorized":
                _, codes, uniques = value
                table = np.empty(len(uniques) + 1, dtype=object)  # the last slot is None
                # slice assignment copies the (scalar) values one per slot; fromiter keeps
                # numpy from reading any value as a sequence
                table[:-1] = np.fromiter(uniques, dtype=object, count=len(uniques))
                arrays[col] = table[codes]  # code -1 (missing) picks the trailing None
            else:
                arrays[col] = value
        self.length = state["length"]
        self.arrays = arrays


@dataclass(frozen=True)
class FrameSlice:
    """Rows ``start:stop`` of a program-wide block: one workbook's rows in the program snapshot,
    viewed in place rather than copied."""

    base: FrameColumns
    start: int
    stop: int

    def __len__(self) -> int:
        return self.stop - self.start

    @property
    def length(self) -> int:
        return self.stop - self.start

    @property
    def arrays(self) -> dict[str, Any]:
        start, stop = self.start, self.stop
        return {col: (arr[0][start:stop], arr[1][start:stop]) if isinstance(arr, tuple)
                else arr[start:stop] for col, arr in self.base.arrays.items()}

    def __reduce__(self) -> tuple[Any, ...]:
        # pickled on its own (a worker's answer, a cache entry) it is a plain block
        return _unpickled_block, (FrameColumns(self.length, self.arrays).__getstate__(),)


def _unpickled_block(state: dict[str, Any]) -> FrameColumns:
    block = FrameColumns.__new__(FrameColumns)
    block.__setstate__(state)
    return block


def compact(records: dict[str, Rows | list[dict[str, Any]]]) -> dict[str, FrameColumns]:
    """One workbook's validated records (frame -> rows) as :class:`FrameColumns` blocks."""
    return {name: _block(name, rows) for name, rows in records.items()}


def _block(name: str, rows: Rows | list[dict[str, Any]]) -> FrameColumns:
    derived = _derived(name)
    stored = {col: dtype for col, dtype in _columns(name).items() if col not in derived}
    values = ({col: rows.column(col) for col in stored} if isinstance(rows, Rows)
              else _transposed(rows, list(stored)))
    return FrameColumns(len(rows), {col: _array(column, stored[col])
                                    for col, column in values.items()})


def _transposed(rows: list[dict[str, Any]], cols: list[str]) -> dict[str, list[Any]]:
    """Each column's values down ``rows`` (None where a record lacks the column): every row's
    cells taken in one call and the rows turned into columns in one more, as validated records
    nearly always hold every column; else column by column."""
    if not rows or not cols:
        return {col: [None] * len(rows) for col in cols}
    try:
        picked = list(map(itemgetter(*cols), rows))
    except KeyError:
        return {col: [r.get(col) for r in rows] for col in cols}
    if len(cols) == 1:
        return {cols[0]: picked}
    return dict(zip(cols, map(list, zip(*picked, strict=True)), strict=True))


def _array(values: list[Any], dtype: str) -> Any:
    """``values`` converted as :func:`_pandas_series` would, without a pandas round trip when
    every value already has the expected type (nearly always: validation typed them)."""
    import numpy as np

    n = len(values)
    if dtype == "object":
        return np.fromiter(values, dtype=object, count=n)
    kinds = set(map(type, values))
    if dtype == "float64":
        if kinds <= _FLOAT_KINDS:
            return np.array(values, dtype=np.float64)  # None becomes NaN
    elif dtype in ("Int64", "boolean"):
        kind = int if dtype == "Int64" else bool
        if kinds <= {_NONE, kind}:
            cells = np.array(values, dtype=object).reshape(n)
            mask = np.equal(cells, None).astype(bool)
            cells[mask] = kind()
            return cells.astype(np.int64 if kind is int else bool), mask
    elif dtype == "datetime64[ns]" and kinds <= _DAY_KINDS:  # dates, not datetimes
        # (numpy's own conversion of date objects is several times slower than this)
        days = np.fromiter((_UNIX_EPOCH_ORDINAL if v is None else v.toordinal()
                            for v in values), dtype=np.int64, count=n)
        if not n or (days.min() >= _FIRST_NS_DAY and days.max() <= _LAST_NS_DAY):
            out = ((days - _UNIX_EPOCH_ORDINAL) * _NS_PER_DAY).view("datetime64[ns]")
            out[np.fromiter((v is None for v in values), dtype=bool, count=n)] = \
                np.datetime64("NaT")
            return out
    series = _pandas_series(values, dtype)
    if dtype in ("Int64", "boolean"):
        return series.array._data, series.array._mask
    return series.to_numpy()


def _series(name: str, col: str, dtype: str, parts: list[Any]) -> pd.Series:
    import numpy as np
    import pandas as pd

    if dtype in ("Int64", "boolean"):
        kind = np.int64 if dtype == "Int64" else bool
        data = np.concatenate([p[0] for p in parts]) if parts else np.empty(0, dtype=kind)
        mask = np.concatenate([p[1] for p in parts]) if parts else np.empty(0, dtype=bool)
        array = (pd.arrays.IntegerArray(data.astype(np.int64, copy=False), mask)
                 if dtype == "Int64" else pd.arrays.BooleanArray(data, mask))
        return pd.Series(array, copy=False)  # arrays made just above
    empty = {"object": object, "float64": np.float64, "datetime64[ns]": "datetime64[ns]"}
    joined = np.concatenate(parts) if parts else np.empty(0, dtype=empty[dtype])
    return pd.Series(joined, dtype=dtype, copy=False)  # a new array, the frame's own


def _frame(name: str, blocks: list[FrameColumns | FrameSlice],
           groups: dict[str, tuple[str, bool]]) -> pd.DataFrame:
    import numpy as np
    import pandas as pd

    columns = _columns(name)
    derived = _derived(name)
    data = {col: None if col in derived else
            _series(name, col, dtype, [b.arrays[col] for b in blocks])
            for col, dtype in columns.items()}
    if name == "time_log":
        # each entry's activity group, looked up once per distinct activity
        codes, uniques = pd.factorize(data["activity"].to_numpy(dtype=object))
        found = [groups.get(u or "", ("Unknown", False)) for u in uniques]
        group = np.array([g for g, _ in found] + ["Unknown"], dtype=object)[codes]
        outside = np.array([o for _, o in found] + [False], dtype=bool)[codes]
        data["activity_group"] = pd.Series(group, dtype="object")
        data["outside_role"] = pd.Series(
            pd.arrays.BooleanArray(outside, np.zeros(len(outside), dtype=bool)))
    # every column was made here and is held nowhere else: no copy, no consolidating copy
    return pd.DataFrame(data, copy=False)


def build_frames(records_by_frame: Iterable[dict[str, Any]],
                 activity_groups: dict[str, tuple[str, bool]] | None = None,
                 ) -> dict[str, pd.DataFrame]:
    """Concatenate per-workbook records into one typed frame per tab kind.

    Each workbook's rows of a frame are a list of records (dicts), a :class:`FrameColumns`
    block or a :class:`FrameSlice` of the program snapshot; rows keep the order of the workbooks
    given. Neighbouring slices of one snapshot block are joined first, so a program read mostly
    from the snapshot costs a few large copies rather than one per workbook.
    ``activity_groups`` maps an activity's canonical name to (group, outside_role).
    """
    blocks: dict[str, list[FrameColumns | FrameSlice]] = {name: [] for name in FRAME_NAMES}
    pending: dict[str, list[dict[str, Any]]] = {name: [] for name in FRAME_NAMES}
    for records in records_by_frame:
        for name, rows in records.items():
            if isinstance(rows, Rows):
                rows = _block(name, rows)  # noqa: PLW2901 - a table's columns, as a block
            if not isinstance(rows, FrameColumns | FrameSlice):
                pending[name].extend(rows)
                continue
            if pending[name]:  # keep the workbooks' order across the forms
                blocks[name].append(_block(name, pending[name]))
                pending[name] = []
            last = blocks[name][-1] if blocks[name] else None
            if (isinstance(rows, FrameSlice) and isinstance(last, FrameSlice)
                    and last.base is rows.base and last.stop == rows.start):
                blocks[name][-1] = FrameSlice(rows.base, last.start, rows.stop)
            else:
                blocks[name].append(rows)
    for name, rows in pending.items():
        if rows:
            blocks[name].append(_block(name, rows))
    groups = activity_groups or {}
    return {name: _frame(name, parts, groups) for name, parts in blocks.items()}


def frame_columns(name: str, frame: pd.DataFrame) -> FrameColumns:
    """The columns of a frame :func:`build_frames` made, as one block (its stored columns only:
    derived ones are filled in again when the block is built into a frame)."""
    derived = _derived(name)
    arrays: dict[str, Any] = {}
    for col, dtype in _columns(name).items():
        if col in derived:
            continue
        series = frame[col]
        if dtype in ("Int64", "boolean"):
            arrays[col] = (series.array._data, series.array._mask)
        else:
            arrays[col] = series.to_numpy()
    return PackedFrameColumns(len(frame), arrays)

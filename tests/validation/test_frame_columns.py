"""A workbook's records become column blocks exactly as a pandas conversion would make them.

:func:`sheetsync.validation.frames._array` takes a fast path when every value already has its
column's type; these tests hold it to the pandas conversion it stands in for, on values of
every kind a record can hold, including the ones that must leave the fast path (a datetime in a
date column, a date past what datetime64[ns] holds, a bool in a number column).
"""

from __future__ import annotations

import pickle
import random
from datetime import date, datetime
from typing import Any

import numpy as np
import pytest

from sheetsync.validation.frames import (
    FrameColumns,
    FrameSlice,
    _array,
    _pandas_series,
    compact,
)

SAMPLES: dict[str, list[Any]] = {
    "float64": [None, 0.0, -0.0, 1.5, 3, 10**15, -7, float("nan"), True],
    "Int64": [None, 0, 1, -5, 2**40, True],
    "boolean": [None, True, False, 1],
    "datetime64[ns]": [None, date(2026, 9, 7), date(1970, 1, 1), date(1677, 9, 22),
                       date(2262, 4, 11), date(1600, 1, 1), date(9999, 12, 31),
                       datetime(2026, 9, 7, 8, 30)],
    "object": [None, "Co-teaching", 3, 2.5, date(2026, 9, 7), True],
}


def _expected(values: list[Any], dtype: str) -> Any:
    series = _pandas_series(values, dtype)
    if dtype in ("Int64", "boolean"):
        return series.array._data, series.array._mask
    return series.to_numpy()


def _same(got: Any, expected: Any) -> None:
    if isinstance(expected, tuple):
        assert isinstance(got, tuple)
        data, mask = expected
        np.testing.assert_array_equal(got[1], mask)
        np.testing.assert_array_equal(got[0][~mask], data[~mask])
        assert got[0].dtype == data.dtype
        return
    assert got.dtype == expected.dtype
    if expected.dtype == object:
        assert got.tolist() == expected.tolist()
    else:
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("dtype", sorted(SAMPLES))
def test_each_kind_of_column_converts_as_pandas_would(dtype: str):
    rng = random.Random(dtype)
    pool = SAMPLES[dtype]
    # the values of the column's own type alone (the fast path), then every mix
    own = [v for v in pool if v is None or type(v) is type(pool[1])]
    for values in ([], [None, None], own, *([rng.choice(pool) for _ in range(rng.randint(1, 9))]
                                            for _ in range(200))):
        try:
            expected = _expected(values, dtype)
        except (TypeError, ValueError, OverflowError):
            continue  # pandas itself refuses the mix: validation never makes it
        _same(_array(list(values), dtype), expected)


def test_a_date_past_the_nanosecond_range_leaves_the_fast_path():
    # pandas refuses it; the fast path must do the same, never wrap it round to another date
    values = [date(2026, 9, 7), date(1600, 1, 1)]
    with pytest.raises(ValueError, match="Out of bounds"):
        _expected(values, "datetime64[ns]")
    with pytest.raises(ValueError, match="Out of bounds"):
        _array(values, "datetime64[ns]")
    edge = [date(1677, 9, 22), date(2262, 4, 11), None]
    _same(_array(edge, "datetime64[ns]"), _expected(edge, "datetime64[ns]"))


def test_records_lacking_a_column_read_it_as_blank():
    blocks = compact({"weekly": [{"source": "t", "week": 1, "value": 0.5},
                                 {"source": "t", "value": 0.7}]})
    week = blocks["weekly"].arrays["week"]
    data, mask = week if isinstance(week, tuple) else (week, np.isnan(week))
    assert mask.tolist() == [False, True]
    assert data[0] == 1


@pytest.mark.parametrize("rows", [
    [],
    [{"a": 1, "b": "x"}, {"a": None, "b": "y"}],
    [{"a": 1, "b": "x"}, {"b": "y"}],           # a record without a column: None there
    [{"a": 1}, {"a": 2, "b": 3, "c": 4}],
])
@pytest.mark.parametrize("cols", [["a"], ["a", "b"], []])
def test_records_turn_into_columns_as_read_one_by_one(rows, cols):
    from sheetsync.validation.frames import _transposed

    assert _transposed(rows, cols) == {c: [r.get(c) for r in rows] for c in cols}


VALIDATED = {  # what validation gives each kind of column
    "float64": [None, 0.0, -0.0, 1.5, 45.0], "Int64": [None, 0, 3, 2**40],
    "boolean": [None, True, False], "datetime64[ns]": [None, date(2026, 9, 7), date(1970, 1, 1)],
    "object": [None, "Co-teaching", "45", date(2026, 9, 7), 2.5]}


def _every_kind(n: int) -> FrameColumns:
    rng = random.Random(n)
    return FrameColumns(n, {kind: _array([rng.choice(values) for _ in range(n)], kind)
                            for kind, values in VALIDATED.items()})


@pytest.mark.parametrize("protocol", [4, pickle.HIGHEST_PROTOCOL])  # a worker's answer: 4
@pytest.mark.parametrize("n", [0, 1, 7, 300])
def test_a_block_pickles_as_plain_lists_and_bytes_and_comes_back_the_same(n: int,
                                                                         protocol: int):
    block = _every_kind(n)
    payload = pickle.dumps(block, protocol=protocol)
    # none of numpy's own array pickling, which costs twice the time (see FrameColumns)
    assert b"_reconstruct" not in payload and b"_frombuffer" not in payload
    back = pickle.loads(payload)
    assert type(back) is FrameColumns and back.length == n
    assert list(back.arrays) == list(block.arrays)
    for col, arr in block.arrays.items():
        _same(back.arrays[col], arr)
        for part in back.arrays[col] if isinstance(arr, tuple) else (back.arrays[col],):
            assert part.flags.writeable and len(part) == n
    # the objects of a text column come back as they were: None stays None, a date a date
    assert [type(v) for v in back.arrays["object"].tolist()] == [
        type(v) for v in block.arrays["object"].tolist()]


def test_a_slice_of_a_program_block_pickles_as_a_plain_block_of_its_rows():
    base = _every_kind(50)
    back = pickle.loads(pickle.dumps(FrameSlice(base, 10, 17), protocol=4))
    assert type(back) is FrameColumns and back.length == 7
    for col, arr in base.arrays.items():
        _same(back.arrays[col], (arr[0][10:17], arr[1][10:17]) if isinstance(arr, tuple)
              else arr[10:17])


def test_a_tables_rows_held_as_columns_read_back_as_their_records():
    from sheetsync.validation.frames import Rows

    rows = Rows({"row": [2, 3, 4], "minutes": [45.0, None, 30.0],
                 "_invalid": [None, {"minutes"}, None], "_raw_value": [None, "3 of 4", None]}, 3)
    rows.fill("source", "coach-1")
    assert list(rows) == [
        {"row": 2, "minutes": 45.0, "source": "coach-1"},
        {"row": 3, "minutes": None, "_invalid": {"minutes"}, "_raw_value": "3 of 4",
         "source": "coach-1"},
        {"row": 4, "minutes": 30.0, "source": "coach-1"}]
    assert rows.take([2, 0]).column("row") == [4, 2]
    assert rows.column("absent") == [None, None, None]
    block = compact({"time_log": rows})["time_log"]
    assert block.length == 3 and block.arrays["source"].tolist() == ["coach-1"] * 3

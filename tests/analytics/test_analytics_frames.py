"""The small frame conversions the analytics share: same values as the plain pandas ways.

``texts``, ``has_text`` and ``text_out`` clean only the distinct values of a column of ``str``;
these tests pin them to the plain per-value definitions, including columns that mix numbers
(which hashing would merge: ``1`` and ``1.0`` read differently as text).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal, assert_series_equal

from sheetsync.analytics.frames import has_text, plain_text, text_out, texts, with_columns

COLUMNS = [
    (["Lincoln ", " Lincoln", "Lincoln", None, "  ", "", "Adams", float("nan")], object),
    (["a", "a", "a", "b"], object),
    ([1, 1.0, "1", True, " x ", None], object),  # numbers typed into a text column
    (["Lee ", None, "  ", "Lee"], "string"),
    (["Lee ", None, "  ", "Lee"], "str"),
    ([], object),
    ([None, None], object),
]


def plain_texts(series: pd.Series) -> pd.Series:
    return series.astype("string").str.strip()


@pytest.mark.parametrize(("values", "dtype"), COLUMNS)
def test_texts_match_pandas_string_strip(values, dtype):
    series = pd.Series(values, dtype=dtype, index=np.arange(len(values)) * 2, name="col")
    expected = plain_texts(series)
    assert_series_equal(texts(series), expected)
    assert_series_equal(has_text(series),
                        expected.str.len().gt(0).fillna(False).astype(bool))
    cleaned = expected.astype(object).where(expected.notna() & expected.ne(""), None)
    out = text_out(series)
    assert_series_equal(out, cleaned)
    assert [type(v) for v in out] == [type(v) for v in cleaned]  # str or None, never NaN


def test_numbers_in_a_text_column_keep_their_own_text():
    assert texts(pd.Series([1, 1.0, True], dtype=object)).tolist() == ["1", "1.0", "True"]


def test_with_columns_fills_missing_columns_and_leaves_the_frame_alone():
    frame = pd.DataFrame({"a": [1, 2], "b": ["x", None]}, index=[5, 7])
    out = with_columns(frame, ["b", "a", "c"])
    assert list(out.columns) == ["b", "a", "c"] and list(out.index) == [5, 7]
    assert out["c"].dtype == object and out["c"].isna().all()
    out.loc[5, "a"] = 99
    assert frame.loc[5, "a"] == 1
    assert list(with_columns(None, ["a"]).columns) == ["a"]


def test_plain_text_gives_object_columns_of_str_or_none():
    frame = pd.DataFrame({"s": pd.Series(["a", None], dtype="string"),
                          "t": pd.Series(["b", None], dtype="str"),
                          "o": pd.Series([float("nan"), "c"], dtype=object),
                          "n": [1.5, np.nan]})
    out = plain_text(frame)
    expected = pd.DataFrame({"s": pd.Series(["a", None], dtype=object),
                             "t": pd.Series(["b", None], dtype=object),
                             "o": pd.Series([None, "c"], dtype=object),
                             "n": [1.5, np.nan]})
    assert_frame_equal(out, expected)
    assert out.loc[1, "s"] is None and out.loc[0, "o"] is None
    assert frame["s"].dtype == "string"  # the input is left as it was

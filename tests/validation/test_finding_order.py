"""Findings are listed in a sheet's reading order: by row, then by column, whatever the cell."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from sheetsync.findings import _cell_sort_key
from sheetsync.grid import a1


def _by_characters(cell: str) -> tuple[int, str]:
    """The general rule the short path for plain A1 cells must agree with."""
    digits = "".join(ch for ch in cell if ch.isdecimal())
    letters = "".join(ch for ch in cell if ch.isalpha())
    return (int(digits) if digits else 0, letters.rjust(3))


@given(st.integers(1, 1_048_576), st.integers(1, 16_384))
def test_a_plain_cell_sorts_by_row_then_column(row, col):
    key = _cell_sort_key(a1(row, col))
    assert key == _by_characters(a1(row, col))
    assert key[0] == row


@given(st.text(max_size=12))
def test_any_text_in_the_cell_column_sorts_by_the_general_rule(cell):
    assert _cell_sort_key(cell) == _by_characters(cell)


def test_cells_order_as_a_reader_meets_them():
    cells = ["B10", "AA2", "A10", "C2", "b3", ""]
    assert sorted(cells, key=_cell_sort_key) == ["", "C2", "AA2", "b3", "A10", "B10"]

"""What every spreadsheet backend agrees on: A1 references, date serial numbers, cell text.

Excel and Google Sheets name cells the same way and count days from the same epoch, so these
facts live here once, for the backends, the validator, the report and the test doubles alike.
Every room imports it, so it imports nothing heavy.
"""

from __future__ import annotations

import math
from datetime import date, datetime, time, timedelta
from functools import cache

__all__ = [
    "MAX_CELL_CHARS",
    "MAX_SERIAL",
    "SERIAL_EPOCH",
    "a1",
    "column_letter",
    "column_number",
    "date_from_serial",
    "date_serial",
    "datetime_from_serial",
    "to_serial",
]

SERIAL_EPOCH = date(1899, 12, 30)
"""Day 0 of Excel's and Sheets' serial dates (Excel's phantom 1900-02-29 puts it a day early)."""
MAX_SERIAL = 2_958_465
"""The serial number of 9999-12-31, the last day Excel can show."""
MAX_CELL_CHARS = 32_767
"""The most text sheetsync keeps in one cell: Excel's limit (Sheets allows 50,000), counted in
UTF-16 code units as Excel counts them."""

_EPOCH_MOMENT = datetime.combine(SERIAL_EPOCH, time())


@cache
def column_letter(index: int) -> str:
    """1-based column number to letters: 1 -> A, 27 -> AA, 16384 -> XFD."""
    if index < 1:
        raise ValueError(f"column {index} is before column A")
    letters = ""
    while index > 0:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def column_number(letters: str) -> int:
    """Column letters (either case) to the 1-based column number: A -> 1, AA -> 27."""
    number = 0
    for ch in letters.upper():
        number = number * 26 + ord(ch) - 64
    return number


def a1(row: int, col: int) -> str:
    """1-based row and column to an A1 reference: (2, 3) -> C2."""
    return f"{column_letter(col)}{row}"


def date_serial(day: date) -> int:
    """The serial number of ``day``: whole days since :data:`SERIAL_EPOCH`."""
    return (day - SERIAL_EPOCH).days


def to_serial(value: date | datetime | time | timedelta) -> float:
    """The number a cell stores: days since the epoch for dates and datetimes (naive wall-clock
    time), the fraction of a day for times and durations."""
    if isinstance(value, datetime):
        return (value.replace(tzinfo=None) - _EPOCH_MOMENT).total_seconds() / 86400
    if isinstance(value, date):
        return float(date_serial(value))
    if isinstance(value, time):
        return (value.hour * 3600 + value.minute * 60 + value.second
                + value.microsecond / 1e6) / 86400
    return value.total_seconds() / 86400


def date_from_serial(serial: float) -> date:
    """The day a serial number falls on (its time of day dropped): 1 -> 1899-12-31.

    Raises ``OverflowError`` (or ``ValueError`` for NaN) past the dates Python can hold.
    """
    return SERIAL_EPOCH + timedelta(days=math.floor(serial))


def datetime_from_serial(serial: float) -> datetime:
    """The moment a serial number stands for, to the microsecond: 45000.5 -> 2023-03-15 12:00."""
    return _EPOCH_MOMENT + timedelta(days=serial)

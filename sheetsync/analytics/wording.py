"""How figures are written in reasons, messages and hints: short, plain and advisory."""

from __future__ import annotations

import math
from collections.abc import Iterable


def metric(value: float, unit: str | None) -> str:
    """A team metric as a coach would say it: ``0.745`` in percent units is "74.5%"."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "no value"
    if unit == "percent":
        return f"{_trim(round(value * 100, 1))}%"
    return _trim(value)


def share(value: float) -> str:
    """A fraction as a whole percent: ``0.283`` -> "28%"."""
    if value is None or math.isnan(value):
        return "n/a"
    return f"{value * 100:.0f}%"


def minutes(value: float) -> str:
    """Minutes, with hours for larger amounts: ``135`` -> "135 minutes (2.2 hours)"."""
    whole = _trim(value)
    if value >= 120:
        return f"{whole} minutes ({value / 60:.1f} hours)"
    return f"{whole} minute" + ("" if value == 1 else "s")


def count(n: int, singular: str, plural: str | None = None) -> str:
    """``count(1, "week")`` -> "1 week"; ``count(3, "week")`` -> "3 weeks"."""
    return f"{n} {singular if n == 1 else (plural or singular + 's')}"


def challenge_week(complete: int, total: int, *, started: bool = True) -> str:
    """Where a challenge stands, the one way sheetsync says it everywhere.

    ``complete`` weeks have ended (the as-of date is ``7 * complete`` or more days after the
    start): ``challenge_week(8, 10)`` -> "Week 8 complete, week 9 in progress (of 10)".
    """
    if not started:
        return f"Not started yet (a {total}-week challenge)"
    if complete <= 0:
        return f"Week 1 in progress (of {total})"
    if complete >= total:
        return f"All {total} weeks complete"
    return f"Week {complete} complete, week {complete + 1} in progress (of {total})"


def numbers_list(values: Iterable[int], limit: int = 8) -> str:
    """``[2, 4, 7]`` -> "2, 4 and 7"; long lists end with "and N more"."""
    items = [str(v) for v in values]
    if len(items) > limit:
        rest = len(items) - limit
        return ", ".join(items[:limit]) + f" and {rest} more"
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _trim(value: float) -> str:
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text

"""Analytics: pure, vectorized functions from the validated frames to the dashboard's figures.

No I/O happens here. :func:`analyse` runs everything; :func:`team_progress`,
:func:`coach_summary` and :func:`time_rollup` are the parts. Results hold per-team and per-coach
aggregates only: no teacher names, facts, notes or per-teacher ratings.

Names are imported lazily, so reading :class:`Thresholds` from a config does not load pandas.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "Thresholds": "thresholds",
    "TeamResults": "teams",
    "team_progress": "teams",
    "STATUSES": "teams",
    "CoachResults": "coaches",
    "TimeResults": "coaches",
    "coach_roster": "coaches",
    "coach_summary": "coaches",
    "time_rollup": "coaches",
    "relationship_summary": "coaches",
    "cycle_summary": "coaches",
    "delight_engagement_matrix": "coaches",
    "Analysis": "program",
    "ProgramSummary": "program",
    "analyse": "program",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'sheetsync.analytics' has no attribute {name!r}")
    return getattr(import_module(f"sheetsync.analytics.{module}"), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])

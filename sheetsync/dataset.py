"""The validated, typed data of a whole program: what validation hands to the rollup.

Every frame has a ``source`` column (the display name of the workbook it came from) and, for
tabular tabs, a ``row`` column with the 1-based sheet row, so analytics flags can point back at
cells. Column names are the schema keys from ``sheet_templates/*.toml``.

Types:
* dates are ``datetime64[ns]`` (midnight, naive; NaT when missing);
* numbers are ``float64`` (NaN when missing); ints that may be missing are ``Int64``;
* percent-unit metrics are fractions (``0.85`` for 85%); count/score metrics are plain numbers;
* yes/no are pandas ``boolean`` (``<NA>`` when missing);
* text is ``object`` holding ``str`` or ``None``.

Frames (columns beyond the schema keys are listed):

``goals``          one row per team tracker: source, weeks (int, the challenge length),
                   unknown_reason (why the team's figures cannot be shown, or None), school, team,
                   team_lead, coach, focus_area, members, smart_goal, metric, unit, baseline,
                   target, direction (always filled: "increase"/"decrease"), start_date,
                   end_date (always filled).
``weekly``         source, row, week, week_of, value, numerator, denominator, what_we_tried,
                   what_we_learned, next_steps. Rows without a usable week are dropped (with a
                   finding). ``value`` is derived from numerator/denominator when blank.
``actions``        source, row, action, owner, due, status.
``coaches``        one row per coach workbook (or per coach of a shared log, its source
                   "<workbook>: <coach>"): source, time_unknown (why the coach's time figures
                   cannot be shown, or None), coach, schools, role.
``relationships``  source, coach, row, teacher, school, grade_subject, room, knows_face,
                   knows_classroom, professional_fact, personal_fact, delight, engagement,
                   last_contact, notes.
``time_log``       source, coach, row, date, start, end, minutes (float, derived from Minutes,
                   Hours, 15-min units or Start/End), activity (canonical name, or the raw text when
                   unknown), activity_group (or "Unknown"), outside_role (bool), teachers, notes.
``cycles``         source, coach, row, teacher, focus, start_date, phase, next_steps_total,
                   next_steps_done, last_update, focus_area, student_goal, student_evidence,
                   describes_impact, applied_new_context, outcome, plan_date, act_date,
                   reflect_date, end_date.
``plans``          source, coach, row, school, focus_area (the framework's label), goal,
                   principal, agreed, next_review: one row per focus area of a coaching plan.

The Time Log's ``focus_area`` and the Relationships tab's ``focus_teacher``, the About tab's and
the Goal tab's ``region`` are optional columns like the others.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Literal

from sheetsync.findings import Findings
from sheetsync.schema import frame_specs

if TYPE_CHECKING:
    import pandas as pd

FRAME_NAMES = tuple(frame_specs())
"""The program's frames, as the schemas declare them (each tab names its frame)."""


@dataclass
class SourceStatus:
    """What happened to one source in a run; nothing is ever dropped silently."""

    name: str
    kind: Literal["team", "coach", "shared_log", "unknown"]
    location: str
    state: Literal["ok", "stale", "failed"]
    rows: int = 0
    message: str = ""
    data_as_of: datetime | None = None  # when the data shown was read (stale: the last good read)


@dataclass
class ProgramData:
    """All validated frames plus the findings and source statuses of one run."""

    frames: dict[str, pd.DataFrame]
    findings: Findings = field(default_factory=Findings)
    sources: list[SourceStatus] = field(default_factory=list)
    as_of: date | None = None
    columns: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)
    """source -> tab -> column key -> column letter, so analytic flags can name exact cells."""
    placed: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    """source -> (school, region) its ``[[sources]]`` entry gives, where the workbook has none."""

    def column_of(self, source: str, tab: str, key: str) -> str | None:
        return self.columns.get(source, {}).get(tab, {}).get(key)

    def __getattr__(self, name: str) -> pd.DataFrame:
        frames = self.__dict__.get("frames", {})
        if name in frames:
            return frames[name]
        raise AttributeError(name)

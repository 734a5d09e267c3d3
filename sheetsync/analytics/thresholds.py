"""The configurable thresholds of the analytics, with the defaults the program uses.

Every rule in :mod:`sheetsync.analytics` reads its numbers from one :class:`Thresholds` value, so
a config file can change them and a run stays reproducible.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any


@dataclass(frozen=True)
class Thresholds:
    """Numbers behind the progress-monitoring rules and the coach flags.

    * ``coaching_share_target``: share of logged time spent coaching with teachers that a coach
      aims for (0..1).
    * ``stale_contact_days``: a teacher whose last contact is more than this many days before the
      as-of date counts as a stale contact.
    * ``stalled_cycle_days``: an open coaching cycle whose last update (or start date) is more than
      this many days old counts as stalled.
    * ``min_matrix_teachers``: the delight x engagement counts of a coach are shown only when at
      least this many teachers are rated, so no single teacher's rating can be read off them.
    * ``projection_margin``: how far the trend's projected final value may fall short of the
      target before a team is Off track, as a fraction of the baseline-to-target gap. The default
      0.10 tolerates missing the target by a tenth of the gap (e.g. projecting 79% for a 70% ->
      80% goal), because an OLS line through about ten weekly points is too noisy to treat a
      smaller shortfall as a signal.
    * ``at_risk_points``: consecutive latest values on the wrong side of the aimline that make a
      team At risk (the 3-point variant of the four-point rule).
    * ``four_point_rule_points``: consecutive latest values compared with the aimline by the
      four-point rule (Off track when all are on the wrong side, raise the goal when all are on
      the better side).
    * ``four_point_min_points``: the four-point rule applies only once a team has this many
      values in all.
    * ``recent_weeks``: the "last weeks" window for coaching share and teachers reached.
    * ``program_goal_share``: the share of teams expected to reach their goal (the benchmark the
      program figures are compared with).
    * ``top_movers``: how many teams the weekly update lists as having moved most.
    * ``reach_target``: the share of a roster (the teachers listed, or a school's staff count)
      that coaching is expected to reach in the last weeks (Berwyn reports over 90%).
    * ``plan_review_days``: a coaching plan is reviewed quarterly; one with no Next Review date
      is overdue once its Date Agreed is this many days old.
    * ``phase_plan_share``, ``phase_act_share``, ``phase_reflect_share``: the model a cycle's
      time in each phase is compared with (Plan 25%, Act 25%, Reflect 50%); they add up to 1.
    """

    # Each field's metadata gives its range, which the config loader checks (see
    # sheetsync.config.settings_from_table); __post_init__ keeps the essentials for direct use.
    coaching_share_target: float = field(default=0.40, metadata={"min": 0.0, "max": 1.0})
    stale_contact_days: int = field(default=21, metadata={"min": 1, "max": 3660})
    stalled_cycle_days: int = field(default=21, metadata={"min": 1, "max": 3660})
    min_matrix_teachers: int = field(default=5, metadata={"min": 1, "max": 1000})
    projection_margin: float = field(default=0.10, metadata={"min": 0.0, "max": 10.0})
    at_risk_points: int = field(default=3, metadata={"min": 1, "max": 52})
    four_point_rule_points: int = field(default=4, metadata={"min": 1, "max": 52})
    four_point_min_points: int = field(default=6, metadata={"min": 1, "max": 52})
    recent_weeks: int = field(default=4, metadata={"min": 1, "max": 52})
    program_goal_share: float = field(default=0.75, metadata={"min": 0.0, "max": 1.0})
    top_movers: int = field(default=3, metadata={"min": 1, "max": 100})
    reach_target: float = field(default=0.90, metadata={"min": 0.0, "max": 1.0})
    plan_review_days: int = field(default=92, metadata={"min": 1, "max": 3660})
    phase_plan_share: float = field(default=0.25, metadata={"min": 0.0, "max": 1.0})
    phase_act_share: float = field(default=0.25, metadata={"min": 0.0, "max": 1.0})
    phase_reflect_share: float = field(default=0.50, metadata={"min": 0.0, "max": 1.0})

    def __post_init__(self) -> None:
        phases = self.phase_plan_share + self.phase_act_share + self.phase_reflect_share
        if abs(phases - 1.0) > 1e-6:
            raise ValueError("phase_plan_share, phase_act_share and phase_reflect_share must "
                             f"add up to 1 (100%), not {phases:g}")
        for name in ("coaching_share_target", "program_goal_share", "reach_target",
                     "phase_plan_share", "phase_act_share", "phase_reflect_share"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be a share between 0 and 1, not {value!r}")
        if not math.isfinite(self.projection_margin) or self.projection_margin < 0:
            raise ValueError("projection_margin must not be negative, "
                             f"not {self.projection_margin!r}")
        for name in ("stale_contact_days", "stalled_cycle_days", "min_matrix_teachers",
                     "at_risk_points", "four_point_rule_points", "four_point_min_points",
                     "recent_weeks", "top_movers", "plan_review_days"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a whole number of at least 1, not {value!r}")

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> Thresholds:
        """Build thresholds from a config table; keys not given keep their defaults.

        Unknown keys raise ``ValueError`` so a misspelt setting is not silently ignored.
        """
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ValueError(f"unknown threshold setting(s): {', '.join(unknown)}; "
                             f"known settings are {', '.join(known)}")
        coerced: dict[str, Any] = {}
        for key, value in values.items():
            # Config files may hold 21.0 or "0.4"; the field's default says which type is meant.
            kind = type(known[key].default)
            if isinstance(value, bool):
                raise ValueError(f"threshold {key} must be a number, not {value!r}")
            try:
                number = float(value)
            except (TypeError, ValueError):
                raise ValueError(f"threshold {key} must be a number, not {value!r}") from None
            if not math.isfinite(number):
                raise ValueError(f"threshold {key} must be a finite number, not {value!r}")
            if kind is int:
                if number != int(number):
                    raise ValueError(f"threshold {key} must be a whole number, not {value!r}")
                coerced[key] = int(number)
            else:
                coerced[key] = number
        return cls(**coerced)


DEFAULT_THRESHOLDS = Thresholds()
"""The defaults, shared (the dataclass is frozen, so sharing one value is safe)."""

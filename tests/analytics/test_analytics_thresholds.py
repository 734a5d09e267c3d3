"""Thresholds: the documented defaults and reading them from a config table."""

from __future__ import annotations

import subprocess
import sys

import pytest

from sheetsync.analytics.thresholds import DEFAULT_THRESHOLDS, Thresholds


def test_defaults():
    th = Thresholds()
    assert th == DEFAULT_THRESHOLDS
    assert (th.coaching_share_target, th.stale_contact_days, th.stalled_cycle_days,
            th.min_matrix_teachers, th.projection_margin) == (0.40, 21, 21, 5, 0.10)
    assert (th.at_risk_points, th.four_point_rule_points, th.four_point_min_points,
            th.recent_weeks, th.program_goal_share, th.top_movers) == (3, 4, 6, 4, 0.75, 3)


def test_frozen():
    with pytest.raises(AttributeError):
        DEFAULT_THRESHOLDS.recent_weeks = 2  # type: ignore[misc]


def test_from_mapping_coerces_config_numbers():
    th = Thresholds.from_mapping({"stale_contact_days": 30.0, "coaching_share_target": "0.5",
                                  "projection_margin": 0})
    assert th.stale_contact_days == 30 and isinstance(th.stale_contact_days, int)
    assert th.coaching_share_target == 0.5 and th.projection_margin == 0.0
    assert th.recent_weeks == 4  # untouched keys keep their defaults


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"stale_contacts_days": 30}, "unknown threshold setting"),
        ({"stale_contact_days": 2.5}, "whole number"),
        ({"stale_contact_days": "soon"}, "must be a number"),
        ({"recent_weeks": True}, "must be a number"),
        ({"coaching_share_target": 40}, "between 0 and 1"),
        ({"projection_margin": -0.1}, "must not be negative"),
        ({"min_matrix_teachers": 0}, "at least 1"),
    ],
)
def test_from_mapping_rejects_bad_settings(values, message):
    with pytest.raises(ValueError, match=message):
        Thresholds.from_mapping(values)


def test_reading_thresholds_does_not_import_pandas():
    code = ("import sys; from sheetsync.analytics import Thresholds; Thresholds(); "
            "print('pandas' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"

"""The fields of the history's records (plain names, no pandas: the store and the unchanged-run
check read them without loading it)."""

TEAM_FIELDS = (
    "as_of", "source", "cycle", "school", "team", "coach", "metric", "unit", "direction",
    "baseline", "target", "start_date", "end_date", "weeks", "current_week", "latest_week",
    "latest_value", "aimline_latest", "gap_closed", "projected_value", "status", "reason",
    "what_we_tried", "actions_overdue", "ended",
)
"""A team's record: its figures on one as-of date (dates as ISO text, shares as fractions).
``what_we_tried``: the team's entry for its latest reported week."""

COACH_FIELDS = (
    "as_of", "source", "coach", "schools", "minutes_total", "minutes_coaching", "coaching_share",
    "minutes_recent", "coaching_share_recent", "outside_role_minutes",
    "outside_role_minutes_recent", "teachers_reached", "teachers_listed", "pct_known_by_face",
    "pct_known_by_classroom", "pct_with_professional_fact", "pct_with_personal_fact",
    "pct_with_all_four", "cycles_plan", "cycles_act", "cycles_reflect", "cycles_complete",
)
"""A coach's record: aggregates only (minutes, shares, counts, percentages)."""

PRIVATE_SHARES = ("pct_known_by_face", "pct_known_by_classroom", "pct_with_professional_fact",
                  "pct_with_personal_fact", "pct_with_all_four")

__all__ = ["COACH_FIELDS", "PRIVATE_SHARES", "TEAM_FIELDS"]

"""The fake answers like Google: every recorded real exchange, replayed, compared whole.

See :mod:`tests.backends.google.recordings` for how the replay pairs up ids and times. Where the
fake still answers differently, the recording is listed below with the reason; anything else
that differs fails the test, so the share of identical answers can only go up.
"""

from __future__ import annotations

import pytest

from tests.backends.google.recordings import (
    ReplayReport,
    first_difference,
    recording_names,
    replay_all,
)

STILL_DIFFERENT = {
    # recording: why the fake's answer is not Google's
    "ClientTest.test_import_csv.json": "Drive v2 upload with conversion (sheetsync uses v3)",
    "ClientTest.test_open_all_has_metadata.json": "lists files the account held before the "
                                                  "recording, which the replay cannot know",
    "ClientTest.test_openall.json": "lists files the account held before the recording",
    "WorksheetTest.test_auto_resize_columns.json": "autoResizeDimensions needs font metrics",
    "WorksheetTest.test_group_columns.json": "addDimensionGroup is not implemented (501)",
    "WorksheetTest.test_group_rows.json": "addDimensionGroup is not implemented (501)",
}


@pytest.fixture(scope="module")
def report() -> ReplayReport:
    names = recording_names()
    if not names:
        pytest.skip("API recordings not found (set SHEETSYNC_API_RECORDINGS)")
    return replay_all(names)


def test_every_recording_is_replayed(report: ReplayReport) -> None:
    replayed = {e.recording for e in report.exchanges}
    assert replayed == set(recording_names())
    assert len(report.exchanges) > 2000


def test_answers_are_identical_except_where_listed(report: ReplayReport) -> None:
    unexpected = [
        f"{e.recording} #{e.number} {e.kind}: "
        + (f"status {e.recorded_status} recorded, {e.status} answered" if not e.same_status
           else str(first_difference(e.recorded, e.answered)))
        for e in report.exchanges if not e.exact and e.recording not in STILL_DIFFERENT]
    assert unexpected == []
    print("\n" + report.summary())
    assert report.share() >= 0.98


def test_the_listed_differences_still_exist(report: ReplayReport) -> None:
    """A listed recording that now matches should leave the list (it would hide a regression)."""
    differing = {e.recording for e in report.exchanges if not e.exact}
    assert set(STILL_DIFFERENT) <= differing


def test_the_comparison_sees_a_changed_default() -> None:
    """Whole-body comparison notices what a shape comparison would not: a value, a default."""
    assert first_difference({"gridProperties": {"rowCount": 1000}},
                            {"gridProperties": {"rowCount": 1000, "frozenRowCount": 0}}) == (
        "$.gridProperties: the fake adds 'frozenRowCount': 0")
    assert first_difference({"a": [1, 2]}, {"a": [1, 3]}) == "$.a[1]: 2 recorded, 3 answered"
    assert first_difference({"a": 1}, {"a": 1}) is None

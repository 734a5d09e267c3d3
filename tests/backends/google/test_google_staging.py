"""A dashboard too big for one request goes in parts, and leaders never see half of it.

The fake enforces Google's 10 MiB request limit; here the writer's own limit is set far lower
so a small model needs several requests, and the outcome is compared with a one-request write.
"""
# ruff: noqa: F811

from __future__ import annotations

import json
import random
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from sheetsync.backends.google.scoping import scope_sheets, scope_table
from sheetsync.backends.google.settings import GoogleSettings
from sheetsync.backends.google.staging import (
    STAGING_PREFIX,
    ExistingTab,
    body_size,
    encode,
    plan,
    send,
)
from sheetsync.backends.google.staging import _size as staging_size
from sheetsync.backends.google.transport import GoogleConnection
from sheetsync.backends.google.writer import STATE_FIELDS, GoogleWriter
from sheetsync.errors import TargetWriteError
from sheetsync.report.model import Chart, Sheet, Table
from sheetsync.testing import FakeClock, FakeGoogle
from sheetsync.testing.pytest_plugin import GoogleAccount

LIMIT_MB = 0.025  # 26,214 bytes: a few hundred rows a request


def big_model(rows: int = 900, label: str = "week") -> list[Sheet]:
    rng = random.Random(rows)
    weekly = Table(columns=["Coach", "Week starting", "Minutes", "Status"],
                   rows=[[f"Coach {i % 97:02d}", date(2026, 9, 7) + timedelta(weeks=i % 10),
                          rng.randint(0, 600), rng.choice(["On track", "At risk"])]
                         for i in range(rows)],
                   title=f"Minutes by {label}", number_formats={"Minutes": "0"},
                   status_columns=["Status"], column_widths={"Coach": 20})
    totals = Table(columns=["Coach", "Minutes"], rows=[[f"Coach {i:02d}", i * 10]
                                                       for i in range(97)],
                   title="Per coach", col=6)
    headline = Table(columns=["Figure", "Value"], rows=[["Coaches", 97], ["Weeks", 10]])
    chart = Chart("column", "Coaches", headline, "Figure", ["Value"], "D1")
    log = Table(columns=["Run at", "Result"], rows=[["2026-11-04 02:00", "ok"]])
    return [Sheet("Dashboard", tables=[headline], charts=[chart]),
            Sheet("Coach Time", tables=[weekly, totals], freeze_rows=2),
            Sheet("Run Log", tables=[log], append_only=True)]


def connection(settings: GoogleSettings, clock: FakeClock, **changes: object
               ) -> GoogleConnection:
    return GoogleConnection(replace(settings, **changes), clock=clock, sleep=clock.sleep,
                            rng=random.Random(0))


def writer_for(settings: GoogleSettings, clock: FakeClock, **changes: object) -> GoogleWriter:
    return GoogleWriter(connection=connection(settings, clock, **changes),
                        now=lambda: datetime(2026, 11, 4, 2, 0, tzinfo=UTC))


def everything(google: FakeGoogle, key: str) -> dict[str, object]:
    """What a leader sees: each tab's values, cell formats, ids, rules and charts."""
    seen: dict[str, object] = {}
    for sheet in google.spreadsheet_json(key, True)["sheets"]:
        props = sheet["properties"]
        if props["title"].startswith("_sheetsync"):
            continue
        rows = sheet["data"][0].get("rowData", [])
        cells = [[{k: c.get(k) for k in ("userEnteredValue", "userEnteredFormat")}
                  for c in row.get("values", [])] for row in rows]
        seen[props["title"]] = {"properties": props, "cells": cells,
                                "rules": sheet.get("conditionalFormats", []),
                                "charts": len(sheet.get("charts", [])),
                                "merges": sheet.get("merges", [])}
    return seen


@pytest.fixture
def targets(fake_google: FakeGoogle, google_account: GoogleAccount) -> tuple[str, str]:
    return tuple(fake_google.add_spreadsheet(title, {"My notes": [["keep me"]]},
                                             share_with=google_account.email, role="Editor")
                 for title in ("staged", "in one request"))


def test_a_big_write_goes_in_parts_under_the_limit_and_ends_as_one_request_would(
        fake_google: FakeGoogle, google_settings: GoogleSettings, fake_clock: FakeClock,
        targets: tuple[str, str]) -> None:
    staged_key, whole_key = targets
    model = big_model()
    summary = writer_for(google_settings, fake_clock, max_request_mb=LIMIT_MB).write(
        staged_key, model)
    assert summary.sent is not None and summary.sent.requests > 3
    # The tab with the most cell data goes first; smaller ones follow only while the rest
    # (column sizes, formats, rules, charts) would not fit beside the swap.
    assert summary.sent.staged_tabs[0] == "Coach Time"
    assert "Run Log" not in summary.sent.staged_tabs
    assert summary.sent.largest <= LIMIT_MB * 1024 * 1024
    assert fake_google.largest_request <= LIMIT_MB * 1024 * 1024
    assert len(fake_google.calls("spreadsheets.batchUpdate", spreadsheet_id=staged_key)) == \
        summary.sent.requests

    once = writer_for(google_settings, fake_clock).write(whole_key, model)
    assert once.sent is not None and once.sent.requests == 1
    staged, whole = everything(fake_google, staged_key), everything(fake_google, whole_key)
    assert staged == whole
    assert not any(t.startswith(STAGING_PREFIX) for t in fake_google.tab_titles(staged_key))

    # Rewritten in parts again, each tab stays the same tab (same id): formulas and charts on
    # a person's own tabs that point at it keep working.
    again = writer_for(google_settings, fake_clock, max_request_mb=LIMIT_MB).write(
        staged_key, big_model(rows=950))
    assert again.sent is not None and again.sent.requests > 3
    after = everything(fake_google, staged_key)
    assert after["Coach Time"]["properties"]["sheetId"] == staged["Coach Time"][
        "properties"]["sheetId"]
    assert len(fake_google.spreadsheet_values(staged_key, "Coach Time")) >= 950
    assert fake_google.spreadsheet_values(staged_key, "My notes") == [["keep me"]]


def test_a_failure_midway_leaves_the_old_dashboard_and_the_next_run_finishes(
        fake_google: FakeGoogle, google_settings: GoogleSettings, fake_clock: FakeClock,
        targets: tuple[str, str]) -> None:
    key = targets[0]
    writer = writer_for(google_settings, fake_clock, max_request_mb=LIMIT_MB)
    writer.write(key, big_model())
    before = everything(fake_google, key)

    # The third part is refused, and so is every later call: the hidden staging tab stays.
    fake_google.inject_faults("spreadsheets.batchUpdate", status=400, times=None, after=2)
    with pytest.raises(TargetWriteError) as failed:
        writer.write(key, big_model(rows=960))
    fake_google.clear_faults()
    assert "The dashboard was not changed" in failed.value.message
    assert "the next run removes" in failed.value.message
    assert everything(fake_google, key) == before  # leaders still see the old dashboard
    leftovers = [t for t in fake_google.tab_titles(key) if t.startswith(STAGING_PREFIX)]
    assert leftovers

    done = writer.write(key, big_model(rows=960))
    assert done.sent is not None and done.sent.removed_leftovers == len(leftovers)
    assert not any(t.startswith(STAGING_PREFIX) for t in fake_google.tab_titles(key))
    assert len(fake_google.spreadsheet_values(key, "Coach Time")) >= 960


def test_a_failed_part_is_cleaned_up_at_once_when_google_allows(
        fake_google: FakeGoogle, google_settings: GoogleSettings, fake_clock: FakeClock,
        targets: tuple[str, str]) -> None:
    key = targets[0]
    writer = writer_for(google_settings, fake_clock, max_request_mb=LIMIT_MB)
    writer.write(key, big_model())
    fake_google.inject_faults("spreadsheets.batchUpdate", status=400, times=1, after=1)
    with pytest.raises(TargetWriteError, match="which were removed"):
        writer.write(key, big_model(rows=960))
    assert not any(t.startswith(STAGING_PREFIX) for t in fake_google.tab_titles(key))


def test_past_googles_limit_the_fake_refuses_as_google_does(
        fake_google: FakeGoogle, google_settings: GoogleSettings, fake_clock: FakeClock,
        targets: tuple[str, str]) -> None:
    fake_google.request_limit = 30_000  # Google's limit, made small for the test
    with pytest.raises(TargetWriteError, match="Request payload size exceeds the limit"):
        writer_for(google_settings, fake_clock, max_request_mb=10).write(targets[0],
                                                                          big_model())
    summary = writer_for(google_settings, fake_clock, max_request_mb=LIMIT_MB).write(
        targets[0], big_model())
    assert summary.sent is not None and summary.sent.largest <= 30_000


def test_the_plan_stages_only_what_does_not_fit() -> None:
    small = [{"updateCells": {"start": {"sheetId": 5, "rowIndex": 0, "columnIndex": 0},
                              "rows": [{"values": [{"userEnteredValue": {"numberValue": 1}}]}],
                              "fields": "userEnteredValue"}}]
    leftover = ExistingTab(77, STAGING_PREFIX + "77", 10, 2)
    bodies, final, staging = plan(small, [leftover], 10_000)
    assert (bodies, staging) == ([], {})
    assert final == [{"deleteSheet": {"sheetId": 77}}, *small]  # leftovers go first
    big = [{"updateCells": {"start": {"sheetId": 5, "rowIndex": 0, "columnIndex": 0},
                            "rows": [{"values": [{"userEnteredValue": {"stringValue": "x" * 90}}]}
                                     for _ in range(200)], "fields": "userEnteredValue"}}]
    bodies, final, staging = plan(big, [], 4_000)
    assert list(staging) == [5] and len(bodies) > 4
    assert all(len(encode({"requests": b})) <= 4_000 for b in bodies)
    sent_rows = sum(len(r["updateCells"]["rows"]) for b in bodies for r in b if "updateCells" in r)
    assert sent_rows == 200
    starts = [r["updateCells"]["start"]["rowIndex"] for b in bodies for r in b
              if "updateCells" in r]
    assert starts == sorted(starts) and starts[0] == 0
    assert [next(iter(r)) for r in final] == ["copyPaste", "deleteSheet"]


def test_the_state_read_sees_a_filter_on_a_tab_whose_id_is_zero(
        fake_google: FakeGoogle, google_account: GoogleAccount,
        google_connection: GoogleConnection) -> None:
    """Google leaves ``sheetId: 0`` out of ranges, so the writer must not rely on it."""
    key = fake_google.add_spreadsheet("T", share_with=google_account.email, role="Editor")
    http = google_connection.http
    http.batch_update(key, {"requests": [{"setBasicFilter": {"filter": {"range": {
        "sheetId": 0, "startRowIndex": 0, "endRowIndex": 5}}}}]})
    answer = http.fetch_sheet_metadata(key, params={"includeGridData": "true",
                                                    "fields": STATE_FIELDS})
    assert "basicFilter" in answer["sheets"][0]
    assert "sheetId" not in answer["sheets"][0]["basicFilter"]["range"]


# ------------------------------------------------------------------------- scoping


def test_a_long_dated_table_keeps_its_latest_whole_weeks_and_says_so() -> None:
    table = big_model(rows=1000)[1].tables[0]
    scoped, cut = scope_table(table, 450)
    assert cut is not None
    kept_rows, weeks, since = cut
    assert weeks == 4 and kept_rows == len(scoped.rows) == 400  # 100 rows a week
    assert since == date(2026, 9, 7) + timedelta(weeks=6)
    assert {row[1] for row in scoped.rows} == {since + timedelta(weeks=k) for k in range(4)}
    assert scoped.title == ("Minutes by week: the latest 4 weeks (from 2026-10-19), 400 of "
                            "1,000 rows. Every week is in the Excel dashboard (sheetsync run "
                            "--output dashboard.xlsx).")
    assert scope_table(table, 1000) == (table, None)  # short enough: untouched


def test_scoping_never_cuts_a_charted_or_undated_table() -> None:
    model = big_model(rows=1000)
    undated = Table(columns=["Coach", "Minutes"], rows=[["x", i] for i in range(900)],
                    title="Totals")
    model.append(Sheet("Other", tables=[undated]))
    scoped, cuts = scope_sheets(model, 100)
    assert [(c.tab, c.kept_rows) for c in cuts] == [("Coach Time", 100)]
    assert scoped[0] is model[0] and scoped[3] is model[3]
    assert json.dumps(scoped[1].tables[1].rows) == json.dumps(model[1].tables[1].rows)


def test_a_bodys_size_is_counted_from_its_requests_exactly():
    # the planner adds up request sizes instead of encoding whole bodies again; any slip
    # here would let a body past the request limit
    rng = random.Random(11)
    for n in range(0, 40):
        requests = [{"updateCells": {"start": {"sheetId": rng.randrange(10**9)},
                                     "rows": [{"values": [{"userEnteredValue": {
                                         "stringValue": "é" * rng.randrange(30)}}]}
                                              for _ in range(rng.randrange(4))],
                                     "fields": "userEnteredValue"}}
                    if rng.random() < 0.7 else {"deleteSheet": {"sheetId": rng.randrange(99)}}
                    for _ in range(n)]
        assert body_size([staging_size(r) for r in requests]) == \
            len(encode({"requests": requests}))


def test_what_is_sent_is_exactly_the_planned_bodies_encoded():
    # the sender encodes each row once and puts the bytes together for every body it sends (a
    # tab's data, the same data aimed at a staging tab, a piece of it): the bytes must be
    # those of the planned bodies, encoded whole
    rng = random.Random(5)
    requests = []
    for sheet_id in (3, 4, 9):
        requests.append({"updateCells": {
            "start": {"sheetId": sheet_id, "rowIndex": 2, "columnIndex": 0},
            "rows": [{"values": [{"userEnteredValue": {"stringValue": "é\"\\" * rng.randrange(40)}},
                                 {"userEnteredValue": {"numberValue": rng.random()}}]}
                     for _ in range(rng.randrange(50, 300))],
            "fields": "userEnteredValue,userEnteredFormat"}})
        requests.append({"updateCells": {
            "range": {"sheetId": sheet_id, "startRowIndex": 0, "endRowIndex": 1},
            "rows": [{"values": [{"userEnteredValue": {"stringValue": "Title"}}]}],
            "fields": "userEnteredValue"}})
        requests.append({"repeatCell": {"range": {"sheetId": sheet_id}, "cell": {},
                                        "fields": "userEnteredFormat"}})
    existing = [ExistingTab(s, f"Tab {s}", 400, 3) for s in (3, 4, 9)]
    bodies, final, staging = plan(requests, existing, 6_000)
    assert len(staging) >= 2 and len(bodies) > 3
    sent: list[bytes] = []
    send(requests, existing, lambda data: sent.append(data) or {}, limit=6_000)
    assert sent == [encode({"requests": body}) for body in [*bodies, final]]
    assert all(len(data) <= 6_000 for data in sent)
    assert [json.loads(data) for data in sent] == [{"requests": b} for b in [*bodies, final]]

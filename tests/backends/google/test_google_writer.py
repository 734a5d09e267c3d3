"""Writing managed tabs to Google Sheets with the real gspread stack against the fake API."""
# ruff: noqa: F811

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from sheetsync.backends.google.reader import FLAGS_TAB, GoogleReader
from sheetsync.backends.google.transport import GoogleConnection
from sheetsync.backends.google.writer import GoogleWriter, pixels
from sheetsync.errors import TargetWriteError
from sheetsync.findings import Finding, Severity
from sheetsync.report.flags import SOURCE_FLAGS_HEADER, source_flag_rows, source_flags_sheet
from sheetsync.report.model import MANIFEST_TAB, STATUS_COLOURS, Chart, Formula, Sheet, Table
from sheetsync.testing import FakeGoogle
from sheetsync.testing.pytest_plugin import GoogleAccount

INJECTION_ATTEMPTS = ["=IMPORTXML(\"http://x\")", "+1+1", "-2", "@SUM(A1)", "=1+1"]


def dashboard_model(rows: list[list] | None = None, log_rows: list[list] | None = None
                    ) -> list[Sheet]:
    teams = Table(
        columns=["Team", "Week", "Value", "Status"],
        rows=rows if rows is not None else [
            ["Grade 3 literacy", date(2026, 9, 8), 0.72, "On track"],
            ["Attendance", date(2026, 9, 8), 0.68, "At risk"],
        ],
        title="Teams", number_formats={"Value": "0%"}, status_columns=["Status"],
        data_bar_columns=["Value"], column_widths={"Team": 30})
    trend = Chart("line", "Progress", teams, "Week", ["Value"], "G3", y_title="Share")
    log = Table(columns=["Run at", "Result"], rows=log_rows if log_rows is not None
                else [["2026-09-08 02:00", "ok"]])
    return [
        Sheet("Dashboard", tables=[teams], charts=[trend], freeze_rows=2, auto_filter=True),
        Sheet("Run Log", tables=[log], append_only=True),
    ]


@pytest.fixture
def writer(google_connection: GoogleConnection) -> GoogleWriter:
    return GoogleWriter(connection=google_connection,
                        now=lambda: datetime(2026, 9, 8, 2, 0, tzinfo=UTC))


@pytest.fixture
def target(fake_google: FakeGoogle, google_account: GoogleAccount) -> str:
    return fake_google.add_spreadsheet("Leaders' dashboard", {"My notes": [["keep me", 42]]},
                                       share_with=google_account.email, role="Editor")


def test_a_write_is_one_read_and_one_batch_update(fake_google: FakeGoogle, writer: GoogleWriter,
                                                  target: str) -> None:
    summary = writer.write(fake_google.spreadsheet_url(target), dashboard_model())

    assert len(fake_google.calls("spreadsheets.get")) == 1
    assert len(fake_google.calls("spreadsheets.batchUpdate")) == 1
    assert fake_google.calls("values") == []
    assert summary.added_tabs == (MANIFEST_TAB, "Dashboard", "Run Log")
    assert summary.managed_tabs == ("Dashboard", "Run Log")
    assert fake_google.tab_titles(target) == ["My notes", MANIFEST_TAB, "Dashboard", "Run Log"]
    assert fake_google.spreadsheet_values(target, "My notes") == [["keep me", 42]]
    assert fake_google.spreadsheet_values(target, "Dashboard", "FORMATTED_VALUE") == [
        ["Teams"], ["Team", "Week", "Value", "Status"],
        ["Grade 3 literacy", "2026-09-08", "72%", "On track"],
        ["Attendance", "2026-09-08", "68%", "At risk"]]


def test_the_manifest_is_hidden_and_lists_the_managed_tabs(fake_google: FakeGoogle,
                                                           writer: GoogleWriter,
                                                           target: str) -> None:
    writer.write(target, dashboard_model())
    sheets = {s["properties"]["title"]: s for s in
              fake_google.spreadsheet_json(target, include_grid_data=False)["sheets"]}
    assert sheets[MANIFEST_TAB]["properties"].get("hidden") is True
    values = fake_google.spreadsheet_values(target, MANIFEST_TAB)
    assert values[:4] == [["key", "value", "", values[0][3]], ["format", 1],
                          ["sheetsync_version", values[2][1]],
                          ["last_written", "2026-09-08T02:00:00Z"]]
    assert values[4:] == [["managed_tab", "Dashboard"], ["managed_tab", "Run Log"]]


def test_formats_filters_conditional_fills_and_charts(fake_google: FakeGoogle,
                                                      writer: GoogleWriter, target: str) -> None:
    writer.write(target, dashboard_model())
    sheet = next(s for s in fake_google.spreadsheet_json(target, False)["sheets"]
                 if s["properties"]["title"] == "Dashboard")
    assert sheet["properties"]["gridProperties"]["frozenRowCount"] == 2
    fills = {r["booleanRule"]["condition"]["values"][0]["userEnteredValue"]
             for r in sheet["conditionalFormats"] if "booleanRule" in r}
    assert fills == set(STATUS_COLOURS)
    assert any("gradientRule" in r for r in sheet["conditionalFormats"])
    assert sheet["basicFilter"]["range"]["startRowIndex"] == 1
    (chart,) = sheet["charts"]
    assert chart["spec"]["basicChart"]["chartType"] == "LINE"
    assert chart["position"]["overlayPosition"]["anchorCell"]["columnIndex"] == 6
    cell = fake_google.cell(target, "Dashboard", "C3")
    assert cell["userEnteredFormat"]["numberFormat"] == {"type": "PERCENT", "pattern": "0%"}


def test_text_that_looks_like_a_formula_stays_text(fake_google: FakeGoogle,
                                                   writer: GoogleWriter, target: str) -> None:
    rows = [[text, date(2026, 9, 8), 0.5, "Met"] for text in INJECTION_ATTEMPTS]
    rows.append([Formula("=SPARKLINE({1,2,3})"), None, None, None])
    writer.write(target, dashboard_model(rows))

    for row, text in enumerate(INJECTION_ATTEMPTS, start=3):
        cell = fake_google.cell(target, "Dashboard", f"A{row}")
        assert cell["userEnteredValue"] == {"stringValue": text}
        assert cell["effectiveValue"] == {"stringValue": text}
    sparkline = fake_google.cell(target, "Dashboard", f"A{3 + len(INJECTION_ATTEMPTS)}")
    assert sparkline["userEnteredValue"] == {"formulaValue": "=SPARKLINE({1,2,3})"}


def test_a_users_tab_with_a_managed_name_is_never_overwritten(
        fake_google: FakeGoogle, google_account: GoogleAccount, writer: GoogleWriter) -> None:
    target = fake_google.add_spreadsheet("Dash", {"Dashboard": [["my own work"]]},
                                         share_with=google_account.email, role="Editor")
    with pytest.raises(TargetWriteError) as caught:
        writer.write(target, dashboard_model())

    assert "already has a tab named 'Dashboard' that sheetsync did not create" in \
        caught.value.message
    assert fake_google.calls("spreadsheets.batchUpdate") == []
    assert fake_google.tab_titles(target) == ["Dashboard"]
    assert fake_google.spreadsheet_values(target, "Dashboard") == [["my own work"]]


def test_a_users_tab_named_like_the_manifest_is_refused(
        fake_google: FakeGoogle, google_account: GoogleAccount, writer: GoogleWriter) -> None:
    target = fake_google.add_spreadsheet("Dash", {MANIFEST_TAB: [["scratch"]]},
                                         share_with=google_account.email, role="Editor")
    with pytest.raises(TargetWriteError, match="did not create"):
        writer.write(target, dashboard_model())
    assert fake_google.calls("spreadsheets.batchUpdate") == []


def test_rewriting_replaces_content_without_piling_up_formats(
        fake_google: FakeGoogle, writer: GoogleWriter, target: str) -> None:
    writer.write(target, dashboard_model())
    first = next(s for s in fake_google.spreadsheet_json(target, False)["sheets"]
                 if s["properties"]["title"] == "Dashboard")

    writer.write(target, dashboard_model([["Only team", date(2026, 9, 15), 0.9, "Met"]],
                                         log_rows=[["2026-09-15 02:00", "ok"]]))

    second = next(s for s in fake_google.spreadsheet_json(target, False)["sheets"]
                  if s["properties"]["title"] == "Dashboard")
    assert second["properties"]["sheetId"] == first["properties"]["sheetId"]
    assert len(second["conditionalFormats"]) == len(first["conditionalFormats"])
    assert len(second["charts"]) == 1
    assert fake_google.spreadsheet_values(target, "Dashboard")[2:] == [
        ["Only team", 46280, 0.9, "Met"]]
    assert fake_google.spreadsheet_values(target, "Run Log") == [
        ["Run at", "Result"], ["2026-09-08 02:00", "ok"], ["2026-09-15 02:00", "ok"]]
    assert fake_google.spreadsheet_values(target, "My notes") == [["keep me", 42]]
    assert len(fake_google.calls("spreadsheets.batchUpdate")) == 2


def test_an_append_only_tab_whose_columns_changed_keeps_its_rows(
        fake_google: FakeGoogle, writer: GoogleWriter, target: str) -> None:
    writer.write(target, dashboard_model(log_rows=[["2026-09-08 02:00", "ok"]]))
    new_log = Table(columns=["Run at", "Sources", "Result"],
                    rows=[["2026-09-15 02:00", 12, "ok"]])
    writer.write(target, [Sheet("Run Log", tables=[new_log], append_only=True)])

    assert fake_google.spreadsheet_values(target, "Run Log") == [
        ["Run at", "Sources", "Result"], ["2026-09-08 02:00", "", "ok"],
        ["2026-09-15 02:00", 12, "ok"]]
    assert "Dashboard" in fake_google.spreadsheet_values(target, MANIFEST_TAB)[4]


def test_a_failed_batch_update_changes_nothing(fake_google: FakeGoogle, writer: GoogleWriter,
                                               target: str) -> None:
    fake_google.inject_faults("spreadsheets.batchUpdate", status=500, times=None)
    with pytest.raises(TargetWriteError) as caught:
        writer.write(target, dashboard_model())
    assert caught.value.transient is True
    assert fake_google.tab_titles(target) == ["My notes"]


def test_a_lost_answer_is_resolved_by_rereading_not_by_appending_twice(
        fake_google: FakeGoogle, writer: GoogleWriter, target: str) -> None:
    writer.write(target, dashboard_model())
    # The next write lands, but its answer is lost on the way back.
    fake_google.inject_faults("spreadsheets.batchUpdate", status=None, drop=True, applied=True)

    writer.write(target, dashboard_model(log_rows=[["2026-09-15 02:00", "ok"]]))

    assert fake_google.spreadsheet_values(target, "Run Log") == [
        ["Run at", "Result"], ["2026-09-08 02:00", "ok"], ["2026-09-15 02:00", "ok"]]
    assert len(fake_google.calls("spreadsheets.get")) == 3  # first write, then read + re-read


def test_a_viewer_only_dashboard_asks_for_editor_access(
        fake_google: FakeGoogle, google_account: GoogleAccount, writer: GoogleWriter) -> None:
    target = fake_google.add_spreadsheet("Dash", share_with=google_account.email, role="Viewer")
    with pytest.raises(TargetWriteError) as caught:
        writer.write(target, dashboard_model())
    assert caught.value.message.startswith(f"Share {target} with {google_account.email} (Viewer "
                                           "for sources, Editor for the dashboard")
    assert caught.value.transient is False


def test_a_missing_dashboard_says_check_the_url(writer: GoogleWriter) -> None:
    with pytest.raises(TargetWriteError, match="not found: check the URL/key"):
        writer.write("1NoSuchSpreadsheet000000000000000000000000", dashboard_model())


def coach_flags() -> Sheet:
    finding = Finding("bad-number", Severity.ERROR, 'Minutes: "=2+2" is not a number.',
                      "Type minutes as 45", source="coach", tab="Time Log", cell="B7",
                      value="=2+2")
    return source_flags_sheet(source_flag_rows([finding]), date(2026, 11, 4))


def test_flags_write_back_adds_a_managed_tab_the_reader_skips(
        fake_google: FakeGoogle, google_account: GoogleAccount, writer: GoogleWriter) -> None:
    source = fake_google.add_spreadsheet("Coach log", {"Time Log": [["Date", "Mins"]]},
                                         share_with=google_account.email, role="Editor")

    writer.write_flags_tab(source, coach_flags())

    assert len(fake_google.calls("spreadsheets.batchUpdate")) == 1
    values = fake_google.spreadsheet_values(source, FLAGS_TAB)
    assert values[0] == ["Flags from sheetsync"]
    assert "Checked on 2026-11-04" in values[2][0]
    assert values[3] == SOURCE_FLAGS_HEADER
    assert values[4] == ["Must fix", "Not a number", "Time Log", "B7", "=2+2",
                         'Minutes: "=2+2" is not a number.', "Type minutes as 45"]
    assert fake_google.spreadsheet_values(source, "Time Log") == [["Date", "Mins"]]
    assert list(GoogleReader(connection=writer.connection).read(source).tabs) == ["Time Log"]


def test_flags_write_back_leaves_no_other_tab_and_links_each_cell(
        fake_google: FakeGoogle, google_account: GoogleAccount, writer: GoogleWriter) -> None:
    source = fake_google.add_spreadsheet("Coach log", {"Time Log": [["Date", "Mins"]]},
                                         share_with=google_account.email, role="Editor")
    writer.write_flags_tab(source, coach_flags())
    writer.write_flags_tab(source, coach_flags())  # a second write finds its own tab again

    assert fake_google.tab_titles(source) == ["Time Log", FLAGS_TAB]  # no hidden manifest
    sheets = {s["properties"]["title"]: s for s in fake_google.spreadsheet_json(source)["sheets"]}
    marks = sheets[FLAGS_TAB]["developerMetadata"]
    assert [(m["metadataKey"], m["metadataValue"]) for m in marks] == [("sheetsync", "managed")]
    link = fake_google.cell(source, FLAGS_TAB, "D5")
    gid = sheets["Time Log"]["properties"]["sheetId"]
    assert link["userEnteredValue"] == {"stringValue": "B7"}
    assert link["userEnteredFormat"]["textFormat"]["link"] == {"uri": f"#gid={gid}&range=B7"}
    severity = sheets[FLAGS_TAB]["conditionalFormats"]
    assert {r["booleanRule"]["condition"]["values"][0]["userEnteredValue"] for r in severity} \
        >= {"Must fix", "Please check", "Good to know"}


def test_flags_write_back_sizes_every_column_from_the_header_it_writes(
        fake_google: FakeGoogle, google_account: GoogleAccount, writer: GoogleWriter) -> None:
    source = fake_google.add_spreadsheet("Coach log", {"Time Log": [["Date", "Mins"]]},
                                         share_with=google_account.email, role="Editor")
    sheet = coach_flags()
    writer.write_flags_tab(source, sheet)

    tab = next(s for s in fake_google.spreadsheet_json(source)["sheets"]
               if s["properties"]["title"] == FLAGS_TAB)
    widths = [c["pixelSize"] for c in tab["data"][0]["columnMetadata"][:7]]
    wanted = sheet.tables[0].column_widths
    assert widths == [pixels(wanted[name]) for name in SOURCE_FLAGS_HEADER]
    assert widths[SOURCE_FLAGS_HEADER.index("What is wrong")] > 400  # not 100 px


def test_flags_write_back_refuses_a_tab_the_coach_made_and_removes_an_old_manifest(
        fake_google: FakeGoogle, google_account: GoogleAccount, writer: GoogleWriter) -> None:
    own = fake_google.add_spreadsheet("Coach log", {FLAGS_TAB: [["my list"]]},
                                      share_with=google_account.email, role="Editor")
    with pytest.raises(TargetWriteError, match="did not create"):
        writer.write_flags_tab(own, coach_flags())
    assert fake_google.spreadsheet_values(own, FLAGS_TAB) == [["my list"]]

    # a tab an earlier version wrote, listed in a hidden manifest of its own: taken over,
    # and the manifest, no longer needed, is removed
    older = fake_google.add_spreadsheet("Coach log 2", {
        "Time Log": [["Date"]], FLAGS_TAB: [["Severity"]],
        MANIFEST_TAB: [["key", "value"], ["format", 1], ["managed_tab", FLAGS_TAB]]},
        share_with=google_account.email, role="Editor")
    manifest_id = fake_google.spreadsheet_json(older)["sheets"][2]["properties"]["sheetId"]
    writer.connection.http.batch_update(older, {"requests": [
        {"updateSheetProperties": {"properties": {"sheetId": manifest_id, "hidden": True},
                                   "fields": "hidden"}}]})
    writer.write_flags_tab(older, coach_flags())
    assert fake_google.tab_titles(older) == ["Time Log", FLAGS_TAB]

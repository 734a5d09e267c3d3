"""The example program in Google mode, against the fake Google API, compared with Excel mode.

The real gspread and google-auth stack talks HTTP to :class:`sheetsync.testing.FakeGoogle`; the
only seam is the API base URL in the config.
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path

import openpyxl
import pytest

from sheetsync.config import load_config
from sheetsync.pipeline import run
from sheetsync.report.dashboard import TAB_ORDER
from sheetsync.testing import FakeGoogle
from tests import REPO

EXAMPLES = REPO / "sheet_templates" / "examples"
AS_OF = date(2026, 11, 4)


@pytest.fixture
def google(tmp_path):
    with FakeGoogle(seed=3) as fake:
        fake.set_quota(per_user=10_000, per_project=10_000)
        key = tmp_path / "key.json"
        email = fake.make_service_account_key(key)
        ids = {}
        for kind in ("teams", "coaches"):
            for path in sorted((EXAMPLES / kind).glob("*.xlsx")):
                ids[path.stem] = fake.add_spreadsheet_from_xlsx(path, share_with=email)
        dash = fake.add_spreadsheet("Leaders dashboard", share_with=email, role="writer")
        lines = ['[program]', 'name = "Riverside District Breakthrough Results, Fall 2026"',
                 'timezone = "America/New_York"', 'as_of = "2026-11-04"', "",
                 "[google]", f'credentials = "{key}"', f'api_base = "{fake.base_url}"',
                 "max_wait_seconds = 5", "quota_per_minute = 6000", "",
                 "[output]", f'google = "{dash}"',
                 f'state_dir = "{tmp_path / "state"}"', ""]
        for name, sid in ids.items():
            kind = "team" if (EXAMPLES / "teams" / f"{name}.xlsx").exists() else "coach"
            lines += ["[[sources]]", f'kind = "{kind}"', f'google = "{sid}"', f'name = "{name}"',
                      ""]
        cfg = tmp_path / "google.toml"
        cfg.write_text("\n".join(lines))
        yield fake, load_config(cfg), ids, dash, email


def excel_dashboard(tmp_path: Path) -> list[list]:
    config = load_config(REPO / "config" / "example.toml")
    config = replace(config, output=replace(config.output, path=tmp_path / "x.xlsx",
                                            state_dir=tmp_path / "xstate"))
    run(config, as_of=AS_OF)
    ws = openpyxl.load_workbook(tmp_path / "x.xlsx")["Dashboard"]
    return [list(r) for r in ws.iter_rows(values_only=True)]


def table(rows: list[list], first_header: str, last_header: str) -> list[list]:
    """The rows of the table whose header row starts and ends with the given names."""
    for i, row in enumerate(rows):
        cells = [c for c in row if c not in (None, "")]
        if cells and cells[0] == first_header and last_header in cells:
            out = []
            for r in rows[i + 1:]:
                if not r or all(c in (None, "") for c in r):
                    break
                out.append([c for c in r])
            return out
    raise AssertionError(f"no table {first_header}..{last_header}")


def same(a, b) -> bool:
    if a in (None, "") and b in (None, ""):
        return True
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return a == b


def assert_same_table(x: list[list], g: list[list]) -> None:
    assert len(x) == len(g)
    for rx, rg in zip(x, g, strict=True):
        width = max(len(rx), len(rg))
        rx = rx + [None] * (width - len(rx))
        rg = rg + [None] * (width - len(rg))
        assert all(same(a, b) for a, b in zip(rx, rg, strict=True)), (rx, rg)


def without(rows: list[list], column: int) -> list[list]:
    return [r[:column] + r[column + 1:] for r in rows]


def test_both_modes_give_the_same_dashboard_figures(google, tmp_path):
    fake, config, ids, dash, _ = google
    outcome = run(config, as_of=AS_OF)
    assert [s.state for s in outcome.data.sources] == ["ok"] * 10
    g_rows = fake.spreadsheet_values(dash, "Dashboard")
    x_rows = excel_dashboard(tmp_path)
    progress = 6  # a sparkline in Sheets, a bar of the gap closed in Excel
    assert_same_table(without(table(x_rows, "Status", "Reason and suggestion"), progress),
                      without(table(g_rows, "Status", "Reason and suggestion"), progress))
    assert_same_table(table(x_rows, "Status", "Note"), table(g_rows, "Status", "Note"))
    # the Dashboard is the first tab (a blank spreadsheet's empty Sheet1 is gone), and the
    # tabs come in the leaders' order
    titles = fake.tab_titles(dash)
    assert titles[0] == "Dashboard"
    assert [t for t in titles if t != "_sheetsync"] == list(TAB_ORDER)


def test_call_budgets_full_run_then_nothing_changed(google):
    fake, config, ids, dash, _ = google
    fake.reset_calls()
    run(config, as_of=AS_OF)
    counts = fake.call_counts()
    # one spreadsheets.get per source, plus one read of the dashboard's tabs
    assert sum(v for k, v in counts.items() if k.startswith("spreadsheets.get")) == len(ids) + 1
    assert sum(v for k, v in counts.items() if "batchUpdate" in k) == 1
    fake.reset_calls()
    outcome = run(config, as_of=AS_OF)
    api = {k: v for k, v in fake.call_counts().items() if not k.startswith("oauth")}
    assert sum(api.values()) <= 3, api  # one Drive listing, one read and one write of the target
    assert all(s.state == "ok" for s in outcome.data.sources)
    # a changed source is re-read, and only that one
    fake.touch(ids["marcus-bell"], datetime.now().astimezone() + timedelta(minutes=5))
    fake.reset_calls()
    run(config, as_of=AS_OF)
    api = {k: v for k, v in fake.call_counts().items() if not k.startswith("oauth")}
    assert sum(v for k, v in api.items() if k.startswith("spreadsheets.get")) == 2


def test_a_source_losing_its_sharing_is_stale_not_dropped(google):
    fake, config, ids, dash, email = google
    run(config, as_of=AS_OF)
    fake.unshare(ids["priya-natarajan"], email)
    fake.touch(ids["priya-natarajan"], datetime.now().astimezone() + timedelta(minutes=5))
    outcome = run(config, as_of=AS_OF)
    states = {s.name: s.state for s in outcome.data.sources}
    assert states["priya-natarajan"] == "stale"
    messages = [f.message for f in outcome.data.findings if f.source == "priya-natarajan"]
    assert any("Share" in m and email in m for m in messages), messages
    rows = table(fake.spreadsheet_values(dash, "Dashboard"), "Status", "Note")
    priya = next(r for r in rows if r[1] == "Priya Natarajan")
    assert priya[0] == "Stale data" and "could not read the file" in priya[-1]


def test_quota_storm_and_server_errors_still_complete(google):
    fake, config, ids, dash, _ = google
    fake.set_quota(per_user=8, per_project=1000, window=1.0)
    fake.inject_faults("spreadsheets.get", status=500, times=3)
    config = replace(config, google=replace(config.google, max_attempts=8, max_wait=30))
    outcome = run(config, as_of=AS_OF)
    assert all(s.state == "ok" for s in outcome.data.sources), [
        (s.name, s.message) for s in outcome.data.sources]
    statuses = {c.status for c in fake.calls()}
    assert 500 in statuses


def test_doctor_checks_sharing_and_prints_the_account(google, capsys):
    from sheetsync.doctor import run_doctor

    fake, config, ids, dash, email = google
    assert run_doctor(config) == 0
    out = capsys.readouterr().out
    assert email in out and "dashboard spreadsheet: writable" in out
    fake.unshare(ids["marcus-bell"], email)
    fake.share(dash, email, role="reader")
    assert run_doctor(config) == 1
    out = capsys.readouterr().out
    assert "Share" in out and "read-only: share it with" in out


def test_flags_written_back_to_an_opted_in_google_source_once(google):
    fake, config, ids, dash, email = google
    sid = ids["cedar-grove-grade3-literacy"]
    fake.share(sid, email, role="writer")
    config = replace(config, sources=tuple(
        replace(s, write_back=True) if s.location == sid else s for s in config.sources))
    before = fake.tab_titles(sid)
    run(config, as_of=AS_OF)
    assert fake.tab_titles(sid) == [*before, "Sheetsync Flags"]  # and no hidden tab beside it
    flags = fake.spreadsheet_values(sid, "Sheetsync Flags")
    assert any("Not a date" in row and "B5" in row for row in flags)
    fake.reset_calls()
    run(config, as_of=AS_OF)
    writes = [c for c in fake.calls("spreadsheets.batchUpdate") if c.spreadsheet_id == sid]
    assert writes == []  # unchanged flags are not written again


def test_a_drive_folder_of_mixed_workbooks_with_kinds_inferred(tmp_path):
    with FakeGoogle(seed=5) as fake:
        key = tmp_path / "key.json"
        email = fake.make_service_account_key(key)
        folder = fake.add_folder("Fall 2026 trackers", share_with=email)
        for path in [EXAMPLES / "teams" / "riverside-grade6-math.xlsx",
                     EXAMPLES / "coaches" / "marcus-bell.xlsx"]:
            fake.add_spreadsheet_from_xlsx(path, folder=folder, share_with=email)
        cfg = tmp_path / "folder.toml"
        cfg.write_text(
            '[program]\nas_of = "2026-11-04"\n\n'
            f'[google]\ncredentials = "{key}"\napi_base = "{fake.base_url}"\n'
            'quota_per_minute = 6000\n\n'
            f'[[sources]]\nkind = "auto"\nfolder = "https://drive.google.com/drive/folders/{folder}"\n\n'
            f'[output]\npath = "{tmp_path / "dash.xlsx"}"\n')
        outcome = run(load_config(cfg), as_of=AS_OF)
        kinds = sorted((s.name, s.kind, s.state) for s in outcome.data.sources)
        assert kinds == [("marcus-bell", "coach", "ok"), ("riverside-grade6-math", "team", "ok")]
        assert (tmp_path / "dash.xlsx").exists()  # a Google source, an Excel target


def test_a_world_readable_key_file_is_warned_about(google):
    fake, config, ids, dash, email = google
    config.google.credentials_path.chmod(0o644)
    outcome = run(config, as_of=AS_OF)
    warned = [f for f in outcome.data.findings if f.code == "key-file-permissions"]
    assert warned and "chmod 600" in warned[0].message
    key_text = config.google.credentials_path.read_text()
    private = key_text.split('"private_key": "')[1][:60]
    flags = fake.spreadsheet_values(dash, "Flags")
    assert not any(private in str(cell) for row in flags for cell in row)

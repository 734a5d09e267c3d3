"""Excel files kept in a Drive folder, beside Google Sheets: listed together, a changed file
downloaded once and read by the Excel reader, an unchanged one served from the cache, and
write-back refused with a finding."""

from __future__ import annotations

from pathlib import Path

import pytest

from sheetsync.config import load_config
from sheetsync.pipeline import run
from sheetsync.testing import FakeGoogle
from tests import REPO

EXAMPLES = REPO / "sheet_templates" / "examples"


@pytest.fixture
def folder_program(tmp_path: Path):
    """The example coach workbooks in one Drive folder: two as .xlsx files, the rest as
    Google Sheets; an .ods beside them."""
    with FakeGoogle(seed=5) as fake:
        fake.set_quota(per_user=10_000, per_project=10_000)
        key = tmp_path / "key.json"
        email = fake.make_service_account_key(key)
        folder = fake.add_folder("Coach workbooks", share_with=email, role="writer")
        files = sorted((EXAMPLES / "coaches").glob("*.xlsx"))
        kept: dict[str, str] = {}
        for index, path in enumerate(files):
            if index < 2:
                kept[path.name] = fake.add_file(path.name, path.read_bytes(), folder=folder)
            else:
                fake.add_spreadsheet_from_xlsx(path, folder=folder)
        dash = fake.add_spreadsheet("Leaders dashboard", share_with=email, role="writer")
        configs = []
        for write_back in ("false", "true"):
            config = tmp_path / f"drive-{write_back}.toml"
            config.write_text("\n".join([
                "[program]", 'as_of = "2026-11-04"', "", "[google]", f'credentials = "{key}"',
                f'api_base = "{fake.base_url}"', "quota_per_minute = 6000", "", "[output]",
                f'google = "{dash}"', f'state_dir = "{tmp_path / write_back}"', "",
                "[[sources]]", 'kind = "coach"', f'folder = "{folder}"',
                f"write_back = {write_back}", ""]))
            configs.append(load_config(config))
        yield fake, configs, kept, len(files)


def test_one_listing_then_one_call_per_changed_file_then_none(folder_program) -> None:
    fake, (config, _with_write_back), kept, count = folder_program
    fake.reset_calls()
    first = run(config)
    calls = fake.call_counts()
    assert first.sources_failed == 0
    assert {s.name for s in first.data.sources} >= set(kept)
    assert calls["drive.files.download"] == len(kept) == 2
    assert calls["spreadsheets.get"] == count - len(kept) + 1  # + the dashboard's state
    assert calls["drive.files.list"] == 1
    reads_first = calls["drive.files.download"] + calls["spreadsheets.get"] - 1

    fake.reset_calls()
    run(config)
    again = fake.call_counts()
    assert again.get("drive.files.download", 0) == 0  # unchanged: known by the listing
    assert again["spreadsheets.get"] == 1  # only the dashboard's own state
    assert reads_first == count

    name, file_id = next(iter(kept.items()))
    fake.replace_file_content(file_id, (EXAMPLES / "coaches" / name).read_bytes() + b"")
    fake.reset_calls()
    run(config)
    assert fake.call_counts().get("drive.files.download", 0) == 0  # same bytes: no download

    other = sorted((EXAMPLES / "coaches").glob("*.xlsx"))[-1].read_bytes()
    fake.replace_file_content(file_id, other)
    fake.reset_calls()
    changed = run(config)
    assert fake.call_counts()["drive.files.download"] == 1
    assert changed.sources_failed == 0


def test_the_excel_file_is_read_like_a_file_on_disk(folder_program, tmp_path: Path) -> None:
    fake, (config, _with_write_back), kept, _count = folder_program
    outcome = run(config)
    in_drive = {s.name: s for s in outcome.data.sources if s.name in kept}
    assert all(s.state == "ok" for s in in_drive.values())
    # The same findings the Excel backend gives for the same file on a disk.
    local = tmp_path / "local.toml"
    name = next(iter(kept))
    local.write_text("\n".join([
        "[program]", 'as_of = "2026-11-04"', "", "[output]",
        f'path = "{tmp_path / "local.xlsx"}"', "", "[[sources]]", 'kind = "coach"',
        f'path = "{EXAMPLES / "coaches" / name}"', f'name = "{name}"', ""]))
    on_disk = run(load_config(local))

    def codes(findings, source: str) -> list[tuple[str, str, str]]:
        return sorted((f.code, f.tab, f.cell) for f in findings
                      if f.source == source and f.code not in ("writeback-unsupported",))

    assert codes(outcome.data.findings, name) == codes(on_disk.data.findings, name)


def test_write_back_into_an_excel_file_in_drive_is_refused_with_a_finding(
        folder_program) -> None:
    fake, (_plain, config), kept, _count = folder_program
    outcome = run(config)
    refused = [f for f in outcome.data.findings if f.code == "writeback-unsupported"]
    assert {f.source for f in refused} == set(kept)
    assert all("Convert it to Google Sheets to get flags inside it" in f.hint for f in refused)
    for file_id in kept.values():
        assert fake.file_content(file_id)  # untouched

"""A coach's own ``My Summary``, beside ``Sheetsync Flags`` in the coach's own workbook: what
it holds, the write-back's guarantees (other parts unchanged, refused while the file is open,
the user's own tab of that name refused) in Excel and Google, and that none of its names
reaches a leader tab."""

from __future__ import annotations

import html
import re
import shutil
import zipfile
from dataclasses import replace
from datetime import date
from pathlib import Path

import openpyxl
import pytest

from sheetsync import load_config, run
from sheetsync.config import ConfigError
from sheetsync.testing import FakeGoogle

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "sheet_templates" / "examples"
AS_OF = date(2026, 11, 4)
SUMMARY = "My Summary"
RENATA = "renata-okafor.xlsx"


def program(tmp: Path) -> Path:
    """The example, its coach workbooks opted in to flags and My Summary."""
    src = tmp / "src"
    shutil.copytree(EXAMPLES, src)
    text = (REPO / "config" / "example.toml").read_text(encoding="utf-8")
    text = text.replace("../sheet_templates/examples/", f"{src}/")
    text = text.replace("../out/dashboard.xlsx", str(tmp / "dashboard.xlsx"))
    text = text.replace('kind = "coach"\n',
                        'kind = "coach"\nwrite_back = true\nmy_summary = true\n')
    path = tmp / "c.toml"
    path.write_text(text, encoding="utf-8")
    return path


def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("summary")
    config = program(tmp)
    before = parts(tmp / "src" / "coaches" / RENATA)
    run(load_config(config), as_of=AS_OF, take_lock=False, use_cache=False)
    return tmp, before


def summary_rows(path: Path) -> list[list]:
    ws = openpyxl.load_workbook(path)[SUMMARY]
    return [[v for v in row] for row in ws.iter_rows(values_only=True)]


def block(rows: list[list], title: str) -> list[list]:
    """The data rows of one table of the summary, below its header."""
    start = next(i for i, r in enumerate(rows) if r and r[0] == title)
    header = next(i for i in range(start + 1, len(rows))
                  if rows[i] and rows[i][0] and rows[i][1] is not None)
    out = []
    for r in rows[header + 1:]:
        if not r or all(v is None for v in r):
            break
        out.append(r)
    return out


def relationships(path: Path) -> list[dict]:
    ws = openpyxl.load_workbook(path)["Relationships"]
    rows = list(ws.iter_rows(values_only=True))
    top = next(i for i, r in enumerate(rows) if r[0] == "Teacher")
    return [dict(zip(rows[top], r, strict=False)) for r in rows[top + 1:] if r[0]]


def test_the_summary_sits_beside_the_flags_and_names_the_coachs_teachers(written):
    tmp, _ = written
    path = tmp / "src" / "coaches" / RENATA
    assert openpyxl.load_workbook(path).sheetnames[-2:] == ["Sheetsync Flags", SUMMARY]
    rows = summary_rows(path)
    people = relationships(path)
    # the matrix, by hand from the Relationships rows: delight 3, engagement 3
    top_right = sorted(p["Teacher"] for p in people if p["Delight"] == 3 and p["Engagement"] == 3)
    matrix = block(rows, "Your teachers on the delight x engagement matrix")
    assert [r[0] for r in matrix] == ["Delight 3 (high)", "Delight 2", "Delight 1 (low)"]
    assert matrix[0][3] == "; ".join(top_right) and top_right
    focus = [r[0] for r in block(rows, "Focus teachers this quarter")]
    assert focus == [p["Teacher"] for p in people if p["Focus Teacher"] == "Yes"]
    assert len(focus) == 3
    stale = {r[0] for r in block(rows, "Stale contacts (more than 21 days)")}
    assert stale == {p["Teacher"] for p in people
                     if (AS_OF - p["Last Contact"].date()).days > 21}
    weeks = block(rows, "Your coaching share, week by week")
    assert [r[1] for r in weeks] == list(range(1, 10))
    assert all(r[3] == "40%" and r[4] in ("at or above", "below") for r in weeks)
    steps = block(rows, "Open next steps")
    assert steps and all(" of " in r[3] for r in steps)


def test_a_coach_without_focus_teachers_is_told_how_to_choose_them(written):
    tmp, _ = written
    rows = summary_rows(tmp / "src" / "coaches" / "marcus-bell.xlsx")
    at = next(i for i, r in enumerate(rows) if r[0] == "Focus teachers this quarter")
    assert "None chosen yet" in rows[at + 1][0]


def test_every_other_part_of_the_workbook_is_unchanged(written):
    tmp, before = written
    after = parts(tmp / "src" / "coaches" / RENATA)
    changed = {n for n in after if before.get(n) != after[n]}
    new_sheets = {n for n in changed if n.startswith("xl/worksheets/") and n not in before}
    assert len(new_sheets) == 2  # the flags and the summary
    assert changed - new_sheets <= {"xl/workbook.xml", "xl/_rels/workbook.xml.rels",
                                    "[Content_Types].xml", "xl/styles.xml"}
    assert set(before) <= set(after)


def test_no_name_of_the_summaries_reaches_a_leader_tab(written):
    tmp, _ = written
    names = set()
    for path in (tmp / "src" / "coaches").glob("*.xlsx"):
        for row in summary_rows(path):
            for value in row:
                if isinstance(value, str):
                    names |= {n for n in value.split("; ") if re.match(r"^(Ms|Mr|Mrs|Dr|Mx)\.", n)}
    assert len(names) > 30
    with zipfile.ZipFile(tmp / "dashboard.xlsx") as z:
        text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", z.read(n).decode()))
                        for n in z.namelist() if n.endswith(".xml"))
    assert "Renata Okafor" in text  # the leader tabs were read
    assert sorted(n for n in names if n in text) == []


def test_refused_while_open_and_a_users_own_tab_is_left_alone(tmp_path):
    config = program(tmp_path)
    coaches = tmp_path / "src" / "coaches"
    lock = coaches / "~$renata-okafor.xlsx"
    lock.write_text("open in Excel")
    own = coaches / "marcus-bell.xlsx"
    wb = openpyxl.load_workbook(own)
    wb.create_sheet(SUMMARY)["A1"] = "my own notes"
    wb.save(own)
    renata_before = (coaches / RENATA).read_bytes()
    outcome = run(load_config(config), as_of=AS_OF, take_lock=False, use_cache=False)
    assert (coaches / RENATA).read_bytes() == renata_before
    failed = {(f.source, f.code): f.message for f in outcome.data.findings
              if f.code == "writeback-failed"}
    assert "open in a spreadsheet program" in failed[("renata-okafor", "writeback-failed")]
    assert "wrote no summary" in failed[("marcus-bell", "writeback-failed")]
    wb = openpyxl.load_workbook(own)
    assert wb[SUMMARY]["A1"].value == "my own notes"
    assert "Sheetsync Flags" in wb.sheetnames  # the flags still went in


def test_my_summary_needs_write_back(tmp_path):
    text = program(tmp_path).read_text().replace("write_back = true\n", "")
    (tmp_path / "d.toml").write_text(text)
    with pytest.raises(ConfigError, match="my_summary needs write_back"):
        load_config(tmp_path / "d.toml")


def test_google_writes_the_summary_and_refuses_a_users_own_tab(tmp_path):
    with FakeGoogle(seed=4) as fake:
        fake.set_quota(per_user=10_000, per_project=10_000)
        key = tmp_path / "key.json"
        email = fake.make_service_account_key(key)
        own = tmp_path / "priya-natarajan.xlsx"  # with a tab of the coach's own
        wb = openpyxl.load_workbook(EXAMPLES / "coaches" / "priya-natarajan.xlsx")
        wb.create_sheet(SUMMARY)["A1"] = "my own notes"
        wb.save(own)
        ids = {p.stem: fake.add_spreadsheet_from_xlsx(p, share_with=email, role="writer")
               for p in [EXAMPLES / "coaches" / RENATA, own]}
        dash = fake.add_spreadsheet("Leaders dashboard", share_with=email, role="writer")
        lines = ['[program]', 'as_of = "2026-11-04"', "", "[google]",
                 f'credentials = "{key}"', f'api_base = "{fake.base_url}"',
                 "quota_per_minute = 6000", "", "[output]", f'google = "{dash}"',
                 f'state_dir = "{tmp_path / "state"}"', ""]
        for name, sid in ids.items():
            lines += ["[[sources]]", 'kind = "coach"', f'google = "{sid}"', f'name = "{name}"',
                      "write_back = true", "my_summary = true", ""]
        (tmp_path / "g.toml").write_text("\n".join(lines))
        config = load_config(tmp_path / "g.toml")
        priya = ids["priya-natarajan"]
        outcome = run(config, as_of=AS_OF)
        renata = ids["renata-okafor"]
        assert fake.tab_titles(renata)[-2:] == ["Sheetsync Flags", SUMMARY]
        values = fake.spreadsheet_values(renata, SUMMARY)
        assert values[0][0] == "Your teachers on the delight x engagement matrix"
        assert any(row and row[0] == "Focus teachers this quarter" for row in values)
        assert fake.spreadsheet_values(priya, SUMMARY) == [["my own notes"]]
        assert any(f.source == "priya-natarajan" and "wrote no summary" in f.message
                   for f in outcome.data.findings)
        fake.reset_calls()
        run(replace(config), as_of=AS_OF)
        writes = [c for c in fake.calls("spreadsheets.batchUpdate") if c.spreadsheet_id == renata]
        assert writes == []  # an unchanged summary is not written again

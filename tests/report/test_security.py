"""Security and privacy: text stays text, private values stay with the coach, secrets stay
secret, and sheetsync writes only where it is told to.

* Formula injection: source text starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
  return (in names, goals, notes, headers, file names) is written as plain text in the
  dashboard and in the flags written back into sources. The Excel outputs hold no formula at
  all (a written-back cell reference is a hyperlink, not a HYPERLINK formula); chart series
  and defined names only ever reference sheetsync's own cells.
* Privacy: random coach workbooks full of private values (teacher names, facts, notes, per-teacher
  ratings) reach no leader-facing cell, nor any byte of the dashboard package; distributions
  from too few teachers are withheld.
* Credentials: key material never reaches outputs, state or messages; a key file others can
  read gets a warning; error text is redacted (:func:`sheetsync.errors.redact`).
* Paths: a run writes the dashboard and the state folder and nothing else; sources stay
  byte-identical unless write-back is on, and then only the allowed package parts change.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import stat
import string
import zipfile
from datetime import date, datetime, timedelta
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sheetsync.analytics.program import analyse
from sheetsync.analytics.thresholds import Thresholds
from sheetsync.backends.base import RawTab, RawWorkbook
from sheetsync.backends.excel.reader import read_excel
from sheetsync.backends.google.auth import check_key_file_permissions
from sheetsync.config import ConfigError, load_config, parse_config
from sheetsync.dataset import ProgramData, SourceStatus
from sheetsync.errors import REDACTED, redact
from sheetsync.findings import Findings
from sheetsync.pipeline import run
from sheetsync.report.dashboard import build_sheets
from sheetsync.report.model import Cell, plain
from sheetsync.report.rhythm import with_rhythm_tabs
from sheetsync.schema import default_activities, load_schema
from sheetsync.testing.workbooks import Tab, write_xlsx
from sheetsync.validation import ValidationContext, build_frames, validate_workbook
from sheetsync.validation.layout import find_header, match_tabs
from tests import REPO

EXAMPLES = REPO / "sheet_templates" / "examples"
AS_OF = date(2026, 11, 4)
START = date(2026, 9, 7)
NOW = datetime(2026, 11, 5, 2, 0)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
INJECTIONS = ['=HYPERLINK("http://example.invalid/x","Open")', "+SUM(1,2)",
              "-2+3+cmd|' /C calc'!A0", "@SUM(A1:A9)", "\t=1+1", "\r=2+2",
              "=cmd|' /C calc'!A0", "=1+1"]
# Workbook-package parts that write-back may change (the new flags sheet part aside).
WRITEBACK_MAY_CHANGE = {"xl/workbook.xml", "xl/_rels/workbook.xml.rels", "[Content_Types].xml",
                        "docProps/app.xml", "docProps/core.xml", "xl/styles.xml"}


# -- helpers ---------------------------------------------------------------------------------------

def write_config(folder: Path, sources: list[tuple[str, Path]], *, write_back: bool = False,
                 output: Path | None = None, state: Path | None = None, extra: str = "") -> Path:
    entries = "".join(f'[[sources]]\nkind = "{kind}"\npath = "{path}"\n'
                      + ("write_back = true\n" if write_back else "") for kind, path in sources)
    text = (f'[program]\nname = "Security program"\nas_of = "{AS_OF.isoformat()}"\n\n{entries}\n'
            f'[output]\npath = "{output or folder / "out" / "dashboard.xlsx"}"\n'
            f'state_dir = "{state or folder / "state"}"\n{extra}')
    path = folder / "sheetsync.toml"
    path.write_text(text)
    return path


def package_parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def formulas(path: Path) -> list[bytes]:
    """Every cell formula in every worksheet of the package at ``path``."""
    found = []
    for name, data in package_parts(path).items():
        if name.startswith("xl/worksheets/") and name.endswith(".xml"):
            found += re.findall(rb"<(?:\w+:)?f\b[^>]*>(.*?)</(?:\w+:)?f>", data, re.S)
            found += [b"(empty)" for _ in re.findall(rb"<(?:\w+:)?f\b[^>]*/>", data)]
    return found


def style_lists(styles_xml: bytes) -> dict[str, list[bytes]]:
    """Each top-level list of a styles part (fonts, fills, cellXfs, ...) as canonical XML."""
    from xml.etree import ElementTree as ET

    return {child.tag: [ET.canonicalize(ET.tostring(item)).encode() for item in child]
            for child in ET.fromstring(styles_xml)}


def tree_snapshot(root: Path) -> dict[str, str]:
    """Every file under ``root``: relative path -> content hash."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


# -- formula injection -----------------------------------------------------------------------------

def injected_team(path: Path, n: int) -> None:
    start = START
    weekly = [["Week", "Week Of", "Value", "What We Tried", "What We Learned", "=cmd header"]]
    for w in range(1, 9):
        weekly.append([w, start + timedelta(weeks=w - 1), f"{60 + w * (2 + n)}%",
                       INJECTIONS[(w + n) % len(INJECTIONS)],
                       INJECTIONS[(w + n + 3) % len(INJECTIONS)], "=1+1"])
    weekly.append([9, None, "=A1", "@bad", None, None])  # a bad value: its text is in a message
    actions = [["Action", "Owner", "Due", "Status"],
               ["=2+2", "@owner", start + timedelta(days=10), "+x"],
               ["-minus", "\tlead", start + timedelta(days=20), "Done"]]
    goal = [["School", INJECTIONS[n % len(INJECTIONS)]], ["Team", f"+Team {n}"],
            ["Team Lead", "\t=lead"], ["Coach", "-coach"], ["SMART Goal", "@goal =1+1"],
            ["Metric", "=metric"], ["Unit", "percent"], ["Baseline", "60%"],
            ["Target", "80%"], ["Start Date", start]]
    write_xlsx(path, [Tab("Goal", goal), Tab("Weekly Progress", weekly),
                      Tab("Action Steps", actions)])


def injected_coach(path: Path, n: int) -> None:
    log = [["Date", "Minutes", "Activity", "Teacher(s)", "Notes"]]
    for d in range(30):
        day = START + timedelta(days=d * 2)
        activities = ["Co-planning", "Modeling", '=HYPERLINK("x")', "+unknown", "Data meeting"]
        activity = activities[d % 5]
        log.append([day, 30 + d, activity, f"=Teacher {d % 4}", INJECTIONS[d % len(INJECTIONS)]])
    relationships = [["Teacher", "Knows Face", "Professional Fact", "Delight", "Engagement"]]
    for t in range(6):
        relationships.append([f"=Teacher {t}", "Y", "@fact", 1 + t % 3, "=3"])
    about = [["Coach", f"=Coach {n}"], ["School(s)", "+School"], ["Role", "\r=role"]]
    write_xlsx(path, [Tab("About", about), Tab("Relationships", relationships),
                      Tab("Time Log", log)])


@pytest.fixture(scope="module")
def injected_run(tmp_path_factory: pytest.TempPathFactory):
    """A program whose every text starts like a formula, run with write-back on."""
    folder = tmp_path_factory.mktemp("injection")
    src = folder / "src"
    src.mkdir()
    sources = []
    for i, name in enumerate(["=Riverside team", "+Maple team", "-Cedar team", "@Oak team"]):
        injected_team(src / f"{name}.xlsx", i)
        sources.append(("team", src / f"{name}.xlsx"))
    for i, name in enumerate(["=coach one", "@coach two"]):
        injected_coach(src / f"{name}.xlsx", i)
        sources.append(("coach", src / f"{name}.xlsx"))
    config = load_config(write_config(folder, sources, write_back=True))
    outcome = run(config, now=NOW)
    return config, outcome, [p for _, p in sources]


def test_the_dashboard_holds_no_formula_at_all(injected_run):
    config, _, _ = injected_run
    assert formulas(config.output.path) == []  # the generation time is a value, too


def test_formula_like_text_is_written_as_quoted_plain_text(injected_run):
    config, _, _ = injected_run
    wb = openpyxl.load_workbook(config.output.path)
    seen: dict[str, int] = {}
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.value.startswith(FORMULA_STARTS):
                    assert cell.data_type == "s", (ws.title, cell.coordinate, cell.value)
                    assert cell.quotePrefix, (ws.title, cell.coordinate)
                    seen[ws.title] = seen.get(ws.title, 0) + 1
    # the injected texts really reached these tabs, as names, notes, messages and file names
    assert {"Dashboard", "Team Progress", "Coach Time", "Relationships", "Flags"} <= set(seen)


def test_charts_and_defined_names_only_reference_sheetsyncs_cells(injected_run):
    config, _, _ = injected_run
    parts = package_parts(config.output.path)
    chart_refs = [ref for name, data in parts.items() if name.startswith("xl/charts/")
                  for ref in re.findall(rb"<(?:c:)?f>(.*?)</(?:c:)?f>", data)]
    assert chart_refs  # one line chart per team, one bar chart of coach time
    plain_ref = re.compile(rb"^'?[A-Za-z ]+'?!\$[A-Z]+\$\d+(:\$[A-Z]+\$\d+)?$")
    assert all(plain_ref.match(r) for r in chart_refs), chart_refs
    names = re.findall(rb"<definedName\b[^>]*>(.*?)</definedName>", parts["xl/workbook.xml"])
    assert all(re.match(rb"^'?[A-Za-z_ ]+'?!\$[A-Z]+\$\d+(:\$[A-Z]+\$\d+)?$", n) for n in names)


def test_flags_written_back_into_sources_are_plain_text(injected_run):
    _, outcome, sources = injected_run
    assert not [f for f in outcome.data.findings if f.code.startswith("writeback")]
    for path in sources:
        assert formulas(path) == [], path.name
        wb = openpyxl.load_workbook(path)
        flags = wb["Sheetsync Flags"]
        risky = [c for row in flags.iter_rows(min_row=2) for c in row
                 if isinstance(c.value, str) and c.value.startswith(FORMULA_STARTS)]
        assert risky, path.name  # the coach sees the offending values...
        assert all(c.data_type == "s" and c.quotePrefix for c in risky)  # ...as text


# -- privacy on random programs --------------------------------------------------------------------

TOKEN = st.text(string.ascii_lowercase, min_size=6, max_size=9).map(lambda s: "pv" + s)
PREFIX = st.sampled_from(["", "", "Ms. ", "=", "+", "-", "@", "\t"])
CTX = ValidationContext(as_of=AS_OF, reference_date=AS_OF, activities=default_activities())
COACH_SCHEMA = load_schema("coach")
TEAM_SCHEMA = load_schema("team")
CONFIG = parse_config({"program": {"name": "Private program"},
                       "sources": [{"path": "sources/coach.xlsx"}],
                       "output": {"path": "d.xlsx"}}, Path("/tmp/private.toml"))


@st.composite
def private_coach(draw, index: int) -> tuple[RawWorkbook, set[str], int]:
    """A coach workbook whose private columns hold tokens; (workbook, tokens, rated teachers)."""
    tokens: set[str] = set()

    def private() -> str:
        token = draw(TOKEN)
        tokens.add(token)
        return draw(PREFIX) + token

    relationships = [["Teacher", "Grade/Subject", "Room", "Knows Face", "Knows Classroom",
                      "Professional Fact", "Personal Fact", "Delight", "Engagement",
                      "Last Contact", "Notes"]]
    rated = 0
    teachers = []
    for _ in range(draw(st.integers(0, 8))):
        teacher = private()
        teachers.append(teacher)
        good_rating = draw(st.booleans()) or draw(st.booleans())
        delight = draw(st.integers(1, 3)) if good_rating else private()  # a bad private cell
        rated += good_rating
        relationships.append([teacher, private(), private(), draw(st.sampled_from(["Y", "N"])),
                              draw(st.sampled_from(["Y", private()])), private(), private(),
                              delight, draw(st.integers(1, 3)) if good_rating else None,
                              START + timedelta(days=draw(st.integers(0, 58))), private()])
    log = [["Date", "Minutes", "Activity", "Teacher(s)", "Notes"]]
    for d in range(draw(st.integers(0, 12))):
        log.append([START + timedelta(days=d * 4), draw(st.integers(5, 120)),
                    draw(st.sampled_from(["Co-planning", "Modeling", "Substitute coverage"])),
                    draw(st.sampled_from(teachers)) if teachers else private(), private()])
    cycles = [["Teacher", "Focus", "Phase", "Start Date", "Last Update"]]
    for _ in range(draw(st.integers(0, 4))):
        cycles.append([private(), private(), draw(st.sampled_from(["Plan", "Act", "Reflect"])),
                       START, START + timedelta(days=draw(st.integers(0, 50)))])
    raw = RawWorkbook(f"coach-{index}.xlsx", {
        "About": RawTab("About", [["Coach", f"Coach {index}"]]),
        "Relationships": RawTab("Relationships", relationships),
        "Time Log": RawTab("Time Log", log),
        "Coaching Cycles": RawTab("Coaching Cycles", cycles)})
    return raw, tokens, rated


def team_raw() -> RawWorkbook:
    goal = [["School", "Lincoln"], ["Team", "Grade 3"], ["SMART Goal", "Read"],
            ["Metric", "% proficient"], ["Unit", "percent"], ["Baseline", "60%"],
            ["Target", "80%"], ["Start Date", START]]
    weekly = [["Week", "Value"]] + [[w, f"{60 + w}%"] for w in range(1, 9)]
    return RawWorkbook("team.xlsx", {"Goal": RawTab("Goal", goal),
                                     "Weekly Progress": RawTab("Weekly Progress", weekly)})


def leader_sheets(coaches: list[RawWorkbook]):
    findings, records, statuses = Findings(), [], []
    for raw, schema in [(team_raw(), TEAM_SCHEMA), *((c, COACH_SCHEMA) for c in coaches)]:
        name = Path(raw.location).stem
        result = validate_workbook(raw, schema, source=name, ctx=CTX)
        findings.extend(result.findings)
        records.append(result.records)
        statuses.append(SourceStatus(name, schema.kind, raw.location, "ok", rows=result.rows))
    groups = {a.name: (a.group, a.outside_role) for a in CTX.activities.activities}
    data = ProgramData(build_frames(records, groups), findings, statuses, AS_OF)
    analysis = analyse(data.frames, AS_OF, Thresholds.from_mapping({}),
                       groups=CTX.activities.groups)
    data.findings.extend(analysis.flags)
    sheets = build_sheets(CONFIG, data, analysis, as_of=AS_OF, generated_at=NOW, duration_s=1.0)
    # the tabs built from the history (Trends, Check-ins, Retrospective, History), from this run
    return with_rhythm_tabs(sheets, CONFIG, data, analysis, None)


def leader_texts(sheets) -> list[str]:
    """Every text a leader can see: cells, table titles and intro lines, number formats (which
    may carry text), chart titles and axis titles."""
    texts: list[str] = []
    for sheet in sheets:
        for table in sheet.tables:
            texts += [str(c) for c in table.columns] + [table.title or "", *table.intro]
            texts += [str(plain(v)) for row in table.rows for v in row if plain(v) is not None]
            texts += [v.number_format or "" for row in table.rows for v in row
                      if isinstance(v, Cell)]
        for chart in sheet.charts:
            texts += [chart.title, chart.y_title or ""]
    return texts


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(drawn=st.lists(st.integers(0, 10**6), min_size=1, max_size=3).flatmap(
    lambda seeds: st.tuples(*(private_coach(i) for i in range(len(seeds))))))
def test_no_private_value_reaches_a_leader_facing_cell(drawn):
    coaches = [raw for raw, _, _ in drawn]
    tokens = set().union(*(t for _, t, _ in drawn))
    sheets = leader_sheets(coaches)
    assert {"Trends", "Check-ins", "Check-in Agenda", "Retrospective", "History"} <= \
        {s.name for s in sheets}
    text = "\n".join(leader_texts(sheets))
    assert [t for t in tokens if t in text] == []
    # per-teacher ratings: a coach's 3 x 3 grid shows only from the configured minimum up
    tables = next(s for s in sheets if s.name == "Relationships").tables
    per_coach, grid = tables
    rated_of = {row[0]: row[per_coach.columns.index("Teachers rated")] for row in per_coach.rows}
    counts = [c for c in grid.columns if c.startswith("Engagement ")]
    assert len(grid.rows) == 3 * len(drawn) and len(counts) == 3
    for start in range(0, len(grid.rows), 3):
        block = grid.rows[start:start + 3]
        coach = block[0][0]
        cells = [row[grid.columns.index(c)] for row in block for c in counts]
        if rated_of[coach] < Thresholds.from_mapping({}).min_matrix_teachers:
            assert cells == [None] * 9
            assert block[0][-1].startswith("hidden")
        else:
            assert sum(cells) == rated_of[coach]
    assert sorted(rated_of.values()) == sorted(rated for _, _, rated in drawn)


def example_private_values() -> set[str]:
    """Every private cell value (4+ characters) in the example program's coach workbooks."""
    found: set[str] = set()
    for path in (EXAMPLES / "coaches").glob("*.xlsx"):
        raw = read_excel(path)
        for spec in COACH_SCHEMA.tabs:
            for tab in match_tabs(raw.tabs, spec):
                header = find_header(tab, spec)
                for key in spec.private_keys & set(header.columns if header else ()):
                    j = header.columns[key]  # type: ignore[union-attr]
                    found |= {row[j].strip() for row in tab.rows[header.row + 1:]  # type: ignore
                              if j < len(row) and isinstance(row[j], str)
                              and len(row[j].strip()) >= 4}
    return found


def test_no_byte_of_the_example_dashboard_holds_a_private_value(tmp_path):
    """Cells, shared strings, charts, the hidden manifest, document properties: everything."""
    src = tmp_path / "examples"
    shutil.copytree(EXAMPLES, src)
    config = load_config(write_config(tmp_path, [("team", src / "teams"),
                                                 ("coach", src / "coaches")]))
    run(config, now=NOW)
    # and after every team's end date, with a history of two nights: the Retrospective too
    run(config, now=NOW, as_of=date(2027, 1, 15))
    secrets = {s for s in example_private_values() if not s.isdigit()
               and s.casefold() not in {"yes", "no", "n/a"}}
    assert len(secrets) > 100
    leaked = []
    parts = package_parts(config.output.path)
    assert any(b"Goal not met" in data for data in parts.values())  # the close-out is there
    # the program's history in the state folder holds no private value either
    parts["history.sqlite"] = (tmp_path / "state" / "history.sqlite").read_bytes()
    for name, data in parts.items():
        text = data.decode("utf-8", "replace")
        text = text.replace("&amp;", "&").replace("&apos;", "'").replace("&quot;", '"')
        leaked += [(name, s) for s in secrets if s in text]
    assert leaked == []


# -- credentials -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def key_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A service-account key file with a real (throwaway) RSA key."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    info = {"type": "service_account", "project_id": "district-sync",
            "private_key_id": "5e1f0c2a9b7d4e3f8a6b1c0d2e9f7a8b6c5d4e3f",
            "private_key": pem, "client_email": "sheetsync@district-sync.iam.gserviceaccount.com",
            "client_id": "104857600000000000001", "token_uri": "https://oauth2.googleapis.com/token"}
    path = tmp_path_factory.mktemp("keys") / "service-account.json"
    path.write_text(json.dumps(info))
    return path, info


def key_secrets(info: dict[str, str]) -> list[str]:
    body = [line for line in info["private_key"].splitlines() if "PRIVATE KEY" not in line]
    return [info["private_key_id"], *body]


@pytest.mark.skipif(os.name == "nt", reason="POSIX permission bits")
@pytest.mark.parametrize("mode, words", [
    (0o600, []), (0o400, []),
    (0o640, ["can be read by its group"]),
    (0o644, ["can be read by every user of this computer"]),
    (0o604, ["can be read by every user of this computer"]),
    (0o620, ["can be changed by other users"]),
    (0o666, ["can be read by every user", "can be changed by other users"]),
])
def test_a_key_file_others_can_read_or_change_gets_a_warning(mode, words, tmp_path):
    key = tmp_path / "key.json"
    key.write_text("{}")
    key.chmod(mode)
    warnings = check_key_file_permissions(key)
    assert len(warnings) == len(words)
    for warning, expected in zip(warnings, words, strict=True):
        assert expected in warning and str(key) in warning and "chmod 600" in warning


@pytest.mark.skipif(os.name == "nt", reason="POSIX permission bits")
def test_a_key_in_a_folder_anyone_can_change_gets_a_warning(tmp_path):
    folder = tmp_path / "shared"
    folder.mkdir()
    key = folder / "key.json"
    key.write_text("{}")
    key.chmod(0o600)
    folder.chmod(0o777)
    try:
        assert any("could be swapped" in w for w in check_key_file_permissions(key))
        folder.chmod(0o777 | stat.S_ISVTX)  # like /tmp: others cannot replace our file
        assert check_key_file_permissions(key) == []
    finally:
        folder.chmod(0o700)
    assert check_key_file_permissions(tmp_path / "missing.json") == []


@pytest.mark.parametrize("text, secrets", [
    ("Authorization: Bearer ya29.a0AfH6SMBx-secret_token.value", ["ya29.a0AfH6SMBx"]),
    ('{"access_token": "ya29.c.secret", "expires_in": 3599, "token_type": "Bearer"}',
     ["ya29.c.secret"]),
    ("grant_type=jwt-bearer&assertion=eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ4In0.c2lnbmF0dXJl",
     ["eyJhbGciOiJSUzI1NiJ9", "c2lnbmF0dXJl"]),
    ("refresh_token=1//0gSecretRefresh-Token_x&client_secret=GOCSPX-secret",
     ["0gSecretRefresh", "GOCSPX-secret"]),
    ("GET https://sheets.googleapis.com/v4/spreadsheets/abc?key=AIzaSyD-secretkey123 failed",
     ["AIzaSyD-secretkey123"]),
    ("{'headers': {'Authorization': 'Bearer abc.def.ghi'}}", ["abc.def.ghi"]),
    ("token ya29.loose-token-in-text expired", ["loose-token-in-text"]),
    ('"private_key_id": "5e1f0c2a9b7d", "private_key": "-----BEGIN PRIVATE KEY-----\\nMIIB'
     'secretbody\\n-----END PRIVATE KEY-----\\n"', ["5e1f0c2a9b7d", "MIIBsecretbody"]),
    ("-----BEGIN RSA PRIVATE KEY-----\nMIIEsecret\nmore\n-----END RSA PRIVATE KEY-----",
     ["MIIEsecret", "more"]),
    ("-----BEGIN PRIVATE KEY-----\nMIIEtruncated", ["MIIEtruncated"]),
])
def test_error_text_is_redacted(text, secrets):
    out = redact(text)
    assert REDACTED in out
    assert [s for s in secrets if s in out] == []
    assert redact(out) == out  # idempotent


@pytest.mark.parametrize("text", [
    "HTTP 403 for spreadsheet 1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789: permission denied",
    "Share the spreadsheet with sheetsync@district-sync.iam.gserviceaccount.com",
    '{"token_type": "Bearer", "expires_in": 3599}',
    "The Time Log tab is missing.",
    "",
])
def test_ordinary_messages_are_left_alone(text):
    assert redact(text) == text


def test_key_file_errors_never_quote_the_key(key_file, tmp_path):
    from sheetsync.backends.google.auth import CredentialsError, load_key_file

    path, info = key_file
    broken = {
        "bad-pem": {**info, "private_key": info["private_key"].replace("MII", "XXX", 1)},
        "wrong-type": {**info, "type": "external_account"},
        "no-email": {**info, "client_email": ""},
        "http-token-uri": {**info, "token_uri": "http://evil.example/token"},
    }
    for name, content in broken.items():
        bad = tmp_path / f"{name}.json"
        bad.write_text(json.dumps(content))
        with pytest.raises(CredentialsError) as err:
            load_key_file(bad)
        shown = f"{err.value} {err.value.message} {err.value.hint} {err.value!r}"
        assert [s for s in key_secrets(info) if s in shown] == [], name
    truncated = tmp_path / "truncated.json"
    truncated.write_text(path.read_text()[:400])
    with pytest.raises(CredentialsError) as err:
        load_key_file(truncated)
    assert [s for s in key_secrets(info) if s in str(err.value)] == []


def test_a_configured_key_file_never_reaches_outputs_state_or_messages(key_file, tmp_path,
                                                                      capsys, caplog):
    path, info = key_file
    key = tmp_path / "private" / "key.json"
    key.parent.mkdir()
    shutil.copy2(path, key)
    key.chmod(0o644)
    src = tmp_path / "src"
    shutil.copytree(EXAMPLES / "coaches", src)
    broken = src / "zz-broken.xlsx"
    broken.write_bytes(b"not a workbook")
    config = load_config(write_config(tmp_path, [("coach", src)], write_back=True,
                                      extra=f'\n[google]\ncredentials = "{key}"\n'))
    caplog.set_level("DEBUG")
    run(config, now=NOW)
    captured = capsys.readouterr()
    seen = [captured.out, captured.err, caplog.text]
    for file in tmp_path.rglob("*"):
        if file.is_file() and file != key:
            data = file.read_bytes()
            if zipfile.is_zipfile(file):
                data += b"".join(package_parts(file).values())
            seen.append(data.decode("utf-8", "replace"))
    everything = "\n".join(seen)
    assert [s for s in key_secrets(info) if s in everything] == []
    assert any("can be read by every user" in w for w in check_key_file_permissions(key))


# -- paths -----------------------------------------------------------------------------------------

def example_sources(root: Path) -> Path:
    src = root / "src"
    shutil.copytree(EXAMPLES, src)
    return src


def test_a_run_writes_only_the_dashboard_and_the_state_folder(tmp_path):
    src = example_sources(tmp_path)
    config_path = write_config(tmp_path, [("team", src / "teams"), ("coach", src / "coaches")],
                               output=tmp_path / "out" / "dashboard.xlsx",
                               state=tmp_path / "state")
    # names that look like paths must not steer where anything is written
    text = config_path.read_text().replace('[[sources]]\nkind = "team"',
                                           '[[sources]]\nname = "../../escape"\nkind = "team"', 1)
    config_path.write_text(text)
    before = tree_snapshot(tmp_path)
    run(load_config(config_path), now=NOW)
    run(load_config(config_path), now=NOW + timedelta(days=1))
    after = tree_snapshot(tmp_path)
    changed = {p for p in set(before) | set(after) if before.get(p) != after.get(p)}
    assert changed, "the run wrote nothing"
    assert all(p == "out/dashboard.xlsx" or p.startswith("state/") for p in changed), changed
    assert not (tmp_path.parent / "escape").exists()
    assert not list((tmp_path / "out").glob("*.tmp*"))  # no temporary file left behind


def test_without_write_back_sources_stay_byte_identical(tmp_path):
    src = example_sources(tmp_path)
    files = sorted(src.rglob("*.xlsx"))
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in files}
    config = load_config(write_config(tmp_path, [("team", src / "teams"),
                                                 ("coach", src / "coaches")]))
    run(config, now=NOW)
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in files} == before


def test_with_write_back_only_the_allowed_parts_change(tmp_path):
    src = example_sources(tmp_path)
    files = sorted(src.rglob("*.xlsx"))
    before = {p: package_parts(p) for p in files}
    config = load_config(write_config(tmp_path, [("team", src / "teams"),
                                                 ("coach", src / "coaches")], write_back=True))
    run(config, now=NOW)
    for path in files:
        old, new = before[path], package_parts(path)
        added = set(new) - set(old)
        assert set(old) <= set(new), path.name  # nothing removed
        assert len(added) == 1 and re.fullmatch(r"xl/worksheets/sheet\d+\.xml", added.pop())
        changed = {n for n in old if old[n] != new[n]}
        assert changed <= WRITEBACK_MAY_CHANGE, (path.name, changed)
        for name, styles in style_lists(old["xl/styles.xml"]).items():  # only appended to
            assert style_lists(new["xl/styles.xml"])[name][: len(styles)] == styles, name
        assert openpyxl.load_workbook(path).sheetnames[-1] == "Sheetsync Flags"


@pytest.mark.parametrize("layout", ["folder", "subfolder", "glob", "recursive-glob"])
def test_the_dashboard_may_not_be_written_where_sources_are_read(layout, tmp_path):
    src = example_sources(tmp_path)
    entry, output = {
        "folder": (f"{src / 'coaches'}/", src / "coaches" / "renata-okafor.xlsx"),
        "subfolder": (f"{src}/", src / "out" / "dashboard.xlsx"),
        "glob": (f"{src / 'coaches'}/*.xlsx", src / "coaches" / "dashboard.xlsx"),
        "recursive-glob": (f"{src}/**/*.xlsx", src / "teams" / "x" / "dashboard.xlsx"),
    }[layout]
    before = tree_snapshot(src)
    path = write_config(tmp_path, [("coach", Path(entry))], output=output)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert "never writes its dashboard where it reads sources" in str(err.value)
    assert tree_snapshot(src) == before


def test_a_dashboard_beside_the_source_folders_is_fine(tmp_path):
    src = example_sources(tmp_path)
    config = load_config(write_config(tmp_path, [("coach", Path(f"{src / 'coaches'}/")),
                                                 ("coach", Path(f"{src / 'teams'}/*.xlsx"))],
                                      output=src / "dashboard.xlsx"))
    assert config.output.path == src / "dashboard.xlsx"

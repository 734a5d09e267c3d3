"""The adversarial corpus: small programs built to break sheetsync, each with what must happen.

Every :class:`Case` builds one program (a folder with a team tracker, a coach workbook, a
config, and whatever the case adds or breaks), names the command to run and states, in words
and as a check, what must happen. ``tests/test_adversarial.py`` runs each and checks, besides
the case's own expectations, what must hold after every run: no traceback and no "unexpected
error"; the dashboard, when there is one, opens in openpyxl and every XML part of it is
well-formed under a strict parser; no file is truncated; no source changes unless write-back is
on for it; no formula is injected; no private value reaches a leader tab.

The classes: malformed packages, hostile text (privacy and extreme numbers included), config,
process faults, write-back integrity, and a leader's own tabs in the dashboard workbook.
"""

from __future__ import annotations

import html
import os
import re
import time
import unicodedata
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sheetsync.testing.workbooks import ErrorValue, Tab, write_package, write_xlsx

AS_OF = date(2026, 11, 4)
START = date(2026, 9, 7)
PRIVATE = ("Oakenshield", "medical leave")
"""Words only the coach workbooks hold, in private columns: no leader tab may show them."""

MODERN_ERRORS = ("#SPILL!", "#CALC!", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!",
                 "#UNKNOWN!", "#GETTING_DATA")
NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


# -- a program to attack --------------------------------------------------------------------------

def goal_rows(**overrides: Any) -> list[list[Any]]:
    goal = {"School": "Cedar Grove", "Team": "Grade 4", "SMART Goal": "Read more.",
            "Metric": "% proficient", "Unit": "percent", "Baseline": "60%", "Target": "80%",
            "Start Date": START}
    goal.update(overrides)
    return [[k, v] for k, v in goal.items()]


def weekly_rows(weeks: int = 8, tried: str = "Small groups") -> list[list[Any]]:
    return [["Week", "Week Of", "Value", "What We Tried"]] + [
        [w, START + timedelta(weeks=w - 1), f"{60 + 2 * w}%", tried] for w in range(1, weeks + 1)]


def team_tabs(goal: dict[str, Any] | None = None, weekly: list[list[Any]] | None = None
              ) -> list[Tab]:
    return [Tab("Goal", goal_rows(**(goal or {}))),
            Tab("Weekly Progress", weekly if weekly is not None else weekly_rows())]


RELATIONSHIP_HEADER = ["Teacher", "Knows Face", "Last Contact", "Notes"]
TIME_HEADER = ["Date", "Minutes", "Activity", "Teacher(s)"]
CYCLE_HEADER = ["Teacher", "Start Date", "Phase", "Next Steps Total", "Next Steps Done"]


def coach_tabs(*, name: str = "Pat Rivera", relationships: list[list[Any]] | None = None,
               time_log: list[list[Any]] | None = None, cycles: list[list[Any]] | None = None,
               time_tab: str = "Time Log") -> list[Tab]:
    """A coach workbook whose private columns hold the :data:`PRIVATE` words."""
    rel = relationships or [RELATIONSHIP_HEADER,
                            ["T. Oakenshield", "Yes", START + timedelta(days=50),
                             "asked about medical leave"],
                            ["R. Amsel", "No", START + timedelta(days=40), ""]]
    log = time_log or [TIME_HEADER] + [
        [START + timedelta(days=d), 45, "Co-planning" if d % 2 else "Modeling", "T. Oakenshield"]
        for d in range(0, 56, 3)]
    cyc = cycles or [CYCLE_HEADER, ["T. Oakenshield", START, "Act", 3, 1]]
    return [Tab("About", [["Coach", name], ["School(s)", "Cedar Grove"]]),
            Tab("Relationships", rel), Tab(time_tab, log), Tab("Coaching Cycles", cyc)]


@dataclass
class Program:
    """One attacked program in its own folder."""

    root: Path
    sources: list[tuple[str, str, bool]] = field(default_factory=list)  # kind, path, write_back
    config_extra: str = ""
    program_extra: str = ""
    output: str = "out/dashboard.xlsx"
    config_text: str | None = None  # a whole config, replacing the generated one
    config_bytes: bytes | None = None  # the same, as bytes (in another encoding)
    private: tuple[str, ...] = PRIVATE

    @property
    def dashboard(self) -> Path:
        return self.root / self.output

    @property
    def config(self) -> Path:
        return self.root / "sheetsync.toml"

    def file(self, relative: str) -> Path:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def team(self, relative: str = "teams/team-a.xlsx", tabs: list[Tab] | None = None, *,
             kind: str = "team", listed: bool = True, write_back: bool = False) -> Path:
        path = self.file(relative)
        write_xlsx(path, tabs if tabs is not None else team_tabs())
        if listed:
            self.sources.append((kind, relative, write_back))
        return path

    def coach(self, relative: str = "coaches/coach-a.xlsx", tabs: list[Tab] | None = None, *,
              kind: str = "coach", listed: bool = True, write_back: bool = False) -> Path:
        path = self.file(relative)
        write_xlsx(path, tabs if tabs is not None else coach_tabs())
        if listed:
            self.sources.append((kind, relative, write_back))
        return path

    def write_config(self) -> Path:
        if self.config_bytes is not None:
            self.config.write_bytes(self.config_bytes)
            return self.config
        if self.config_text is not None:
            self.config.write_text(self.config_text, encoding="utf-8")
            return self.config
        entries = "".join(
            f'[[sources]]\nkind = "{kind}"\npath = "{path}"\n'
            + ("write_back = true\n" if write_back else "") + "\n"
            for kind, path, write_back in self.sources)
        text = (f'[program]\nname = "Adversarial program"\nas_of = "{AS_OF.isoformat()}"\n'
                f'timezone = "America/New_York"\n{self.program_extra}\n{entries}'
                f'[output]\npath = "{self.output}"\nstate_dir = "state"\n\n{self.config_extra}')
        self.config.write_text(text, encoding="utf-8")
        return self.config


def standard(program: Program) -> None:
    """One good team tracker and one good coach workbook."""
    program.team()
    program.coach()


# -- packages built part by part ------------------------------------------------------------------

def edit_parts(path: Path, change: Callable[[dict[str, bytes]], None]) -> None:
    with zipfile.ZipFile(path) as zf:
        parts = {name: zf.read(name) for name in zf.namelist()}
    change(parts)
    write_package(path, parts)


def real_xls(path: Path, tabs: Sequence[Tab]) -> None:
    """A real Excel 97-2003 workbook (BIFF8 in an OLE2 container), written with xlwt."""
    import xlwt

    book = xlwt.Workbook()
    day = xlwt.easyxf(num_format_str="yyyy-mm-dd")
    for tab in tabs:
        sheet = book.add_sheet(tab.name)
        for r, row in enumerate(tab.rows):
            for c, value in enumerate(row):
                if isinstance(value, date):
                    sheet.write(r, c, value, day)
                elif value is not None:
                    sheet.write(r, c, value)
    book.save(str(path))


def encrypted_container(path: Path) -> None:
    """The start of an OLE2 container as Excel saves a password-protected workbook."""
    header = bytearray(512)
    header[:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    body = "EncryptionInfo EncryptedPackage".encode("utf-16-le")
    path.write_bytes(bytes(header) + body + bytes(1024))


def add_worksheet(parts: dict[str, bytes], name: str, sheet_xml: str, *,
                  extra_parts: dict[str, tuple[bytes, str, str]] | None = None) -> None:
    """Add a worksheet (and workbook-level parts: name -> (bytes, rel type, content type))."""
    number = 900 + sum(1 for p in parts if p.startswith("xl/worksheets/"))
    part = f"xl/worksheets/sheet{number}.xml"
    parts[part] = sheet_xml.encode("utf-8")
    rels = [f'<Relationship Id="rIdAdv{number}" Type="{NS_REL}/worksheet" '
            f'Target="worksheets/sheet{number}.xml"/>']
    types = [f'<Override PartName="/{part}" ContentType="application/vnd.openxmlformats-'
             'officedocument.spreadsheetml.worksheet+xml"/>']
    for i, (extra, (data, rel_type, content_type)) in enumerate((extra_parts or {}).items()):
        parts[extra] = data
        rels.append(f'<Relationship Id="rIdAdvX{i}" Type="{rel_type}" '
                    f'Target="{extra.removeprefix("xl/")}"/>')
        types.append(f'<Override PartName="/{extra}" ContentType="{content_type}"/>')
    workbook = parts["xl/workbook.xml"].decode()
    sheet = f'<sheet name="{name}" sheetId="{number}" r:id="rIdAdv{number}"/></sheets>'
    if 'xmlns:r="' not in workbook:
        workbook = workbook.replace("<workbook ", f'<workbook xmlns:r="{NS_REL}" ', 1)
    parts["xl/workbook.xml"] = workbook.replace("</sheets>", sheet, 1).encode()
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].decode().replace(
        "</Relationships>", "".join(rels) + "</Relationships>", 1).encode()
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].decode().replace(
        "</Types>", "".join(types) + "</Types>", 1).encode()


DYNAMIC_ARRAY_METADATA = (
    f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<metadata xmlns="{NS_MAIN}" '
    'xmlns:xda="http://schemas.microsoft.com/office/spreadsheetml/2017/dynamicarray">'
    '<metadataTypes count="1"><metadataType name="XLDAPR" minSupportedVersion="120000" '
    'copy="1" pasteAll="1" pasteValues="1" merge="1" splitFirst="1" rowColShift="1" '
    'clearFormats="1" clearComments="1" assign="1" coerce="1" cellMeta="1"/></metadataTypes>'
    '<futureMetadata name="XLDAPR" count="1"><bk><extLst><ext '
    'uri="{bdbb8cdc-fa1e-496e-a857-3c3f30c029c3}"><xda:dynamicArrayProperties fDynamic="1" '
    'fCollapsed="0"/></ext></extLst></bk></futureMetadata><cellMetadata count="1"><bk>'
    '<rc t="1" v="0"/></bk></cellMetadata></metadata>').encode()

LEADER_CALC_SHEET = (
    f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{NS_MAIN}">'
    '<sheetData><row r="1"><c r="A1"><v>3</v></c><c r="B1"><f>A1*2</f><v>6</v></c>'
    '<c r="C1" t="str"><f>"total "&amp;A1</f><v>total 3</v></c>'
    '<c r="D1" cm="1"><f t="array" ref="D1:D2">SORT(A1:A2)</f><v>1</v></c></row>'
    '<row r="2"><c r="A2"><v>1</v></c><c r="D2"><v>3</v></c>'
    '<c r="E2" t="e"><f>1/0</f><v>#DIV/0!</v></c></row></sheetData></worksheet>')


# -- what a case is -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Case:
    """One attack: how the program is built, what is run, and what must happen."""

    name: str
    category: str
    must: str  # what must happen, in words
    build: Callable[[Program], None]
    exits: tuple[int, ...] = (0, 1)
    args: tuple[str, ...] = ()  # extra arguments to `sheetsync run`
    expect: Callable[[Any], None] | None = None  # the case's own checks, on the outcome
    before_run: Callable[[Program], None] | None = None  # after a first run, before the run
    dashboard_first: bool = False  # run once first, so a dashboard exists to attack
    root_only: bool = False  # needs to give files away (chown)


CATEGORIES = ("malformed package", "hostile text", "config", "process fault",
              "write-back", "leader tabs")


def _names(items: Sequence[Case]) -> list[str]:
    return [c.name for c in items]


def cells_of(text: str) -> set[str]:
    return set(re.findall(r"\b[A-Z]{1,3}\d+\b", text))


def symlink(target: Path, link: Path) -> None:
    link.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(target, link)


@dataclass
class Outcome:
    """What one run gave: its exit code and output, and ways to look at what it wrote."""

    program: Program
    code: int
    output: str
    invoke: Callable[..., tuple[int, str]]  # another command on the same program
    before: dict[Path, bytes] = field(default_factory=dict)  # every file, before the run

    def unchanged(self, path: Path) -> bool:
        return path.exists() and self.before.get(path) == path.read_bytes()

    def tab(self, name: str) -> list[list[Any]]:
        from python_calamine import CalamineWorkbook

        with self.program.dashboard.open("rb") as fh:
            return CalamineWorkbook.from_filelike(fh).get_sheet_by_name(name).to_python()

    def table(self, tab: str, first: str) -> list[dict[str, Any]]:
        """The rows of the table on ``tab`` whose header row holds ``first`` (below any
        intro line), each as a dict by header, up to the first blank row."""
        rows = self.tab(tab)
        start = next(i for i, row in enumerate(rows) if first in row)
        header = [str(v) for v in rows[start]]
        out = []
        for row in rows[start + 1:]:
            if not any(v not in ("", None) for v in row):
                break
            out.append(dict(zip(header, row, strict=False)))
        return out

    def flags(self) -> list[dict[str, Any]]:
        return self.table("Flags", "Code")

    def flag_codes(self, source: str | None = None) -> list[str]:
        return [f["Code"] for f in self.flags() if source is None or f["Source"] == source]

    def sources(self) -> dict[str, str]:
        """Each source's state, from the Sources tab."""
        return {str(row["Source"]): str(row["State"]) for row in self.table("Sources", "State")}

    def workbook_parts(self, path: Path) -> dict[str, bytes]:
        with zipfile.ZipFile(path) as zf:
            return {name: zf.read(name) for name in zf.namelist()}


# -- the cases ------------------------------------------------------------------------------------

def _expect_codes(*codes: str, source: str | None = None) -> Callable[[Outcome], None]:
    def check(o: Outcome) -> None:
        found = o.flag_codes(source)
        for code in codes:
            assert code in found, (code, found)
    return check


def _expect_failed(source: str, code: str = "unreadable-source") -> Callable[[Outcome], None]:
    def check(o: Outcome) -> None:
        assert o.sources().get(source) == "failed", o.sources()
        assert code in o.flag_codes(source)
        assert o.sources().get("team-a") == "ok"  # the good sources still count
    return check


def _expect_failed_or_flagged(source: str, code: str) -> Callable[[Outcome], None]:
    def check(o: Outcome) -> None:
        state = o.sources().get(source)
        assert state == "failed" or (state == "ok" and code in o.flag_codes(source)), (
            state, o.flag_codes(source))
    return check


def _expect_ok(*sources: str) -> Callable[[Outcome], None]:
    def check(o: Outcome) -> None:
        states = o.sources()
        for source in sources:
            assert states.get(source) == "ok", states
    return check


def _expect_refused(*words: str) -> Callable[[Outcome], None]:
    def check(o: Outcome) -> None:
        for word in words:
            assert word in o.output, o.output
    return check


def _expect_sources(*names: str) -> Callable[[Outcome], None]:
    def check(o: Outcome) -> None:
        assert sorted(o.sources()) == sorted(names), o.sources()
    return check


def _expect_one_of(source: str, *states: str) -> Callable[[Outcome], None]:
    def check(o: Outcome) -> None:
        assert o.sources().get(source) in states, o.sources()
    return check


def _both(*checks: Callable[[Outcome], None]) -> Callable[[Outcome], None]:
    def check(o: Outcome) -> None:
        for one in checks:
            one(o)
    return check


# malformed packages

def _xls_renamed_xlsx(p: Program) -> None:
    standard(p)
    real_xls(p.file("teams/old-format.xlsx"), team_tabs())
    p.sources.append(("team", "teams/old-format.xlsx", False))


def _xlsx_renamed_xls(p: Program) -> None:
    standard(p)
    p.team("teams/new-format.xls")


def _real_xls(p: Program) -> None:
    standard(p)
    real_xls(p.file("coaches/coach-b.xls"), coach_tabs(name="Lee Park"))
    p.sources.append(("coach", "coaches/coach-b.xls", False))


def _encrypted(p: Program) -> None:
    standard(p)
    encrypted_container(p.file("teams/locked.xlsx"))
    p.sources.append(("team", "teams/locked.xlsx", False))


def _truncated(p: Program) -> None:
    standard(p)
    path = p.team("teams/cut.xlsx")
    path.write_bytes(path.read_bytes()[:300])


def _sheet_not_xml(p: Program) -> None:
    standard(p)
    path = p.team("teams/bad-xml.xlsx")
    edit_parts(path, lambda parts: parts.__setitem__(
        "xl/worksheets/sheet2.xml", b"<worksheet><sheetData><row r='1'><c r='A1'>"))


def _no_workbook_part(p: Program) -> None:
    standard(p)
    path = p.team("teams/no-index.xlsx")
    edit_parts(path, lambda parts: parts.pop("xl/workbook.xml"))


def _small_bomb(p: Program) -> None:
    standard(p)
    path = p.team("teams/bomb.xlsx")
    edit_parts(path, lambda parts: parts.__setitem__("xl/padding.bin", bytes(3 << 20)))
    p.config_extra += "[limits]\nmax_uncompressed_mb = 2\n"


def _empty_xlsx(p: Program) -> None:
    standard(p)
    p.file("teams/empty.xlsx").write_bytes(b"")
    p.sources.append(("team", "teams/empty.xlsx", False))


def _html_xls(p: Program) -> None:
    standard(p)
    p.file("teams/export.xls").write_text("<html><table><tr><td>Week</td></tr></table></html>")
    p.sources.append(("team", "teams/export.xls", False))


def _modern_errors(p: Program) -> None:
    p.team()
    log = [TIME_HEADER] + [[START + timedelta(days=i), ErrorValue(err, "A1#"), "Modeling", ""]
                           for i, err in enumerate(MODERN_ERRORS)]
    log.append([START, 30, "Modeling", ""])
    p.coach(tabs=coach_tabs(time_log=log))


def _expect_modern_errors(o: Outcome) -> None:
    rows = [f for f in o.flags() if f["Code"] == "formula-error" and f["Source"] == "coach-a"]
    assert {f["Cell"] for f in rows} == {f"B{i}" for i in range(2, 2 + len(MODERN_ERRORS))}
    assert o.sources()["coach-a"] == "ok"


def _spill_in_team(p: Program) -> None:
    p.coach()
    weekly = weekly_rows(4) + [[5, START + timedelta(weeks=4), ErrorValue("#SPILL!", "A1#"),
                               "Spilled"]]
    p.team(tabs=team_tabs(weekly=weekly))


def _error_attributes_reordered(p: Program) -> None:
    p.coach()
    path = p.team(tabs=team_tabs(weekly=weekly_rows(3) + [
        [4, START + timedelta(weeks=3), ErrorValue("#CALC!", "1/0"), ""]]))

    def reorder(parts: dict[str, bytes]) -> None:
        xml = parts["xl/worksheets/sheet2.xml"].decode()
        parts["xl/worksheets/sheet2.xml"] = xml.replace('<c r="C5" t="e">',
                                                        '<c t="e" s="0" r="C5">').encode()
    edit_parts(path, reorder)


def _folder_loop(p: Program) -> None:
    p.team("src/team-a.xlsx", listed=False)
    p.coach("src/deep/coach-a.xlsx", listed=False)
    symlink(p.root / "src", p.root / "src" / "deep" / "back")
    p.sources.append(("auto", "src/**/*.xlsx", False))


def _expect_counted_once(o: Outcome) -> None:
    states = o.sources()
    assert sorted(states) == ["coach-a", "team-a"], states
    assert "source-loop" in o.flag_codes()
    rows = o.tab("Coach Time")
    total = next(i for i, v in enumerate(rows[1]) if v == "Minutes, whole program")
    minutes = []
    for r in rows[2:]:  # the per-coach table, down to its end (tables by period follow)
        if len(r) <= total or r[total] in ("", None):
            break
        minutes.append(r[total])
    assert minutes == [19 * 45], minutes  # 19 entries of 45 minutes, once


def _linked_file(p: Program) -> None:
    p.team("src/team-a.xlsx", listed=False)
    path = p.coach("src/coach-a.xlsx", listed=False)
    symlink(path, p.root / "src" / "coach-link.xlsx")
    p.sources.append(("auto", "src/", False))


def _listed_twice(p: Program) -> None:
    standard(p)
    p.sources.append(("coach", "coaches/coach-a.xlsx", False))


def _non_utf8_name(p: Program) -> None:
    p.team()
    path = p.coach("coaches/x.xlsx", listed=False)
    os.rename(path, os.fsencode(p.root / "coaches") + b"/caf\xe9-coach.xlsx")
    p.sources.append(("coach", "coaches/", False))


def _folder_named_xlsx(p: Program) -> None:
    standard(p)
    (p.root / "teams" / "archive.xlsx").mkdir()
    (p.root / "teams" / "~$team-a.xlsx").write_bytes(b"lock")
    p.sources[0] = ("team", "teams/", False)


def _no_content_types(p: Program) -> None:
    standard(p)
    path = p.team("teams/no-types.xlsx")
    edit_parts(path, lambda parts: parts.pop("[Content_Types].xml"))


def _dangling_link(p: Program) -> None:
    standard(p)
    os.symlink(p.root / "nowhere.xlsx", p.root / "teams" / "gone.xlsx")
    p.sources[0] = ("team", "teams/", False)


MALFORMED = (
    Case("xls-renamed-xlsx", "malformed package",
         "a real .xls saved with an .xlsx name is read as what its bytes are",
         _xls_renamed_xlsx, expect=_expect_ok("old-format", "team-a")),
    Case("xlsx-renamed-xls", "malformed package",
         "an .xlsx package with an .xls name is read as what its bytes are",
         _xlsx_renamed_xls, expect=_expect_ok("new-format")),
    Case("real-xls", "malformed package", "a real .xls coach workbook is read",
         _real_xls, expect=_expect_ok("coach-b")),
    Case("encrypted", "malformed package",
         "a password-protected workbook fails visibly; the others are read",
         _encrypted, expect=_expect_failed("locked")),
    Case("truncated", "malformed package", "a truncated package fails visibly",
         _truncated, expect=_expect_failed("cut")),
    Case("sheet-not-xml", "malformed package",
         "a sheet part that is not XML fails its workbook visibly", _sheet_not_xml,
         expect=_expect_failed("bad-xml")),
    Case("no-workbook-part", "malformed package",
         "a package without its workbook part fails, or is read with its tabs reported missing",
         _no_workbook_part, expect=_expect_failed_or_flagged("no-index", "missing-tab")),
    Case("small-bomb", "malformed package",
         "a package over [limits] max_uncompressed_mb is refused as too large", _small_bomb,
         expect=_expect_failed("bomb", "source-too-large")),
    Case("empty-file", "malformed package", "a 0-byte .xlsx fails visibly", _empty_xlsx,
         expect=_expect_failed("empty")),
    Case("html-as-xls", "malformed package", "a web page named .xls fails visibly", _html_xls,
         expect=_expect_failed("export")),
    Case("modern-errors", "malformed package",
         "each Excel 365 error value is a formula-error at its cell; the workbook is read",
         _modern_errors, expect=_expect_modern_errors),
    Case("spill-in-team", "malformed package",
         "a #SPILL! weekly value is a formula-error; the tracker is read", _spill_in_team,
         expect=_both(_expect_codes("formula-error", source="team-a"), _expect_ok("team-a"))),
    Case("error-attributes-reordered", "malformed package",
         "an error cell written with its attributes in another order is still found",
         _error_attributes_reordered, expect=_expect_codes("formula-error", source="team-a")),
    Case("folder-loop", "malformed package",
         "a folder link back into a ** glob: each workbook counted once, and a source-loop flag",
         _folder_loop, expect=_expect_counted_once),
    Case("linked-file", "malformed package",
         "a link to a workbook in the same folder: read once", _linked_file,
         expect=_expect_sources("coach-a", "team-a")),
    Case("listed-twice", "malformed package",
         "a workbook listed by two entries is read once", _listed_twice,
         expect=_expect_sources("coach-a", "team-a")),
    Case("non-utf8-name", "malformed package",
         "a file name that is not valid UTF-8 is read, shown with U+FFFD", _non_utf8_name,
         expect=_expect_ok("caf\ufffd-coach")),
    Case("folder-named-xlsx", "malformed package",
         "a folder named like a workbook and an Excel lock file are not sources",
         _folder_named_xlsx,
         expect=_expect_sources("coach-a", "team-a")),
    Case("no-content-types", "malformed package",
         "a package without [Content_Types].xml is read or fails visibly, never crashes",
         _no_content_types,
         expect=_expect_one_of("no-types", "ok", "failed")),
    Case("dangling-link", "malformed package", "a link to nothing in a folder is passed over",
         _dangling_link, expect=_expect_ok("team-a", "coach-a")),
)


# hostile text (privacy and extreme numbers included)

HOSTILE_NAMES = {
    "control": "Grade\x0b4\x01 pasted\x0cfrom Word",
    "formula": "=HYPERLINK(\"http://x.test\",\"click\")",
    "escape": "Team _x000B_ literally",
    "xml": "<Team> & \"Co\" ]]> 'quoted'",
    "unicode": "\u05e2\u05d1\u05e8\u05d9\u05ea \u200b\u200d \U0001f600 caf\u00e9",
    "lines": "Line one\r\nLine two\rthree",
}


def _hostile_team(field_name: str, text: str) -> Callable[[Program], None]:
    def build(p: Program) -> None:
        p.coach()
        p.team(tabs=team_tabs(goal={field_name: text}, weekly=weekly_rows(8, tried=text)))
    return build


def _chart_titles(o: Outcome) -> list[str]:
    titles = []
    for name, data in o.workbook_parts(o.program.dashboard).items():
        if name.startswith("xl/charts/chart"):
            # As a person reads them: XML's own escapes (&lt; for <) count as one character.
            titles += [html.unescape(t.decode())
                       for t in re.findall(rb"<a:t>([^<]*)</a:t>", data)]
    return titles


def _expect_clean_titles(o: Outcome) -> None:
    titles = _chart_titles(o)
    assert titles, "no chart was drawn"
    for title in titles:
        assert len(title) <= 60, title
        assert not any(unicodedata.category(ch) in ("Cc", "Cs") for ch in title), title


def _expect_literal(text: str, tab: str = "Dashboard") -> Callable[[Outcome], None]:
    def check(o: Outcome) -> None:
        shown = {str(v) for row in o.tab(tab) for v in row}
        assert any(text in v for v in shown), text
    return check


def _long_team(p: Program) -> None:
    p.coach()
    p.team(tabs=team_tabs(goal={"Team": "T" * 40_000, "Metric": "M" * 5_000}))


def _private_in(column: str, value: Any, tab: str = "Relationships") -> Callable[[Program], None]:
    """A coach typed private text into a column that is not marked private."""
    def build(p: Program) -> None:
        p.team()
        tabs = coach_tabs()
        for t in tabs:
            if t.name == tab:
                header = list(t.rows[0])
                rows = [list(r) + [None] * (len(header) - len(r)) for r in t.rows]
                if column not in header:
                    header.append(column)
                    rows = [r + [None] for r in rows]
                rows[0] = header
                rows[1][header.index(column)] = value
                tabs[tabs.index(t)] = Tab(t.name, rows)
        p.coach(tabs=tabs, write_back=True)
    return build


SIDE_DOOR = "asked about Oakenshield's medical leave"


def _expect_quoted_only_to_the_coach(o: Outcome) -> None:
    """The full quote reaches the coach's own flags tab and validate's output, not leaders."""
    code, output = o.invoke("validate", "--json")
    assert SIDE_DOOR in output, output[-2000:]
    coach = o.program.root / "coaches" / "coach-a.xlsx"
    from python_calamine import CalamineWorkbook

    with coach.open("rb") as fh:
        own = CalamineWorkbook.from_filelike(fh).get_sheet_by_name("Sheetsync Flags").to_python()
    assert any(SIDE_DOOR in str(v) for row in own for v in row)


def _private_header(p: Program) -> None:
    p.team()
    rel = [RELATIONSHIP_HEADER + ["Oakenshield medical leave"],
           ["T. One", "Yes", START, "", "x"]]
    p.coach(tabs=coach_tabs(relationships=rel))


def _private_tab_name(kind: str) -> Callable[[Program], None]:
    def build(p: Program) -> None:
        p.team()
        tabs = [Tab("Oakenshield medical leave", [["Teacher"], ["T. One"]])]
        p.coach(tabs=tabs, kind=kind)
    return build


def _team_shares(p: Program) -> None:
    p.coach()
    p.team(tabs=team_tabs(weekly=weekly_rows(8, tried="Reading buddies at lunch")))


def _extreme_team(p: Program) -> None:
    p.coach()
    weekly = [["Week", "Week Of", "Value"]] + [
        [w, START + timedelta(weeks=w - 1), v]
        for w, v in enumerate([1e308, -1e308, 5, 1e308, 1e308, 1e308, 1e308, 1e308], 1)]
    p.team(tabs=team_tabs(goal={"Unit": "count", "Baseline": -1e308, "Target": 1e308},
                          weekly=weekly))


def _expect_not_met(o: Outcome) -> None:
    status = [r for r in o.table("Dashboard", "Reason and suggestion") if r["Team"] == "Grade 4"]
    assert status and status[0]["Status"] != "Met", status
    assert "out-of-range" in o.flag_codes("team-a")


def _extreme_minutes(p: Program) -> None:
    p.team()
    log = [TIME_HEADER, [START, 1e308, "Modeling", ""], [START, "1e400", "Modeling", ""],
           [START, -1e308, "Modeling", ""], [START, 45, "Modeling", ""]]
    p.coach(tabs=coach_tabs(time_log=log))


def _long_tried(p: Program) -> None:
    p.coach()
    p.team(tabs=team_tabs(weekly=weekly_rows(8, tried="=cmd|' /C calc'!A0 " + "w" * 40_000)))


def _extreme_counts(p: Program) -> None:
    p.team()
    cycles = [CYCLE_HEADER, ["T. A", START, "Act", 1e300, -1e300],
              ["T. B", START, "Plan", "1e308", 5], ["T. C", START, "Reflect", 10**30, 2]]
    rel = [RELATIONSHIP_HEADER + ["Delight", "Engagement"],
           ["T. A", "Yes", START, "", 1e308, -1e308]]
    p.coach(tabs=coach_tabs(cycles=cycles, relationships=rel))


HOSTILE = (
    *(Case(f"hostile-{label}-team", "hostile text",
           f"a Team name with {label} text: the dashboard is well-formed, no formula, titles clean",
           _hostile_team("Team", text), expect=_expect_clean_titles)
      for label, text in HOSTILE_NAMES.items()),
    Case("hostile-control-school-metric", "hostile text",
         "control characters in School and Metric reach no XML part raw",
         lambda p: (p.coach(), p.team(tabs=team_tabs(goal={
             "School": "Sch\x01ool\x0b", "Metric": "Met\x0bric\x1f"})))[-1],
         expect=_expect_clean_titles),
    Case("hostile-escape-shown-literally", "hostile text",
         "a literal _x000B_ typed in a Team name is shown as typed",
         _hostile_team("Team", "Team _x000B_ literally"),
         expect=_expect_literal("_x000B_")),
    Case("hostile-40000-char-team", "hostile text",
         "a 40,000-character Team name: chart titles cut to at most 60 characters",
         _long_team, expect=_expect_clean_titles),
    Case("hostile-long-what-we-tried", "hostile text",
         "a 40,000-character formula-like What We Tried is cut, flagged and stays text",
         _long_tried, expect=_expect_codes("cell-too-long", source="team-a")),
    Case("side-door-last-contact", "hostile text",
         "private text in Last Contact: Flags names the cell, never the text",
         _private_in("Last Contact", SIDE_DOOR), expect=_expect_quoted_only_to_the_coach),
    Case("side-door-minutes", "hostile text", "private text in Minutes stays off leader tabs",
         _private_in("Minutes", SIDE_DOOR, "Time Log"),
         expect=_expect_quoted_only_to_the_coach),
    Case("side-door-date", "hostile text", "private text in a time-log Date stays off leader tabs",
         _private_in("Date", SIDE_DOOR, "Time Log"), expect=_expect_quoted_only_to_the_coach),
    Case("side-door-activity", "hostile text", "private text in Activity stays off leader tabs",
         _private_in("Activity", SIDE_DOOR, "Time Log"),
         expect=_expect_quoted_only_to_the_coach),
    Case("side-door-phase", "hostile text", "private text in a cycle's Phase stays off leader tabs",
         _private_in("Phase", SIDE_DOOR, "Coaching Cycles"),
         expect=_expect_quoted_only_to_the_coach),
    Case("side-door-start-date", "hostile text",
         "private text in a cycle's Start Date stays off leader tabs",
         _private_in("Start Date", SIDE_DOOR, "Coaching Cycles"),
         expect=_expect_quoted_only_to_the_coach),
    Case("side-door-header", "hostile text",
         "private text as an unknown column header stays off leader tabs", _private_header,
         expect=_expect_codes("unknown-column", source="coach-a")),
    Case("side-door-tab-name-auto", "hostile text",
         "private text as the only tab of an auto source stays off the Dashboard's notes",
         _private_tab_name("auto"), expect=_expect_codes("unknown-kind")),
    Case("side-door-tab-name-coach", "hostile text",
         "private text as a tab name stays out of the missing-tab hint on Flags",
         _private_tab_name("coach"), expect=_expect_codes("missing-tab", source="coach-a")),
    Case("team-what-we-tried-shared", "hostile text",
         "a team's What We Tried, written to be shared, stays on the Weekly Update",
         _team_shares, expect=_expect_literal("Reading buddies at lunch", "Weekly Update")),
    Case("extreme-team-figures", "hostile text",
         "a -1e308 baseline and a 1e308 target: not Met, flagged out of range, no warning",
         _extreme_team, expect=_expect_not_met),
    Case("extreme-counts", "hostile text",
         "1e300 next steps and 1e308 ratings are flagged out of range, never counted",
         _extreme_counts, expect=_expect_codes("out-of-range", source="coach-a")),
    Case("extreme-minutes", "hostile text",
         "1e308 and -1e308 minutes are flagged, never summed", _extreme_minutes,
         expect=_expect_codes("out-of-range", source="coach-a")),
)


# config

def _config(program: str = "", extra: str = "") -> Callable[[Program], None]:
    def build(p: Program) -> None:
        standard(p)
        p.program_extra += program
        p.config_extra += extra
    return build


def _config_replacing(old: str, new: str) -> Callable[[Program], None]:
    def build(p: Program) -> None:
        standard(p)
        p.write_config()
        text = p.config.read_text(encoding="utf-8")
        assert old in text, old
        p.config_text = text.replace(old, new, 1)
    return build


def _config_error(name: str, must: str, build: Callable[[Program], None], *words: str,
                  args: tuple[str, ...] = ()) -> Case:
    return Case(name, "config", must, build, exits=(2,), args=args,
                expect=_expect_refused(*words))


def _output_into(relative: str, *, link: bool = False, entry: str | None = None
                 ) -> Callable[[Program], None]:
    def build(p: Program) -> None:
        standard(p)
        if entry is not None:
            p.sources[0] = ("auto", entry, False)
        if link:
            symlink(p.root / relative, p.root / "out" / "link.xlsx")
    return build


def _latin1_config(p: Program) -> None:
    standard(p)
    p.write_config()
    text = p.config.read_text(encoding="utf-8").replace("Adversarial program", "Caf\u00e9")
    p.config_bytes = text.encode("latin-1")


def _output_in_glob(p: Program) -> None:
    standard(p)
    p.sources[1] = ("coach", "coaches/**/*.xlsx", False)
    p.output = "coaches/deep/dashboard.xlsx"


CONFIG = (
    _config_error("program-not-a-table", "[program] given as text names the section",
                  _config_replacing('[program]\nname = "Adversarial program"\n'
                                    'as_of = "2026-11-04"\ntimezone = "America/New_York"\n',
                                    'program = "oops"\n'),
                  "[program] must be a table"),
    _config_error("name-is-a-table", "a table where text is expected names the key",
                  _config_replacing('name = "Adversarial program"', "name = { first = 1 }"),
                  "[program].name"),
    _config_error("activity-without-name", "an activity without a name names the key",
                  _config(extra='[[activities.activity]]\ngroup = "Other duties"\n'),
                  "[activities].activity[0].name"),
    _config_error("activity-unknown-key", "an unknown key in an activity names it",
                  _config(extra='[[activities.activity]]\nname = "Bus duty"\n'
                                'group = "Other duties"\ncolour = "red"\n'), "'colour'"),
    _config_error("stale-days-inf", "stale_contact_days = inf is refused, naming the key",
                  _config(extra="[thresholds]\nstale_contact_days = inf\n"),
                  "stale_contact_days"),
    _config_error("projection-margin-nan", "projection_margin = nan is refused, naming the key",
                  _config(extra="[thresholds]\nprojection_margin = nan\n"), "projection_margin"),
    _config_error("share-target-1.5", "a share above 1 is refused with its range",
                  _config(extra="[thresholds]\ncoaching_share_target = 1.5\n"),
                  "coaching_share_target", "between 0.0 and 1.0"),
    _config_error("timezone-5000", "a 5,000-character timezone is refused, naming the key",
                  _config_replacing('timezone = "America/New_York"',
                                    f'timezone = "{"X" * 5000}"'), "[program].timezone"),
    _config_error("as-of-year-1-flag", "--as-of 0001-01-01 is refused, naming the option",
                  _config(), "--as-of", args=("--as-of", "0001-01-01")),
    _config_error("as-of-year-9999-flag", "--as-of 9999-12-31 is refused, naming the option",
                  _config(), "--as-of", args=("--as-of", "9999-12-31")),
    _config_error("as-of-year-1-config", "as_of = 0001-01-01 in the config is refused",
                  _config_replacing('as_of = "2026-11-04"', "as_of = 0001-01-01"),
                  "[program].as_of"),
    _config_error("alias-unknown-column", "an unknown column key in [aliases.columns] is named",
                  _config(extra='[aliases.columns]\nminuets = ["Mins spent"]\n'), "minuets"),
    _config_error("alias-unknown-tab", "an unknown tab name in [aliases.tabs] is named",
                  _config(extra='[aliases.tabs]\n"Time Logs" = "Minutes Log"\n'), "Time Logs"),
    _config_error("alias-wrong-type", "a number where header texts are expected is named",
                  _config(extra="[aliases.columns]\nminutes = 5\n"), "[aliases.columns]"),
    _config_error("write-back-text", "write_back = \"yes\" is refused, naming the key",
                  _config_replacing("kind = \"team\"\n", "kind = \"team\"\nwrite_back = \"yes\"\n"),
                  "sources[0].write_back"),
    _config_error("max-cells-negative", "a negative [limits] max_cells is refused",
                  _config(extra="[limits]\nmax_cells = -1\n"), "[limits].max_cells"),
    _config_error("extra-times-text", "extra_times given as text, not a list, is named",
                  _config(extra='[schedule]\nextra_times = "02:00"\n'),
                  "[schedule].extra_times"),
    _config_error("workers-absurd", "a billion workers is refused", _config(
        extra="[run]\nworkers = 1000000000\n"), "[run].workers"),
    _config_error("challenge-weeks-0", "challenge_weeks = 0 is refused",
                  _config(program="challenge_weeks = 0\n"), "[program].challenge_weeks"),
    _config_error("state-dir-number", "state_dir = 5 is refused",
                  _config_replacing('state_dir = "state"', "state_dir = 5"),
                  "[output].state_dir"),
    _config_error("output-into-source", "--output onto a team tracker is refused; it is unchanged",
                  _output_into("teams/team-a.xlsx"), "never writes", args=(
                      "--output", "{root}/teams/team-a.xlsx")),
    _config_error("output-into-auto-folder", "--output inside an auto sources folder is refused",
                  _output_into("", entry="teams/"), "never writes", args=(
                      "--output", "{root}/teams/dashboard.xlsx")),
    _config_error("output-through-link", "--output through a link to a source is refused",
                  _output_into("coaches/coach-a.xlsx", link=True), "never writes",
                  args=("--output", "{root}/out/link.xlsx")),
    _config_error("output-in-glob", "[output].path inside a ** glob of sources is refused",
                  _output_in_glob, "never writes"),
    _config_error("config-not-utf8", "a config saved as Latin-1 is refused, saying so",
                  _latin1_config, "UTF-8"),
    _config_error("config-empty-source-path", "an empty source path is refused",
                  _config_replacing('path = "teams/team-a.xlsx"', 'path = ""'),
                  "sources[0].path"),
    Case("hostile-program-name", "config",
         "a program name with control characters and a leading = is shown as text",
         _config_replacing('name = "Adversarial program"',
                           'name = "=cmd\\u000b\\u0001 program"'),
         expect=_expect_literal("=cmd")),
)


# process faults

def _expect_dashboard_unchanged(*words: str) -> Callable[[Outcome], None]:
    def check(o: Outcome) -> None:
        assert o.unchanged(o.program.dashboard), "the dashboard changed"
        for word in words:
            assert word in o.output, o.output
    return check


def _state_is_a_file(p: Program) -> None:
    standard(p)
    p.file("state").write_text("not a folder")


def _lock_file(p: Program) -> None:
    p.file("out/~$dashboard.xlsx").write_bytes(b"owner")


def _expect_kept(o: Outcome) -> None:
    assert o.unchanged(o.program.dashboard), "the dashboard changed"
    assert "kept as it is" in " ".join(o.output.split()), o.output  # however the line wraps


def _read_only(p: Program) -> None:
    p.dashboard.chmod(0o444)


def _garbage_cache(p: Program) -> None:
    for entry in (p.root / "state" / "cache").glob("*.pkl"):
        entry.write_bytes(b"\x80\x04garbage" + bytes(50))
    snapshot = p.root / "state" / "snapshot.pkl"
    if snapshot.exists():
        snapshot.write_bytes(snapshot.read_bytes()[:100])


def _text_dashboard(p: Program) -> None:
    standard(p)
    p.file(p.output).write_text("Quarterly notes, not a workbook.\n")


def _nested_output(p: Program) -> None:
    standard(p)
    p.output = "reports/2026/fall/dashboard.xlsx"


def _leftover_temps(p: Program) -> None:
    standard(p)
    old = p.file("out/.~sheetsync-0123456789ab.xlsx.tmp")
    old.write_bytes(b"PK\x03\x04 half a file")
    two_days_ago = time.time() - 2 * 24 * 3600
    os.utime(old, (two_days_ago, two_days_ago))
    p.file("out/.~sheetsync-00000000beef.xlsx.tmp").write_bytes(b"PK\x03\x04 being written")
    p.file("coaches/.~sheetsync-ba9876543210.xlsx.tmp").write_bytes(b"PK\x03\x04 half")
    p.sources[1] = ("coach", "coaches/", False)


def _expect_leftovers_cleared(o: Outcome) -> None:
    _expect_sources("coach-a", "team-a")(o)
    out = o.program.root / "out"
    assert not (out / ".~sheetsync-0123456789ab.xlsx.tmp").exists()  # a day old: cleared
    assert (out / ".~sheetsync-00000000beef.xlsx.tmp").exists()  # may be another run's


def _dashboard_is_folder(p: Program) -> None:
    standard(p)
    (p.root / "out" / "dashboard.xlsx").mkdir(parents=True)


def _dashboard_link(p: Program) -> None:
    standard(p)
    p.output = "out/link.xlsx"
    (p.root / "elsewhere").mkdir()
    symlink(p.root / "elsewhere" / "real.xlsx", p.root / "out" / "link.xlsx")


def _expect_link_kept(o: Outcome) -> None:
    link = o.program.root / "out" / "link.xlsx"
    assert link.is_symlink() and (o.program.root / "elsewhere" / "real.xlsx").is_file()


PROCESS = (
    Case("state-dir-is-a-file", "process fault",
         "a state folder that is a file: the run cannot take its lock and says so, exit 2",
         _state_is_a_file, exits=(2,), expect=_expect_refused("state")),
    # The next night (another as-of date), so the dashboard has to be rewritten.
    Case("dashboard-open-in-excel", "process fault",
         "the dashboard's Excel lock file is present: nothing is written, exit 2",
         standard, exits=(2,), dashboard_first=True, before_run=_lock_file,
         args=("--as-of", "2026-11-05"), expect=_expect_dashboard_unchanged("open")),
    Case("dashboard-read-only", "process fault",
         "a read-only dashboard is left unchanged, exit 2", standard, exits=(2,),
         dashboard_first=True, before_run=_read_only, args=("--as-of", "2026-11-05"),
         expect=_expect_dashboard_unchanged("read-only")),
    Case("dashboard-open-nothing-changed", "process fault",
         "the dashboard is open in Excel but nothing changed: it is kept as it is, exit 0",
         standard, exits=(0, 1), dashboard_first=True, before_run=_lock_file,
         expect=_expect_kept),
    Case("damaged-cache", "process fault",
         "damaged parse-cache entries and a cut snapshot are discarded, never trusted",
         standard, dashboard_first=True, before_run=_garbage_cache,
         expect=_expect_ok("team-a", "coach-a")),
    Case("dashboard-is-text", "process fault",
         "an output path holding a text file is not overwritten, exit 2", _text_dashboard,
         exits=(2,), expect=_expect_dashboard_unchanged("not")),
    Case("nested-output", "process fault", "a missing output folder is created",
         _nested_output, expect=_expect_ok("team-a", "coach-a")),
    Case("leftover-temp-files", "process fault",
         "temporary files killed runs left are never read as sources, and cleared after a day",
         _leftover_temps, expect=_expect_leftovers_cleared),
    Case("dashboard-is-a-folder", "process fault",
         "an output path that is a folder: a clear refusal, exit 2", _dashboard_is_folder,
         exits=(2,)),
    Case("dashboard-through-link", "process fault",
         "a dashboard path that is a link: the file it points at is written, the link kept",
         _dashboard_link, expect=_expect_link_kept),
)


# write-back integrity

def _write_back(p: Program, tabs: list[Tab] | None = None, relative: str = "coaches/coach-a.xlsx"
                ) -> Path:
    p.team()
    return p.coach(relative, tabs=tabs, write_back=True)


def _bad_cells_log() -> list[list[Any]]:
    return [TIME_HEADER, [START, "lots", "Modeling", ""], ["Sept 31", 30, "Modeling", ""],
            [START, 45, "Obsrvation", ""]]


def _owned_elsewhere(p: Program) -> None:
    path = _write_back(p, coach_tabs(time_log=_bad_cells_log()))
    os.chown(path, 1234, 2345)
    path.chmod(0o640)


def _expect_owner_kept(o: Outcome) -> None:
    path = o.program.root / "coaches" / "coach-a.xlsx"
    info = path.stat()
    assert (info.st_uid, info.st_gid, info.st_mode & 0o777) == (1234, 2345, 0o640)
    assert not o.unchanged(path)  # the flags were written


def _source_unchanged(relative: str, code: str = "writeback-failed") -> Callable[[Outcome], None]:
    def check(o: Outcome) -> None:
        assert o.unchanged(o.program.root / relative), "the source changed"
        assert code in o.flag_codes(), o.flag_codes()
    return check


def _read_only_source(p: Program) -> None:
    _write_back(p, coach_tabs(time_log=_bad_cells_log())).chmod(0o444)


def _source_open(p: Program) -> None:
    _write_back(p, coach_tabs(time_log=_bad_cells_log()))
    p.file("coaches/~$coach-a.xlsx").write_bytes(b"owner")


def _xls_named_xlsx_write_back(p: Program) -> None:
    p.team()
    real_xls(p.file("coaches/coach-a.xlsx"), coach_tabs(time_log=_bad_cells_log()))
    p.sources.append(("coach", "coaches/coach-a.xlsx", True))


def _non_utf8_write_back(p: Program) -> None:
    p.team()
    path = p.coach("coaches/x.xlsx", tabs=coach_tabs(time_log=_bad_cells_log()), listed=False)
    os.rename(path, os.fsencode(p.root / "coaches") + b"/\xe9t\xe9.xlsx")
    p.sources.append(("coach", "coaches/", True))


def _expect_flags_written() -> Callable[[Outcome], None]:
    def check(o: Outcome) -> None:
        folder = o.program.root / "coaches"
        changed = [path for path in folder.iterdir() if path.suffix == ".xlsx"
                   and not o.unchanged(path)]
        assert changed, "no flags were written"
        for path in changed:
            with zipfile.ZipFile(path) as zf:
                assert b"Sheetsync Flags" in zf.read("xl/workbook.xml")
    return check


def _hostile_cells_write_back(p: Program) -> None:
    log = [TIME_HEADER, [START, "=1+1\x0b", "@SUM(A1)", "\x01"],
           ["+cmd|' /C calc'!A0", 30, "-2+3", ""], [START, "<&>]]>", "Modeling", ""]]
    _write_back(p, coach_tabs(time_log=log))


def _linked_write_back(p: Program) -> None:
    p.team()
    real = p.coach("archive/coach-a.xlsx", tabs=coach_tabs(time_log=_bad_cells_log()),
                   listed=False)
    symlink(real, p.root / "coaches" / "coach-a.xlsx")
    p.sources.append(("coach", "coaches/coach-a.xlsx", True))


def _expect_link_and_flags(o: Outcome) -> None:
    link = o.program.root / "coaches" / "coach-a.xlsx"
    assert link.is_symlink()
    assert not o.unchanged(o.program.root / "archive" / "coach-a.xlsx")


def _users_flags_tab(p: Program) -> None:
    _write_back(p, [*coach_tabs(time_log=_bad_cells_log()),
                    Tab("Sheetsync Flags", [["My own list"], ["keep me"]])])


def _ods_write_back(p: Program) -> None:
    from tests.corpus.bad_inputs import ods_bytes

    p.team()
    p.file("coaches/coach-a.ods").write_bytes(ods_bytes(coach_tabs(time_log=_bad_cells_log())))
    p.sources.append(("coach", "coaches/coach-a.ods", True))


def _second_write(p: Program) -> None:
    _write_back(p, coach_tabs(time_log=_bad_cells_log()))


WRITE_BACK = (
    Case("write-back-keeps-owner", "write-back",
         "write-back into a file owned by another user keeps its owner, group and mode",
         _owned_elsewhere, expect=_expect_owner_kept, root_only=True),
    Case("write-back-read-only", "write-back",
         "a read-only coach workbook is left unchanged, with a writeback-failed flag",
         _read_only_source, expect=_source_unchanged("coaches/coach-a.xlsx")),
    Case("write-back-open-in-excel", "write-back",
         "a coach workbook open in Excel is left unchanged, with a flag", _source_open,
         expect=_source_unchanged("coaches/coach-a.xlsx")),
    Case("write-back-xls-named-xlsx", "write-back",
         "a real .xls named .xlsx is read, and left unchanged by write-back",
         _xls_named_xlsx_write_back,
         expect=_both(_expect_ok("coach-a"), _source_unchanged("coaches/coach-a.xlsx"))),
    Case("write-back-non-utf8-name", "write-back",
         "write-back into a file whose name is not valid UTF-8 works", _non_utf8_write_back,
         expect=_expect_flags_written()),
    Case("write-back-hostile-cells", "write-back",
         "flags quoting control characters and formula-like text stay text, well-formed",
         _hostile_cells_write_back, expect=_expect_flags_written()),
    Case("write-back-through-link", "write-back",
         "a linked coach workbook: the file it points at takes the flags, the link stays",
         _linked_write_back, expect=_expect_link_and_flags),
    Case("write-back-users-own-tab", "write-back",
         "a tab of the coach's own named Sheetsync Flags is never overwritten",
         _users_flags_tab, expect=_source_unchanged("coaches/coach-a.xlsx")),
    Case("write-back-ods", "write-back",
         "an .ods source cannot take flags: it is unchanged, with a notice",
         _ods_write_back,
         expect=_source_unchanged("coaches/coach-a.ods", "writeback-unsupported")),
    Case("write-back-nothing-new", "write-back",
         "a second run with the same flags leaves the coach workbook byte-identical",
         _second_write, dashboard_first=True,
         expect=lambda o: _source_unchanged("coaches/coach-a.xlsx", "bad-number")(o)),
)


# a leader's own tabs

def _add_calc_tab(p: Program) -> None:
    edit_parts(p.dashboard, lambda parts: add_worksheet(
        parts, "My calc", LEADER_CALC_SHEET, extra_parts={"xl/metadata.xml": (
            DYNAMIC_ARRAY_METADATA, f"{NS_REL}/sheetMetadata",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheetMetadata+xml")}))


def _expect_calc_kept(o: Outcome) -> None:
    assert o.tab("My calc")[0][:4] == [3.0, 6.0, "total 3", 1.0], o.tab("My calc")
    parts = o.workbook_parts(o.program.dashboard)
    assert "xl/metadata.xml" in parts
    sheet = next(data for name, data in parts.items()
                 if name.startswith("xl/worksheets/") and b"SORT(A1:A2)" in data)
    assert b'cm="1"' in sheet and b"<v>6</v>" in sheet and b"<v>#DIV/0!</v>" in sheet


def _saved_by_a_person(p: Program, change: Callable[[Any], None]) -> None:
    from openpyxl import load_workbook

    book = load_workbook(p.dashboard)
    change(book)
    book.properties.lastModifiedBy = "A. Leader"
    book.save(p.dashboard)


def _note_on_dashboard(p: Program) -> None:
    from openpyxl.comments import Comment

    _saved_by_a_person(p, lambda book: setattr(book["Dashboard"]["B2"], "comment",
                                               Comment("Ask about Cedar Grove", "A. Leader")))


def _typed_into_flags(p: Program) -> None:
    _saved_by_a_person(p, lambda book: book["Flags"].cell(row=3, column=12,
                                                          value="called the school"))


def _typed_then_a_failed_run(p: Program) -> None:
    """A person types into the Dashboard; then a failed run stamps the workbook (its Run Log)."""
    from sheetsync.config import load_config
    from sheetsync.pipeline import record_failure

    _saved_by_a_person(p, lambda book: book["Dashboard"].cell(row=2, column=20,
                                                              value="ask about week 6"))
    record_failure(load_config(p.config), "the shared drive was not reachable")


def _manifest_deleted(p: Program) -> None:
    _saved_by_a_person(p, lambda book: book.remove(book["_sheetsync"]))


def _users_chart(p: Program) -> None:
    from openpyxl.chart import BarChart, Reference

    def add(book: Any) -> None:
        sheet = book.create_sheet("My chart")
        for row in ([1, 2], [3, 4]):
            sheet.append(row)
        chart = BarChart()
        chart.add_data(Reference(sheet, min_col=1, min_row=1, max_row=2))
        sheet.add_chart(chart, "D2")
    _saved_by_a_person(p, add)


def _someone_elses_workbook(p: Program) -> None:
    standard(p)
    write_xlsx(p.file(p.output), [Tab("Dashboard", [["Our own dashboard"], [1, 2, 3]])])


def _value_metadata(p: Program) -> None:
    sheet = LEADER_CALC_SHEET.replace('<c r="A1"><v>3</v></c>', '<c r="A1" vm="1"><v>3</v></c>')
    edit_parts(p.dashboard, lambda parts: add_worksheet(parts, "Pictures", sheet))


def _plain_own_tab(p: Program) -> None:
    def add(book: Any) -> None:
        sheet = book.create_sheet("Notes")
        sheet.append(["Meeting", date(2026, 10, 1), 3.5, "=\"their own formula\""])
        sheet.append(["Follow up", None, 1, "x"])
    _saved_by_a_person(p, add)


def _expect_own_tab(o: Outcome) -> None:
    rows = o.tab("Notes")
    assert rows[0][0] == "Meeting" and rows[0][2] == 3.5 and rows[1][0] == "Follow up", rows


def _resaved(p: Program) -> None:
    _saved_by_a_person(p, lambda book: None)


LEADER = (
    Case("leader-cached-results", "leader tabs",
         "a leader's tab keeps its formulas' cached results and its dynamic array",
         standard, dashboard_first=True, before_run=_add_calc_tab, expect=_expect_calc_kept),
    Case("leader-note-on-dashboard", "leader tabs",
         "a note added to the managed Dashboard tab stops the write, naming the tab",
         standard, exits=(2,), dashboard_first=True, before_run=_note_on_dashboard,
         expect=_expect_dashboard_unchanged("'Dashboard'", "notes")),
    Case("leader-typed-into-flags", "leader tabs",
         "text typed into the managed Flags tab stops the write, naming the cell",
         standard, exits=(2,), dashboard_first=True, before_run=_typed_into_flags,
         expect=_expect_dashboard_unchanged("'Flags'", "L3")),
    Case("leader-typed-then-failed-run", "leader tabs",
         "text typed into the Dashboard is still noticed after a failed run wrote the Run Log",
         standard, exits=(2,), dashboard_first=True, before_run=_typed_then_a_failed_run,
         expect=_expect_dashboard_unchanged("'Dashboard'", "T2")),
    Case("leader-manifest-deleted", "leader tabs",
         "a deleted manifest tab gives a message that says so, not one about charts",
         standard, exits=(2,), dashboard_first=True, before_run=_manifest_deleted,
         expect=_both(_expect_dashboard_unchanged("'_sheetsync'", "is gone"),
                      lambda o: _refuse_absent(o, "chart"))),
    Case("leader-chart", "leader tabs",
         "a leader's tab with a chart: the write is refused, naming the tab; nothing changes",
         standard, exits=(2,), dashboard_first=True, before_run=_users_chart,
         expect=_expect_dashboard_unchanged("'My chart'", "chart")),
    Case("someone-elses-workbook", "leader tabs",
         "an output that is someone's workbook with a Dashboard tab is not overwritten",
         _someone_elses_workbook, exits=(2,), expect=_expect_dashboard_unchanged("'Dashboard'")),
    Case("leader-pictures-in-cells", "leader tabs",
         "a leader's tab with pictures in cells (value metadata) is refused, not dropped",
         standard, exits=(2,), dashboard_first=True, before_run=_value_metadata,
         expect=_expect_dashboard_unchanged("'Pictures'")),
    Case("leader-own-tab-kept", "leader tabs",
         "a leader's plain tab keeps its values through the rewrite", standard,
         dashboard_first=True, before_run=_plain_own_tab, expect=_expect_own_tab),
    Case("leader-resaved-unchanged", "leader tabs",
         "a dashboard saved again without edits is rewritten (no false alarm)", standard,
         dashboard_first=True, before_run=_resaved, expect=_expect_ok("team-a", "coach-a")),
)


def _refuse_absent(o: Outcome, word: str) -> None:
    assert word not in o.output, o.output


CASES: tuple[Case, ...] = (*MALFORMED, *HOSTILE, *CONFIG, *PROCESS, *WRITE_BACK, *LEADER)

"""The adversarial corpus (``tests/corpus/adversarial.py``), run case by case.

Each case runs ``sheetsync run`` on its own small program, in this process (the command line's
own code, through click's test runner), and must do what the case says. After every run, these
hold as well, and are tallied for the closing summary:

* **no traceback and no "unexpected error"**, and no numpy RuntimeWarning;
* **nothing lost**: no file is truncated; no source changes unless write-back is on for it, and
  a source that took a write-back keeps every part it had, outside the few a new tab touches;
  a dashboard that was refused is left as it was;
* **a well-formed dashboard**: when there is one, it opens in openpyxl and every XML part of it
  parses under lxml's strict parser;
* **no injected formula**: the only formulas on managed tabs are sheetsync's own, and flags
  written back into a source hold none;
* **no private value on a leader tab**: the words only coach workbooks hold never appear in a
  managed tab, a chart or the document properties.
"""

from __future__ import annotations

import os
import re
import warnings
import zipfile
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree

from sheetsync.cli import main
from tests.corpus.adversarial import CASES, CATEGORIES, Case, Outcome, Program

SHEETSYNC_FORMULAS = {"INDEX('Run Log'!A:A,COUNTA('Run Log'!A:A))"}
"""The formulas sheetsync itself writes on managed tabs."""
WRITE_BACK_PARTS = {"xl/workbook.xml", "xl/_rels/workbook.xml.rels", "[Content_Types].xml",
                    "xl/styles.xml"}
"""The parts of a source a write-back may change, besides the flags tab it adds."""

TALLY: Counter[str] = Counter()
STRICT = etree.XMLParser(recover=False, resolve_entities=False, no_network=True)


def _files(root: Path) -> dict[Path, bytes]:
    """Every file under ``root`` (the state folder aside), by path, with its bytes."""
    found = {}
    for folder, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if d != "state"]
        for name in names:
            if name.startswith(".~sheetsync-"):
                continue  # a temporary file, never anyone's data
            path = Path(os.fsdecode(folder)) / name
            if path.is_file():
                found[path] = path.read_bytes()
    return found


def _is_zip(data: bytes) -> bool:
    import io

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return zf.testzip() is None
    except (zipfile.BadZipFile, OSError, ValueError):
        return False


def _parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def _well_formed(path: Path) -> None:
    """The workbook opens in openpyxl and each XML part parses under a strict parser."""
    from openpyxl import load_workbook

    load_workbook(path).close()
    for name, data in _parts(path).items():
        if name.endswith((".xml", ".rels", ".vml")):
            etree.fromstring(data, STRICT)


def _managed_parts(path: Path) -> dict[str, bytes]:
    """The parts of the dashboard leaders see: managed tabs, their charts and drawings,
    shared strings and the document properties."""
    from python_calamine import CalamineWorkbook

    parts = _parts(path)
    with path.open("rb") as fh:
        manifest = CalamineWorkbook.from_filelike(fh).get_sheet_by_name("_sheetsync").to_python()
    managed = {str(row[1]) for row in manifest if row and row[0] == "managed_tab"}
    book = parts["xl/workbook.xml"].decode()
    rels = parts["xl/_rels/workbook.xml.rels"].decode()
    targets = dict(re.findall(r'Id="([^"]+)"[^>]*?Target="([^"]+)"', rels))
    targets.update({i: t for t, i in re.findall(r'Target="([^"]+)"[^>]*?Id="([^"]+)"', rels)})
    chosen = {}
    for name, rid in re.findall(r'<sheet [^>]*?name="([^"]*)"[^>]*?r:id="([^"]*)"', book):
        from html import unescape

        if unescape(name) in managed:
            part = "xl/" + targets[rid].lstrip("/").removeprefix("xl/")
            chosen[part] = parts[part]
    for name, data in parts.items():
        if name.startswith(("xl/charts/", "xl/drawings/", "docProps/")) or \
                name == "xl/sharedStrings.xml":
            chosen[name] = data
    return chosen


def _check_invariants(case: Case, program: Program, before: dict[Path, bytes], code: int,
                      output: str, caught: list[warnings.WarningMessage]) -> list[str]:
    """What must hold after every run; returns the tally keys that failed."""
    failed: list[str] = []
    if "Traceback" in output:
        failed.append("traceback")
    if "unexpected error" in output:
        failed.append("unexpected error")
    if any(issubclass(w.category, RuntimeWarning) for w in caught):
        failed.append("runtime warning")
    written_back = {(program.root / rel).resolve() for _, rel, wb in program.sources if wb
                    and "*" not in rel and not rel.endswith("/")}
    written_back |= {p.resolve() for p in before
                     if any(wb and rel.endswith("/") and str(p).startswith(
                         str(program.root / rel)) for _, rel, wb in program.sources)}
    dashboard = program.dashboard.resolve() if program.dashboard.exists() else None
    for path, old in before.items():
        if not path.exists():
            if path.resolve() != dashboard:
                failed.append("data loss")
            continue
        new = path.read_bytes()
        if new == old:
            continue
        if path.resolve() == dashboard or path.is_symlink() and path.resolve() == dashboard:
            if code == 2:
                failed.append("data loss")  # a refused write must leave the file alone
            continue
        if path.resolve() not in written_back or not _is_zip(new):
            failed.append("data loss")
            continue
        old_parts, new_parts = _parts_of(old), _parts(path)
        if any(name not in new_parts or (name not in WRITE_BACK_PARTS
                                         and new_parts[name] != data)
               for name, data in old_parts.items()):
            failed.append("data loss")
        try:
            _well_formed(path)
        except Exception:
            failed.append("malformed write-back")
        flags_parts = [data for name, data in new_parts.items() if name not in old_parts]
        if any(b"<f>" in data or b"<f " in data for data in flags_parts):
            failed.append("injected formula")
    if dashboard is not None and program.dashboard.is_file() and (
            code != 2 or before.get(program.dashboard) is None):
        try:
            _well_formed(program.dashboard)
        except Exception as exc:  # noqa: BLE001 - any failure to open counts
            failed.append(f"malformed dashboard: {type(exc).__name__}")
        else:
            leader = _managed_parts(program.dashboard)
            formulas = {f.decode() for name, data in leader.items()
                        if name.startswith("xl/worksheets/")
                        for f in re.findall(rb"<f\b[^>]*>([^<]*)</f>", data)}
            from html import unescape

            if {unescape(f) for f in formulas} - SHEETSYNC_FORMULAS:
                failed.append("injected formula")
            text = b"".join(leader.values()).decode("utf-8", "replace")
            if any(word in text for word in program.private):
                failed.append("private value on a leader tab")
    return failed


def _parts_of(data: bytes) -> dict[str, bytes]:
    import io

    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def _invoke(runner: CliRunner, program: Program, *args: str) -> tuple[int, str, list]:
    argv = [a.replace("{root}", str(program.root)) for a in args]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = runner.invoke(main, argv, catch_exceptions=True)
    output = result.output
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        import traceback

        output += "Traceback\n" + "".join(traceback.format_exception(result.exception))
    return result.exit_code, output, list(caught)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_adversarial_case(case: Case, tmp_path: Path) -> None:
    if case.root_only and os.geteuid() != 0:
        pytest.skip("giving a file to another user needs root")
    program = Program(tmp_path)
    case.build(program)
    program.write_config()
    runner = CliRunner()
    config = ["--config", str(program.config)]
    if case.dashboard_first:
        code, output, _ = _invoke(runner, program, "run", *config)
        assert code in (0, 1), output
    if case.before_run is not None:
        case.before_run(program)
    before = _files(tmp_path)
    code, output, caught = _invoke(runner, program, "run", *config, *case.args)
    failed = _check_invariants(case, program, before, code, output, caught)
    TALLY["cases"] += 1
    TALLY.update(failed)
    assert not failed, (failed, output[-3000:])
    assert code in case.exits, (code, output[-3000:])
    if case.expect is not None:
        outcome = Outcome(program, code, output,
                          lambda *args: _invoke(runner, program, *args, *config)[:2], before)
        case.expect(outcome)


def test_the_corpus_covers_every_class_with_at_least_60_cases() -> None:
    counts = Counter(case.category for case in CASES)
    assert len(CASES) >= 60 and set(counts) == set(CATEGORIES), counts
    assert all(n >= 5 for n in counts.values()), counts
    assert len({case.name for case in CASES}) == len(CASES)
    assert all(case.must for case in CASES)


def test_zz_summary_every_count_is_zero(capsys: pytest.CaptureFixture[str]) -> None:
    """The closing tally (runs after the cases in this module): every count must be 0."""
    if not TALLY["cases"]:
        pytest.skip("the cases were not run (deselected)")
    bad = {key: n for key, n in TALLY.items() if key != "cases"}
    with capsys.disabled():
        print(f"\nadversarial corpus: {TALLY['cases']} cases run; tracebacks "
              f"{TALLY['traceback']}, unexpected errors {TALLY['unexpected error']}, data loss "
              f"{TALLY['data loss']}, injected formulas {TALLY['injected formula']}, private "
              f"values on a leader tab {TALLY['private value on a leader tab']}")
    assert not any(bad.values()), bad

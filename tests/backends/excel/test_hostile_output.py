"""What reaches the XML of a written workbook outside its cells is cleaned like cell text, and a
replaced file keeps its owner, or is not replaced at all."""

from __future__ import annotations

import os
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import etree

from sheetsync.backends.excel.atomic import OwnerNotKept, keep_owner
from sheetsync.backends.excel.ooxml import MAX_LABEL_CHARS, clean_label, is_valid_tab_name
from sheetsync.backends.excel.writer import write_workbook
from sheetsync.report.model import Chart, Sheet, Table

STRICT = etree.XMLParser(recover=False, resolve_entities=False)


@pytest.mark.parametrize("text, expected", [
    ("Grade\x0b4", "Grade 4"),
    ("Line one\r\nLine two", "Line one Line two"),
    ("bell\x07 and nul\x00", "bell and nul"),
    ("Sch\x01ool", "School"),
    ("half \ud800 surrogate", "half surrogate"),
    ("  spaced\t\tout  ", "spaced out"),
    ("caf\u00e9 \U0001f600", "caf\u00e9 \U0001f600"),
])
def test_a_label_holds_no_character_xml_cannot_carry(text: str, expected: str) -> None:
    assert clean_label(text) == expected


def test_a_long_label_is_cut_with_an_ellipsis() -> None:
    label = clean_label("T" * 40_000)
    assert len(label) == MAX_LABEL_CHARS and label.endswith("\u2026")


@pytest.mark.parametrize("name", ["Tab\x0bname", "Tab\x00", "Time\nLog"])
def test_a_tab_name_with_a_control_character_is_not_valid(name: str) -> None:
    assert not is_valid_tab_name(name)


def test_chart_and_axis_titles_are_cleaned_and_cut(tmp_path: Path) -> None:
    table = Table(columns=["Week", "Value"], rows=[[w, w * 2.5] for w in range(1, 6)],
                  title="Team\x0b4 " + "x" * 40_000)
    chart = Chart(kind="line", title="Grade\x0b4\x01 " + "T" * 40_000, table=table,
                  category_column="Week", series_columns=["Value"], anchor="E1",
                  y_title="Metric\x0c" + "m" * 500)
    path = tmp_path / "dashboard.xlsx"
    write_workbook(path, [Sheet("Dashboard", tables=[table], charts=[chart])],
                   now=datetime(2026, 11, 4, tzinfo=UTC))
    with zipfile.ZipFile(path) as zf:
        charts = [zf.read(n) for n in zf.namelist() if n.startswith("xl/charts/")]
        for name in zf.namelist():
            if name.endswith((".xml", ".rels")):
                etree.fromstring(zf.read(name), STRICT)
    titles = [t.text for data in charts
              for t in etree.fromstring(data, STRICT).iter("{*}t")]
    assert titles and all(len(t) <= MAX_LABEL_CHARS and t.isprintable() for t in titles)
    assert any(t.startswith("Grade 4 TTT") for t in titles)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0,
                    reason="giving a file to another user needs root")
def test_a_file_whose_owner_cannot_be_kept_is_not_replaced() -> None:
    """Run as a user who may not give files away, replacing another user's file would hand it
    to that user: the replacement is refused instead."""
    import tempfile

    with tempfile.TemporaryDirectory() as shared:  # reachable by another user, unlike tmp_path
        _refused_as_another_user(Path(shared))


def _refused_as_another_user(folder: Path) -> None:
    folder.chmod(0o777)
    theirs = folder / "coach.xlsx"
    theirs.write_bytes(b"their workbook")
    os.chown(theirs, 1234, 1234)
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.setgid(4321)
            os.setuid(4321)
            temp = folder / "new.tmp"
            temp.write_bytes(b"new content")
            try:
                keep_owner(temp, theirs.stat())
            except OwnerNotKept:
                code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert theirs.read_bytes() == b"their workbook" and theirs.stat().st_uid == 1234

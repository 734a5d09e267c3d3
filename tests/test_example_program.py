"""The bundled example program validates to exactly its deliberate findings, at their cells."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from sheetsync.backends.excel.reader import read_excel
from sheetsync.backends.excel.templates import write_templates
from sheetsync.config import load_config
from sheetsync.pipeline import resolve_as_of, validate
from sheetsync.schema import load_schema
from sheetsync.validation import ValidationContext, validate_workbook
from tests import REPO

EXAMPLES = REPO / "sheet_templates" / "examples"


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    config = load_config(REPO / "config" / "example.toml")
    # keep the parse cache out of the repo's out/ folder
    from dataclasses import replace
    state = tmp_path_factory.mktemp("state")
    config = replace(config, output=replace(config.output, state_dir=state))
    return validate(config, resolve_as_of(config, None))


def test_every_source_is_read(example):
    assert len(example.sources) == 10
    assert all(s.state == "ok" for s in example.sources)
    assert len(example.frames["goals"]) == 6
    assert example.frames["goals"]["school"].nunique() == 3
    assert len(example.frames["coaches"]) == 4


def test_deliberate_errors_are_found_at_their_cells(example):
    expected = json.loads((EXAMPLES / "expected_findings.json").read_text())
    got = {(Path(f.file).relative_to(EXAMPLES).as_posix(), f.tab, f.cell, f.code)
           for f in example.findings}
    for item in expected:
        assert (item["file"], item["tab"], item["cell"], item["code"]) in got, item


def test_the_messiness_itself_is_not_an_error(example):
    expected = {(e["file"], e["cell"]) for e in
                json.loads((EXAMPLES / "expected_findings.json").read_text())}
    unexpected = [f for f in example.findings
                  if f.severity.value == "error"
                  and (Path(f.file).relative_to(EXAMPLES).as_posix(), f.cell) not in expected]
    assert unexpected == []


def test_messy_values_are_read_as_meant(example):
    weekly = example.frames["weekly"]
    goals = example.frames["goals"].set_index("source")
    attendance = weekly[weekly["source"] == "cedar-grove-grade5-attendance"]
    assert goals.loc["cedar-grove-grade5-attendance", "unit"] == "count"
    assert (attendance["value"].dropna() <= 47).all()
    literacy = weekly[weekly["source"] == "cedar-grove-grade3-literacy"]
    assert literacy["value"].dropna().between(0.6, 0.9).all()  # "71%", 0.72 and 72 alike
    assert goals.loc["riverside-grade7-lunchtime", "direction"] == "decrease"
    log = example.frames["time_log"]
    assert log["minutes"].notna().all() and (log["minutes"] > 0).all()
    assert set(log["activity_group"]) <= {"Coaching with teachers", "Collaborative",
                                          "Other duties", "Unknown"}


def test_blank_templates_round_trip_with_zero_findings(tmp_path):
    paths = write_templates(tmp_path)
    ctx = ValidationContext(as_of=__import__("datetime").date(2026, 11, 4))
    for path, kind in zip(paths, ("team", "coach"), strict=True):
        raw = read_excel(path)
        result = validate_workbook(raw, load_schema(kind), source=path.stem, ctx=ctx)
        assert result.findings == [], result.findings


def test_validate_command_prints_findings_and_exits_1(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "sheetsync", "validate", "--config",
                           str(REPO / "config" / "example.toml"), "--json"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr
    payload = json.loads(proc.stdout)
    assert payload["summary"]["error"] >= 6
    codes = {f["code"] for f in payload["findings"]}
    assert {"bad-date", "formula-error", "duplicate-week", "out-of-range"} <= codes


def test_validate_counts_in_words_with_singular_and_plural():
    from click.testing import CliRunner

    from sheetsync.cli import main

    result = CliRunner().invoke(main, ["validate", "--config",
                                       str(REPO / "config" / "example.toml")])
    assert result.exit_code == 1
    last = " ".join(result.output.split("\n")[-2].split())
    assert last == "10 sources (10 ok): 6 errors, 1 warning, 1 info in the files"

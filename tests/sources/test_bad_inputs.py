"""The bad-input corpus through the whole pipeline: findings or "could not read", never a traceback.

Each corpus file (see ``tests/corpus/bad_inputs.py``) is run next to a good team tracker and a
good coach workbook from the example program. It must give findings, or one clear error saying
it could not be read, and the good sources' data must still reach the dashboard. The command
line is run on the whole corpus at once, and the ``[limits]`` of the config refuse zip bombs and
oversize files.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import tracemalloc
from datetime import date, datetime
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

from sheetsync.analytics.program import analyse
from sheetsync.backends.excel.reader import ReadLimits, read_excel
from sheetsync.backends.excel.writeback import write_flags_tab
from sheetsync.config import Config, load_config
from sheetsync.dataset import ProgramData
from sheetsync.findings import CODES, Severity
from sheetsync.pipeline import run, thresholds_for, validate
from sheetsync.report.dashboard import build_sheets

try:  # pytest puts either the repo root or tests/ on sys.path, depending on the layout
    from tests.corpus.bad_inputs import (
        BAD_INPUTS,
        BIG_LOG_ROWS,
        LYING_BOMB_MB,
        BadInput,
        bomb_package,
        build_bad_corpus,
        corpus_size,
    )
except ModuleNotFoundError:  # pragma: no cover - depends on how pytest was started
    from corpus.bad_inputs import (  # type: ignore[no-redef]
        BAD_INPUTS,
        BIG_LOG_ROWS,
        LYING_BOMB_MB,
        BadInput,
        bomb_package,
        build_bad_corpus,
        corpus_size,
    )

from tests import REPO

EXAMPLES = REPO / "sheet_templates" / "examples"
AS_OF = date(2026, 11, 4)
GOOD_TEAM = "cedar-grove-grade3-literacy"
GOOD_COACH = "renata-okafor"
GOOD_SCHOOL = "Cedar Grove Elementary"
GOOD_COACH_NAME = "Renata Okafor"


# -- fixtures --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def corpus_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Path], float]:
    """The corpus, and the seconds it took to generate."""
    started = time.perf_counter()
    paths = build_bad_corpus(tmp_path_factory.mktemp("bad-corpus"))
    return paths, time.perf_counter() - started


@pytest.fixture(scope="module")
def corpus(corpus_build) -> dict[str, Path]:
    return corpus_build[0]


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Copies of one good team tracker and one good coach workbook."""
    folder = tmp_path_factory.mktemp("good")
    return {
        "team": Path(shutil.copy2(EXAMPLES / "teams" / f"{GOOD_TEAM}.xlsx", folder)),
        "coach": Path(shutil.copy2(EXAMPLES / "coaches" / f"{GOOD_COACH}.xlsx", folder)),
    }


@pytest.fixture(scope="module")
def shared_state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One parse cache for the module, so the good sources are parsed once."""
    return tmp_path_factory.mktemp("state")


def write_config(folder: Path, sources: list[tuple[str, Path]], *, state: Path,
                 limits: str = "", write_back: bool = False) -> Path:
    """A config file listing ``sources`` as (kind, path), writing into ``folder``."""
    entries = "".join(
        f'[[sources]]\nkind = "{kind}"\npath = "{path}"\n'
        + ("write_back = true\n" if write_back else "") for kind, path in sources)
    text = (f'[program]\nname = "Corpus program"\nas_of = "{AS_OF.isoformat()}"\n'
            f'timezone = "America/New_York"\n\n{entries}\n'
            f'[output]\npath = "{folder / "dashboard.xlsx"}"\nstate_dir = "{state}"\n')
    if limits:
        text += f"\n[limits]\n{limits}\n"
    path = folder / "sheetsync.toml"
    path.write_text(text)
    return path


def with_good(good: dict[str, Path], *extra: tuple[str, Path]) -> list[tuple[str, Path]]:
    return [("team", good["team"]), ("coach", good["coach"]), *extra]


def main_rows(data: ProgramData, source: str, kind: str) -> int:
    """Rows a source gives the rollup: weekly values for a team, time entries for a coach."""
    frame = data.frames["weekly" if kind == "team" else "time_log"]
    return int((frame["source"] == source).sum())


def table_rows(sheet, title: str) -> list[list]:
    return next(t.rows for t in sheet.tables if t.title == title)


# -- the corpus itself -----------------------------------------------------------------------------

def test_the_corpus_is_small_fast_to_build_and_covers_every_class(corpus_build):
    corpus, seconds = corpus_build
    files, size = corpus_size(corpus)
    assert files == len(BAD_INPUTS) >= 30
    assert len({i.stem for i in BAD_INPUTS}) == files  # one source name per file
    assert size < 4 * 1024 * 1024  # the zip bombs included
    assert seconds < 10
    assert {i.category for i in BAD_INPUTS} == {"structure", "cells", "broken"}
    assert {Path(n).suffix for n in corpus} == {".xlsx", ".xls", ".ods"}
    for item in BAD_INPUTS:
        assert set(item.expect) <= set(CODES) and (item.unreadable is None
                                                   or item.unreadable in CODES
                                                   or item.unreadable == "unknown-kind")


# -- each file, next to good sources ---------------------------------------------------------------

@pytest.mark.parametrize("item", BAD_INPUTS, ids=lambda i: i.name)
def test_each_bad_input_gives_findings_or_could_not_read(item: BadInput, corpus, good,
                                                        shared_state, tmp_path):
    config = load_config(write_config(tmp_path, with_good(good, (item.kind, corpus[item.name])),
                                      state=shared_state))
    data = validate(config, AS_OF)
    status = {s.name: s for s in data.sources}
    mine = [f for f in data.findings if f.source == item.stem]
    if item.unreadable:
        assert status[item.stem].state == "failed"
        assert [f.code for f in mine] == [item.unreadable]
        failure = mine[0]
        assert failure.severity is Severity.ERROR and failure.hint
        assert item.name in failure.message and "Traceback" not in failure.message
        if item.unreadable == "unknown-kind":  # the Dashboard's note does not list their tabs
            assert "tabs" not in status[item.stem].message
        else:
            assert status[item.stem].message == failure.message
    else:
        assert status[item.stem].state == "ok"
        assert {f.code for f in mine} >= set(item.expect), [f.code for f in mine]
        for f in mine:
            assert f.message and f.hint and f.code in CODES
            assert f.tab or f.code in ("missing-tab", "unknown-kind")
    if item.rows is not None:
        assert main_rows(data, item.stem, item.kind) == item.rows

    # the rest of the run goes on: the good sources' figures reach the leaders' tabs
    assert status[GOOD_TEAM].state == status[GOOD_COACH].state == "ok"
    analysis = analyse(data.frames, AS_OF, thresholds_for(config),
                       groups=config.activities.groups, column_of=data.column_of)
    data.findings.extend(analysis.flags)
    sheets = build_sheets(config, data, analysis, as_of=AS_OF,
                          generated_at=datetime(2026, 11, 5, 2), duration_s=1.0)
    dashboard = sheets[0]
    assert any(r[2] == GOOD_SCHOOL for r in table_rows(dashboard, "Teams"))
    assert any(r[1] == GOOD_COACH_NAME for r in table_rows(dashboard, "Coaches"))
    tab = next(s for s in sheets if s.name == "Sources")
    sources = {r[1]: r[0] for r in tab.tables[0].rows}
    assert sources[item.stem] == status[item.stem].state  # visible, never dropped
    if status[item.stem].state == "failed" and item.kind in ("team", "coach"):
        # and on the Dashboard, as a red row of its kind
        rows = table_rows(dashboard, "Teams" if item.kind == "team" else "Coaches")
        assert ["File failed", item.stem] in [r[:2] for r in rows]
    if not item.unreadable:
        # every bad input says something somewhere: a finding, or an analytic flag
        assert [f for f in data.findings if f.source == item.stem]


def test_hidden_rows_are_read_like_any_other(corpus, good, shared_state, tmp_path):
    config = load_config(write_config(tmp_path, [("team", corpus["hidden-rows.xlsx"])],
                                      state=shared_state))
    data = validate(config, AS_OF)
    weekly = data.frames["weekly"]
    assert sorted(weekly["week"].tolist()) == [1, 2, 3, 4]  # rows 3 and 4 of the sheet are hidden


def test_the_100k_row_time_log_is_summed_exactly(corpus, shared_state, tmp_path):
    config = load_config(write_config(tmp_path, [("coach", corpus["time-log-100k-rows.xlsx"])],
                                      state=shared_state))
    data = validate(config, AS_OF)
    log = data.frames["time_log"]
    assert len(log) == BIG_LOG_ROWS
    assert log["minutes"].sum() == 30 * BIG_LOG_ROWS
    analysis = analyse(data.frames, AS_OF, thresholds_for(config), groups=config.activities.groups)
    assert analysis.coaches.time["minutes_total"].sum() == 30 * BIG_LOG_ROWS


def test_year_9999_and_pre_1900_dates_are_findings_at_their_cells(corpus, shared_state, tmp_path):
    sources = [("coach", corpus["year-9999.xlsx"]), ("coach", corpus["dates-before-1900.xlsx"])]
    data = validate(load_config(write_config(tmp_path, sources, state=shared_state)),
                            AS_OF)
    cells = {(f.source, f.cell) for f in data.findings if f.code == "bad-date"}
    assert cells == {("year-9999", "A2"), ("year-9999", "A3"), ("year-9999", "A4"),
                     ("dates-before-1900", "A2"), ("dates-before-1900", "A3"),
                     ("dates-before-1900", "A4"), ("dates-before-1900", "A5")}
    # the one good row of each is kept, with its date
    log = data.frames["time_log"]
    assert log["date"].notna().all() and len(log) == 2


# -- the command line on the whole corpus ----------------------------------------------------------

@pytest.fixture(scope="module")
def corpus_config(corpus, good, shared_state, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("cli")
    entries = [(item.kind, corpus[item.name]) for item in BAD_INPUTS]
    return write_config(folder, with_good(good, *entries), state=shared_state)


def sheetsync(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sheetsync", *args], capture_output=True,
                          text=True, timeout=240, cwd=REPO)


def test_cli_validate_on_the_whole_corpus_reports_without_a_traceback(corpus_config):
    proc = sheetsync("validate", "--json", "--config", str(corpus_config))
    assert "Traceback" not in proc.stdout + proc.stderr
    assert proc.returncode == 2, proc.stderr  # documented: some sources could not be read
    payload = json.loads(proc.stdout)
    states = {s["name"]: s["state"] for s in payload["sources"]}
    assert len(states) == len(BAD_INPUTS) + 2
    codes: dict[str, set[str]] = {}
    for f in payload["findings"]:
        codes.setdefault(f["source"], set()).add(f["code"])
    for item in BAD_INPUTS:
        if item.unreadable:
            assert states[item.stem] == "failed" and codes[item.stem] == {item.unreadable}
        else:
            assert states[item.stem] == "ok" and codes.get(item.stem, set()) >= set(item.expect)
    assert states[GOOD_TEAM] == states[GOOD_COACH] == "ok"


def test_cli_run_on_the_whole_corpus_writes_the_good_data(corpus_config):
    proc = sheetsync("run", "--config", str(corpus_config))
    assert "Traceback" not in proc.stdout + proc.stderr
    assert proc.returncode == 1, proc.stderr  # documented: it ran, with data errors
    dashboard = corpus_config.parent / "dashboard.xlsx"
    book = CalamineWorkbook.from_path(str(dashboard))
    rows = book.get_sheet_by_name("Dashboard").to_python()
    assert GOOD_SCHOOL in [r[2] for r in rows] and GOOD_COACH_NAME in [r[1] for r in rows]
    sources = book.get_sheet_by_name("Sources").to_python()
    failed = {r[1] for r in sources if r[0] == "failed"}
    assert failed == {i.stem for i in BAD_INPUTS if i.unreadable}
    flags = book.get_sheet_by_name("Flags").to_python()
    header = flags[1]
    code, source = header.index("Code"), header.index("Source")
    assert {(r[code], r[source]) for r in flags[2:]} >= {(i.unreadable, i.stem)
                                                         for i in BAD_INPUTS if i.unreadable}


# -- limits ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("limits, words", [
    ("max_file_mb = 1", "over the 1 MB limit"),
    ("max_uncompressed_mb = 5", "over the 5 MB limit"),
    ("max_cells = 100000", "more than 100,000 cells"),
])
def test_config_limits_refuse_oversize_files(limits, words, corpus, good, tmp_path):
    path = corpus["time-log-100k-rows.xlsx"]
    config = load_config(write_config(tmp_path, with_good(good, ("coach", path)),
                                      state=tmp_path / "state", limits=limits))
    started = time.perf_counter()
    data = validate(config, AS_OF, use_cache=False)
    refused = [f for f in data.findings if f.source == path.stem]
    assert [f.code for f in refused] == ["source-too-large"]
    assert words in refused[0].message and "[limits]" in refused[0].hint
    assert main_rows(data, GOOD_COACH, "coach") > 0  # the neighbours are read as usual
    if "cells" not in limits:
        assert time.perf_counter() - started < 2.5  # refused before parsing 100,000 rows


def test_the_default_limits_refuse_the_zip_bomb_before_unpacking_it(corpus):
    tracemalloc.start()
    try:
        with pytest.raises(Exception) as info:
            read_excel(corpus["zip-bomb.xlsx"], ReadLimits())
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert getattr(info.value, "code", None) == "source-too-large"
    assert peak < 16 * 1024 * 1024


def test_raising_the_limit_lets_a_large_file_through(corpus, tmp_path):
    config: Config = load_config(write_config(
        tmp_path, [("coach", corpus["time-log-100k-rows.xlsx"])], state=tmp_path / "s",
        limits="max_file_mb = 2\nmax_uncompressed_mb = 20\nmax_cells = 400000"))
    assert config.limits == ReadLimits(max_file_mb=2, max_uncompressed_mb=20, max_cells=400_000)
    raw = read_excel(corpus["time-log-100k-rows.xlsx"], config.limits)
    assert len(raw.tabs["Time Log"].rows) == BIG_LOG_ROWS + 1


def test_a_zip_bomb_that_lies_about_its_size_costs_little_memory(corpus):
    tracemalloc.start()
    try:
        with pytest.raises(Exception) as info:
            read_excel(corpus["zip-bomb-lying.xlsx"])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert getattr(info.value, "code", None) == "unreadable-source"
    assert peak < 32 * 1024 * 1024 < LYING_BOMB_MB * 1024 * 1024


def test_a_lying_bomb_in_a_part_the_reader_skips_is_refused_by_write_back(good, tmp_path):
    """Only write-back opens every part; it must not inflate the bomb, nor touch the file."""
    source = tmp_path / "bombed-team.xlsx"
    source.write_bytes(bomb_package("docProps/custom.xml", LYING_BOMB_MB, declared=1_000))
    before = source.read_bytes()
    tracemalloc.start()
    try:
        with pytest.raises(Exception) as info:
            write_flags_tab(source, ["Severity", "Message"], [["error", "x"]])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert getattr(info.value, "code", None) == "writeback-failed"
    assert peak < 32 * 1024 * 1024
    assert source.read_bytes() == before

    config = load_config(write_config(tmp_path, [("team", source)], state=tmp_path / "state",
                                      write_back=True))
    outcome = run(config, now=datetime(2026, 11, 5, 2))
    assert {s.name: s.state for s in outcome.data.sources} == {"bombed-team": "ok"}
    assert [f.code for f in outcome.data.findings if f.code.startswith("writeback")] == [
        "writeback-failed"]
    assert source.read_bytes() == before

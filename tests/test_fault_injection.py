"""Fault injection: ``sheetsync run`` killed (SIGKILL) at random points, dashboard and write-back.

A small program (a team tracker and two coach workbooks that take their flags back) is run in
a forked child, which is killed at a random moment: either at a random time within a whole run,
or a random few milliseconds after its first temporary file appears beside the file it is
replacing (the moment a write is under way). After every kill each file must be the old one or
a complete new one: byte-identical to before, or a workbook that opens, whose XML is
well-formed and which keeps every part it had (a source may only gain its flags tab). The next
run, not killed, must then succeed.

Forking the test process (everything already imported) rather than starting a new interpreter
keeps forty kills to a few seconds each.
"""

from __future__ import annotations

import io
import os
import random
import signal
import time
import zipfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from lxml import etree

from tests.corpus.adversarial import (
    START,
    TIME_HEADER,
    Program,
    coach_tabs,
    team_tabs,
    weekly_rows,
)

KILLS = 20  # kills of each kind
WRITE_BACK_PARTS = {"xl/workbook.xml", "xl/_rels/workbook.xml.rels", "[Content_Types].xml",
                    "xl/styles.xml"}

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")


def _log(coach: int) -> list[list]:
    rows = [TIME_HEADER]
    for i in range(150):
        minutes = "lots" if i % 50 == 0 else 15 + i % 4 * 15  # some flags to write back
        rows.append([START + timedelta(days=i % 60), minutes, "Modeling", f"T{coach}"])
    return rows


@pytest.fixture(scope="module")
def program(tmp_path_factory: pytest.TempPathFactory) -> Program:
    program = Program(tmp_path_factory.mktemp("faults"))
    program.team(tabs=team_tabs(weekly=weekly_rows(8)))
    for n in range(2):
        program.coach(f"coaches/coach-{n}.xlsx", tabs=coach_tabs(name=f"Coach {n}",
                                                                   time_log=_log(n)),
                      write_back=True)
    program.write_config()
    return program


def _run_child(config: Path) -> int:
    """Fork a child that runs ``sheetsync run``; returns its pid."""
    pid = os.fork()
    if pid == 0:  # the child: run, then leave without pytest's cleanup
        code = 3
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            from sheetsync.cli import main

            main(["run", "--config", str(config), "--no-cache"], standalone_mode=False)
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except BaseException:  # noqa: BLE001 - the parent checks the exit code
            code = 4
        finally:
            os._exit(code)
    return pid


def _temp_in(folder: Path) -> bool:
    try:
        return any(name.startswith(".~sheetsync-") for name in os.listdir(folder))
    except FileNotFoundError:
        return False


def _kill(pid: int, watch: Path, *, after: float | None = None,
          rng: random.Random) -> tuple[bool, bool]:
    """Kill the child ``after`` seconds, or (without ``after``) a few ms after a temporary file
    appears in ``watch``. Returns whether it was killed before it finished, and whether its
    writes into ``watch`` had begun when it was."""
    started = time.monotonic()
    seen = False  # a write into ``watch`` had begun
    while True:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done:
            return False, False
        seen = seen or _temp_in(watch)
        if after is not None and time.monotonic() - started >= after:
            break
        if after is None and seen:
            time.sleep(rng.uniform(0, 0.01))
            break
        if time.monotonic() - started > 60:
            break
        time.sleep(0.0005)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    return True, seen


def _complete(data: bytes) -> dict[str, bytes]:
    """The parts of a complete workbook (raises if it is not one)."""
    from openpyxl import load_workbook

    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert zf.testzip() is None
        parts = {name: zf.read(name) for name in zf.namelist()}
    load_workbook(io.BytesIO(data)).close()
    strict = etree.XMLParser(recover=False, resolve_entities=False)
    for name, part in parts.items():
        if name.endswith((".xml", ".rels")):
            etree.fromstring(part, strict)
    return parts


def _files(program: Program) -> dict[Path, bytes | None]:
    paths = [program.dashboard, *sorted((program.root / "coaches").glob("*.xlsx")),
             *sorted((program.root / "teams").glob("*.xlsx"))]
    return {p: p.read_bytes() if p.exists() else None for p in paths}


def _flags_part(parts: dict[str, bytes]) -> str | None:
    """The sheet part of the Sheetsync Flags tab, if the workbook has one."""
    import re

    book = parts["xl/workbook.xml"].decode()
    found = re.search(r'<sheet [^>]*name="Sheetsync Flags"[^>]*r:id="([^"]+)"', book)
    if found is None:
        return None
    rels = parts["xl/_rels/workbook.xml.rels"].decode()
    target = re.search(rf'<Relationship [^>]*Id="{found.group(1)}"[^>]*Target="([^"]+)"', rels) \
        or re.search(rf'<Relationship [^>]*Target="([^"]+)"[^>]*Id="{found.group(1)}"', rels)
    return "xl/" + target.group(1).lstrip("/").removeprefix("xl/") if target else None


def _old_or_new(before: dict[Path, bytes | None], program: Program) -> None:
    for path, old in before.items():
        new = path.read_bytes() if path.exists() else None
        if new == old:
            continue
        assert new is not None, f"{path.name} disappeared"
        parts = _complete(new)  # a new file must be a whole workbook
        if path == program.dashboard or old is None:
            continue
        assert path.parent.name == "coaches", f"{path.name} is not written back, yet changed"
        flags = _flags_part(parts)
        assert flags is not None, f"{path.name} changed without gaining its flags tab"
        for name, data in _complete(old).items():
            assert name in parts, f"{path.name} lost {name}"
            assert name in WRITE_BACK_PARTS | {flags} or parts[name] == data, (path.name, name)


def _forget_write_backs(program: Program) -> None:
    """So every run writes the flags back again (they did not change since the last run)."""
    from sheetsync.nightly.state import WRITEBACK_FILE

    (program.root / "state" / WRITEBACK_FILE).unlink(missing_ok=True)


def _kill_runs(program: Program, watch: Path, seed: int,
               setup: Callable[[], None] = lambda: None) -> tuple[int, int]:
    """Runs until twenty were killed before they finished (a run may end before its random
    moment comes); returns the kills, and how many of them came once writing had begun."""
    rng = random.Random(seed)
    setup()
    clean = _run_child(program.config)
    started = time.monotonic()
    os.waitpid(clean, 0)
    whole = time.monotonic() - started
    killed = mid_write = 0
    for i in range(3 * KILLS):
        if killed == KILLS:
            break
        setup()
        before = _files(program)
        pid = _run_child(program.config)
        cut, writing = _kill(pid, watch, after=rng.uniform(0.02, whole) if i % 2 else None,
                             rng=rng)
        killed += cut
        mid_write += writing
        _old_or_new(before, program)
        for leftover in watch.glob(".~sheetsync-*"):
            leftover.unlink()  # what a killed write leaves behind (hidden, never read)
    setup()
    pid = _run_child(program.config)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) in (0, 1)  # a run after the kills succeeds
    _complete(program.dashboard.read_bytes())
    return killed, mid_write


def test_killing_run_while_it_writes_the_dashboard_leaves_old_or_new(program: Program) -> None:
    killed, mid_write = _kill_runs(program, program.dashboard.parent, seed=16)
    assert killed == KILLS and mid_write >= KILLS // 4, (killed, mid_write)


def test_killing_run_while_it_writes_flags_back_leaves_old_or_new(program: Program) -> None:
    killed, mid_write = _kill_runs(program, program.root / "coaches", seed=61,
                                   setup=lambda: _forget_write_backs(program))
    assert killed == KILLS and mid_write >= KILLS // 4, (killed, mid_write)

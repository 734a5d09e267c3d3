"""Show that two versions of sheetsync write the same dashboard, part by part.

    .venv/bin/python bench/same_dashboard.py [--ref REV] [--program DIR] [--coaches N --teams M]

Builds the bundled example's dashboard, and a synthetic program's, once with the work tree and
once with the commit ``REV`` (default ``HEAD``, checked out into a temporary git worktree). Both
versions read the same source files, with the same as-of date and the same generation time, and
an empty cache. Every part of the two ``.xlsx`` packages is then compared byte for byte, after
one normalisation: the Run Log's "Duration (s)" cell, which is a measured time.

``--program DIR`` reuses a program written earlier by ``sheetsync bench --workdir DIR`` (its
``bench.toml``); otherwise one is generated with the work tree's generator, 200 coaches and 40
teams by default. Prints one line per part that differs and exits 1 if any does, else 0.

A restructure that claims "behaviour does not change" runs this against the commit before it.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Runs inside the version under test (PYTHONPATH points at its tree). The entry point has moved
# (``pipeline.run_program``, ``pipeline.run``, ``sheetsync.run``), so each is looked up.
_DRIVER = r"""
import sys
from datetime import datetime
from pathlib import Path

import sheetsync
from sheetsync import pipeline
from sheetsync.config import load_config

run = getattr(pipeline, "run_program", None) or getattr(pipeline, "run", None) or sheetsync.run

config = load_config(sys.argv[1])
now = datetime(2026, 11, 4, 6, 30, tzinfo=config.tz)
try:
    run(config, output=Path(sys.argv[2]), now=now, use_cache=False, take_lock=False)
except Exception as exc:  # the outcome's exit code does not matter here, only the file
    if not Path(sys.argv[2]).exists():
        raise
"""


def build(tree: Path, config: Path, out: Path) -> None:
    """Write ``out`` with the sheetsync found in ``tree``."""
    env = {**os.environ, "PYTHONPATH": str(tree), "SHEETSYNC_DEBUG": "1"}
    subprocess.run([sys.executable, "-c", _DRIVER, str(config), str(out)], env=env, check=True,
                   cwd=tree)


def _run_log_duration_cells(path: Path) -> tuple[str, set[str]]:
    """The Run Log's part name and the A1 refs of its "Duration (s)" cells."""
    import openpyxl

    book = openpyxl.load_workbook(path)
    sheet = book["Run Log"]
    column = next(c.column_letter for c in sheet[1] if c.value == "Duration (s)")
    refs = {f"{column}{r}" for r in range(2, sheet.max_row + 1)}
    index = book.sheetnames.index("Run Log")
    with zipfile.ZipFile(path) as package:
        rels = package.read("xl/_rels/workbook.xml.rels").decode()
        workbook = package.read("xl/workbook.xml").decode()
    rid = re.findall(r'<sheet\b[^>]*?r:id="([^"]+)"', workbook)[index]
    target = re.search(rf'Id="{rid}"[^>]*?Target="([^"]+)"|Target="([^"]+)"[^>]*?Id="{rid}"',
                       rels)
    assert target is not None
    part = (target.group(1) or target.group(2)).lstrip("/")
    return (part if part.startswith("xl/") else f"xl/{part}"), refs


def parts(path: Path) -> dict[str, bytes]:
    part, refs = _run_log_duration_cells(path)
    with zipfile.ZipFile(path) as package:
        found = {name: package.read(name) for name in package.namelist()}
    pattern = re.compile(rb'(<c r="(?P<ref>[A-Z]+\d+)"[^>]*>)<v>[^<]*</v>')
    found[part] = pattern.sub(
        lambda m: m.group(1) + b"<v>0</v>" if m.group("ref").decode() in refs else m.group(0),
        found[part])
    return found


def compare(a: Path, b: Path, label: str) -> int:
    old, new = parts(a), parts(b)
    differing = sorted(n for n in old.keys() | new.keys() if old.get(n) != new.get(n))
    for name in differing:
        print(f"{label}: {name} differs"
              + ("" if name in old and name in new else " (only in one)"))
    print(f"{label}: {len(old.keys() | new.keys()) - len(differing)} of "
          f"{len(old.keys() | new.keys())} parts identical")
    return len(differing)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ref", default="HEAD")
    parser.add_argument("--program", type=Path, default=None)
    parser.add_argument("--coaches", type=int, default=200)
    parser.add_argument("--teams", type=int, default=40)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="same-dashboard-") as tmp:
        work = Path(tmp)
        old_tree = work / "ref"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "--quiet",
                        str(old_tree), args.ref], check=True)
        try:
            programs = {"example": ROOT / "config" / "example.toml"}
            if args.program is not None:
                programs["synthetic"] = args.program.resolve() / "bench.toml"
            else:
                sys.path.insert(0, str(ROOT))
                from sheetsync.benchmark import generate_program

                programs["synthetic"] = generate_program(work / "program", coaches=args.coaches,
                                                         teams=args.teams).config
            differing = 0
            for label, config in programs.items():
                before, after = work / f"{label}-ref.xlsx", work / f"{label}-tree.xlsx"
                build(old_tree, config, before)
                build(ROOT, config, after)
                differing += compare(before, after, label)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force",
                            str(old_tree)], check=False)
    return 1 if differing else 0


if __name__ == "__main__":
    sys.exit(main())

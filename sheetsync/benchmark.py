"""``sheetsync bench``: time a full run on a seeded synthetic program, against the real peers.

The synthetic program is shaped like a district's or a state's: by default 1,000 coach
workbooks (about 40 time-log rows per coach per week, 30 relationships and 10 coaching cycles
each) and 200 team trackers over a 10-week challenge. Values are messy the way real ones are
(aliased headers, title rows above the header, percentages typed as text, fractions, dates as
text or serial numbers, yes/no as check marks, activity aliases, blank rows) and almost all
valid; a few cells per thousand hold the mistakes people make, so the Flags tab has work to do.

The workbooks are written by :func:`sheetsync.testing.workbooks.write_xlsx` rather than openpyxl:
generation is not what is measured, and it should take seconds, not minutes.

What is measured, each in a fresh Python process so peak memory is the run's own:

* the full run (:func:`sheetsync.pipeline.run`: read, validate, roll up, write) with an
  empty cache, after the process's imports, beside what a competent user would do to merely
  *read* the same files, measured pair by pair in the same run (each pair back to back, so a
  noisy machine slows both; the ratio is the median of the pairs' ratios):

  * the read floor: python-calamine, every sheet to Python lists, in 1 process;
  * polars ``read_excel`` (through fastexcel), every sheet, in 2 processes;
  * pandas ``read_excel(engine="calamine")``, every sheet, in 2 processes;

  polars and fastexcel are the optional ``bench`` extra; without them their row says so;
* the old naive baseline: pandas ``read_excel`` with openpyxl, once per tab (reading only);
* the nightly re-run as a whole process, ``sheetsync run`` started from the shell with its
  imports: with nothing changed, and with 1% of the coach workbooks changed;
* runs in a warm process (as in the long-running ``sheetsync schedule``): nothing changed,
  1% changed, and the next night (as-of date one day on, another 1% changed);
* the pure rollup of 1,000,000 time-log rows (:func:`sheetsync.analytics.time_rollup`);
* with ``scaling``, full runs at 100, 300 and 1,000 coach workbooks; with ``google``, the
  API calls of Google mode against the bundled fake API, and a run bound by the quota.
"""

from __future__ import annotations

import json
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from sheetsync.testing.workbooks import Percent, Serial, write_xlsx

if TYPE_CHECKING:
    import pandas as pd

START = date(2026, 9, 7)  # Monday of week 1
TIME_ROWS_PER_WEEK = 40
RELATIONSHIPS_PER_COACH = 30
CYCLES_PER_COACH = 10
ACTIONS_PER_TEAM = 8
ROLLUP_ROWS = 1_000_000
SCALING_COACHES = (100, 300, 1000)
CHANGED_SHARE = 0.01
REPEAT = 3
"""Pairs of (full run, peer) measured back to back; ratios are the median over the pairs."""
NIGHTLY_REPEAT = 5
PEERS = ("floor", "polars", "pandas-calamine")
PEER_LABELS = {
    "floor": "python-calamine, every sheet to Python lists, 1 process (the read floor)",
    "polars": "polars read_excel (fastexcel), every sheet, 2 processes",
    "pandas-calamine": 'pandas read_excel(engine="calamine"), every sheet, 2 processes',
}
BIG_PROGRAM = 3000
"""From this many coach workbooks on, the large-program targets apply (20 s, 1 GB)."""


@dataclass(frozen=True)
class Targets:
    """The targets for a program on a 2-core machine (see :meth:`for_program`)."""

    full_run_s: float = 15.0
    floor_ratio: float = 1.5  # full run / the calamine read floor, at most
    pandas_calamine_ratio: float = 1.0  # full run / pandas-calamine in 2 processes: below
    baseline_ratio: float = 4.0
    peak_rss_mb: float = 1536.0
    rerun_s: float = 2.0
    nightly_s: float = 1.0  # whole process, nothing changed
    nightly_changed_s: float = 1.2  # whole process, 1% changed
    rollup_s: float = 5.0
    google_ratio: float = 1.1  # quota-bound run / the quota's lower bound

    @classmethod
    def for_program(cls, coaches: int) -> Targets:
        """A large program (3,000 coaches and 600 teams) has its own: 20 s and 1 GB."""
        if coaches >= BIG_PROGRAM:
            return cls(full_run_s=20.0, peak_rss_mb=1024.0)
        return cls()


# -- the synthetic program -------------------------------------------------------------------------

FIRST_NAMES = ("Ana", "Ben", "Carla", "Dev", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jamal",
               "Kira", "Liam", "Maya", "Nia", "Omar", "Priya", "Quinn", "Rosa", "Sam", "Tomas")
LAST_NAMES = ("Adams", "Bell", "Castillo", "Diaz", "Evans", "Flores", "Garcia", "Hughes", "Ito",
              "Jones", "Khan", "Lopez", "Moore", "Nguyen", "Okafor", "Patel", "Reyes", "Smith",
              "Turner", "Walker")
SCHOOL_WORDS = ("Lincoln", "Maple Hill", "Cedar Grove", "Riverside", "Oak Park", "Washington",
                "Jefferson", "Lakeview", "Sunset", "Franklin")
SUBJECTS = ("Grade 3", "Grade 4", "Grade 5", "ELA 6", "Math 7", "Science 8", "Kindergarten")
FACTS_PRO = ("Strong with small groups", "New to the grade", "Leads the PLC",
             "Math interventionist", "Trying station rotation", "Mentor teacher")
FACTS_PERSONAL = ("Runs marathons", "Two kids", "Loves gardening", "Plays guitar",
                  "Coaches soccer", "Bakes bread")
# Activity cells as coaches type them: canonical names, aliases, odd capitalisation.
ACTIVITY_CELLS = ("Co-planning", "co-plan", "Modeling", "model lesson", "Co-teaching",
                  "Observation", "walkthrough", "Feedback/debrief", "debrief", "Goal setting",
                  "Data conversation", "data chat", "PLC/team meeting", "plc", "Facilitating PD",
                  "PD", "Tech support", "logins", "Substitute coverage", "sub coverage",
                  "Testing", "paperwork", "Admin tasks", "email", "lunch duty")
YES_CELLS = ("Yes", "Y", "x", "\u2713", True, "yes", "TRUE")
NO_CELLS = ("No", "N", "no", False, "-")
PHASES = ("Plan", "planning", "Act", "action", "Reflect", "reflection", "Complete", "done")
MONTH_ABBR = ("Jan", "Feb", "Mar", "Apr", "May", "June", "July", "Aug", "Sept", "Oct", "Nov",
              "Dec")


def as_of_for(weeks: int) -> date:
    """The program's "today": the Friday of the final week."""
    return START + timedelta(days=7 * (weeks - 1) + 4)


def _coach_name(index: int) -> str:
    return f"{FIRST_NAMES[index % 20]} {LAST_NAMES[(index // 20) % 20]} {index:04d}"


def _date_cell(rng: random.Random, day: date) -> Any:
    """Mostly real date cells; sometimes text or a bare serial number, as people type them."""
    r = rng.random()
    if r < 0.80:
        return day
    if r < 0.90:
        return f"{day.month}/{day.day}/{day.year}"
    if r < 0.95:
        return f"{MONTH_ABBR[day.month - 1]} {day.day}"
    return Serial(day)


def coach_workbook(index: int, seed: int, weeks: int, variant: int = 0) -> dict[str, list[list]]:
    """The tabs of coach workbook ``index``: deterministic for a seed; ``variant`` edits a value."""
    rng = random.Random(seed * 1_000_003 + index)
    as_of = as_of_for(weeks)
    school = f"{SCHOOL_WORDS[index % 10]} {('Elementary', 'Middle', 'High')[index % 3]}"
    name = _coach_name(index)
    teachers = [f"{FIRST_NAMES[rng.randrange(20)]} {LAST_NAMES[rng.randrange(20)]}"
                for _ in range(RELATIONSHIPS_PER_COACH)]
    about = [["Coach", name], ["School(s)", school], ["Role", "Instructional coach"]]
    if index % 4 == 1:
        about = [["Name", name], ["Campus", school], ["Position", "Literacy coach"]]

    rel_head = ["Teacher", "School", "Grade/Subject", "Room", "Knows Face", "Knows Classroom",
                "Professional Fact", "Personal Fact", "Delight", "Engagement", "Last Contact",
                "Notes"]
    if index % 3 == 1:
        rel_head = ["Teacher Name", "Campus", "Grade", "Room #", "Know Face?", "Know Classroom?",
                    "Professional Detail", "Personal Detail", "Delight (1-3)",
                    "Engagement (1-3)", "Last Contacted", "Comments"]
    relationships: list[list] = [[f"Relationship tracker: {name}"], [school], rel_head]
    for k, teacher in enumerate(teachers):
        known = rng.random() < 0.8
        delight = rng.choice((1, 2, 3, 2, 3, "2", "3"))
        relationships.append([
            teacher, school, rng.choice(SUBJECTS),
            rng.choice((str(100 + k), 100 + k, f"Rm {100 + k}")),
            rng.choice(YES_CELLS) if known else rng.choice(NO_CELLS),
            rng.choice(YES_CELLS) if rng.random() < 0.7 else rng.choice(NO_CELLS),
            rng.choice(FACTS_PRO) if rng.random() < 0.75 else None,
            rng.choice(FACTS_PERSONAL) if rng.random() < 0.6 else "N/A",
            delight, rng.choice((1, 2, 3)),
            _date_cell(rng, as_of - timedelta(days=rng.randrange(0, 40))),
            "Prefers mornings" if rng.random() < 0.2 else None,
        ])
        if k == 14 and index % 5 == 0:
            relationships.append([])  # a blank row inside the data

    hours_mode = index % 7 == 3  # some coaches keep time in hours
    log_head = ["Date", "Hrs" if hours_mode else rng.choice(("Minutes", "Mins", "Duration (min)")),
                "Activity", "Teacher(s)", "Notes"]
    time_log: list[list] = [log_head]
    for week in range(weeks):
        monday = START + timedelta(days=7 * week)
        for _ in range(TIME_ROWS_PER_WEEK):
            day = monday + timedelta(days=rng.randrange(5))
            if day > as_of:
                day = as_of
            minutes = rng.choice((15, 30, 30, 45, 45, 60, 60, 90, 120))
            if hours_mode:
                amount: Any = minutes / 60
            elif rng.random() < 0.05:
                amount = f"{minutes} min"
            else:
                amount = minutes
            activity: Any = rng.choice(ACTIVITY_CELLS)
            r = rng.random()
            if r < 0.0015:
                activity = "Obsrvation"  # a typo: unknown-activity
            elif r < 0.0025:
                amount = "all morning"  # bad-number
            who = ", ".join(rng.sample(teachers, rng.choice((1, 1, 1, 2, 3))))
            time_log.append([_date_cell(rng, day), amount, activity,
                             who if rng.random() < 0.7 else None,
                             "Follow up next week" if rng.random() < 0.1 else None])
        if week == 3 and index % 6 == 0:
            time_log.append([])  # a blank row inside the data

    cycles: list[list] = [["Teacher", "Focus", "Start Date", "Phase", "Next Steps Total",
                           "Next Steps Done", "Last Update"]]
    for k in range(CYCLES_PER_COACH):
        started = START + timedelta(days=rng.randrange(0, 7 * max(1, weeks - 2)))
        total = rng.randrange(1, 6)
        updated = min(as_of, started + timedelta(days=rng.randrange(0, 30)))
        cycles.append([teachers[k], rng.choice(("Small-group reading", "Checks for understanding",
                                                "Math discourse", "Classroom routines")),
                       _date_cell(rng, started), rng.choice(PHASES), total,
                       rng.randrange(0, total + 1), _date_cell(rng, updated)])
    if variant:
        # a coach corrected one entry: the same shape, one changed value
        time_log[1][1] = 75 + variant if not hours_mode else 1.25 + variant / 60
    return {"About": about, "Relationships": relationships, "Time Log": time_log,
            "Coaching Cycles": cycles}


def team_tracker(index: int, seed: int, weeks: int) -> dict[str, list[list]]:
    """The tabs of team tracker ``index``, with about ``weeks - 1`` weeks reported."""
    rng = random.Random(seed * 7_000_003 + index)
    school = f"{SCHOOL_WORDS[index % 10]} {('Elementary', 'Middle', 'High')[index % 3]}"
    team = f"Grade {3 + index % 6} team {index:04d}"
    kind = index % 3  # 0: percent, 1: count (fractions), 2: score
    unit = ("percent", "count", "score")[kind]
    baseline = (0.55 + rng.random() * 0.2, 20 + rng.randrange(15), 40 + rng.randrange(20))[kind]
    target = (baseline + 0.1 if kind == 0 else baseline + 8 + rng.randrange(6))
    def shown(v: float) -> Any:
        return f"{round(v * 100)}%" if kind == 0 else round(v)
    goal = [["Team goal"], [],
            ["School", school], ["Team", team], ["Team Lead", _coach_name(index + 5000)],
            ["Coach", _coach_name(index % 1000)], ["Focus Area", "Literacy"],
            ["Members", f"{5 + index % 3} staff"],
            ["SMART Goal",
             f"Move {unit} from {shown(baseline)} to {shown(target)} by week {weeks}."],
            ["Metric", "% proficient on the weekly check" if kind == 0 else "students on track"],
            ["Unit", unit], ["Baseline", shown(baseline)], ["Target", shown(target)],
            ["Direction", "increase"], ["Start Date", START], ["End Date", None]]
    head = ["Week", "Week Of", "Value", "Numerator", "Denominator", "What We Tried",
            "What We Learned", "Next Steps"]
    if index % 4 == 2:
        head = ["Wk", "Week Starting", "Result", "Students Meeting", "Out Of", "Tried",
                "Learned", "Plan"]
    weekly: list[list] = [[f"{school}: {team}"], head]
    reported = max(1, weeks - 1 - (index % 5 == 0))
    for week in range(1, reported + 1):
        step = (target - baseline) * week / weeks * rng.uniform(0.6, 1.3)
        value = baseline + step
        week_of = START + timedelta(days=7 * (week - 1))
        if kind == 0:
            cell: Any = rng.choice((f"{round(value * 100)}%", Percent(round(value, 2)),
                                    round(value * 100)))
            num = den = None
        elif kind == 1:
            den = 47
            cell = rng.choice((f"{round(value)} of {den}", f"{round(value)}/{den}", None))
            num = round(value) if cell is None else None
        else:
            cell, num, den = round(value, 1), None, None
        weekly.append([rng.choice((week, f"Week {week}")) if week > 1 else week,
                       _date_cell(rng, week_of), cell, num, den,
                       "Exit tickets every day", "Small groups helped", "Keep going"])
    actions: list[list] = [["Action", "Owner", "Due", "Status", "Notes"]]
    for k in range(ACTIONS_PER_TEAM):
        actions.append([f"Action step {k + 1}", _coach_name(index + 5000 + k),
                        _date_cell(rng, START + timedelta(days=7 * k + 4)),
                        rng.choice(("Done", "complete", "In progress", "ongoing", "Not started",
                                    "not yet")), None])
    return {"Goal": goal, "Weekly Progress": weekly, "Action Steps": actions}


@dataclass
class GeneratedProgram:
    """A synthetic program on disk."""

    root: Path
    config: Path
    coach_files: list[Path]
    team_files: list[Path]
    seconds: float
    weeks: int
    seed: int

    @property
    def files(self) -> int:
        return len(self.coach_files) + len(self.team_files)


def _coach_path(folder: Path, index: int) -> Path:
    return folder / f"coach-{index:04d}.xlsx"


def _team_path(folder: Path, index: int) -> Path:
    return folder / f"team-{index:04d}.xlsx"


def _write_coach(args: tuple[Path, int, int, int, int]) -> None:
    path, index, seed, weeks, variant = args
    write_xlsx(path, coach_workbook(index, seed, weeks, variant))


def _write_team(args: tuple[Path, int, int, int]) -> None:
    path, index, seed, weeks = args
    write_xlsx(path, team_tracker(index, seed, weeks))


def _in_parallel(job: Callable[[Any], None], items: list[Any]) -> None:
    workers = os.cpu_count() or 1
    if len(items) < 16 or workers < 2:
        for item in items:
            job(item)
        return
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=workers) as pool:
        list(pool.map(job, items, chunksize=max(1, len(items) // (workers * 4))))


def write_config(path: Path, *, name: str, weeks: int, sources: Iterable[tuple[str, str]],
                 output: str, state_dir: str) -> Path:
    """A config for a synthetic program: ``sources`` are (kind, path) pairs."""
    lines = ["# A synthetic program generated by `sheetsync bench`.", "", "[program]",
             f"name = {json.dumps(name)}", 'timezone = "America/New_York"',
             f"challenge_weeks = {weeks}", f'as_of = "{as_of_for(weeks).isoformat()}"', ""]
    for kind, where in sources:
        lines += ["[[sources]]", f'kind = "{kind}"', f"path = {json.dumps(where)}", ""]
    lines += ["[output]", f"path = {json.dumps(output)}", f"state_dir = {json.dumps(state_dir)}",
              ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def generate_program(root: Path, *, coaches: int, teams: int, weeks: int = 10,
                     seed: int = 7) -> GeneratedProgram:
    """Write ``coaches`` coach workbooks, ``teams`` team trackers and a config under ``root``."""
    started = time.perf_counter()
    coach_dir, team_dir = root / "program" / "coaches", root / "program" / "teams"
    for folder in (coach_dir, team_dir):
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
    coach_files = [_coach_path(coach_dir, i) for i in range(coaches)]
    team_files = [_team_path(team_dir, i) for i in range(teams)]
    _in_parallel(_write_coach, [(p, i, seed, weeks, 0) for i, p in enumerate(coach_files)])
    _in_parallel(_write_team, [(p, i, seed, weeks) for i, p in enumerate(team_files)])
    config = write_config(root / "bench.toml", name=f"Synthetic program ({coaches:,} coaches, "
                          f"{teams:,} teams)", weeks=weeks,
                          sources=[("team", "program/teams/"), ("coach", "program/coaches/")],
                          output="out/dashboard.xlsx", state_dir="out/state")
    return GeneratedProgram(root, config, coach_files, team_files,
                            time.perf_counter() - started, weeks, seed)


def change_files(program: GeneratedProgram, share: float = CHANGED_SHARE,
                 variant: int = 1) -> list[Path]:
    """Rewrite ``share`` of the coach workbooks (spread evenly) with one value changed."""
    count = max(1, round(len(program.coach_files) * share))
    step = max(1, len(program.coach_files) // count)
    chosen = list(range(0, len(program.coach_files), step))[:count]
    for i in chosen:
        _write_coach((program.coach_files[i], i, program.seed, program.weeks, variant))
    return [program.coach_files[i] for i in chosen]


def subset_program(program: GeneratedProgram, root: Path, coaches: int) -> Path:
    """A config over the first ``coaches`` workbooks (and a proportional share of the teams),
    hard-linked into ``root`` so nothing is generated twice."""
    teams = max(1, round(len(program.team_files) * coaches / max(1, len(program.coach_files))))
    if root.exists():
        shutil.rmtree(root)
    for folder, files in (("coaches", program.coach_files[:coaches]),
                          ("teams", program.team_files[:teams])):
        (root / folder).mkdir(parents=True)
        for f in files:
            try:
                os.link(f, root / folder / f.name)
            except OSError:
                shutil.copyfile(f, root / folder / f.name)
    return write_config(root / "bench.toml", name=f"Synthetic program ({coaches} coaches)",
                        weeks=program.weeks, sources=[("team", "teams/"), ("coach", "coaches/")],
                        output="out/dashboard.xlsx", state_dir="out/state")


# -- measuring -------------------------------------------------------------------------------------

COACH_TABS = ("About", "Relationships", "Time Log", "Coaching Cycles")
TEAM_TABS = ("Goal", "Weekly Progress", "Action Steps")


@dataclass
class Measurement:
    """One timed step, measured in a child process."""

    seconds: float
    rows: int = 0
    peak_rss_mb: float = 0.0
    sources: int = 0
    detail: dict[str, Any] = field(default_factory=dict)


def _rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants (0 where /proc is unavailable)."""
    total, stack, seen = 0, [pid], set()
    while stack:
        p = stack.pop()
        if p in seen:
            continue
        seen.add(p)
        total += _rss_kb(p)
        stack.extend(_children(p))
    return total / 1024


def _package_root() -> Path:
    import sheetsync

    return Path(sheetsync.__file__).resolve().parent.parent


def _child_env() -> dict[str, str]:
    """The environment of a measured child: this sheetsync first on the path, and bytecode
    caches allowed. An installed program runs from its cached bytecode after its first run; a
    machine that sets PYTHONDONTWRITEBYTECODE would otherwise have every measured process
    compile sheetsync's own modules again (about 0.3 s each time)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_package_root()),
                                                     env.get("PYTHONPATH", "")]))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def measure_in_child(args: Sequence[str], timeout: float = 3600) -> Measurement:
    """Run ``python -m sheetsync.benchmark <args>`` and read its JSON result.

    The child's own figures come back on its last stdout line; the parent samples the resident
    memory of the child's whole process tree (workers included) meanwhile, and the larger of that
    and the child's getrusage figure (itself plus its largest worker) is the peak.
    """
    env = _child_env()
    proc = subprocess.Popen([sys.executable, "-m", "sheetsync.benchmark", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    peak = 0.0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, tree_rss_mb(proc.pid))
            done.wait(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        out, err = proc.communicate(timeout=timeout)
    finally:
        done.set()
        sampler.join()
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark step {' '.join(args)} failed:\n{err.strip()[-2000:]}")
    result = json.loads(out.strip().splitlines()[-1])
    return Measurement(seconds=result["seconds"], rows=result.get("rows", 0),
                       peak_rss_mb=max(peak, result.get("rusage_mb", 0.0)),
                       sources=result.get("sources", 0), detail=result.get("detail", {}))


def _rusage_mb() -> float:
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return (own + workers) / 1024  # Linux reports kilobytes


def warm_imports() -> float:
    """Import what a run uses; returns the seconds it took.

    A nightly ``sheetsync schedule`` process pays this once and then runs in a warm process, so
    runs are timed after it and the import time is reported on its own line.
    """
    started = time.perf_counter()
    import numpy  # noqa: F401
    import openpyxl  # noqa: F401
    import pandas  # noqa: F401
    import python_calamine  # noqa: F401

    import sheetsync.analytics.program  # noqa: F401
    import sheetsync.backends.excel.writer  # noqa: F401
    import sheetsync.pipeline  # noqa: F401
    import sheetsync.report.dashboard  # noqa: F401
    import sheetsync.validation  # noqa: F401
    return time.perf_counter() - started


def _child_run(config_path: str, fresh: bool, next_day: bool = False,
               google: bool = False) -> dict[str, Any]:
    """Child step: one full :func:`run` (with an empty cache and output when fresh; with
    the as-of date one day after the config's when ``next_day``, as the next nightly run;
    with gspread imported first when ``google``)."""
    imports = warm_imports()
    if google:
        import gspread  # noqa: F401 - a Google run's imports are not timed either
    from sheetsync.config import load_config
    from sheetsync.pipeline import run

    config = load_config(config_path)
    if fresh:
        shutil.rmtree(config.output.state_dir, ignore_errors=True)
        if config.output.path is not None:
            config.output.path.unlink(missing_ok=True)
    as_of = config.as_of + timedelta(days=1) if next_day and config.as_of else None
    started = time.perf_counter()
    # as `sheetsync run` and `sheetsync schedule` run it: a dashboard that would come out the
    # same is kept (a fresh run cannot keep one, but notes what it wrote for the next)
    outcome = run(config, as_of=as_of, keep_unchanged=True)
    seconds = time.perf_counter() - started
    data = outcome.data
    return {"seconds": seconds, "rows": sum(s.rows for s in data.sources),
            "sources": len(data.sources), "rusage_mb": _rusage_mb(),
            "detail": {"ok": outcome.sources_ok, "failed": outcome.sources_failed,
                       "findings": len(data.findings), "imports_s": imports}}


def naive_baseline(files: Iterable[tuple[str, Path]]) -> tuple[int, dict[str, pd.DataFrame]]:
    """The baseline the issue defines: pandas ``read_excel`` with openpyxl, once per tab, the
    results concatenated per tab (reading only: no validation, rollup or writing)."""
    import warnings

    import pandas as pd

    pieces: dict[str, list[pd.DataFrame]] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # openpyxl warns about workbooks without default styles
        for kind, path in files:
            for tab in (COACH_TABS if kind == "coach" else TEAM_TABS):
                pieces.setdefault(tab, []).append(
                    pd.read_excel(path, sheet_name=tab, engine="openpyxl", header=None))
    frames = {tab: pd.concat(parts, ignore_index=True) for tab, parts in pieces.items()}
    return sum(len(f) for f in frames.values()), frames


def _program_files(config_path: str) -> list[tuple[str, Path]]:
    from sheetsync.config import load_config
    from sheetsync.pipeline import backends_for
    from sheetsync.sources.discover import discover

    config = load_config(config_path)
    found = discover(config.sources, backends_for(config))
    return [(s.kind, Path(s.location)) for s in found.sources if s.backend == "excel"]


def _child_baseline(config_path: str) -> dict[str, Any]:
    files = _program_files(config_path)
    started = time.perf_counter()
    rows, _ = naive_baseline(files)
    return {"seconds": time.perf_counter() - started, "rows": rows, "sources": len(files),
            "rusage_mb": _rusage_mb()}


def _calamine_rows(path: str) -> int:
    """The read floor for one workbook: every sheet to Python lists with python-calamine."""
    from python_calamine import CalamineWorkbook

    rows = 0
    with CalamineWorkbook.from_path(path) as workbook:
        for name in workbook.sheet_names:
            rows += len(workbook.get_sheet_by_name(name).to_python(skip_empty_area=False))
    return rows


def _polars_frames(paths: list[str]) -> list[Any]:
    import polars as pl

    return [pl.read_excel(p, sheet_id=0, has_header=False, raise_if_empty=False)
            for p in paths]


def _pandas_calamine_frames(paths: list[str]) -> list[Any]:
    import pandas as pd

    return [pd.read_excel(p, sheet_name=None, engine="calamine", header=None) for p in paths]


def _in_two_processes(job: Callable[[list[str]], list[Any]], paths: list[str]) -> int:
    """``job`` over ``paths`` in 2 worker processes; the frames come back to this process."""
    from concurrent.futures import ProcessPoolExecutor

    chunks = [paths[i:i + 25] for i in range(0, len(paths), 25)]
    rows = 0
    with ProcessPoolExecutor(max_workers=2) as pool:
        for frames in pool.map(job, chunks):
            for book in frames:
                rows += sum(len(frame) for frame in book.values())
    return rows


def peer_available(name: str) -> str | None:
    """None when the peer can run here, else why not."""
    import importlib.util

    needs = {"floor": ("python_calamine",), "polars": ("polars", "fastexcel"),
             "pandas-calamine": ("pandas", "python_calamine")}[name]
    missing = [m for m in needs if importlib.util.find_spec(m) is None]
    return (f"not installed: {', '.join(missing)} (pip install -e \".[bench]\")"
            if missing else None)


def _child_peer(name: str, config_path: str) -> dict[str, Any]:
    """Child step: read every workbook of the program the way a peer would (reading only)."""
    why = peer_available(name)
    if why is not None:
        return {"seconds": 0.0, "rows": 0, "detail": {"unavailable": why}}
    paths = [str(p) for _, p in _program_files(config_path)]
    if name == "floor":
        import python_calamine  # noqa: F401 - imports are not timed, as for the full run

        started = time.perf_counter()
        rows = sum(_calamine_rows(p) for p in paths)
    else:
        if name == "polars":
            import fastexcel  # noqa: F401
            import polars  # noqa: F401
        else:
            import pandas  # noqa: F401
        job = _polars_frames if name == "polars" else _pandas_calamine_frames
        started = time.perf_counter()
        rows = _in_two_processes(job, paths)
    return {"seconds": time.perf_counter() - started, "rows": rows, "sources": len(paths),
            "rusage_mb": _rusage_mb()}


def sheetsync_command() -> list[str]:
    """How a shell starts ``sheetsync``: the console script beside this Python, if any."""
    script = Path(sys.executable).with_name("sheetsync")
    return [str(script)] if script.exists() else [sys.executable, "-m", "sheetsync"]


def measure_process(config: str) -> Measurement:
    """``sheetsync run --config CONFIG`` as a whole process, imports included: wall time,
    CPU time and peak memory of the process (and its workers, if it starts any)."""
    env = _child_env()
    started = time.perf_counter()
    proc = subprocess.Popen([*sheetsync_command(), "run", "--config", config],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.stderr:
        proc.stderr.close()
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"sheetsync run --config {config} failed:\n{err.strip()[-2000:]}")
    return Measurement(seconds=seconds, peak_rss_mb=usage.ru_maxrss / 1024,
                       detail={"cpu_s": usage.ru_utime + usage.ru_stime})


def generated_time_log(rows: int, coaches: int = 60, seed: int = 7) -> pd.DataFrame:
    """A reproducible validated ``time_log`` frame of ``rows`` entries (see sheetsync.dataset):
    ``coaches`` coaches, 20 weeks of entries, the built-in activities, and Teacher(s) cells
    naming one to three teachers."""
    import numpy as np
    import pandas as pd

    from sheetsync.schema import default_activities

    rng = np.random.default_rng(seed)
    catalog = default_activities().activities
    names = np.array([a.name for a in catalog], dtype=object)
    groups = np.array([a.group for a in catalog], dtype=object)
    outside = np.array([a.outside_role for a in catalog])
    pick = rng.integers(0, len(catalog), rows)
    sources = np.array([f"coach-{i:03d}" for i in range(coaches)], dtype=object)
    who = rng.integers(0, coaches, rows)
    first = np.datetime64("2026-06-22")
    day = first + rng.integers(0, 140, rows).astype("timedelta64[D]")
    pool = np.array([f"Teacher {i}" for i in range(40)], dtype=object)
    cells = np.array([", ".join(pool[rng.choice(40, size=rng.integers(1, 4), replace=False)])
                      for _ in range(500)] + [None] * 100, dtype=object)
    return pd.DataFrame({
        "source": sources[who],
        "coach": sources[who],
        "row": pd.array(np.arange(rows) + 2, dtype="Int64"),
        "date": day.astype("datetime64[ns]"),
        "minutes": rng.choice([15.0, 30.0, 45.0, 60.0, 90.0], rows),
        "activity": names[pick],
        "activity_group": groups[pick],
        "outside_role": pd.array(outside[pick], dtype="boolean"),
        "teachers": cells[rng.integers(0, len(cells), rows)],
    })


ROLLUP_AS_OF = date(2026, 11, 4)


def time_pure_rollup(rows: int, repeat: int = 2) -> tuple[float, int]:
    """Best-of-``repeat`` seconds of :func:`sheetsync.analytics.time_rollup` on ``rows`` rows."""
    from sheetsync.analytics.coaches import time_rollup
    from sheetsync.analytics.thresholds import Thresholds

    log = generated_time_log(rows)
    th = Thresholds()
    best = float("inf")
    coaches = 0
    for _ in range(repeat):
        started = time.perf_counter()
        result = time_rollup(log, ROLLUP_AS_OF, th)
        best = min(best, time.perf_counter() - started)
        coaches = len(result.summary)
    return best, coaches


def _child_rollup(rows: int) -> dict[str, Any]:
    seconds, coaches = time_pure_rollup(rows)
    return {"seconds": seconds, "rows": rows, "rusage_mb": _rusage_mb(),
            "detail": {"coaches": coaches}}


# -- the report ------------------------------------------------------------------------------------

def machine() -> dict[str, str]:
    """The machine the figures were measured on."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GB"
                break
    except (OSError, ValueError):
        pass
    try:
        load = "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    except OSError:
        load = "unknown"
    return {"cpu": cpu, "cores": str(os.cpu_count() or 1), "ram": ram,
            "python": platform.python_version(), "system": f"{platform.system()} "
            f"{platform.release()}", "load": load}


@dataclass
class Check:
    """One target: the measured figure against its limit."""

    name: str
    measured: str
    target: str
    passed: bool


def _median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


@dataclass
class BenchReport:
    """Every figure of one benchmark run."""

    coaches: int
    teams: int
    weeks: int
    seed: int
    machine: dict[str, str]
    generation_s: float
    files: int
    data_mb: float
    full: Measurement
    baseline: Measurement
    unchanged: Measurement
    changed: Measurement
    changed_files: int
    rollup: Measurement
    next_night: Measurement | None = None
    """The next nightly run: the as-of date one day on, and another 1% of workbooks changed."""
    scaling: list[tuple[int, Measurement]] = field(default_factory=list)
    google: dict[str, Any] | None = None
    targets: Targets = field(default_factory=Targets)
    fulls: list[Measurement] = field(default_factory=list)
    """Every full run, in pair order (``full`` is their median)."""
    peers: dict[str, list[Measurement]] = field(default_factory=dict)
    """Each peer's runs, one per pair."""
    nightly: list[Measurement] = field(default_factory=list)
    """``sheetsync run`` as a whole process, nothing changed."""
    nightly_changed: list[Measurement] = field(default_factory=list)
    """``sheetsync run`` as a whole process, 1% of the coach workbooks changed."""

    @property
    def rows_per_second(self) -> float:
        return self.full.rows / self.full.seconds if self.full.seconds else 0.0

    @property
    def baseline_ratio(self) -> float:
        return self.baseline.seconds / self.full.seconds if self.full.seconds else 0.0

    def peer_ratio(self, name: str) -> float | None:
        """The full run's seconds over the peer's, pair by pair; the median (None: no pairs)."""
        runs = [(f, p) for f, p in zip(self.fulls or [self.full], self.peers.get(name, []),
                                         strict=False) if p.seconds > 0]
        return _median([f.seconds / p.seconds for f, p in runs]) if runs else None

    def peer_unavailable(self, name: str) -> str | None:
        for m in self.peers.get(name, []):
            if "unavailable" in m.detail:
                return str(m.detail["unavailable"])
        return None

    def checks(self) -> list[Check]:
        t = self.targets
        floor = self.peer_ratio("floor")
        pandas = self.peer_ratio("pandas-calamine")
        return [
            Check("Full run", f"{self.full.seconds:.1f} s", f"<= {t.full_run_s:g} s",
                  self.full.seconds <= t.full_run_s),
            *([Check("Full run / the read floor (calamine, 1 process)", f"{floor:.2f}x",
                     f"<= {t.floor_ratio:g}x", floor <= t.floor_ratio)]
              if floor is not None else []),
            *([Check("Full run / pandas-calamine (2 processes)", f"{pandas:.2f}x",
                     f"< {t.pandas_calamine_ratio:g}x", pandas < t.pandas_calamine_ratio)]
              if pandas is not None else []),
            *([Check("Against the naive baseline", f"{self.baseline_ratio:.1f}x faster",
                     f">= {t.baseline_ratio:g}x", self.baseline_ratio >= t.baseline_ratio)]
              if self.baseline.seconds else []),
            Check("Peak memory (full run)", f"{self.full.peak_rss_mb:,.0f} MB",
                  f"<= {t.peak_rss_mb:,.0f} MB", self.full.peak_rss_mb <= t.peak_rss_mb),
            *([Check("Nightly run, nothing changed (whole process)",
                     f"{self.nightly_s:.2f} s", f"<= {t.nightly_s:g} s",
                     self.nightly_s <= t.nightly_s)] if self.nightly else []),
            *([Check(f"Nightly run, {self.changed_files} of {self.coaches:,} changed "
                     "(whole process)", f"{self.nightly_changed_s:.2f} s",
                     f"<= {t.nightly_changed_s:g} s",
                     self.nightly_changed_s <= t.nightly_changed_s)]
              if self.nightly_changed else []),
            Check(f"Re-run, {self.changed_files} of {self.coaches:,} workbooks changed",
                  f"{self.changed.seconds:.2f} s", f"<= {t.rerun_s:g} s",
                  self.changed.seconds <= t.rerun_s),
            *([Check(f"Next night (as-of +1 day), {self.changed_files} of {self.coaches:,} "
                     "changed", f"{self.next_night.seconds:.2f} s", f"<= {t.rerun_s:g} s",
                     self.next_night.seconds <= t.rerun_s)] if self.next_night else []),
            Check(f"Pure rollup, {self.rollup.rows:,} time-log rows",
                  f"{self.rollup.seconds:.2f} s", f"<= {t.rollup_s:g} s",
                  self.rollup.seconds <= t.rollup_s),
            *self._google_checks(),
        ]

    @property
    def nightly_s(self) -> float:
        return _median([m.seconds for m in self.nightly])

    @property
    def nightly_changed_s(self) -> float:
        return _median([m.seconds for m in self.nightly_changed])

    def _google_checks(self) -> list[Check]:
        found = (self.google or {}).get("_checks")
        if not found:
            return []
        limit = self.targets.google_ratio
        return [
            Check("Google: reads per source (full run)", str(found["reads"]), "<= 1",
                  found["reads"] <= 1),
            Check("Google: writes to the dashboard", str(found["writes"]), "== 1",
                  found["writes"] == 1),
            Check("Google: calls when nothing changed", str(found["unchanged_calls"]),
                  "<= 3 (listing, target read, write)", found["unchanged_calls"] <= 3),
            Check("Google: 429 failures or failed sources", str(found["bad"]), "== 0",
                  found["bad"] == 0),
            *([Check("Google: wall time against the quota's lower bound",
                     f"{found['ratio']:.2f}x", f"<= {limit:g}x", found["ratio"] <= limit)]
              if found.get("ratio") is not None else []),
        ]

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks())


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    def line(cells: Sequence[str]) -> str:
        return "  ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()
    return [line(header), line(["-" * w for w in widths]), *(line(r) for r in rows)]


def _seconds_range(runs: Sequence[Measurement]) -> str:
    values = sorted(m.seconds for m in runs)
    if not values:
        return "-"
    return f"{values[0]:.2f}" if len(values) == 1 else f"{values[0]:.2f}-{values[-1]:.2f}"


def format_report(report: BenchReport) -> str:
    """The benchmark's printed report: machine, program, figures, and PASS/FAIL per target."""
    m = report.machine
    out = [f"sheetsync bench: {report.coaches:,} coach workbooks, {report.teams:,} team trackers, "
           f"{report.weeks} weeks (seed {report.seed})",
           f"Machine: {m['cpu']}, {m['cores']} cores, {m['ram']} RAM, Python {m['python']}, "
           f"{m['system']} (load average at start: {m['load']})",
           f"Generated {report.files:,} workbooks ({report.data_mb:.1f} MB) in "
           f"{report.generation_s:.1f} s (not part of any timing below).", ""]
    fulls = report.fulls or [report.full]
    pairs = len(fulls)
    out += [f"Against the peers: {pairs} pair{'s' if pairs != 1 else ''}, each a full run and "
            "the peer back to back; the ratio is the median over the pairs.", ""]
    peer_rows = []
    for name in PEERS:
        runs = report.peers.get(name, [])
        why = report.peer_unavailable(name)
        if why is not None or not runs:
            peer_rows.append([PEER_LABELS[name], "-", "-", why or "not measured"])
            continue
        ratio = report.peer_ratio(name)
        peer_rows.append([PEER_LABELS[name], _seconds_range(runs), f"{runs[0].rows:,}",
                          f"{ratio:.2f}x" if ratio is not None else "-"])
    if report.baseline.seconds:
        base = report.baseline
        peer_rows.append(["pandas read_excel with openpyxl, per tab, 1 process (the old "
                          "naive baseline)", f"{base.seconds:.2f}", f"{base.rows:,}",
                          f"{report.full.seconds / base.seconds:.2f}x"])
    peer_rows.append(["sheetsync full run: read, validate, roll up, write (empty cache)",
                      _seconds_range(fulls), f"{report.full.rows:,}", "1"])
    out += _table(["What", "Seconds", "Rows", "sheetsync full run / it"], peer_rows)
    out.append("")
    full = report.full
    rows = [
        ["Full run (read, validate, roll up, write; empty cache; the median)*",
         f"{full.seconds:.2f}", f"{full.rows:,}", f"{report.rows_per_second:,.0f}",
         f"{full.peak_rss_mb:,.0f}"],
        ["Process start-up: importing pandas, openpyxl, sheetsync (once per process)",
         f"{full.detail.get('imports_s', 0.0):.2f}", "-", "-", "-"],
    ]
    if report.nightly:
        rows.append(["Nightly run, nothing changed: `sheetsync run`, whole process "
                     "(median)", f"{report.nightly_s:.2f}", "-", "-",
                     f"{max(m.peak_rss_mb for m in report.nightly):,.0f}"])
    if report.nightly_changed:
        rows.append([f"Nightly run, {report.changed_files} of {report.coaches:,} coach "
                     "workbooks changed: whole process (median)",
                     f"{report.nightly_changed_s:.2f}", "-", "-",
                     f"{max(m.peak_rss_mb for m in report.nightly_changed):,.0f}"])
    rows += [
        ["Re-run, nothing changed*", f"{report.unchanged.seconds:.2f}",
         f"{report.unchanged.rows:,}", "-", f"{report.unchanged.peak_rss_mb:,.0f}"],
        [f"Re-run, {report.changed_files} of {report.coaches:,} coach workbooks changed (1%)*",
         f"{report.changed.seconds:.2f}", f"{report.changed.rows:,}", "-",
         f"{report.changed.peak_rss_mb:,.0f}"],
        *([[f"Next night: as-of date one day later, {report.changed_files} more changed*",
            f"{report.next_night.seconds:.2f}", f"{report.next_night.rows:,}", "-",
            f"{report.next_night.peak_rss_mb:,.0f}"]] if report.next_night else []),
        [f"Pure rollup (time_rollup) of {report.rollup.rows:,} time-log rows",
         f"{report.rollup.seconds:.2f}", f"{report.rollup.rows:,}",
         f"{report.rollup.rows / report.rollup.seconds:,.0f}" if report.rollup.seconds else "-",
         f"{report.rollup.peak_rss_mb:,.0f}"],
    ]
    for n, step in report.scaling:
        rows.append([f"Scaling: full run, {n:,} coach workbooks ({step.sources:,} sources)",
                     f"{step.seconds:.2f}", f"{step.rows:,}",
                     f"{step.rows / step.seconds:,.0f}" if step.seconds else "-",
                     f"{step.peak_rss_mb:,.0f}"])
    out += _table(["Step", "Seconds", "Rows", "Rows/s", "Peak RSS MB"], rows)
    out += ["* Timed in a fresh process after its imports, as in the long-running "
            "`sheetsync schedule`; peak RSS covers the process and its workers.", ""]
    if report.baseline.seconds:
        out += [f"Baseline / full run: {report.baseline_ratio:.1f}x", ""]
    if report.google is not None:
        out += ["Google mode (fake API):"]
        out += [f"  {k}: {v}" for k, v in report.google.items() if not k.startswith("_")]
        out.append("")
    out += _table(["Target", "Measured", "Target", "Result"],
                  [[c.name, c.measured, c.target, "PASS" if c.passed else "FAIL"]
                   for c in report.checks()])
    out += ["", "All targets met." if report.passed else "Some targets were missed.", ""]
    return "\n".join(out)


# -- the whole benchmark ---------------------------------------------------------------------------

def _data_mb(program: GeneratedProgram) -> float:
    return sum(p.stat().st_size for p in [*program.coach_files, *program.team_files]) / 1e6


def measure(*, coaches: int, teams: int, weeks: int, seed: int, workdir: Path,
            scaling: bool = False, google: bool = False, rollup_rows: int = ROLLUP_ROWS,
            scaling_sizes: Sequence[int] = SCALING_COACHES, repeat: int = REPEAT,
            nightly_repeat: int = NIGHTLY_REPEAT, baseline: bool = True,
            progress: Callable[[str], None] | None = None) -> BenchReport:
    """Generate the synthetic program in ``workdir`` and measure every step."""
    say = progress or (lambda _msg: None)
    host = machine()
    say(f"generating {coaches:,} coach workbooks and {teams:,} team trackers in {workdir}")
    program = generate_program(workdir, coaches=coaches, teams=teams, weeks=weeks, seed=seed)
    config = str(program.config)
    fulls: list[Measurement] = []
    peers: dict[str, list[Measurement]] = {name: [] for name in PEERS}
    for i in range(max(1, repeat)):
        say(f"pair {i + 1} of {max(1, repeat)}: full run (empty cache), then each peer")
        fulls.append(measure_in_child(["run", config, "--fresh"]))
        for name in PEERS:
            peers[name].append(measure_in_child(["peer", name, config]))
    full = sorted(fulls, key=lambda m: m.seconds)[len(fulls) // 2]
    if baseline:
        say("naive baseline (pandas read_excel with openpyxl)")
        naive = measure_in_child(["baseline", config])
    else:
        naive = Measurement(0.0, detail={"skipped": True})
    say("re-run, nothing changed (warm process)")
    unchanged = measure_in_child(["run", config])
    say(f"nightly run as a whole process, nothing changed (x{nightly_repeat})")
    nightly = [measure_process(config) for _ in range(max(1, nightly_repeat))]
    changed_files: list[Path] = []
    nightly_changed = []
    for i in range(max(1, nightly_repeat)):
        changed_files = change_files(program, variant=1 + i % 2)
        nightly_changed.append(measure_process(config))
    say(f"nightly run as a whole process, {len(changed_files)} workbooks changed "
        f"(x{nightly_repeat})")
    changed_files = change_files(program, variant=3)
    say(f"re-run, {len(changed_files)} workbooks changed (warm process)")
    changed = measure_in_child(["run", config])
    change_files(program, variant=4)
    say(f"next night: as-of date one day later, {len(changed_files)} workbooks changed")
    next_night = measure_in_child(["run", config, "--next-day"])
    say(f"pure rollup of {rollup_rows:,} rows")
    rollup = measure_in_child(["rollup", str(rollup_rows)])
    steps: list[tuple[int, Measurement]] = []
    if scaling:
        biggest = max(scaling_sizes)
        source = program
        if biggest > coaches:
            say(f"generating {biggest:,} coach workbooks for the scaling runs")
            source = generate_program(workdir / "scaling-source", coaches=biggest,
                                      teams=max(1, teams * biggest // max(1, coaches)),
                                      weeks=weeks, seed=seed)
        for n in scaling_sizes:
            say(f"scaling: {n:,} coach workbooks")
            sub = subset_program(source, workdir / f"scaling-{n}", n)
            steps.append((n, measure_in_child(["run", str(sub), "--fresh"])))
    google_figures = measure_google(program, workdir, say) if google else None
    return BenchReport(coaches=coaches, teams=teams, weeks=weeks, seed=seed, machine=host,
                       generation_s=program.seconds, files=program.files,
                       data_mb=_data_mb(program), full=full, baseline=naive,
                       unchanged=unchanged, changed=changed, changed_files=len(changed_files),
                       next_night=next_night, rollup=rollup, scaling=steps, google=google_figures,
                       fulls=fulls, peers=peers, nightly=nightly,
                       nightly_changed=nightly_changed,
                       targets=Targets.for_program(coaches))


GOOGLE_COACHES = 20
GOOGLE_TEAMS = 5
GOOGLE_LATENCY_S = 0.1
GOOGLE_QUOTA_PER_MINUTE = 60
QUOTA_BOUND_SOURCES = 180
QUOTA_BOUND_WINDOW_S = 12.0
"""The quota-bound run: 180 sources under 60 calls per window, with the window shortened from
60 s to 12 s (on the fake and in the client alike) so the measurement takes under a minute; every
ratio scales with it."""


def measure_google(program: GeneratedProgram, workdir: Path,
                   say: Callable[[str], None]) -> dict[str, Any]:
    """Google-mode API calls against the bundled fake API, with 100 ms of latency per call and
    the real per-user quota (60 a minute): a full run, then a run in which nothing changed.

    Uses the first :data:`GOOGLE_COACHES` coach workbooks and :data:`GOOGLE_TEAMS` team trackers
    of the program, uploaded to the fake as spreadsheets.
    """
    from sheetsync.config import load_config
    from sheetsync.pipeline import run
    from sheetsync.testing import FakeGoogle

    files = [("coach", p) for p in program.coach_files[:GOOGLE_COACHES]] + \
        [("team", p) for p in program.team_files[:GOOGLE_TEAMS]]
    folder = workdir / "google"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    say(f"Google mode: {len(files)} sources on the fake API")
    with FakeGoogle(seed=program.seed) as fake:
        fake.set_quota(per_user=GOOGLE_QUOTA_PER_MINUTE, per_project=300, window=60.0)
        email = fake.make_service_account_key(folder / "key.json")
        ids = {p.stem: (kind, fake.add_spreadsheet_from_xlsx(p, share_with=email))
               for kind, p in files}
        dashboard = fake.add_spreadsheet("Leaders dashboard", share_with=email, role="writer")
        lines = ["[program]", 'name = "Synthetic program, Google mode"',
                 'timezone = "America/New_York"', f"challenge_weeks = {program.weeks}",
                 f'as_of = "{as_of_for(program.weeks).isoformat()}"', "", "[google]",
                 f"credentials = {json.dumps(str(folder / 'key.json'))}",
                 f'api_base = "{fake.base_url}"',
                 f"quota_per_minute = {GOOGLE_QUOTA_PER_MINUTE}", "", "[output]",
                 f'google = "{dashboard}"', f"state_dir = {json.dumps(str(folder / 'state'))}",
                 ""]
        for name, (kind, key) in ids.items():
            lines += ["[[sources]]", f'kind = "{kind}"', f'google = "{key}"',
                      f'name = "{name}"', ""]
        (folder / "google.toml").write_text("\n".join(lines), encoding="utf-8")
        config = load_config(folder / "google.toml")
        fake.inject_faults(None, status=None, times=None, delay=GOOGLE_LATENCY_S)

        def counted_run() -> tuple[float, dict[str, int], int, int]:
            fake.reset_calls()
            started = time.perf_counter()
            outcome = run(config)
            seconds = time.perf_counter() - started
            calls = [c for c in fake.calls() if not c.kind.startswith(("oauth", "token"))]
            kinds = dict(Counter(c.kind for c in calls))
            reads = Counter(c.spreadsheet_id for c in calls
                            if c.kind.startswith(("spreadsheets.get", "values"))
                            and c.spreadsheet_id != dashboard)
            throttled = sum(1 for c in calls if c.status == 429)
            failed = outcome.sources_failed
            return seconds, kinds, max(reads.values(), default=0), throttled + 1000 * failed

        full_s, full_calls, full_reads, full_bad = counted_run()
        same_s, same_calls, _, same_bad = counted_run()
    bound = _quota_bound_run(program, folder, say)
    total = sum(full_calls.values())
    # "60 a minute": any 60 calls in a minute, then a wait for the next window. Latency alone
    # bounds it from below too.
    latency = total * GOOGLE_LATENCY_S / max(1, config.google.read_workers)
    windows = max(latency, ((total - 1) // GOOGLE_QUOTA_PER_MINUTE) * 60.0)
    return {
        "sources": len(files),
        "full run": f"{full_s:.1f} s, {total} API calls ({_kinds(full_calls)})",
        "full run, reads of any one source": full_reads,
        "nothing changed": f"{same_s:.1f} s, {sum(same_calls.values())} API calls "
                           f"({_kinds(same_calls)})",
        "429s or failed sources": "none" if not (full_bad or same_bad) else
                                  f"{full_bad + same_bad}",
        "quota lower bound for the full run": f"{windows:.1f} s (the calls fit one minute's "
                                              "quota, so latency alone bounds it)"
                                              if total <= GOOGLE_QUOTA_PER_MINUTE else
                                              f"{windows:.1f} s",
        "quota-bound run": (f"{bound['sources']} sources, {bound['calls']} calls, "
                            f"{bound['seconds']:.1f} s against a lower bound of "
                            f"{bound['lower_bound']:.1f} s"
                            + (f" ({bound['ratio']:.2f}x)" if bound["ratio"] else "")
                            + f"; 60 calls per {QUOTA_BOUND_WINDOW_S:g} s window"),
        "_checks": {"reads": full_reads, "writes": sum(v for k, v in full_calls.items()
                                                        if "batchUpdate" in k),
                    "unchanged_calls": sum(same_calls.values()),
                    "bad": full_bad + same_bad + bound["bad"], "ratio": bound["ratio"]},
    }


def _quota_bound_run(program: GeneratedProgram, folder: Path,
                     say: Callable[[str], None]) -> dict[str, Any]:
    """Many sources under the quota: the run must never fail on 429s, and its wall time must
    stay near the lower bound the quota imposes (whole windows for every 60 calls after the
    first 60).

    The run goes in a child process, as against the real API: in this process the fake's own
    work (building each spreadsheet's JSON) would compete with the run for one interpreter
    lock, and on a busy machine that alone made the run CPU-bound rather than quota-bound, by
    up to a quarter of the time, from one run to the next.
    """
    from sheetsync.testing import FakeGoogle

    files = program.coach_files[:QUOTA_BOUND_SOURCES]
    say(f"Google mode: {len(files)} sources under a quota of 60 calls per "
        f"{QUOTA_BOUND_WINDOW_S:g} s")
    with FakeGoogle(seed=program.seed) as fake:
        fake.set_quota(per_user=GOOGLE_QUOTA_PER_MINUTE, per_project=10_000,
                       window=QUOTA_BOUND_WINDOW_S)
        key = folder / "key-bound.json"
        email = fake.make_service_account_key(key)
        dashboard = fake.add_spreadsheet("Leaders dashboard", share_with=email, role="writer")
        lines = ["[program]", f"challenge_weeks = {program.weeks}",
                 f'as_of = "{as_of_for(program.weeks).isoformat()}"', "", "[google]",
                 f"credentials = {json.dumps(str(key))}", f'api_base = "{fake.base_url}"',
                 f"quota_per_minute = {GOOGLE_QUOTA_PER_MINUTE}",
                 f"quota_window_seconds = {QUOTA_BOUND_WINDOW_S}", "", "[output]",
                 f'google = "{dashboard}"',
                 f"state_dir = {json.dumps(str(folder / 'state-bound'))}", ""]
        for p in files:
            sid = fake.add_spreadsheet_from_xlsx(p, share_with=email)
            lines += ["[[sources]]", 'kind = "coach"', f'google = "{sid}"', ""]
        (folder / "bound.toml").write_text("\n".join(lines), encoding="utf-8")
        fake.reset_calls()
        measured = measure_in_child(["run", str(folder / "bound.toml"), "--fresh", "--google"])
        calls = [c for c in fake.calls() if not c.kind.startswith(("oauth", "token"))]
    total = len(calls)
    lower = ((total - 1) // GOOGLE_QUOTA_PER_MINUTE) * QUOTA_BOUND_WINDOW_S
    seconds = measured.seconds
    # With 60 calls or fewer the quota imposes no wait at all, so there is no ratio to take.
    return {"sources": len(files), "calls": total, "seconds": seconds, "lower_bound": lower,
            "ratio": seconds / lower if lower else None,
            "bad": sum(1 for c in calls if c.status == 429)
            + 1000 * int(measured.detail.get("failed", 0))}


def _kinds(calls: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(calls.items()))


def run_benchmark(coaches: int = 1000, teams: int = 200, weeks: int = 10, seed: int = 7,
                  workdir: Path | None = None, quick: bool = False, scaling: bool = False,
                  google: bool = False, *, rollup_rows: int | None = None,
                  repeat: int = REPEAT, baseline: bool = True,
                  out: IO[str] | None = None) -> int:
    """``sheetsync bench``: print the report; 0 when every target is met, else 1."""
    stream = out or sys.stdout
    if quick:
        coaches, teams, repeat = min(coaches, 50), min(teams, 10), 1
    temporary = workdir is None
    root = Path(tempfile.mkdtemp(prefix="sheetsync-bench-")) if temporary else Path(workdir)
    root.mkdir(parents=True, exist_ok=True)
    try:
        report = measure(coaches=coaches, teams=teams, weeks=weeks, seed=seed, workdir=root,
                         scaling=scaling, google=google, repeat=repeat, baseline=baseline,
                         rollup_rows=rollup_rows if rollup_rows is not None else ROLLUP_ROWS,
                         progress=lambda msg: print(f"... {msg}", file=sys.stderr, flush=True))
    finally:
        if temporary:
            shutil.rmtree(root, ignore_errors=True)
    print(format_report(report), file=stream)
    return 0 if report.passed else 1


def main(argv: Sequence[str] | None = None) -> int:
    """Child steps of the benchmark (``python -m sheetsync.benchmark run|baseline|rollup``)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args:
        print("usage: python -m sheetsync.benchmark run CONFIG [--fresh] [--next-day] "
              "[--google] | "
              "baseline CONFIG | peer floor|polars|pandas-calamine CONFIG | "
              "rollup ROWS", file=sys.stderr)
        return 2
    step = args[0]
    if step == "run":
        result = _child_run(args[1], fresh="--fresh" in args[2:],
                            next_day="--next-day" in args[2:], google="--google" in args[2:])
    elif step == "baseline":
        result = _child_baseline(args[1])
    elif step == "peer":
        result = _child_peer(args[1], args[2])
    elif step == "rollup":
        result = _child_rollup(int(args[1]))
    else:
        print(f"unknown step {step!r}", file=sys.stderr)
        return 2
    print(json.dumps(result, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Measure the program's history at the benchmark's scale: its size on disk, the time to append
one night, and what that adds to a nightly re-run.

    .venv/bin/python bench/history_bench.py [--coaches 1000] [--teams 200] [--nights 300]

Generates the synthetic program ``sheetsync bench`` uses (:func:`sheetsync.benchmark
.generate_program`), runs it once to fill the parse cache, then fills a history with a school
year of nights (each night the program's real records under another as-of date, as a nightly
run writes them), and times:

* appending one more night (:func:`sheetsync.history.record`), best of a few;
* reading back what the history tabs show (:func:`sheetsync.history.read_view`);
* a nightly re-run (:func:`sheetsync.pipeline.run`, the next day, warm cache) with the full
  history in place, which includes one append and one read.

Prints the figures, and checks that appending adds at most 5% to the nightly re-run.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--coaches", type=int, default=1000)
    parser.add_argument("--teams", type=int, default=200)
    parser.add_argument("--nights", type=int, default=300)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--reuse", action="store_true",
                        help="keep the program and history already in --workdir")
    args = parser.parse_args()

    from sheetsync.benchmark import generate_program
    from sheetsync.config import load_config
    from sheetsync.history import read_view, record
    from sheetsync.history.records import coach_records, team_records
    from sheetsync.history.store import HistoryStore
    from sheetsync.pipeline import RollupContext, analyse, run, validate

    root = args.workdir or Path(tempfile.mkdtemp(prefix="sheetsync-history-bench-"))
    reuse = args.reuse and (root / "bench.toml").exists()
    if not reuse:
        started = time.perf_counter()
        program = generate_program(root, coaches=args.coaches, teams=args.teams)
        print(f"generated {program.files:,} workbooks in {time.perf_counter() - started:.1f} s "
              f"under {root}")
    config = load_config(root / "bench.toml")
    as_of = config.as_of
    if not reuse:
        started = time.perf_counter()
        run(config)
        print(f"first run (fills the cache): {time.perf_counter() - started:.1f} s")

    data = validate(config, as_of)
    analysis = analyse(data, RollupContext(config, as_of, config.tz and _now(config)))
    teams, coaches = team_records(analysis, config.cycles), coach_records(analysis)
    store = HistoryStore.in_state_dir(config.output.state_dir)
    first = as_of - timedelta(days=args.nights)
    started = time.perf_counter()
    for n in range(0 if reuse else args.nights):
        day = first + timedelta(days=n)
        store.record(teams.assign(as_of=day.isoformat()),
                     coaches.assign(as_of=day.isoformat()), day)
    filled = time.perf_counter() - started
    size_mb = store.path.stat().st_size / 1e6
    nights = len(store.dates())
    print(f"history: {nights} nights x ({len(teams)} teams + {len(coaches)} coaches) = "
          f"{nights * (len(teams) + len(coaches)):,} records, {size_mb:.1f} MB on disk "
          f"({size_mb / nights * 1000:.0f} kB a night); filled in {filled:.1f} s")

    appends = []
    for _ in range(5):
        t0 = time.perf_counter()
        record(config, analysis)
        appends.append(time.perf_counter() - t0)
    reads = []
    latest = replace(analysis, as_of=max(store.dates()))  # the nightly case: the latest date
    for _ in range(3):
        t0 = time.perf_counter()
        view = read_view(config, latest)
        reads.append(time.perf_counter() - t0)
    append_s, read_s = min(appends), min(reads)
    print(f"append one night: best {append_s * 1000:.0f} ms (median "
          f"{statistics.median(appends) * 1000:.0f} ms); read what the tabs show: "
          f"{read_s * 1000:.0f} ms ({len(view.team_weeks):,} team-week and "
          f"{len(view.coach_months):,} coach-month records)")

    reruns = []
    for k in range(1, 3):
        t0 = time.perf_counter()
        run(config, as_of=as_of + timedelta(days=k))
        reruns.append(time.perf_counter() - t0)
    rerun_s = min(reruns)
    share = append_s / rerun_s
    print(f"nightly re-run (warm cache, with the history): best {rerun_s:.2f} s; appending is "
          f"{share:.1%} of it (limit 5%); append + read {((append_s + read_s) / rerun_s):.1%}")
    return 0 if share <= 0.05 else 1


def _now(config):
    from datetime import datetime

    return datetime.now(config.tz)


if __name__ == "__main__":
    raise SystemExit(main())

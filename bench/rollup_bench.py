"""Time the pure time-log rollup on a large generated time log.

    .venv/bin/python bench/rollup_bench.py [--rows 1000000] [--repeat 3]

Generates a time log shaped like the validated ``time_log`` frame (see sheetsync/dataset.py):
60 coaches, 20 weeks of entries, the built-in activities, and Teacher(s) cells naming one to
three teachers. Prints the best of ``--repeat`` timings of :func:`time_rollup`.
"""

from __future__ import annotations

import argparse
import time
from datetime import date

import numpy as np
import pandas as pd

from sheetsync.analytics.coaches import time_rollup
from sheetsync.analytics.thresholds import Thresholds
from sheetsync.schema import default_activities

AS_OF = date(2026, 11, 4)


def generated_time_log(rows: int, coaches: int = 60, seed: int = 7) -> pd.DataFrame:
    """A reproducible time log of ``rows`` entries."""
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    log = generated_time_log(args.rows)
    th = Thresholds()
    timings = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        result = time_rollup(log, AS_OF, th)
        timings.append(time.perf_counter() - started)
    print(f"time_rollup on {args.rows:,} rows: best {min(timings):.2f} s "
          f"(runs: {', '.join(f'{t:.2f}' for t in timings)}); "
          f"{len(result.summary)} coaches, {len(result.weekly):,} coach-week-group rows")


if __name__ == "__main__":
    main()

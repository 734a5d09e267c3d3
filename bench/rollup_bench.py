"""Time the pure time-log rollup on a large generated time log.

    .venv/bin/python bench/rollup_bench.py [--rows 1000000] [--repeat 3]

The time log comes from :func:`sheetsync.benchmark.generated_time_log` (the same one
``sheetsync bench`` times): shaped like the validated ``time_log`` frame, 60 coaches, 20 weeks of
entries, the built-in activities, and Teacher(s) cells naming one to three teachers. Prints the
best of ``--repeat`` timings of :func:`time_rollup`.
"""

from __future__ import annotations

import argparse
import time

from sheetsync.analytics.coaches import time_rollup
from sheetsync.analytics.thresholds import Thresholds
from sheetsync.benchmark import ROLLUP_AS_OF, generated_time_log


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
        result = time_rollup(log, ROLLUP_AS_OF, th)
        timings.append(time.perf_counter() - started)
    print(f"time_rollup on {args.rows:,} rows: best {min(timings):.2f} s "
          f"(runs: {', '.join(f'{t:.2f}' for t in timings)}); "
          f"{len(result.summary)} coaches, {len(result.weekly):,} coach-week-group rows")


if __name__ == "__main__":
    main()

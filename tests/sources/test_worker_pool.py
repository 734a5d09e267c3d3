"""Sources read by worker processes come back exactly as sources read in line."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from pandas.testing import assert_frame_equal

from sheetsync import benchmark, pipeline
from sheetsync.backends.excel import POOL_FILES_PER_WORKER
from sheetsync.config import load_config


def test_workers_answer_as_a_read_in_line_does(tmp_path: Path):
    program = benchmark.generate_program(tmp_path, coaches=2 * POOL_FILES_PER_WORKER - 2,
                                         teams=4, seed=11)
    config = load_config(program.config)
    in_line = pipeline.validate(replace(config, workers=1), use_cache=False)
    pooled = pipeline.validate(replace(config, workers=2), use_cache=False)
    assert len(pooled.sources) == 2 * POOL_FILES_PER_WORKER + 2
    assert [s.name for s in pooled.sources] == [s.name for s in in_line.sources]
    assert [repr(f) for f in pooled.findings] == [repr(f) for f in in_line.findings]
    for name, frame in in_line.frames.items():
        assert_frame_equal(pooled.frames[name], frame, check_exact=True, obj=name)

"""`sheetsync schedule` wired to the real rollup: runs, logs, records failures, shares the lock."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime
from pathlib import Path

import openpyxl

from sheetsync.config import load_config
from sheetsync.errors import RunFailed
from sheetsync.nightly.state import last_success
from sheetsync.pipeline import record_failure, run
from tests import REPO


def temp_config(tmp_path: Path) -> Path:
    text = (REPO / "config" / "example.toml").read_text()
    text = text.replace("../sheet_templates/", str(REPO / "sheet_templates") + "/")
    text = text.replace("../out/dashboard.xlsx", str(tmp_path / "dashboard.xlsx"))
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_schedule_run_now_runs_the_rollup_and_logs_a_line(tmp_path):
    cfg = temp_config(tmp_path)
    proc = subprocess.run([sys.executable, "-m", "sheetsync", "schedule", "--config", str(cfg),
                           "--run-now", "--max-runs", "1"],
                          capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr
    assert "sources 10 ok" in proc.stderr
    assert "Traceback" not in proc.stderr
    log = openpyxl.load_workbook(tmp_path / "dashboard.xlsx")["Run Log"]
    rows = list(log.iter_rows(values_only=True))
    assert len(rows) == 2 and rows[1][2] == "ok"
    assert last_success(load_config(cfg).output.state_dir) is not None


def test_a_failed_run_is_recorded_in_the_run_log(tmp_path):
    config = load_config(temp_config(tmp_path))
    run(config)
    record_failure(config, "source server unreachable", now=datetime(2026, 11, 6, 2, 0,
                                                                     tzinfo=config.tz))
    rows = list(openpyxl.load_workbook(config.output.path)["Run Log"].iter_rows(values_only=True))
    assert rows[-1][2] == "failed: source server unreachable"
    assert len(rows) == 3  # header, the good run, the failure
    assert (config.output.state_dir / "failures.log").read_text().count("unreachable") == 1


def test_run_refuses_while_another_process_holds_the_lock(tmp_path):
    config = load_config(temp_config(tmp_path))
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time\n"
         "from sheetsync.nightly.run_lock import RunLock\n"
         f"lock = RunLock({str(config.output.state_dir)!r}, command='sheetsync schedule')\n"
         "lock.acquire(); print('held', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        try:
            run(config)
        except RunFailed as exc:
            assert str(holder.pid) in exc.message and "sheetsync schedule" in exc.message
        else:
            raise AssertionError("the run should have refused")
    finally:
        holder.kill()
        holder.wait()
    assert not (tmp_path / "dashboard.xlsx").exists()

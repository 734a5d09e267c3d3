"""`sheetsync doctor` says what to fix, and exits 0 only when everything is well."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import openpyxl

from tests import REPO


def doctor(config: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sheetsync", "doctor", "--config", str(config)],
                          capture_output=True, text=True, timeout=120)


def test_example_program_is_healthy():
    proc = doctor(REPO / "config" / "example.toml")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 to fix" in proc.stdout
    assert "tab 'Weekly Progress': header on row" in proc.stdout


def test_missing_tab_unreadable_file_and_readonly_target_are_reported(tmp_path):
    wb = openpyxl.Workbook()
    wb.active.title = "Goal"
    wb.save(tmp_path / "team.xlsx")
    (tmp_path / "broken.xlsx").write_bytes(b"not a workbook")
    out = tmp_path / "out"
    out.mkdir()
    (out / "dash.xlsx").write_bytes(b"")
    (out / "dash.xlsx").chmod(0o444)
    cfg = tmp_path / "c.toml"
    cfg.write_text('[[sources]]\nkind = "team"\npath = "*.xlsx"\n\n'
                   '[output]\npath = "out/dash.xlsx"\n')
    proc = doctor(cfg)
    assert proc.returncode == 1
    assert "FIX team: tab 'Weekly Progress': missing" in proc.stdout
    assert "FIX broken: broken.xlsx is not a valid .xlsx workbook" in proc.stdout
    assert "read-only" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr

"""The command line: help everywhere, fast start, no heavy imports for --help."""

from __future__ import annotations

import subprocess
import sys

import pytest
from click.testing import CliRunner

from sheetsync.cli import main

COMMANDS = ["run", "validate", "templates", "schedule", "doctor", "bench"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command):
    result = CliRunner().invoke(main, [command, "--help"])
    assert result.exit_code == 0
    assert "Usage:" in result.output and "--help" in result.output


def test_top_level_help_lists_commands_and_imports_nothing_heavy():
    code = ("import sys\n"
            "from sheetsync.cli import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit as e:\n    assert e.code == 0\n"
            "heavy = [m for m in ('pandas', 'numpy', 'openpyxl', 'gspread', 'google.auth',"
            " 'python_calamine') if m in sys.modules]\n"
            "print('HEAVY', heavy)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert "HEAVY []" in proc.stdout, proc.stdout + proc.stderr
    for command in COMMANDS:
        assert command in proc.stdout


def test_python_dash_m_works():
    proc = subprocess.run([sys.executable, "-m", "sheetsync", "--version"], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0 and "sheetsync" in proc.stdout


def test_templates_command_writes_both_workbooks(tmp_path):
    result = CliRunner().invoke(main, ["templates", "--out", str(tmp_path / "t")])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "t").iterdir()) == ["coach_workbook.xlsx",
                                                                 "team_tracker.xlsx"]


def test_bad_as_of_is_a_clear_error():
    result = CliRunner().invoke(main, ["run", "--as-of", "yesterday"])
    assert result.exit_code == 2
    assert "--as-of must be a date" in result.output


def test_an_unexpected_error_is_one_clear_line_and_exit_2(monkeypatch):
    import sheetsync.pipeline

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(sheetsync.pipeline, "validate", broken)
    result = CliRunner().invoke(main, ["validate"])
    assert result.exit_code == 2
    assert "unexpected error: RuntimeError: disk on fire" in result.output
    assert "SHEETSYNC_DEBUG=1" in result.output
    assert "Traceback" not in result.output

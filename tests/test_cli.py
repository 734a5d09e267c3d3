"""The command line: help everywhere, fast start, no heavy imports for --help."""

from __future__ import annotations

import subprocess
import sys

import pytest
from click.testing import CliRunner

from sheetsync.cli import main
from sheetsync.config import load_config
from tests import REPO

COMMANDS = ["run", "validate", "templates", "schedule", "doctor", "bench", "init"]


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


EXAMPLE = str(REPO / "config" / "example.toml")


def test_bad_as_of_is_a_clear_error():
    result = CliRunner().invoke(main, ["run", "--config", EXAMPLE, "--as-of", "yesterday"])
    assert result.exit_code == 2
    assert "--as-of must be a date" in result.output


@pytest.mark.parametrize("command", ["run", "validate", "doctor", "schedule"])
def test_without_a_config_every_command_says_how_to_start(command, tmp_path, monkeypatch):
    monkeypatch.delenv("SHEETSYNC_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, [command])
    assert result.exit_code == 2
    assert "no config given" in result.output and "sheetsync init" in result.output
    assert list(tmp_path.iterdir()) == []  # nothing written, not even an out/ folder


def test_the_config_can_come_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("SHEETSYNC_CONFIG", str(tmp_path / "missing.toml"))
    result = CliRunner().invoke(main, ["validate"])
    assert result.exit_code == 2 and "missing.toml" in result.output


def test_init_writes_a_commented_config_that_validates(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["init"])
    assert result.exit_code == 0, result.output
    text = (tmp_path / "sheetsync.toml").read_text()
    assert text.count("\n#") > 10  # commented
    config = load_config(tmp_path / "sheetsync.toml")
    assert [s.kind for s in config.sources] == ["team", "coach"]
    again = CliRunner().invoke(main, ["init"])
    assert again.exit_code == 2 and "already exists" in again.output
    assert (tmp_path / "sheetsync.toml").read_text() == text  # left as it was
    # with its folders still empty, a run writes nothing and says why
    run = CliRunner().invoke(main, ["run", "--config", "sheetsync.toml"])
    assert run.exit_code == 2
    assert "no source workbook was found" in run.output and "trackers" in run.output
    assert not (tmp_path / "out" / "dashboard.xlsx").exists()


def test_an_unexpected_error_is_one_clear_line_and_exit_2(monkeypatch):
    import sheetsync.pipeline

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(sheetsync.pipeline, "validate", broken)
    result = CliRunner().invoke(main, ["validate", "--config", EXAMPLE])
    assert result.exit_code == 2
    assert "unexpected error: RuntimeError: disk on fire" in result.output
    assert "SHEETSYNC_DEBUG=1" in result.output
    assert "Traceback" not in result.output

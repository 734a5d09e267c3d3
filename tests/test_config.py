"""A bad config gets a precise message naming the key, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from sheetsync.config import ConfigError, load_config
from tests import REPO

GOOD = """
[program]
name = "Test"
timezone = "America/Chicago"
as_of = "2026-11-04"

[[sources]]
kind = "team"
path = "teams/"

[output]
path = "out/dash.xlsx"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "c.toml"
    path.write_text(text)
    return path


def test_example_config_loads():
    config = load_config(REPO / "config" / "example.toml")
    assert config.as_of == date(2026, 11, 4)
    assert config.output.path == (REPO / "out" / "dashboard.xlsx").resolve()
    assert [s.kind for s in config.sources] == ["team", "coach"]
    assert config.thresholds["coaching_share_target"] == 0.40


def test_paths_are_relative_to_the_config_file(tmp_path):
    config = load_config(write(tmp_path, GOOD))
    assert config.sources[0].location == str(tmp_path / "teams") + "/"
    assert config.output.path == tmp_path / "out" / "dash.xlsx"
    assert config.output.state_dir == tmp_path / "out" / ".sheetsync-state"


@pytest.mark.parametrize("change, message", [
    (("timezone = \"America/Chicago\"", "timezone = \"Mars/Olympus\""), "[program].timezone"),
    (("as_of = \"2026-11-04\"", "as_of = \"Nov 4\""), "[program].as_of"),
    (("as_of = \"2026-11-04\"", "as_off = \"2026-11-04\""), "unknown key 'as_off'"),
    (("kind = \"team\"", "kind = \"teams\""), "sources[0].kind"),
    (("path = \"teams/\"", "paht = \"teams/\""), "sources[0]: unknown key 'paht'"),
    (("path = \"out/dash.xlsx\"", "path = \"out/dash.csv\""), "[output].path must end in .xlsx"),
    (("[output]\npath = \"out/dash.xlsx\"", "[output]"), "[output] needs exactly one"),
    (("name = \"Test\"", "name = 5"), "[program].name must be str"),
    (("[program]", "[thresholds]\ncoaching_share_target = \"lots\"\n[program]"),
     "coaching_share_target"),
    (("[program]", "[thresholds]\nstale_contact_dayz = 3\n[program]"), "stale_contact_dayz"),
    (("[program]", "[schedule]\nat = \"2am\"\n[program]"), "[schedule].at"),
    (("[program]", "[schedule]\nweekdays = [\"mon\", \"funday\"]\n[program]"),
     "[schedule].weekdays: weekday 'funday'"),
    (("[program]", "[schedule]\nweekdays = []\n[program]"), "[schedule].weekdays lists no day"),
])
def test_bad_config_names_the_key(tmp_path, change, message):
    old, new = change
    assert old in GOOD
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, GOOD.replace(old, new, 1)))
    assert message in str(info.value)


def test_broken_toml_and_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(write(tmp_path, "[program\nname="))
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.toml")


def test_output_may_not_be_a_source(tmp_path):
    text = GOOD.replace("path = \"teams/\"", "path = \"out/dash.xlsx\"")
    with pytest.raises(ConfigError, match="never writes its dashboard into a source"):
        load_config(write(tmp_path, text))


def test_cli_reports_config_errors_with_exit_2_and_no_traceback(tmp_path):
    bad = write(tmp_path, GOOD.replace("kind = \"team\"", "kind = 3"))
    proc = subprocess.run([sys.executable, "-m", "sheetsync", "validate", "--config", str(bad)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "sources[0].kind" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


def test_weekdays_take_the_forms_the_scheduler_suggests(tmp_path):
    text = GOOD + '\n[schedule]\nweekdays = ["Mon", "tues", "WEDNESDAY", "thurs."]\n'
    config = load_config(write(tmp_path, text))
    assert config.schedule.weekdays == ("monday", "tuesday", "wednesday", "thursday")

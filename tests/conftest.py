"""Shared fixtures: the fake Google API and its account (from sheetsync's own pytest plugin,
which a district's tests can use too), and the bundled example program."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from sheetsync.config import Config, load_config
from tests import REPO

pytest_plugins = ["sheetsync.testing.pytest_plugin"]


@pytest.fixture
def example_config(tmp_path: Path) -> Config:
    """The bundled example program, writing its dashboard and state under ``tmp_path``."""
    config = load_config(REPO / "config" / "example.toml")
    return replace(config, output=replace(config.output, path=tmp_path / "dashboard.xlsx",
                                          state_dir=tmp_path / "state"))

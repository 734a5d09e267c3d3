"""Listing a folder or glob: every workbook found once, with its real path."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sheetsync.backends.excel import expand


def _touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"PK")
    return path


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symbolic links")
def test_real_paths_match_the_resolved_paths_through_links(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _touch(data / "a.xlsx")
    _touch(data / "sub" / "b.xlsx")
    _touch(tmp_path / "elsewhere" / "c.xlsx")
    os.symlink(tmp_path / "elsewhere" / "c.xlsx", data / "c-link.xlsx")  # a file link
    os.symlink(tmp_path / "elsewhere", data / "linked")  # a folder link
    os.symlink(data, tmp_path / "via")  # the folder itself reached through a link

    for pattern in (str(tmp_path / "via"), str(tmp_path / "via" / "**" / "*.xlsx")):
        found = expand(pattern)
        assert found.files, pattern
        for file in found.files:
            assert found.real_path(file) == os.path.realpath(file), (pattern, file)
        # c.xlsx is reached twice (its link, and the linked folder): listed once
        reals = [found.real_path(f) for f in found.files]
        assert sorted(reals) == sorted(set(reals))
        assert str(tmp_path / "elsewhere" / "c.xlsx") in reals
        assert len(found.duplicates) == 1


def test_relative_glob_gives_absolute_real_paths(tmp_path: Path, monkeypatch) -> None:
    _touch(tmp_path / "coaches" / "x.xlsx")
    _touch(tmp_path / "coaches" / ".hidden.xlsx")
    _touch(tmp_path / "coaches" / "~$x.xlsx")
    monkeypatch.chdir(tmp_path)
    found = expand("coaches/*.xlsx")
    assert found.files == [os.path.join("coaches", "x.xlsx")]
    assert found.real_path(found.files[0]) == str(tmp_path.resolve() / "coaches" / "x.xlsx")

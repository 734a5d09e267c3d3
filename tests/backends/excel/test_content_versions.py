"""Content versions of workbook files: hashed once per change, remembered by ``stat``."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from sheetsync.backends.excel import content_versions as fv

OLD = time.time_ns() - 3600 * 10**9  # an hour ago: well settled


def _file(path: Path, data: bytes, mtime_ns: int = OLD) -> str:
    path.write_bytes(data)
    os.utime(path, ns=(mtime_ns, mtime_ns))
    return str(path)


@pytest.fixture
def hashed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    real = fv.file_hash

    def counting(path: str) -> str:
        calls.append(path)
        return real(path)

    monkeypatch.setattr(fv, "file_hash", counting)
    return calls


def _settled_ctime(monkeypatch: pytest.MonkeyPatch) -> None:
    # a file written by the test has a change time of now, which counts as racy: look at the
    # memo from an hour later
    monkeypatch.setattr(fv, "_now_ns", lambda: time.time_ns() + 3600 * 10**9)


def test_an_unchanged_file_keeps_its_hash_without_being_read(
        tmp_path: Path, hashed: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    _settled_ctime(monkeypatch)
    a, b = _file(tmp_path / "a.xlsx", b"one"), _file(tmp_path / "b.xlsx", b"two")
    first = fv.file_versions([a, b], tmp_path / "state")
    assert first == {a: fv.file_hash(a), b: fv.file_hash(b)} and first[a] != first[b]
    hashed.clear()
    assert fv.file_versions([a, b], tmp_path / "state") == first
    assert hashed == []


def test_a_changed_file_is_hashed_again_even_with_its_old_size_and_time(
        tmp_path: Path, hashed: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    _settled_ctime(monkeypatch)
    a = _file(tmp_path / "a.xlsx", b"one")
    before = fv.file_versions([a], tmp_path / "state")[a]
    time.sleep(0.01)
    _file(tmp_path / "a.xlsx", b"two")  # same size, modification time set back: ctime moved
    hashed.clear()
    after = fv.file_versions([a], tmp_path / "state")[a]
    assert hashed == [a] and after != before and after == fv.file_hash(a)


def test_a_file_saved_just_now_is_not_remembered(tmp_path: Path, hashed: list[str]) -> None:
    a = _file(tmp_path / "a.xlsx", b"one", mtime_ns=time.time_ns())
    fv.file_versions([a], tmp_path / "state")
    fv.file_versions([a], tmp_path / "state")
    assert hashed == [a, a]  # a second save in the same timestamp tick could hide otherwise


def test_a_damaged_memo_is_ignored_and_written_afresh(
        tmp_path: Path, hashed: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    _settled_ctime(monkeypatch)
    a = _file(tmp_path / "a.xlsx", b"one")
    state = tmp_path / "state"
    state.mkdir()
    expected = fv.file_hash(a)
    for damage in ("{not json", '{"format": 1, "files": {"x": 3}}', '[1, 2]'):
        (state / fv.VERSIONS_FILE).write_text(damage)
        hashed.clear()
        assert fv.file_versions([a], state) == {a: expected}
        assert hashed == [a]
        stored = json.loads((state / fv.VERSIONS_FILE).read_text())
        assert stored["files"][a][1] == expected


def test_files_gone_are_forgotten_and_unreadable_ones_left_out(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _settled_ctime(monkeypatch)
    a, b = _file(tmp_path / "a.xlsx", b"one"), _file(tmp_path / "b.xlsx", b"two")
    state = tmp_path / "state"
    fv.file_versions([a, b], state)
    os.remove(b)
    assert fv.file_versions([a, str(tmp_path / "missing.xlsx")], state) == {
        a: fv.file_hash(a)}
    assert set(json.loads((state / fv.VERSIONS_FILE).read_text())["files"]) == {a}


def test_without_a_state_folder_every_file_is_hashed(tmp_path: Path, hashed: list[str]) -> None:
    a = _file(tmp_path / "a.xlsx", b"one")
    fv.file_versions([a], None)
    fv.file_versions([a], None)
    assert hashed == [a, a] and not list(tmp_path.glob("*.json"))

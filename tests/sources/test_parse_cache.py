"""The parse cache and the program snapshot: re-runs read only what changed, and get the same
frames and findings as a run that reads everything; damaged cache files are never trusted."""

from __future__ import annotations

import os
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sheetsync.backends.excel as excel_backend
import sheetsync.sources.cache as cache_module
from sheetsync import benchmark
from sheetsync.config import load_config
from sheetsync.pipeline import read_context, validate
from sheetsync.sources.cache import Snapshot, load_snapshot, needs_rewrite, snapshot_path
from sheetsync.validation.cells import AsOfWindow, parse_date


@pytest.fixture
def program(tmp_path: Path) -> benchmark.GeneratedProgram:
    return benchmark.generate_program(tmp_path, coaches=6, teams=3, weeks=10, seed=5)


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files actually opened and parsed (not served from a cache)."""
    opened: list[str] = []
    real = excel_backend.read_excel

    def counting(location, *args, **kwargs):
        opened.append(Path(location).name)
        return real(location, *args, **kwargs)

    monkeypatch.setattr(excel_backend, "read_excel", counting)
    return opened


def _fresh(config, as_of: date):
    return validate(config, as_of, use_cache=False)


def _assert_same(data, expected) -> None:
    for name, frame in expected.frames.items():
        pd.testing.assert_frame_equal(data.frames[name], frame, check_exact=True, obj=name)
    assert list(data.findings) == list(expected.findings)
    assert [(s.name, s.state, s.rows) for s in data.sources] == \
        [(s.name, s.state, s.rows) for s in expected.sources]
    assert data.columns == expected.columns


def _snapshot_of(config, as_of: date) -> Snapshot | None:
    fingerprint = read_context(config, as_of).fingerprint
    return load_snapshot(snapshot_path(config.output.state_dir), fingerprint)


def test_an_unchanged_rerun_opens_no_file_and_matches_a_full_read(program, reads):
    config = load_config(program.config)
    first = validate(config, config.as_of)
    assert len(reads) == program.files
    assert _snapshot_of(config, config.as_of) is not None

    reads.clear()
    again = validate(config, config.as_of)
    assert reads == []
    _assert_same(again, first)
    _assert_same(again, _fresh(config, config.as_of))


def test_a_changed_file_is_the_only_one_read_again(program, reads):
    config = load_config(program.config)
    validate(config, config.as_of)
    changed = benchmark.change_files(program)
    reads.clear()

    data = validate(config, config.as_of)
    assert reads == [p.name for p in changed]
    expected = _fresh(config, config.as_of)
    _assert_same(data, expected)
    # the changed value itself arrived (the generator's edit: 76 minutes, or 1.25 h + 1 min)
    assert data.frames["time_log"]["minutes"].isin([76.0, 76.0 / 60 * 60]).any()


def test_the_next_nights_run_reuses_every_parse(program, reads):
    """The as-of date moves every night; a parse holds for every as-of date in its window."""
    config = load_config(program.config)
    validate(config, config.as_of)
    reads.clear()

    next_day = config.as_of + timedelta(days=1)
    data = validate(config, next_day)
    assert reads == []
    _assert_same(data, _fresh(config, next_day))


def test_a_file_with_a_future_date_is_read_again_as_the_date_moves(program, reads):
    """A future-date finding quotes the as-of date, so that parse holds for one day only."""
    config = load_config(program.config)
    early = config.as_of - timedelta(days=3)  # the last days' entries are in the future
    first = validate(config, early)
    assert any(f.code == "future-date" for f in first.findings)
    reads.clear()

    data = validate(config, early + timedelta(days=1))
    future = {Path(f.file).name for f in first.findings if f.code == "future-date"}
    assert sorted(reads) == sorted(future)
    _assert_same(data, _fresh(config, early + timedelta(days=1)))
    quoted = {f.message for f in data.findings if f.code == "future-date"}
    assert quoted and all((early + timedelta(days=1)).isoformat() in m for m in quoted)


def test_a_removed_file_disappears_and_a_new_one_is_read(program, reads):
    config = load_config(program.config)
    validate(config, config.as_of)
    gone = program.coach_files[2]
    gone.unlink()
    copy = gone.with_name("coach-9999.xlsx")
    copy.write_bytes(program.coach_files[3].read_bytes())
    reads.clear()

    data = validate(config, config.as_of)
    assert reads == ["coach-9999.xlsx"]
    assert "coach-0002" not in set(data.frames["time_log"]["source"])
    assert "coach-9999" in set(data.frames["time_log"]["source"])
    _assert_same(data, _fresh(config, config.as_of))


def test_a_source_gone_from_the_program_leaves_the_cache_once_the_snapshot_is_rewritten(
        program):
    config = load_config(program.config)
    validate(config, config.as_of)
    gone = program.coach_files[2]
    key = f"excel:{gone}"
    gone.unlink()
    benchmark.change_files(program)  # drift: the snapshot is rewritten
    validate(config, config.as_of)
    folder = config.output.state_dir / "cache"
    packed = {k for pack in folder.glob("*" + cache_module.PACK_SUFFIX)
              for k in cache_module.read_pack(pack)}
    snapshot = _snapshot_of(config, config.as_of)
    assert snapshot is not None
    assert key not in snapshot.entries and key not in packed
    # the sources still in the program keep their last good reads
    assert f"excel:{program.coach_files[3]}" in set(snapshot.entries) | packed


def _damage(path: Path, how: str, at: int | None = None) -> None:
    blob = bytearray(path.read_bytes())
    if how == "flip":
        blob[len(blob) // 2 if at is None else at] ^= 0xFF
    elif how == "truncate":
        del blob[len(blob) // 3:]
    elif how == "magic":
        blob[:8] = b"garbage!"
    else:
        blob.clear()
    path.write_bytes(bytes(blob))


def _packs(config) -> list[Path]:
    return sorted((config.output.state_dir / "cache").glob("*.pack"))


@pytest.mark.parametrize("damage", ["flip", "truncate", "magic", "empty"])
def test_a_damaged_snapshot_is_discarded_never_trusted(program, reads, damage):
    config = load_config(program.config)
    expected = validate(config, config.as_of)
    _damage(snapshot_path(config.output.state_dir), damage)
    reads.clear()

    data = validate(config, config.as_of)
    assert sorted(reads) == sorted(p.name for p in program.coach_files + program.team_files)
    _assert_same(data, expected)
    assert _snapshot_of(config, config.as_of) is not None  # written again, whole


def test_one_cache_write_per_run(program, monkeypatch):
    """A full run writes the snapshot and no pack; a run that read a few files writes one pack
    (while the snapshot has not drifted far) and leaves the snapshot alone."""
    monkeypatch.setattr(cache_module, "REWRITE_SHARE", 0)  # rewrite only a missing snapshot
    config = load_config(program.config)
    validate(config, config.as_of)
    assert _packs(config) == []
    path = snapshot_path(config.output.state_dir)
    os.utime(path, ns=(0, 0))

    benchmark.change_files(program, share=0.34)  # 2 of the 6 coach workbooks
    validate(config, config.as_of)
    assert len(_packs(config)) == 1
    assert len(cache_module.read_pack(_packs(config)[0])) == 2
    assert path.stat().st_mtime_ns == 0
    validate(config, config.as_of)  # nothing read: nothing written
    assert len(_packs(config)) == 1


def test_a_damaged_cache_entry_means_that_file_is_read_again(program, reads, monkeypatch):
    monkeypatch.setattr(cache_module, "REWRITE_SHARE", 0)
    config = load_config(program.config)
    validate(config, config.as_of)
    changed = benchmark.change_files(program, share=0.34)
    validate(config, config.as_of)
    [pack] = _packs(config)
    entries = cache_module.read_pack(pack)
    assert len(entries) == 2
    # flip a byte inside the first entry: that entry goes, the other stays
    _damage(pack, "flip", at=len(cache_module.CACHE_MAGIC) + 100)
    reads.clear()

    data = validate(config, config.as_of)
    assert len(reads) == 1 and reads[0] in {p.name for p in changed}
    _assert_same(data, _fresh(config, config.as_of))


@pytest.mark.parametrize("damage", ["flip", "truncate", "magic", "empty"])
def test_a_damaged_pack_keeps_only_its_sound_entries(program, tmp_path, damage):
    config = load_config(program.config)
    validate(config, config.as_of)
    snapshot = _snapshot_of(config, config.as_of)
    assert snapshot is not None
    entries = [snapshot.entry(key) for key in snapshot.entries]
    pack = tmp_path / "one.pack"
    assert cache_module.write_pack(pack, entries)
    assert set(cache_module.read_pack(pack)) == set(snapshot.entries)

    _damage(pack, damage)
    kept = cache_module.read_pack(pack)
    assert len(kept) < len(entries)
    for key, entry in kept.items():  # what survives is exactly what was written
        assert entry.version == snapshot.entries[key].version
        assert entry.result.rows == snapshot.entry(key).result.rows
    if kept:
        assert set(cache_module.read_pack(pack)) == set(kept)  # rewritten without the damage
    else:
        assert not pack.exists()  # nothing sound left: deleted


def test_a_failing_source_falls_back_to_its_last_good_read_in_the_snapshot(program, reads):
    config = load_config(program.config)
    first = validate(config, config.as_of)
    victim = program.team_files[1]
    victim.write_bytes(b"not a workbook any more")
    reads.clear()

    data = validate(config, config.as_of)
    assert reads == [victim.name]
    state = {s.name: s for s in data.sources}[victim.stem]
    assert state.state == "stale" and state.rows == {s.name: s for s in first.sources}[
        victim.stem].rows
    # and it stays the last good read after the snapshot is written again
    path = snapshot_path(config.output.state_dir)
    os.utime(path, ns=(0, 0))
    benchmark.change_files(program, share=1.0)  # every coach workbook: the snapshot drifts
    validate(config, config.as_of)
    assert path.stat().st_mtime_ns != 0
    again = validate(config, config.as_of)
    assert {s.name: s.state for s in again.sources}[victim.stem] == "stale"


def test_settings_that_change_validation_retire_the_snapshot(program, reads, tmp_path):
    config = load_config(program.config)
    validate(config, config.as_of)
    text = program.config.read_text().replace("challenge_weeks = 10", "challenge_weeks = 9")
    program.config.write_text(text)
    reads.clear()

    data = validate(load_config(program.config), config.as_of)
    assert len(reads) == program.files
    assert set(data.frames["goals"]["weeks"]) == {9}


def test_the_snapshot_is_rewritten_only_once_it_drifts(program):
    config = load_config(program.config)
    validate(config, config.as_of)
    path = snapshot_path(config.output.state_dir)
    os.utime(path, ns=(0, 0))
    validate(config, config.as_of)
    assert path.stat().st_mtime_ns == 0  # nothing changed: not rewritten

    benchmark.change_files(program)  # 1 of 9 sources: a small program rewrites at once
    validate(config, config.as_of)
    assert path.stat().st_mtime_ns != 0


def test_drift_threshold_on_a_large_program():
    snapshot = Snapshot("fingerprint", dict.fromkeys(map(str, range(1000))), {})  # type: ignore
    # 10 of 1,000 changed: each counts twice (read again, and its entry unused), 2% < 1 in 20
    assert not needs_rewrite(snapshot, storable=1000, served=990, total=1000)
    assert needs_rewrite(snapshot, storable=1000, served=900, total=1000)
    assert needs_rewrite(None, storable=1000, served=0, total=1000)
    assert not needs_rewrite(None, storable=0, served=0, total=0)


# -- the as-of window of a parse ------------------------------------------------------------------

def test_a_date_without_a_year_holds_until_another_year_is_nearer():
    window = AsOfWindow(date(2026, 11, 4))
    assert parse_date("Sept 8", date(2026, 11, 4), window) == date(2026, 9, 8)
    assert window.span == (date(2026, 3, 10), date(2027, 3, 9))
    assert parse_date("Sept 8", date(2027, 3, 9)) == date(2026, 9, 8)
    assert parse_date("Sept 8", date(2027, 3, 11)) == date(2027, 9, 8)
    assert parse_date("Sept 8", date(2026, 3, 9)) == date(2025, 9, 8)


def test_a_leap_day_without_a_year_holds_for_one_day_only():
    window = AsOfWindow(date(2027, 11, 4))
    assert parse_date("2/29", date(2027, 11, 4), window) == date(2028, 2, 29)
    assert window.span == (date(2027, 11, 4), date(2027, 11, 4))


@settings(max_examples=1000, deadline=None)
@given(as_of=st.dates(date(1950, 1, 1), date(2150, 12, 31)),
       month=st.integers(1, 12), day=st.integers(1, 31), shift=st.integers(-400, 400))
def test_every_as_of_date_inside_the_window_infers_the_same_year(as_of, month, day, shift):
    text = f"{month}/{day}"
    window = AsOfWindow(as_of)
    try:
        chosen = parse_date(text, as_of, window)
    except Exception:  # noqa: BLE001 - not a calendar day: no window to check
        return
    first, last = window.span
    assert first <= as_of <= last
    other = as_of + timedelta(days=shift)
    if first <= other <= last:
        assert parse_date(text, other) == chosen


def test_a_tie_between_two_years_goes_to_the_earlier_and_the_window_keeps_it():
    # 1 Oct 1999 is 183 days after 1 Apr 1999 and 183 days before 1 Apr 2000
    window = AsOfWindow(date(1999, 10, 1))
    assert parse_date("4/1", date(1999, 10, 1), window) == date(1999, 4, 1)
    assert window.span == (date(1998, 10, 1), date(1999, 10, 1))
    assert parse_date("4/1", date(1999, 10, 2)) == date(2000, 4, 1)
    assert parse_date("4/1", date(1998, 9, 30)) == date(1998, 4, 1)


def test_the_settings_fingerprint_does_not_move_when_a_run_has_used_the_settings(
        example_config) -> None:
    """Lookups cached on first use (the framework's, the activities') must not change what the
    parse cache's fingerprint is taken from, or the next run would re-read every source."""
    from sheetsync.pipeline import read_context, run

    day = date(2026, 11, 4)
    before = read_context(example_config, day).fingerprint
    run(example_config, as_of=day)
    assert read_context(example_config, day).fingerprint == before


def test_the_same_workbooks_changing_night_after_night_keep_one_pack(program, reads,
                                                                     monkeypatch):
    """Too few changed sources to move the snapshot, read again every night: the packs are
    merged, so a run never reads a stale entry of an earlier night."""
    monkeypatch.setattr(cache_module, "REWRITE_SHARE", 0)  # rewrite only a missing snapshot
    config = load_config(program.config)
    validate(config, config.as_of)
    for night in range(1, 5):
        changed = benchmark.change_files(program, share=0.34, variant=night)
        reads.clear()
        data = validate(config, config.as_of)
        assert reads == [p.name for p in changed]
        assert len(_packs(config)) == 1
        assert len(cache_module.read_pack(_packs(config)[0])) == len(changed)
    _assert_same(data, _fresh(config, config.as_of))
    others = [p for p in program.coach_files if p not in changed][:1]
    for path in others:  # a workbook no earlier pack holds: a pack of its own
        benchmark._write_coach((path, program.coach_files.index(path), program.seed,
                                program.weeks, 9))
    validate(config, config.as_of)
    assert len(_packs(config)) == 2
    reads.clear()
    again = validate(config, config.as_of)
    assert reads == []  # every source from the snapshot or one of the two packs
    _assert_same(again, _fresh(config, config.as_of))

"""The layout corpus: spreadsheets laid out the way districts keep them are read right, or shown as
unknown with a finding at the exact cell, and never silently wrong.

The corpus (:mod:`tests.corpus.layouts`) is written once for the module and read the way a run
reads it (Excel files, a config, :func:`sheetsync.validate`, the analytics).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.corpus.layouts import (
    TEMPLATES,
    WINDOW,
    Reading,
    build_layout_corpus,
    findings_of,
    read_corpus,
    verdict,
    write_layout_corpus,
)

VARIANTS = build_layout_corpus()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    config, _ = write_layout_corpus(tmp_path_factory.mktemp("layouts"))
    return config, read_corpus(config)


def test_the_corpus_is_broad():
    assert len(VARIANTS) >= 40
    assert len({v.name for v in VARIANTS}) == len(VARIANTS)
    assert {v.kind for v in VARIANTS} == {"coach", "team", "shared_log"}
    assert {v.template for v in VARIANTS if v.template} == set(TEMPLATES)
    unknown = [v for v in VARIANTS if any(e.unknown for e in v.expect.values())]
    assert 5 <= len(unknown) < len(VARIANTS) // 3
    assert (WINDOW[1] - WINDOW[0]).days == 27 and WINDOW[0].weekday() == 0


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.name)
def test_each_variant_is_read_right_or_shown_as_unknown(variant, corpus):
    _, readings = corpus
    for source, expected in variant.expect.items():
        got = verdict(variant, source, expected, readings)
        assert got == ("unknown" if expected.unknown else "right"), (variant.covers, source)


def test_no_variant_is_silently_wrong(corpus):
    """No number is shown where the data was not understood: every figure shown is the true
    one, and no coach or team of the corpus is dropped."""
    _, readings = corpus
    wrong = {f"{v.name} / {s}": verdict(v, s, e, readings)
             for v in VARIANTS for s, e in v.expect.items()}
    assert {k: w for k, w in wrong.items() if w.startswith(("WRONG", "missing"))} == {}


def test_the_verdict_catches_a_wrong_or_a_missing_figure(corpus):
    """The check above can fail: a figure off by a minute, a 0 shown for an unknown, a
    status that is not the truth, or a coach not shown at all."""
    _, readings = corpus
    for name, source, change in (
            ("template-headers", "template-headers", {"minutes": 1.0}),
            ("no-date-column", "no-date-column", {"minutes": 0.0}),
            ("goal-about", "goal-about", {"status": "No data"}),
            ("team-template", "team-template", {"status": "Off track"})):
        variant = next(v for v in VARIANTS if v.name == name)
        truth = readings[source]
        bent = Reading(**{**truth.__dict__, **change})
        if "minutes" in change and truth.minutes is not None:
            bent.minutes = truth.minutes + change["minutes"]
        got = verdict(variant, source, variant.expect[source], {**readings, source: bent})
        assert got.startswith("WRONG"), (name, got)
    variant = next(v for v in VARIANTS if v.name == "form-responses")
    source = "form-responses: Coach Finch"
    rest = {k: v for k, v in readings.items() if k != source}
    assert verdict(variant, source, variant.expect[source], rest) == "missing"


def test_what_was_read_differently_says_so_at_its_cell(corpus):
    """A side table, a goal taken from its sentence, a column found by its cells, an
    activity that matches nothing (once per distinct text): each has its finding."""
    _, readings = corpus
    found = findings_of(readings)
    assert ("side-summary", "second-table", "Time Log", "F1") in found
    assert ("side-by-side-logs", "second-table", "Time Log", "E1") in found
    assert ("goal-sentence", "value-from-goal", "Goal", "B3") in found
    assert ("odd-date-header", "column-guessed", "Time Log", "A1") in found
    unmapped = [f for f in found if f[0] == "unmapped-activity" and f[1] == "unknown-activity"]
    assert len(unmapped) == 1  # "Yearbook committee", typed many times, reported once
    assert not any(f[1] == "unknown-activity" for f in found if f[0] == "district-words")


def test_a_shared_log_becomes_one_coach_per_name(corpus):
    _, readings = corpus
    coaches = [s for s in readings if s.startswith("form-responses: ")]
    assert sorted(coaches) == ["form-responses: Coach Finch", "form-responses: Coach Heron",
                               "form-responses: Coach Wren"]


def test_relationship_marks_and_word_ratings_are_read(corpus):
    _, readings = corpus
    expected = next(v for v in VARIANTS if v.name == "relationship-marks").expect[
        "relationship-marks"].relationships
    assert repr(expected) in readings["relationship-marks"].notes


def test_unreadable_time_logs_say_why(corpus):
    _, readings = corpus
    for name in ("no-date-column", "no-time-column", "no-header", "no-time-log"):
        note = readings[name].notes[0]
        assert note and "time log" in note.casefold(), (name, note)
    assert readings["no-date-column"].notes[0] == "time log not readable (no Date column)"


def test_an_unreadable_goal_says_what(corpus):
    _, readings = corpus
    assert readings["goal-about"].notes[0].startswith(
        "Target: \u201cabout 70\u201d is not a percentage (see Flags)")
    assert "No data" not in {readings[v.name].status for v in VARIANTS if v.kind == "team"
                             and any(e.unknown for e in v.expect.values())}

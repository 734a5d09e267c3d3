"""How every variant of the layout corpus is read: by this version of sheetsync, and, given
another Python with an older sheetsync installed, by that one too, side by side.

    python bench/layout_corpus.py                               # this version only
    python bench/layout_corpus.py --before /path/to/old/venv/bin/python

Prints one Markdown table row per coach or team of the corpus (see tests/corpus/layouts.py):
the true figures, what each version showed, and a verdict ("right"; "unknown": blank, with a
finding at the exact cell; "WRONG": a number shown that is not the truth; "missing": not shown).
Coach figures are minutes / coaching share / minutes outside the role over the last 4 complete
weeks (an older version is judged against its own window, the 28 days up to the as-of date);
team figures are the status and the latest value.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _corpus():
    """The corpus module, loaded from its file: an older sheetsync has no copy of it."""
    spec = importlib.util.spec_from_file_location("layout_corpus",
                                                  REPO / "tests" / "corpus" / "layouts.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules["layout_corpus"] = module
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def read(folder: Path) -> dict:
    """Read the corpus in ``folder`` with the sheetsync this Python has."""
    corpus = _corpus()
    config = folder / "config.toml"
    try:
        import sheetsync

        sheetsync.load_config(config)
    except Exception:  # noqa: BLE001 - an older version knows fewer source kinds
        text = config.read_text(encoding="utf-8").replace('kind = "shared_log"',
                                                          'kind = "auto"')
        config = folder / "config-auto.toml"
        config.write_text(text, encoding="utf-8")
    readings = corpus.read_corpus(config)
    return {source: dataclasses.asdict(r) for source, r in readings.items()}


def table(variants: list, after: dict, before: dict | None) -> list[str]:
    corpus = sys.modules["layout_corpus"]

    def readings(raw: dict) -> dict:
        return {s: corpus.Reading(**r) for s, r in raw.items()}

    after_r = readings(after)
    before_r = readings(before) if before is not None else None
    head = ["variant", "source", "reads", "true figures", "after", "verdict after"]
    if before_r is not None:
        head[4:4] = ["before", "verdict before"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for v in variants:
        for source, expected in v.expect.items():
            truth = ("unknown: finding {} at {}!{}".format(*expected.finding)
                     if expected.unknown else corpus.shown(corpus.Reading(
                         minutes=expected.minutes, share=expected.share,
                         outside=expected.outside, latest=expected.latest,
                         status=expected.status)))
            row = [v.name, source if source != v.name else "", v.covers, truth,
                   corpus.shown(after_r.get(source)),
                   corpus.verdict(v, source, expected, after_r)]
            if before_r is not None:
                # the older version's own "last 4 weeks" were the 28 days up to the as-of date
                old = expected.over_28_days or expected
                row[4:4] = [corpus.shown(before_r.get(source)),
                            corpus.verdict(v, source, old, before_r)]
            lines.append("| " + " | ".join(c.replace("|", "/") for c in row) + " |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", help="a Python whose sheetsync is the version to compare")
    parser.add_argument("--read", type=Path, help=argparse.SUPPRESS)  # the child's mode
    args = parser.parse_args(argv)
    if args.read is not None:
        print(json.dumps(read(args.read)))
        return 0
    corpus = _corpus()
    with tempfile.TemporaryDirectory() as tmp:
        _, variants = corpus.write_layout_corpus(Path(tmp))
        after = read(Path(tmp))
        before = None
        if args.before:
            out = subprocess.run([args.before, __file__, "--read", tmp], capture_output=True,
                                 text=True, check=True, cwd=tmp)
            before = json.loads(out.stdout.splitlines()[-1])
    lines = table(variants, after, before)
    print("\n".join(lines))
    verdicts = [line.split(" | ")[-1].rstrip(" |") for line in lines[2:]]
    counts = {k: sum(v.startswith(k) for v in verdicts) for k in ("right", "unknown", "WRONG",
                                                                   "missing", "blank")}
    print(f"\nafter: {counts}")
    return 0 if not counts["WRONG"] and not counts["missing"] else 1


if __name__ == "__main__":
    sys.exit(main())

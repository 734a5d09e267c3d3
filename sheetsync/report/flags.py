"""Flag rows: the leaders' Flags tab and each source's own flags tab, from the same findings.

The two readers differ. The Flags tab is for leaders: it names who owns each flag (the coach or
the team), says which flags are new since the last run, titles each code in plain words, and a
finding about a private column shows no cell content
(:meth:`~sheetsync.findings.Finding.leader_message`). The ``Sheetsync Flags`` tab written back
into a source is the coach's own, so it may quote their cells; it is worded for the coach, and
each cell reference is a link that jumps to the cell.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date

from sheetsync.findings import CODES, Finding, Severity
from sheetsync.report.model import FLAGS_TAB, Link, Sheet, Table

FlagKey = tuple[str, str, str, str]
"""What identifies a flag from one run to the next: code, source, tab and cell (the message
holds counts that change, so it is left out)."""

SOURCE_FLAGS_HEADER = ["Severity", "Problem", "Tab", "Cell", "What sheetsync read",
                       "What is wrong", "How to fix it"]
"""The columns of the flags tab written back into a source."""

PLAIN_SEVERITY = {Severity.ERROR: "Must fix", Severity.WARNING: "Please check",
                  Severity.INFO: "Good to know"}
"""Severities as the coach reading their own flags tab says them."""

LEADER_HINTS = {
    "unknown-activity": "Ask the coach to pick an activity from the list, or add it to the "
                        "config's [activities] if the program counts it.",
    "low-coaching-share": "Talk it over with the coach: which other duties could move so that "
                          "more of the week goes to working with teachers?",
    "outside-role-time": "Check with the coach and the school: substitute coverage, evaluation "
                         "and assessment scoring fall outside the coaching role.",
}
"""Hints that speak to the coach ("talk it over with your coaching leader"), as a leader reads
them on the Flags tab."""

_A1 = re.compile(r"^[A-Z]{1,3}[1-9][0-9]{0,6}$")


def flag_key(finding: Finding) -> FlagKey:
    return (finding.code, finding.source, finding.tab, finding.cell)


def title_of(code: str) -> str:
    """The plain-language title of a finding code ("bad-date" -> "Not a date")."""
    return CODES.get(code, code.replace("-", " ").capitalize())


def source_flag_rows(findings: Iterable[Finding]) -> list[list[object]]:
    """One source's findings as the rows of its own flags tab (values quoted: it is theirs).

    The Cell column links to the cell, in the workbook the tab is written into."""
    rows: list[list[object]] = []
    for f in sorted(findings, key=Finding.sort_key):
        cell: object = f.cell
        if f.tab and _A1.match(f.cell or ""):
            cell = Link(f.cell, f.tab, f.cell)
        rows.append([PLAIN_SEVERITY[f.severity], title_of(f.code), f.tab, cell,
                     "" if f.value is None else str(f.value), f.message, f.hint])
    return rows


def source_flags_sheet(rows: Sequence[Sequence[object]], checked: date) -> Sheet:
    """The ``Sheetsync Flags`` tab for one source: an intro, the date, then its flags."""
    count = len(rows)
    intro = [
        "sheetsync reads this workbook for the program's dashboard. Below is what it could not "
        "read, or what looks off. Click a cell reference to jump to it; once the cell is fixed, "
        "its row goes away at the next check.",
        f"Checked on {checked.isoformat()}: {count} item{'' if count == 1 else 's'}. "
        "sheetsync rewrites this tab when the list changes; please do not edit it.",
    ]
    if not rows:
        intro[1] = (f"Checked on {checked.isoformat()}: nothing to fix. sheetsync rewrites "
                    "this tab when the list changes; please do not edit it.")
    table = Table(columns=list(SOURCE_FLAGS_HEADER), rows=[list(r) for r in rows],
                  title="Flags from sheetsync", intro=intro, status_columns=["Severity"],
                  wrap_columns=["Problem", "What is wrong", "How to fix it"],
                  column_widths={"Severity": 13, "Problem": 26, "Tab": 18, "Cell": 7,
                                 "What sheetsync read": 22, "What is wrong": 60,
                                 "How to fix it": 48})
    return Sheet(FLAGS_TAB, tables=[table], freeze_rows=table.header_row, auto_filter=True)


def flags_sheet(findings: Sequence[Finding], owners: Mapping[str, str] | None = None,
                previous: set[FlagKey] | None = None) -> Sheet:
    """The leaders' Flags tab: every finding and analytic flag, without private cell content.

    ``owners`` names each source's coach or team; ``previous`` holds the flags of the last run
    (None when there was none: then nothing is marked new, since nothing can be compared)."""
    owners = owners or {}

    def new(f: Finding) -> str:
        return "" if previous is None or flag_key(f) in previous else "new"

    ordered = sorted(findings, key=lambda f: (f.severity.rank, new(f) != "new",
                                              owners.get(f.source, f.source), f.source, f.tab,
                                              f.sort_key()))
    rows = [[f.severity.value, new(f), owners.get(f.source, f.source or "The program"),
             title_of(f.code), f.leader_message(), LEADER_HINTS.get(f.code, f.leader_hint()),
             f.source, f.tab, f.cell, f.code] for f in ordered]
    what = ("Every problem found in the sources, and every flag the analysis raised, most "
            "serious first, with who owns it.")
    intro = [f"{what} \u201cnew\u201d marks a flag the last run did not have."
             if previous is not None else f"{what} This is the first run, so nothing is "
             "marked new yet."]
    table = Table(columns=["Severity", "New", "Owner", "Problem", "Message", "What to do",
                           "Source", "Tab", "Cell", "Code"],
                  rows=rows, intro=intro, status_columns=["Severity"],
                  wrap_columns=["Owner", "Problem", "Message", "What to do"],
                  column_widths={"Severity": 9, "New": 6, "Owner": 26, "Problem": 26,
                                 "Message": 60, "What to do": 48, "Source": 28, "Tab": 16,
                                 "Cell": 7, "Code": 20})
    return Sheet("Flags", tables=[table], freeze_rows=table.header_row, auto_filter=True)

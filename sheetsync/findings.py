"""Findings: every problem sheetsync notices, with a stable code and an exact position.

A finding is written for the coach who will fix it: ``message`` says what is wrong in plain words
and ``hint`` says what to do. ``code`` is a stable kebab-case identifier that scripts can match on.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, fields
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 0, "warning": 1, "info": 2}[self.value]


CODES: dict[str, str] = {
    # workbook and tab structure
    "unreadable-source": "The file or spreadsheet could not be read",
    "no-sources": "No source files matched",
    "source-loop": "A folder link leads back into a folder being read",
    "duplicate-source": "The same file is reached by two paths; it is read once",
    "unknown-kind": "The workbook kind could not be recognised",
    "missing-tab": "An expected tab is missing",
    "missing-header": "No header row was found",
    "missing-column": "A required column is missing",
    "unknown-column": "A column sheetsync does not use",
    "duplicate-column": "Two columns map to the same field",
    "column-guessed": "A column was matched by its words or its cells, not its exact name",
    "rows-skipped": "Rows inside a table that are not data (totals, repeated headers, notes)",
    "second-table": "A second table beside the first on the same tab",
    "value-from-goal": "A goal value was taken from the SMART goal sentence",
    "source-too-large": "The file is larger than the configured limit",
    "stale-source": "A source failed; its last good data is shown",
    "key-file-permissions": "The credentials key file is readable by other users",
    # cells
    "missing-required": "A required value is blank",
    "bad-date": "Not a date",
    "bad-time": "Not a time of day",
    "bad-number": "Not a number",
    "bad-percent": "Not a percentage",
    "bad-yes-no": "Not yes or no",
    "bad-choice": "Not one of the allowed values",
    "unknown-activity": "An activity that is not in the activity list",
    "unknown-focus-area": "A focus area that is not in the framework",
    "out-of-range": "A value outside the allowed range",
    "formula-error": "A formula shows an error",
    "future-date": "A date after the as-of date",
    "duplicate-week": "The same week appears twice",
    "inconsistent-value": "Values that disagree with each other",
    "cell-too-long": "A very long cell was shortened",
    # analytics flags
    "team-off-track": "A team is off track",
    "team-at-risk": "A team is at risk",
    "team-stale": "A team has not reported the latest week",
    "team-raise-goal": "A team is well above its goal line",
    "missing-weeks": "Weeks without a value",
    "overdue-actions": "Action steps past their due date",
    "low-coaching-share": "Coaching share below target",
    "outside-role-time": "Time logged outside the coaching role",
    "stale-contacts": "Teachers not contacted recently",
    "stalled-cycles": "Coaching cycles without a recent update",
    "writeback-unsupported": "Flags cannot be written into this file format",
    "writeback-failed": "Flags could not be written back",
    "history-not-recorded": "This run could not be added to the program's history",
}


SOURCE_TEXT_CODES = frozenset({
    "unknown-kind", "missing-tab", "missing-header", "missing-column", "unknown-column",
    "duplicate-column", "missing-required", "bad-date", "bad-time", "bad-number", "bad-percent",
    "bad-yes-no", "bad-choice", "unknown-activity", "out-of-range", "formula-error",
    "future-date", "duplicate-week", "inconsistent-value", "cell-too-long",
    "unknown-focus-area"})
"""Codes whose message may quote what a source holds: a cell's text, a header, a tab name."""

_HINTS_QUOTING_SOURCE = frozenset({"unknown-kind", "missing-tab", "missing-header"})


@dataclass(frozen=True)
class Finding:
    """One problem or notice, addressed to a cell where possible."""

    code: str
    severity: Severity
    message: str
    hint: str = ""
    source: str = ""
    file: str = ""
    tab: str = ""
    cell: str = ""
    value: Any = None
    private: bool = False  # about a private column: leaders' tabs must not show its value

    def leader_message(self) -> str:
        """The message as a leader-facing tab may show it.

        A private finding (about a private column, or any cell of a coach's workbook, where
        people type private text into the wrong column) names the problem and no text of the
        source: its tab and cell say where. The full message stays in the coach's own flags tab
        and in ``sheetsync validate``."""
        if not self.private:
            return self.message
        where = f" at {self.cell}" if self.cell else ""
        return (f"{CODES.get(self.code, 'A problem')}{where} (the cell's text is not shown "
                "here: see the workbook's own flags, or sheetsync validate).")

    def leader_hint(self) -> str:
        """The hint as a leader-facing tab may show it (see :meth:`leader_message`)."""
        if self.private and self.code in _HINTS_QUOTING_SOURCE:
            return "Open the workbook, or run sheetsync validate, to see what it holds."
        return self.hint

    def kept_private(self) -> Finding:
        """This finding marked private when it quotes its source's text (see
        :data:`SOURCE_TEXT_CODES`): how a coach workbook's findings reach a leader tab."""
        if self.private or self.code not in SOURCE_TEXT_CODES:
            return self
        from dataclasses import replace

        return replace(self, private=True)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["severity"] = self.severity.value
        data["value"] = None if self.value is None else str(self.value)
        return data

    def sort_key(self) -> tuple:
        return (self.severity.rank, self.source, self.tab, _cell_sort_key(self.cell), self.code)


_PLAIN_A1 = re.compile(r"([A-Za-z]{1,3})([0-9]+)")


def _cell_sort_key(cell: str) -> tuple[int, str]:
    """A1 cells in reading order (row, then column)."""
    plain = _PLAIN_A1.fullmatch(cell)
    if plain is not None:  # the usual cell, such as "B12"
        return (int(plain[2]), plain[1].rjust(3))
    digits = "".join(ch for ch in cell if ch.isdecimal())
    letters = "".join(ch for ch in cell if ch.isalpha())
    return (int(digits) if digits else 0, letters.rjust(3))


@dataclass
class Findings:
    """An ordered collection of findings, the "report" of a validation or run."""

    items: list[Finding] = field(default_factory=list)

    def add(self, finding: Finding) -> None:
        self.items.append(finding)

    def extend(self, findings: Iterable[Finding]) -> None:
        self.items.extend(findings)

    def __iter__(self):
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def by_severity(self) -> dict[str, int]:
        counts = Counter(f.severity.value for f in self.items)
        return {s.value: counts.get(s.value, 0) for s in Severity}

    @property
    def has_errors(self) -> bool:
        return any(f.severity is Severity.ERROR for f in self.items)

    @property
    def valid(self) -> bool:
        """No errors (warnings and info may remain)."""
        return not self.has_errors

    def to_frame(self) -> pd.DataFrame:
        """One row per finding, sorted, with the columns of :meth:`Finding.as_dict`: ready to
        filter in a notebook or to write out as a tab."""
        import pandas as pd

        columns = [f.name for f in fields(Finding)]
        return pd.DataFrame([f.as_dict() for f in self.sorted()], columns=columns)

    def sorted(self) -> list[Finding]:
        return sorted(self.items, key=Finding.sort_key)

    def with_code(self, code: str) -> list[Finding]:
        return [f for f in self.items if f.code == code]

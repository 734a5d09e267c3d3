"""The backend contract: the little the pipeline asks of a place where workbooks live.

A backend is files on a disk (``excel``), Google Drive (``google``), or a dict in memory
(``memory``, for tests). The pipeline talks to every backend through :class:`Backend` and
nothing else, so a new backend is one folder that implements it:

* :meth:`~Backend.sources` lists the workbooks one ``[[sources]]`` entry names (the files of a
  glob, the spreadsheets of a Drive folder);
* :meth:`~Backend.versions` says what each source's content version is now, so only the sources
  that changed since their cached read are read again; :meth:`~Backend.unchanged` compares two;
* :meth:`~Backend.read` reads every tab of one workbook as raw rows, and :meth:`~Backend.pool`
  says how to run many reads (processes for files, threads for an API, in line in memory);
* :meth:`~Backend.write_tabs` writes sheetsync's managed tabs to a target, atomically;
* :meth:`~Backend.write_flags` writes one source's own flags tab into it (opt-in);
* :meth:`~Backend.check` tells ``doctor`` whether the target, and the backend itself, can work.

Failures are :class:`~sheetsync.errors.SourceReadError` and
:class:`~sheetsync.errors.TargetWriteError`; a backend raises nothing else on bad input.

Cell values in a :class:`RawTab` are exactly what the file or API held, never reformatted:

* ``None`` for an empty cell;
* ``str`` for text, including formula error values such as ``"#DIV/0!"``;
* ``int`` / ``float`` for numbers (Google returns dates as serial numbers; so may Excel);
* ``bool``;
* ``datetime.date`` / ``datetime.datetime`` / ``datetime.time`` / ``datetime.timedelta``
  where the reader knows a cell is a date or time.

Rows are lists, trailing empty rows and cells may or may not be trimmed; validation copes.
Row ``i`` of ``rows`` is sheet row ``i + 1`` and column ``j`` is sheet column ``j + 1`` so that
findings can point at exact A1 cells.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from sheetsync.errors import SourceReadError
    from sheetsync.findings import Finding
    from sheetsync.report.model import Sheet


@dataclass
class RawTab:
    """One tab of a source workbook as a grid of raw cell values."""

    name: str
    rows: list[list[Any]]
    hidden_rows: frozenset[int] = frozenset()  # 1-based sheet rows that are hidden


@dataclass
class RawWorkbook:
    """Every tab of one source, read in one pass."""

    location: str  # file path, or spreadsheet URL/key
    tabs: dict[str, RawTab] = field(default_factory=dict)
    modified: datetime | None = None
    title: str | None = None
    version: str | None = None  # the content version read (see Backend.versions), if known


@dataclass(frozen=True)
class SourceEntry:
    """One ``[[sources]]`` entry of the config: where, in which backend, and as what."""

    kind: str  # team | coach | auto
    backend: str  # excel | google | memory
    location: str  # a file, glob or folder; a spreadsheet key; "folder:<id>"; a memory name
    name: str | None = None
    write_back: bool = False
    index: int = 0  # position in the config, for messages
    my_summary: bool = False  # with write_back: a coach's own My Summary tab too
    school: str | None = None  # where the workbook names none (a team's Goal, a coach's About)
    region: str | None = None

    @property
    def label(self) -> str:
        return f"sources[{self.index}]"


@dataclass(frozen=True)
class Source:
    """One workbook to read."""

    name: str
    kind: str  # team | coach | auto
    location: str  # absolute file path, or a Google spreadsheet id
    backend: str
    write_back: bool = False
    entry: str = ""  # which config entry it came from
    version: str | None = None  # known at listing time (a Drive folder lists modifiedTime)


@dataclass(frozen=True)
class Target:
    """Where the dashboard is written."""

    backend: str
    location: str  # an .xlsx path, or a spreadsheet key


@dataclass
class Listing:
    """What one ``[[sources]]`` entry expands to.

    ``findings`` are notices about the entry itself (a glob that matches nothing);
    ``failures`` are sources known to exist that cannot be listed or read (a Drive folder that
    is not shared): they stay visible as failed, never dropped.
    """

    sources: list[Source] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    failures: list[tuple[Source, SourceReadError]] = field(default_factory=list)


@dataclass
class Check:
    """One line of ``sheetsync doctor``."""

    what: str
    ok: bool
    detail: str = ""


class Backend(Protocol):
    """What every backend implements (see the module docstring)."""

    name: str
    read_ok: str
    """How ``doctor`` says a source of this backend was read ("readable", "reachable and
    shared")."""

    def sources(self, entry: SourceEntry) -> Listing:
        """The workbooks one config entry names."""

    def versions(self, sources: Sequence[Source]) -> dict[str, str]:
        """Each source's content version now, by location; a missing one is unknown."""

    def unchanged(self, cached: str, current: str) -> bool:
        """Whether content read at version ``cached`` is still the content at ``current``."""

    def read(self, source: Source) -> RawWorkbook:
        """Every tab of one workbook; raises :class:`~sheetsync.errors.SourceReadError`."""

    def pool(self, count: int) -> Executor | None:
        """An executor to read ``count`` sources with, or None to read them in line."""

    def notices(self) -> list[Finding]:
        """Program-level findings about the backend itself (a key file others can read)."""

    def write_tabs(self, target: str, sheets: list[Sheet], now: datetime) -> None:
        """Write the managed tabs to ``target`` atomically, keeping every other tab.

        Raises :class:`~sheetsync.errors.TargetWriteError`; nothing changes then."""

    def write_flags(self, source: Source, sheet: Sheet) -> None:
        """Write one source's flags tab (``sheet``, one table) into it; raises
        :class:`~sheetsync.errors.WritebackError`, leaving the source untouched."""

    def check(self, target: str | None) -> list[Check]:
        """``doctor``: can this backend work, and can it write ``target`` (when it is ours)?"""

    def api_calls(self) -> dict[str, int]:
        """API calls made so far, by kind (empty for backends without an API)."""

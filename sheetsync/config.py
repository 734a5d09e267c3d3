"""The TOML config: program, sources, output, thresholds, activities, aliases, schedule, run,
and each backend's own section (``[google]``, ``[limits]``).

Every problem is a :class:`~sheetsync.errors.ConfigError` whose message names the key and says
what is wrong, so a coordinator can fix the file without reading a traceback. Relative paths are
resolved against the folder that holds the config file, so scheduled runs work from any working
directory.

A section with plain settings is declared once, as a frozen dataclass whose fields carry their
config key, type and range (:func:`settings_from_table` reads any such dataclass). Backends
declare their own sections this way, in their ``settings`` modules, and the registry in
:mod:`sheetsync.backends` names them, so this module never holds a second copy of a backend's
defaults.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
import types
import typing
from dataclasses import dataclass, field, fields
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sheetsync.backends import settings_class
from sheetsync.backends.base import SourceEntry, Target
from sheetsync.errors import ConfigError
from sheetsync.history.calendar import DEFAULT_CHECKINS, Cycle, parse_checkins, parse_cycles
from sheetsync.schema import (
    Activity,
    ActivityCatalog,
    Framework,
    default_activities,
    default_framework,
    parse_framework,
)

if TYPE_CHECKING:
    from sheetsync.backends.excel.settings import ReadLimits
    from sheetsync.backends.google.settings import GoogleSettings

GOOGLE_ID_RE = re.compile(r"/spreadsheets/d/([a-zA-Z0-9_-]{20,})|^([a-zA-Z0-9_-]{25,})$")
GOOGLE_FOLDER_RE = re.compile(r"/folders/([a-zA-Z0-9_-]{10,})")


@dataclass(frozen=True)
class OutputConfig:
    path: Path | None = None  # local .xlsx
    google: str | None = None  # spreadsheet URL or key
    state_dir: Path = Path(".sheetsync-state")

    @property
    def target(self) -> Target:
        """Where the dashboard goes, as a backend and a location."""
        if self.path is not None:
            return Target("excel", str(self.path))
        return Target("google", _google_key(self.google or ""))


@dataclass(frozen=True)
class ScheduleConfig:
    at: str = "02:00"
    extra_times: tuple[str, ...] = ()
    weekdays: tuple[str, ...] | None = None
    retry_after_minutes: int | None = None
    log_file: Path | None = None


AS_OF_EARLIEST = date(2000, 1, 1)
AS_OF_LATEST = date(2199, 12, 31)
"""The as-of dates a run accepts: beyond them date arithmetic (week numbers, windows of days)
means nothing for a school program."""


@dataclass(frozen=True)
class ProgramSection:
    """``[program]``."""

    name: str = field(default="Breakthrough program", metadata={"max_chars": 200})
    timezone: str = field(default="UTC", metadata={"max_chars": 64})
    challenge_weeks: int = field(default=10, metadata={"min": 1, "max": 52})
    as_of: date | None = field(default=None, metadata={"min": AS_OF_EARLIEST,
                                                       "max": AS_OF_LATEST})
    quarter_start_month: int = field(default=8, metadata={"min": 1, "max": 12})
    # checkins and [[program.cycles]] are read by sheetsync.history.calendar


@dataclass(frozen=True)
class SourceSection:
    """One ``[[sources]]`` entry."""

    kind: str = field(default="auto", metadata={"choices": ("team", "coach", "shared_log", "auto")})
    path: str | None = field(default=None, metadata={"max_chars": 4096, "not_empty": True})
    google: str | None = field(default=None, metadata={"max_chars": 300})
    folder: str | None = field(default=None, metadata={"max_chars": 300})
    name: str | None = field(default=None, metadata={"max_chars": 200, "not_empty": True})
    write_back: bool = False
    my_summary: bool = False  # with write_back: a coach workbook's own My Summary tab
    school: str | None = field(default=None, metadata={"max_chars": 200, "not_empty": True})
    region: str | None = field(default=None, metadata={"max_chars": 200, "not_empty": True})
    provision_id: str | None = field(default=None, metadata={"max_chars": 100})  # provision
    owner: str | None = field(default=None, metadata={"max_chars": 320})  # provision: email


@dataclass(frozen=True)
class OutputSection:
    """``[output]``."""

    path: str | None = field(default=None, metadata={"max_chars": 4096, "not_empty": True})
    google: str | None = field(default=None, metadata={"max_chars": 300})
    state_dir: Path | None = field(default=None, metadata={"max_chars": 4096})


@dataclass(frozen=True)
class ScheduleSection:
    """``[schedule]``."""

    at: str = field(default="02:00", metadata={"max_chars": 100})  # then checked as HH:MM
    extra_times: tuple[str, ...] = field(default=(), metadata={"max_chars": 100})
    weekdays: tuple[str, ...] | None = field(default=None, metadata={"max_chars": 20})
    retry_after_minutes: int | None = field(default=None, metadata={"min": 1, "max": 10080})
    log_file: Path | None = field(default=None, metadata={"max_chars": 4096})


@dataclass(frozen=True)
class RunSection:
    """``[run]``."""

    workers: int = field(default=0, metadata={"min": 0, "max": 256})


@dataclass(frozen=True)
class ActivitiesSection:
    """``[activities]`` (its ``activity`` entries are :class:`ActivitySection` tables)."""

    groups: tuple[str, ...] = field(default=(), metadata={"max_chars": 100, "not_empty": True})
    replace: bool = False


@dataclass(frozen=True)
class ActivitySection:
    """One ``[[activities.activity]]`` entry."""

    name: str = field(default="", metadata={"max_chars": 100, "not_empty": True})
    group: str = field(default="", metadata={"max_chars": 100, "not_empty": True})
    aliases: tuple[str, ...] = field(default=(), metadata={"max_chars": 100,
                                                           "not_empty": True})
    outside_role: bool = False
    words: tuple[str, ...] = field(default=(), metadata={"max_chars": 100, "not_empty": True})


@dataclass(frozen=True)
class SchoolSection:
    """One ``[[schools]]`` entry: a school's region and, optionally, its teaching staff count
    (the roster that reach is a share of, instead of the teachers coaches list)."""

    name: str = field(default="", metadata={"max_chars": 200, "not_empty": True})
    region: str | None = field(default=None, metadata={"max_chars": 200, "not_empty": True})
    staff: int | None = field(default=None, metadata={"min": 1, "max": 100000})
    aliases: tuple[str, ...] = field(default=(), metadata={"max_chars": 200, "not_empty": True})


@dataclass(frozen=True)
class ScopedOutputSection:
    """One ``[[outputs]]`` entry: a further dashboard, filtered to one school or region."""

    path: str | None = field(default=None, metadata={"max_chars": 4096, "not_empty": True})
    google: str | None = field(default=None, metadata={"max_chars": 300})
    school: str | None = field(default=None, metadata={"max_chars": 200, "not_empty": True})
    region: str | None = field(default=None, metadata={"max_chars": 200, "not_empty": True})
    name: str | None = field(default=None, metadata={"max_chars": 200, "not_empty": True})


@dataclass(frozen=True)
class ScopedOutput:
    """A dashboard holding only one school's or one region's teams and coaches."""

    target: Target
    school: str | None = None
    region: str | None = None
    name: str | None = None  # the dashboard's title; default: the program's, with the scope

    @property
    def scope(self) -> str:
        return self.school or self.region or ""


@dataclass(frozen=True)
class Config:
    path: Path
    name: str
    timezone: str
    challenge_weeks: int
    as_of: date | None
    sources: tuple[SourceEntry, ...]
    output: OutputConfig
    google: GoogleSettings
    limits: ReadLimits
    thresholds: dict[str, float] = field(default_factory=dict)
    activities: ActivityCatalog = field(default_factory=default_activities)
    tab_names: dict[str, str] = field(default_factory=dict)
    column_aliases: dict[str, list[str]] = field(default_factory=dict)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    workers: int = 0  # 0 = one per core
    checkins: tuple[int | date, ...] = (3, 6, 9)
    """The sponsor check-ins: challenge weeks or dates (see :mod:`sheetsync.history.calendar`)."""
    cycles: tuple[Cycle, ...] = ()
    """``[[program.cycles]]``, by start date; empty: one cycle, the teams' own dates."""
    quarter_start_month: int = 8
    framework: Framework = field(default_factory=default_framework)
    schools: tuple[SchoolSection, ...] = ()
    outputs: tuple[ScopedOutput, ...] = ()

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


_CORE_SECTIONS = {"program", "sources", "output", "thresholds", "activities", "aliases",
                  "schedule", "run", "include", "framework", "schools", "outputs"}
_BACKEND_SECTIONS = ("google", "limits")


def _check_keys(table: dict[str, Any], allowed: set[str], where: str) -> None:
    for key in table:
        if key not in allowed:
            raise ConfigError(f"{where}: unknown key {key!r} "
                              f"(allowed: {', '.join(sorted(allowed))})")


def settings_from_table(cls: type, table: Any, where: str, base: Path,
                        required: tuple[str, ...] = ()) -> Any:
    """Build the settings dataclass ``cls`` from a config table.

    Each field is read from the key its metadata names (``"key"``; the field name when absent;
    ``None`` keeps it out of the config) and checked against its annotated type (``int``,
    ``float``, ``str``, ``bool``, ``date``, ``Path``, ``tuple[str, ...]``, or ``X | None``) and
    its metadata: ``min``/``max`` for numbers and dates, ``max_chars``, ``choices`` and
    ``not_empty`` for text. A ``Path`` is resolved against the config's folder. Keys the
    dataclass does not declare are errors that name them; so are the ``required`` keys when
    missing.
    """
    if not isinstance(table, dict):
        raise ConfigError(f"{where} must be a table, not {_kind_name(table)} {_shown(table)}")
    hints = typing.get_type_hints(cls)
    keyed = {(f.metadata.get("key", f.name)): f for f in fields(cls)
             if f.metadata.get("key", f.name) is not None}
    _check_keys(table, set(keyed), where)
    for key in required:
        if key not in table:
            raise ConfigError(f"{where}.{key} is required")
    values: dict[str, Any] = {}
    for key, f in keyed.items():
        if key in table:
            values[f.name] = _setting(table[key], hints[f.name], f.metadata, f"{where}.{key}",
                                      base)
    try:
        return cls(**values)
    except (TypeError, ValueError) as exc:  # a check of the dataclass's own
        raise ConfigError(f"{where}: {exc}") from None


MAX_TEXT_CHARS = 1_000
"""A text setting longer than this is a mistake (a pasted document), whatever the key."""


def _kind_name(value: Any) -> str:
    return {dict: "a table", list: "a list", str: "text", bool: "true/false", int: "a number",
            float: "a number"}.get(type(value), type(value).__name__)


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _span(low: Any, high: Any) -> str:
    return (f"between {low} and {high}" if low is not None and high is not None
            else f"at least {low}" if low is not None else f"at most {high}")


def _setting(value: Any, hint: Any, meta: typing.Mapping[str, Any], where: str,
             base: Path) -> Any:
    kinds = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
    kinds = tuple(k for k in kinds if k is not type(None))
    kind = kinds[0]
    if kind is Path:
        if not isinstance(value, str):
            raise ConfigError(f"{where} must be a path (text), not {_kind_name(value)} "
                              f"{_shown(value)}")
        _check_text(value, meta, where)
        return Path(_resolve(base, value))
    if kind in (int, float):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{where} must be a number, not {_kind_name(value)} "
                              f"{_shown(value)}")
        if not math.isfinite(value):
            raise ConfigError(f"{where} must be a finite number, not {value!r}")
        if kind is int and not (isinstance(value, int) or float(value).is_integer()):
            raise ConfigError(f"{where} must be a whole number, not {value!r}")
        low, high = meta.get("min"), meta.get("max")
        if (low is not None and value < low) or (high is not None and value > high):
            raise ConfigError(f"{where} must be {_span(low, high)}, not {value!r}")
        return kind(value)
    if kind is date:
        day = _parse_date(value, where)
        low, high = meta.get("min"), meta.get("max")
        if day is not None and ((low and day < low) or (high and day > high)):
            raise ConfigError(f"{where} must be a date {_span(low, high)}, not {day}")
        return day
    if typing.get_origin(kind) is tuple:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{where} must be a list of texts, not {_kind_name(value)} "
                              f"{_shown(value)}")
        for item in value:
            _check_text(item, meta, where)
        return tuple(value)
    if not isinstance(value, kind):
        expected = {str: "str (text)", bool: "true or false"}.get(kind, kind.__name__)
        raise ConfigError(f"{where} must be {expected}, not {_kind_name(value)} "
                          f"{_shown(value)}")
    if kind is str:
        _check_text(value, meta, where)
    return value


def _check_text(value: str, meta: typing.Mapping[str, Any], where: str) -> None:
    choices = meta.get("choices")
    if choices and value not in choices:
        quoted = [f'"{c}"' for c in choices]
        listed = ", ".join(quoted[:-1]) + f" or {quoted[-1]}" if len(quoted) > 1 else quoted[0]
        raise ConfigError(f"{where} must be {listed}, not {_shown(value)}")
    limit = meta.get("max_chars", MAX_TEXT_CHARS)
    if len(value) > limit:
        raise ConfigError(f"{where} is {len(value):,} characters long; at most {limit:,} are "
                          "allowed")
    if meta.get("not_empty") and not value.strip():
        raise ConfigError(f"{where} must not be empty")


def _resolve(base: Path, text: str) -> str:
    expanded = os.path.expandvars(os.path.expanduser(text))
    joined = Path(expanded) if Path(expanded).is_absolute() else (base / expanded)
    trailing = os.sep if text.endswith(("/", "\\")) else ""
    return os.path.normpath(joined) + trailing


def _google_key(text: str) -> str:
    m = GOOGLE_ID_RE.search(text)
    return (m.group(1) or m.group(2)) if m else text


def source_entry_covers(entry: str, target: Path) -> bool:
    """Whether a local ``[[sources]]`` path (a folder, a glob or a file) takes in ``target``."""
    targets = {Path(os.path.normpath(target)), target.resolve()}
    if any(ch in entry for ch in "*?["):
        pattern = Path(entry).parts
        return any(_glob_parts_match(pattern, t.parts) for t in targets)
    folder = Path(entry)
    if not (entry.endswith(("/", "\\")) or folder.is_dir()):
        return False
    roots = {Path(os.path.normpath(folder)), folder.resolve()}
    return any(t.is_relative_to(r) for t in targets for r in roots)


def _glob_parts_match(pattern: tuple[str, ...], parts: tuple[str, ...]) -> bool:
    """glob.glob(recursive=True) semantics, path segment by segment ("**": any depth)."""
    import fnmatch

    if not pattern:
        return not parts
    if pattern[0] == "**":
        return any(_glob_parts_match(pattern[1:], parts[k:]) for k in range(len(parts) + 1))
    return bool(parts) and fnmatch.fnmatchcase(parts[0], pattern[0]) and _glob_parts_match(
        pattern[1:], parts[1:])


def _parse_date(value: Any, where: str) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ConfigError(f"{where} must be a date like 2026-11-04, not {value!r}")


def _parse_hhmm(value: str, where: str) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value):
        raise ConfigError(f"{where} must be a time like \"02:00\" (24-hour HH:MM), not {value!r}")
    return value


def _sources(raw: Any, base: Path, required: bool = True) -> tuple[SourceEntry, ...]:
    if raw is None and not required:
        return ()
    if not isinstance(raw, list) or (not raw and required):
        raise ConfigError("[[sources]] must list at least one source "
                          "(kind = \"team\" or \"coach\", and path = ... or google = ...)")
    out = []
    for i, entry in enumerate(raw):
        where = f"sources[{i}]"
        if not isinstance(entry, dict):
            raise ConfigError(f"{where} must be a table ([[sources]])")
        section: SourceSection = settings_from_table(SourceSection, entry, where, base)
        path, google, folder = section.path, section.google, section.folder
        if sum(x is not None for x in (path, google, folder)) != 1:
            raise ConfigError(f"{where} needs exactly one of path, google or folder")
        if google is not None and not GOOGLE_ID_RE.search(google):
            raise ConfigError(f"{where}.google is not a spreadsheet URL or key: {google!r}")
        if folder is not None and not (GOOGLE_FOLDER_RE.search(folder)
                                       or re.fullmatch(r"[a-zA-Z0-9_-]{10,}", folder)):
            raise ConfigError(f"{where}.folder is not a Drive folder URL or id: {folder!r}")
        if section.my_summary and not section.write_back:
            raise ConfigError(f"{where}.my_summary needs write_back = true: the summary is "
                              "written into the coach's own workbook, beside its flags")
        if path is not None:
            backend, location = "excel", _resolve(base, path)
        elif google is not None:
            backend, location = "google", _google_key(google)
        else:
            backend, location = "google", f"folder:{folder}"
        out.append(SourceEntry(kind=section.kind, backend=backend, location=location,
                               name=section.name, write_back=section.write_back, index=i,
                               my_summary=section.my_summary, school=section.school,
                               region=section.region))
    return tuple(out)


def _thresholds(raw: Any, base: Path) -> dict[str, float]:
    from sheetsync.analytics.thresholds import Thresholds

    chosen = settings_from_table(Thresholds, raw, "[thresholds]", base)
    try:
        Thresholds.from_mapping(raw)  # what the analytics will build from it
    except ValueError as exc:
        raise ConfigError(f"[thresholds]: {exc}") from None
    return {key: getattr(chosen, key) for key in raw}


def _activities(raw: Any, base: Path) -> ActivityCatalog:
    if not isinstance(raw, dict):
        raise ConfigError(f"[activities] must be a table, not {_kind_name(raw)}")
    section: ActivitiesSection = settings_from_table(
        ActivitiesSection, {k: v for k, v in raw.items() if k != "activity"}, "[activities]",
        base)
    listed = raw.get("activity", [])
    if not isinstance(listed, list):
        raise ConfigError("[activities].activity must be a list of tables "
                          "([[activities.activity]])")
    acts = [settings_from_table(ActivitySection, act, f"[activities].activity[{i}]", base,
                                required=("name", "group"))
            for i, act in enumerate(listed)]
    extra = ActivityCatalog(
        groups=section.groups,
        activities=tuple(Activity(a.name, a.group, a.aliases, a.outside_role, a.words)
                         for a in acts))
    base_catalog = default_activities()
    if section.replace:
        if not extra.groups or not extra.activities:
            raise ConfigError("[activities].replace = true needs groups and at least one "
                              "[[activities.activity]]")
        catalog = extra
    else:
        names = {a.name for a in extra.activities}
        catalog = ActivityCatalog(
            groups=extra.groups or base_catalog.groups,
            activities=tuple(a for a in base_catalog.activities if a.name not in names)
            + extra.activities,
            filler=base_catalog.filler)
    for act in catalog.activities:
        if act.group not in catalog.groups:
            raise ConfigError(f"[activities]: activity {act.name!r} has group {act.group!r}, "
                              f"which is not one of {list(catalog.groups)}")
    return catalog


def _framework(raw: Any) -> Framework:
    """``[framework]``: the district's own list of focus areas, replacing Danielson's."""
    from sheetsync.errors import SchemaError

    if not isinstance(raw, dict):
        raise ConfigError(f"[framework] must be a table, not {_kind_name(raw)}")
    _check_keys(raw, {"name", "domain"}, "[framework]")
    try:
        return parse_framework(raw, "[framework]")
    except SchemaError as exc:
        raise ConfigError(str(exc).replace("[framework].domain", "[[framework.domain]]")
                          ) from None


def _schools(raw: Any, base: Path) -> tuple[SchoolSection, ...]:
    if not isinstance(raw, list):
        raise ConfigError("[[schools]] must be a list of tables (name, region, staff)")
    out = [settings_from_table(SchoolSection, entry if isinstance(entry, dict) else {"": entry},
                               f"schools[{i}]", base, required=("name",))
           for i, entry in enumerate(raw)]
    names = [s.name.casefold() for s in out]
    if len(set(names)) != len(names):
        raise ConfigError("[[schools]] names a school twice")
    return tuple(out)


def _outputs(raw: Any, base: Path, sources: tuple[SourceEntry, ...],
             main: OutputConfig) -> tuple[ScopedOutput, ...]:
    if not isinstance(raw, list):
        raise ConfigError("[[outputs]] must be a list of tables (path or google, and school or "
                          "region)")
    out = []
    seen = {main.target}
    for i, entry in enumerate(raw):
        where = f"outputs[{i}]"
        if not isinstance(entry, dict):
            raise ConfigError(f"{where} must be a table ([[outputs]])")
        section: ScopedOutputSection = settings_from_table(ScopedOutputSection, entry, where,
                                                           base)
        if (section.path is None) == (section.google is None):
            raise ConfigError(f"{where} needs exactly one of path (an .xlsx file) or google")
        if (section.school is None) == (section.region is None):
            raise ConfigError(f"{where} needs exactly one of school or region: the scope its "
                              "dashboard is filtered to")
        if section.path is not None:
            if not section.path.lower().endswith(".xlsx"):
                raise ConfigError(f"{where}.path must end in .xlsx, not {section.path!r}")
            target = Target("excel", _resolve(base, section.path))
        else:
            if not GOOGLE_ID_RE.search(section.google or ""):
                raise ConfigError(f"{where}.google is not a spreadsheet URL or key: "
                                  f"{section.google!r}")
            target = Target("google", _google_key(section.google or ""))
        check_target(target, sources, f"{where}.path" if section.path else f"{where}.google")
        if target in seen:
            raise ConfigError(f"{where} writes where another dashboard is written: each "
                              "output needs its own file or spreadsheet")
        seen.add(target)
        out.append(ScopedOutput(target, section.school, section.region, section.name))
    return tuple(out)


def load_config(path: str | Path, *, sources_required: bool = True) -> Config:
    """Read and check a config file. Raises :class:`ConfigError` with a precise message.

    ``sources_required=False`` accepts a config with no ``[[sources]]`` yet: a program about to
    be rolled out by ``sheetsync provision``."""
    path = Path(path).resolve()
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except IsADirectoryError:
        raise ConfigError(f"config path is a folder, not a file: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path.name} is not valid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path.name} is not UTF-8 text (byte {exc.start + 1}); save it "
                          "as UTF-8") from None
    except OSError as exc:
        raise ConfigError(f"config file cannot be read: {exc}") from None
    for included in includes(data, path):
        data.setdefault("sources", [])
        if not isinstance(data["sources"], list):
            raise ConfigError("[[sources]] must list sources")
        data["sources"].extend(_included_sources(included))
    return parse_config(data, path, sources_required=sources_required)


def includes(data: dict[str, Any], path: Path) -> list[Path]:
    """The sources files a config includes (``include = ["sources.toml"]``), resolved against
    the config's folder: ``sheetsync provision`` keeps the sources it rolls out there."""
    names = data.get("include", [])
    if isinstance(names, str):
        names = [names]
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ConfigError("include must be a list of file names, e.g. include = "
                          "[\"sources.toml\"]")
    return [Path(_resolve(path.parent, name)) for name in names]


def _included_sources(path: Path) -> list[Any]:
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"include: {path} not found") from None
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"include: {path.name} cannot be read: {exc}") from None
    _check_keys(data, {"sources"}, path.name)
    sources = data.get("sources", [])
    if not isinstance(sources, list):
        raise ConfigError(f"{path.name}: [[sources]] must list sources")
    return sources


def _output(output: Any, base: Path) -> OutputConfig:
    section: OutputSection = settings_from_table(OutputSection, output, "[output]", base)
    out_path, out_google = section.path, section.google
    if (out_path is None) == (out_google is None):
        raise ConfigError("[output] needs exactly one of path (an .xlsx file) or google "
                          "(a spreadsheet URL or key)")
    if out_path is not None and not out_path.lower().endswith(".xlsx"):
        raise ConfigError(f"[output].path must end in .xlsx, not {out_path!r}")
    if out_google is not None and not GOOGLE_ID_RE.search(out_google):
        raise ConfigError(f"[output].google is not a spreadsheet URL or key: {out_google!r}")
    resolved_out = Path(_resolve(base, out_path)) if out_path else None
    state_default = (resolved_out.parent if resolved_out else base) / ".sheetsync-state"
    return OutputConfig(path=resolved_out, google=out_google,
                        state_dir=section.state_dir or state_default)


def check_target(target: Target, sources: tuple[SourceEntry, ...], where: str) -> None:
    """Refuse a dashboard target that is a source, or among a source entry's files.

    Either the dashboard would overwrite a workbook someone typed into, or the next run would
    read the dashboard back as a source. Applied to the resolved target, whatever set it."""
    if target.backend != "excel":
        for s in sources:
            if s.backend == target.backend and s.location == target.location:
                raise ConfigError(f"{where} is the same spreadsheet as {s.label}: sheetsync "
                                  "never writes its dashboard into a source")
        return
    resolved = Path(target.location).resolve()
    for s in sources:
        if s.backend != "excel":
            continue
        if Path(s.location).resolve() == resolved:
            raise ConfigError(f"{where} is the same file as {s.label}.path: sheetsync "
                              "never writes its dashboard into a source")
        if source_entry_covers(s.location, resolved):
            raise ConfigError(f"{where} {resolved} is among the files of {s.label}.path "
                              f"({s.location}): sheetsync never writes its dashboard where it "
                              "reads sources; choose another folder")


def _schedule(sched: Any, base: Path) -> ScheduleConfig:
    section: ScheduleSection = settings_from_table(ScheduleSection, sched, "[schedule]", base)
    weekdays = section.weekdays
    if weekdays is not None:
        from sheetsync.nightly.scheduler import weekday_names  # one reader of day names

        try:
            weekdays = weekday_names(list(weekdays))
        except ValueError as exc:
            raise ConfigError(f"[schedule].weekdays: {exc}") from None
        if not weekdays:
            raise ConfigError("[schedule].weekdays lists no day: leave it out to run every day")
    return ScheduleConfig(
        at=_parse_hhmm(section.at, "[schedule].at"),
        extra_times=tuple(_parse_hhmm(t, "[schedule].extra_times") for t in section.extra_times),
        weekdays=weekdays or None,
        retry_after_minutes=section.retry_after_minutes,
        log_file=section.log_file)


def _aliases(aliases: Any) -> tuple[dict[str, str], dict[str, list[str]]]:
    """``[aliases]``: tab names by canonical tab name, extra header texts by column key (or
    ``"Tab.key"``); every tab name and column key must be one the schemas declare."""
    from sheetsync.schema import load_schema

    if not isinstance(aliases, dict):
        raise ConfigError(f"[aliases] must be a table, not {_kind_name(aliases)}")
    _check_keys(aliases, {"tabs", "columns"}, "[aliases]")
    schemas = [load_schema(kind) for kind in ("team", "coach")]
    tab_names = {tab.name for schema in schemas for tab in schema.tabs}
    keys = {col.key for schema in schemas for tab in schema.tabs for col in tab.columns}
    keys |= {f"{tab.name}.{col.key}" for schema in schemas for tab in schema.tabs
             for col in tab.columns}
    tabs = aliases.get("tabs", {})
    if not isinstance(tabs, dict):
        raise ConfigError(f"[aliases.tabs] must be a table, not {_kind_name(tabs)}")
    for tab, name in tabs.items():
        where = f"[aliases.tabs].{_shown(tab)}"
        if tab not in tab_names:
            raise ConfigError(f"{where}: {tab!r} is not a tab sheetsync reads "
                              f"(one of: {', '.join(sorted(tab_names))})")
        if not isinstance(name, str) or not name.strip() or len(name) > 100:
            raise ConfigError(f"{where} must be the tab name your workbooks use (text of 1 to "
                              f"100 characters), not {_kind_name(name)} {_shown(name)}")
    columns = aliases.get("columns", {})
    if not isinstance(columns, dict):
        raise ConfigError(f"[aliases.columns] must be a table, not {_kind_name(columns)}")
    out: dict[str, list[str]] = {}
    for key, value in columns.items():
        where = f"[aliases.columns].{_shown(key)}"
        if key not in keys:
            raise ConfigError(f"{where}: {key!r} is not a column key of the schemas (for "
                              "example minutes, or \"Time Log.minutes\"; see "
                              "sheet_templates/*.toml)")
        texts = [value] if isinstance(value, str) else value
        if not (isinstance(texts, list) and texts and all(
                isinstance(v, str) and v.strip() and len(v) <= 200 for v in texts)):
            raise ConfigError(f"{where} must be a list of header texts (1 to 200 characters "
                              f"each), not {_shown(value)}")
        out[key] = list(texts)
    return dict(tabs), out


def check_as_of(day: date, where: str) -> date:
    """``day`` as a run's as-of date, or :class:`ConfigError` naming ``where``."""
    if not AS_OF_EARLIEST <= day <= AS_OF_LATEST:
        raise ConfigError(f"{where} must be a date between {AS_OF_EARLIEST} and {AS_OF_LATEST}, "
                          f"not {day}")
    return day


def parse_config(data: dict[str, Any], path: Path, *, sources_required: bool = True
                 ) -> Config:
    base = path.parent
    _check_keys(data, _CORE_SECTIONS | set(_BACKEND_SECTIONS), path.name)
    program_table = data.get("program", {})
    rhythm = {}
    if isinstance(program_table, dict):
        rhythm = {k: program_table[k] for k in ("checkins", "cycles") if k in program_table}
        program_table = {k: v for k, v in program_table.items() if k not in rhythm}
    program: ProgramSection = settings_from_table(ProgramSection, program_table, "[program]",
                                                  base)
    tzname = program.timezone
    try:
        ZoneInfo(tzname)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ConfigError(f"[program].timezone {_shown(tzname)} is not a time zone name "
                          "(for example America/New_York)") from None

    output = _output(data.get("output", {}), base)
    sources = _sources(data.get("sources"), base, sources_required)
    check_target(output.target, sources, "[output].path" if output.path else "[output].google")
    tab_names, columns = _aliases(data.get("aliases", {}))

    backend_settings = {
        section: settings_from_table(settings_class(section), data.get(section, {}),
                                     f"[{section}]", base)
        for section in _BACKEND_SECTIONS}
    run: RunSection = settings_from_table(RunSection, data.get("run", {}), "[run]", base)
    return Config(
        path=path, name=program.name, timezone=tzname, challenge_weeks=program.challenge_weeks,
        as_of=program.as_of, sources=sources, output=output,
        google=backend_settings["google"], limits=backend_settings["limits"],
        thresholds=_thresholds(data.get("thresholds", {}), base),
        activities=(_activities(data["activities"], base) if "activities" in data
                    else default_activities()),
        tab_names={str(k): str(v) for k, v in tab_names.items()},
        column_aliases=columns,
        schedule=_schedule(data.get("schedule", {}), base),
        workers=run.workers,
        checkins=(parse_checkins(rhythm["checkins"]) if "checkins" in rhythm
                  else DEFAULT_CHECKINS),
        cycles=parse_cycles(rhythm["cycles"]) if "cycles" in rhythm else (),
        quarter_start_month=program.quarter_start_month,
        framework=_framework(data["framework"]) if "framework" in data else default_framework(),
        schools=_schools(data["schools"], base) if "schools" in data else (),
        outputs=(_outputs(data["outputs"], base, sources, output) if "outputs" in data
                 else ()),
    )


__all__ = ["AS_OF_EARLIEST", "AS_OF_LATEST", "Config", "ConfigError", "OutputConfig",
           "ScheduleConfig", "SchoolSection", "ScopedOutput", "check_as_of", "check_target",
           "includes", "load_config", "parse_config", "settings_from_table", "source_entry_covers"]

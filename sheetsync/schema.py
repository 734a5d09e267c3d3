"""Workbook schemas, loaded from the TOML files in ``sheet_templates/``.

The TOML files are the only declaration of tabs and columns: the template generator, the header
finder and the validator all read them through this module. A config may add aliases and rename
tabs (see :func:`with_overrides`).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, replace
from functools import cache, cached_property, lru_cache
from pathlib import Path
from typing import Any, Literal

from sheetsync.errors import SchemaError

COLUMN_TYPES = ("text", "int", "number", "percent", "metric", "date", "time", "yesno", "choice",
                "activity", "focus_area")
WorkbookKind = Literal["team", "coach", "shared_log"]
KINDS: tuple[str, ...] = ("team", "coach", "shared_log")
"""Every workbook kind: a team tracker, a coach workbook, and a shared coaching log (one tab of
time-log rows from many coaches, such as a Google Form's responses)."""


def templates_dir() -> Path:
    """The folder holding the schema TOML files (the repo's, or the copy bundled in the wheel)."""
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "sheet_templates", here / "_bundled" / "sheet_templates"):
        if (candidate / "team_tracker.toml").is_file():
            return candidate
    raise FileNotFoundError("sheet_templates/ with the workbook schemas was not found")


def normalise_label(text: Any) -> str:
    """Fold a header or label for matching: case, spacing and punctuation are ignored."""
    return _folded(text if type(text) is str else str(text))


_NOT_ALPHANUMERIC = re.compile(r"[^a-z0-9]+")


@lru_cache(maxsize=1 << 16)
def _folded(text: str) -> str:
    # Validation folds every activity and header cell; a column repeats a few texts, so each
    # distinct one is folded once.
    return _NOT_ALPHANUMERIC.sub("", text.casefold())


_SUFFIXES = ("ations", "ation", "ings", "ing", "ies", "ied", "ed", "es", "s", "e")


def stem(word: str) -> str:
    """A light stem, so "observed", "observing" and "observe", or "minutes" and "minute", meet.

    Both sides of every comparison are stemmed the same way, so the stems need not be words.
    """
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)] + ("y" if suffix in ("ies", "ied") else "")
            if suffix in ("ing", "ings", "ed") and len(word) > 3 and word[-1] == word[-2] \
                    and word[-1] not in "aeiouls":
                word = word[:-1]  # "planning" -> "plan", but "called" keeps "call"
            break
    return word


def words_of(text: Any, filler: frozenset[str] = frozenset()) -> tuple[str, ...]:
    """The meaningful words of a header or a typed activity, stemmed, in order: case and
    punctuation are ignored, and so are one-letter words and the ``filler`` words."""
    raw = re.findall(r"[a-z0-9]+", str(text).casefold())
    return tuple(stem(w) for w in raw if len(w) > 1 and w not in filler)


def phrase_words(phrases: Any, filler: frozenset[str] = frozenset()) -> tuple[frozenset[str], ...]:
    """Each declared phrase as its set of stemmed words (empty phrases dropped)."""
    out = []
    for phrase in phrases:
        found = frozenset(words_of(phrase, filler))
        if found:
            out.append(found)
    return tuple(out)


@dataclass(frozen=True)
class ColumnSpec:
    key: str
    name: str
    type: str
    aliases: tuple[str, ...] = ()
    required: bool = False
    private: bool = False
    no_future: bool = False  # a date of something that already happened: warn when after as-of
    choices: tuple[str, ...] = ()
    choice_aliases: dict[str, str] = field(default_factory=dict, hash=False, compare=False)
    min: float | None = None
    max: float | None = None
    width: float | None = None
    description: str = ""
    example: Any = None
    derived: bool = False  # an added frame column filled in when the frames are built
    words: tuple[str, ...] = ()  # words and phrases that name this column inside a longer header
    value_words: dict[str, float] = field(default_factory=dict, hash=False, compare=False)
    """Words typed for a number ("High" = 3), matched ignoring case and punctuation."""

    def labels(self) -> set[str]:
        """Every normalised header text that names this column."""
        return {normalise_label(self.name), normalise_label(self.key),
                *(normalise_label(a) for a in self.aliases)}


@dataclass(frozen=True)
class TabSpec:
    name: str
    layout: Literal["table", "form"]
    columns: tuple[ColumnSpec, ...]
    aliases: tuple[str, ...] = ()
    required: bool = True
    description: str = ""
    frame: str = ""  # the program frame this tab's rows become (see sheetsync.dataset)
    added: tuple[ColumnSpec, ...] = ()  # the frame's columns beyond the tab's own, first
    filler: tuple[str, ...] = ()  # header words that say nothing about the column ("session")
    one_of: tuple[tuple[str, ...], ...] = ()
    """Column sets of which a row needs one (Minutes, Hours, or Start and End)."""

    def frame_columns(self) -> dict[str, str]:
        """The frame's columns in order, each with its schema type."""
        cols = {c.key: c.type for c in self.added}
        cols.update({c.key: c.type for c in self.columns})
        return cols

    @property
    def derived_keys(self) -> tuple[str, ...]:
        """The added columns filled in when the frames are built, not by validation."""
        return tuple(c.key for c in self.added if c.derived)

    def labels(self) -> set[str]:
        return {normalise_label(self.name), *(normalise_label(a) for a in self.aliases)}

    def column(self, key: str) -> ColumnSpec:
        for col in self.columns:
            if col.key == key:
                return col
        raise KeyError(key)

    @property
    def private_keys(self) -> set[str]:
        return {c.key for c in self.columns if c.private}


@dataclass(frozen=True)
class WorkbookSchema:
    kind: WorkbookKind
    title: str
    file_name: str
    tabs: tuple[TabSpec, ...]
    description: str = ""

    def tab(self, name: str) -> TabSpec:
        for tab in self.tabs:
            if tab.name == name:
                return tab
        raise KeyError(name)


def frame_specs() -> dict[str, TabSpec]:
    """Every program frame and the tab that declares it: the team tracker's, then the coach
    workbook's, in schema order."""
    return {tab.frame: tab for kind in ("team", "coach")
            for tab in load_schema(kind).tabs}  # type: ignore[arg-type]


def _column(raw: dict[str, Any], where: str) -> ColumnSpec:
    try:
        col = ColumnSpec(
            key=raw["key"], name=raw["name"], type=raw["type"],
            aliases=tuple(raw.get("aliases", ())), required=bool(raw.get("required", False)),
            private=bool(raw.get("private", False)),
            no_future=bool(raw.get("no_future", False)), choices=tuple(raw.get("choices", ())),
            choice_aliases=dict(raw.get("choice_aliases", {})),
            min=raw.get("min"), max=raw.get("max"), width=raw.get("width"),
            description=raw.get("description", ""), example=raw.get("example"),
            derived=bool(raw.get("derived", False)), words=tuple(raw.get("words", ())),
            value_words={normalise_label(k): float(v)
                         for k, v in raw.get("value_words", {}).items()},
        )
    except KeyError as exc:
        raise SchemaError(f"{where}: column is missing '{exc.args[0]}'") from None
    if col.type not in COLUMN_TYPES:
        raise SchemaError(f"{where}: column {col.key!r} has unknown type {col.type!r}")
    return col


def parse_schema(data: dict[str, Any], where: str = "schema") -> WorkbookSchema:
    """Build a :class:`WorkbookSchema` from the parsed TOML of a schema file."""
    tabs = []
    filler = tuple(data.get("header_filler", ()))
    for raw_tab in data.get("tabs", []):
        tab_where = f"{where} tab {raw_tab.get('name')!r}"
        columns = tuple(_column(c, tab_where) for c in raw_tab.get("columns", []))
        keys = [c.key for c in columns]
        if len(keys) != len(set(keys)):
            raise SchemaError(f"{tab_where}: duplicate column keys")
        added = tuple(_column({"name": c.get("key"), **c}, f"{tab_where} added")
                      for c in raw_tab.get("added", []))
        if not raw_tab.get("frame"):
            raise SchemaError(f"{tab_where}: no frame named")
        tabs.append(TabSpec(
            name=raw_tab["name"], layout=raw_tab.get("layout", "table"), columns=columns,
            aliases=tuple(raw_tab.get("aliases", ())), required=bool(raw_tab.get("required", True)),
            description=raw_tab.get("description", ""), frame=raw_tab["frame"], added=added,
            filler=filler,
            one_of=tuple(tuple(keys) for keys in raw_tab.get("one_of", ())),
        ))
    return WorkbookSchema(kind=data["kind"], title=data["title"], file_name=data["file_name"],
                          tabs=tuple(tabs), description=data.get("description", ""))


@cache
def load_schema(kind: WorkbookKind) -> WorkbookSchema:
    """The built-in schema for a workbook kind ("team", "coach" or "shared_log")."""
    if kind == "shared_log":
        return shared_log_schema(load_schema("coach"), _shared_log_section())
    file = {"team": "team_tracker.toml", "coach": "coach_workbook.toml"}[kind]
    path = templates_dir() / file
    with path.open("rb") as fh:
        return parse_schema(tomllib.load(fh), where=str(path.name))


@cache
def _shared_log_section() -> dict[str, Any]:
    with (templates_dir() / "coach_workbook.toml").open("rb") as fh:
        return tomllib.load(fh).get("shared_log", {})


def shared_log_schema(coach: WorkbookSchema, section: dict[str, Any]) -> WorkbookSchema:
    """The shared coaching log: the coach workbook's time-log tab on its own, with the column
    that says whose each row is (``section["coach_key"]``) required.

    Declared in ``coach_workbook.toml``'s ``[shared_log]`` table, so the log's columns have one
    declaration, the time log's.
    """
    try:
        tab = coach.tab(section["tab"])
        key = section["coach_key"]
        tab.column(key)
    except KeyError as exc:
        raise SchemaError(f"coach_workbook.toml [shared_log]: {exc.args[0]!r} is not declared"
                          ) from None
    columns = tuple(replace(c, required=True) if c.key == key else c for c in tab.columns)
    log = replace(tab, columns=columns, required=True,
                  aliases=tab.aliases + tuple(section.get("aliases", ())))
    return WorkbookSchema(kind="shared_log", title=section.get("title", "Shared coaching log"),
                          file_name="", tabs=(log,), description=section.get("description", ""))


def shared_log_coach_key() -> str:
    """The time-log column that says whose each row of a shared log is."""
    return str(_shared_log_section().get("coach_key", "coach"))


def with_overrides(schema: WorkbookSchema, tab_names: dict[str, str],
                   aliases: dict[str, list[str]]) -> WorkbookSchema:
    """Apply a config's tab renames and extra aliases.

    ``tab_names`` maps a canonical tab name to the name a district uses (the canonical name and
    its aliases keep working). ``aliases`` maps a column key, or "Tab.key", to extra header texts.
    """
    tabs = []
    for tab in schema.tabs:
        extra_tab = (tab_names[tab.name],) if tab.name in tab_names else ()
        cols = []
        for col in tab.columns:
            extra = [*aliases.get(col.key, ()), *aliases.get(f"{tab.name}.{col.key}", ())]
            cols.append(replace(col, aliases=col.aliases + tuple(extra)) if extra else col)
        tabs.append(replace(tab, aliases=tab.aliases + extra_tab, columns=tuple(cols)))
    return replace(schema, tabs=tuple(tabs))


def alias_key(key: str, tab: str) -> str:
    """How ``[aliases.columns]`` names column ``key`` of ``tab``: the bare key when no other
    tab of any schema has a column of that key, else "Tab.key"."""
    tabs = {t.name for kind in ("team", "coach") for t in load_schema(kind).tabs  # type: ignore
            if any(c.key == key for c in t.columns)}
    return key if tabs <= {tab} else f"{tab}.{key}"


@dataclass(frozen=True)
class Activity:
    name: str
    group: str
    aliases: tuple[str, ...] = ()
    outside_role: bool = False
    words: tuple[str, ...] = ()  # words and phrases that name it inside a longer text


@dataclass(frozen=True)
class ActivityCatalog:
    """The configurable list of time-log activities and their groups."""

    groups: tuple[str, ...]
    activities: tuple[Activity, ...]
    filler: tuple[str, ...] = ()  # words that say nothing about which activity it was

    @property
    def coaching_group(self) -> str:
        return self.groups[0]

    def lookup(self) -> dict[str, Activity]:
        """Normalised name or alias -> activity."""
        table: dict[str, Activity] = {}
        for act in self.activities:
            for label in (act.name, *act.aliases):
                table[normalise_label(label)] = act
        return table

    def matcher(self) -> ActivityMatcher:
        """Reads typed activities: by name or alias, else by the words in them. One matcher
        per catalog, shared by every workbook a process reads (its memory of texts is a pure
        cache: a text always reads as the same activity)."""
        return _matcher(self)


class ActivityMatcher:
    """Maps the text of an Activity cell to an activity, remembering each distinct text.

    A name or alias matches whole (ignoring case and punctuation). Otherwise the activity whose
    declared words cover the most words of the text wins ("Coaching cycle - observe" is an
    Observation); a tie between activities of different groups is no match, since guessing
    would put minutes in the wrong group.
    """

    def __init__(self, catalog: ActivityCatalog) -> None:
        self.exact = catalog.lookup()
        self.filler = frozenset(catalog.filler)
        self.words = [(act, phrase) for act in catalog.activities
                      for phrase in phrase_words((act.name, *act.aliases, *act.words),
                                                 self.filler)]
        self.seen: dict[str, Activity | None] = {}

    def match(self, text: str) -> Activity | None:
        key = normalise_label(text)
        if key in self.seen:
            return self.seen[key]
        found = self.exact.get(key)
        if found is None:
            found = self._by_words(text)
        self.seen[key] = found
        return found

    def _by_words(self, text: str) -> Activity | None:
        have = set(words_of(text, self.filler))
        if not have:
            return None
        covered: dict[str, set[str]] = {}
        acts: dict[str, Activity] = {}
        for act, phrase in self.words:
            if phrase <= have:
                covered.setdefault(act.name, set()).update(phrase)
                acts[act.name] = act
        if not covered:
            return None
        top = max(len(words) for words in covered.values())
        winners = {name: acts[name] for name, words in covered.items() if len(words) == top}
        if len({act.group for act in winners.values()}) > 1:
            return None
        if len(winners) > 1:  # same group: the one declared first
            order = [a for a, _ in self.words]
            return min(winners.values(), key=order.index)
        return next(iter(winners.values()))


@lru_cache(maxsize=8)
def _matcher(catalog: ActivityCatalog) -> ActivityMatcher:
    return ActivityMatcher(catalog)


def parse_activities(data: dict[str, Any]) -> ActivityCatalog:
    groups = tuple(data.get("groups", ()))
    acts = tuple(Activity(name=a["name"], group=a["group"], aliases=tuple(a.get("aliases", ())),
                          outside_role=bool(a.get("outside_role", False)),
                          words=tuple(a.get("words", ())))
                 for a in data.get("activity", []))
    return ActivityCatalog(groups=groups, activities=acts, filler=tuple(data.get("filler", ())))


@cache
def default_activities() -> ActivityCatalog:
    with (templates_dir() / "activities.toml").open("rb") as fh:
        return parse_activities(tomllib.load(fh))


@dataclass(frozen=True)
class FocusArea:
    """One entry of the district's framework: a domain, or a component of one (``domain``
    names its domain's code). ``label`` is what the dropdown shows and the frames hold."""

    code: str
    name: str
    domain: str | None = None
    aliases: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        if self.domain is None:
            return f"Domain {self.code}: {self.name}" if self.code else self.name
        return f"{self.code}: {self.name}" if self.code else self.name


_CODE_PREFIX = re.compile(r"^\s*(?:component|domain|standard)?\s*([0-9]+[a-z]?)"
                          r"(?:\b|(?=[^a-z0-9]))", re.IGNORECASE)


@dataclass(frozen=True)
class Framework:
    """The district's framework of focus areas (Danielson's by default; a config may replace
    it). Domains come first in the dropdown order, each followed by its components."""

    name: str
    areas: tuple[FocusArea, ...]

    def __getstate__(self) -> dict[str, object]:
        # Only the fields: the lookups cached on first use must not change the pickled form,
        # which the parse cache's settings fingerprint is taken from.
        return {"name": self.name, "areas": self.areas}

    def __setstate__(self, state: dict[str, object]) -> None:
        object.__setattr__(self, "name", state["name"])
        object.__setattr__(self, "areas", state["areas"])

    def labels(self) -> tuple[str, ...]:
        return tuple(a.label for a in self.areas)

    @cached_property
    def by_label(self) -> dict[str, FocusArea]:
        return {a.label: a for a in self.areas}

    def lookup(self) -> dict[str, FocusArea]:
        """Normalised label, name, code or alias -> focus area (domains as "domain 2")."""
        table: dict[str, FocusArea] = {}
        for area in self.areas:
            names = [area.label, area.name, *area.aliases]
            coded = [f"{area.code} {n}" for n in (area.name, *area.aliases)] if area.code else []
            if area.domain is None:
                codes = [f"domain {area.code}", f"domain {area.code} {area.name}",
                         *(f"domain {area.code} {a}" for a in area.aliases)] if area.code else []
            else:
                codes = [area.code, f"component {area.code}"] if area.code else []
            for text in (*names, *coded, *codes):
                table.setdefault(normalise_label(text), area)
        return table

    @cached_property
    def _table(self) -> dict[str, FocusArea]:
        return self.lookup()

    def find(self, text: str, table: dict[str, FocusArea] | None = None) -> FocusArea | None:
        """The focus area ``text`` names: any label, name, alias or code, in any case; or the
        code it starts with ("2a Respect & Rapport", "Component 3b:", "DOMAIN 1 \u2022 ...")."""
        table = table if table is not None else self._table
        found = table.get(normalise_label(text))
        if found is not None:
            return found
        start = _CODE_PREFIX.match(text)
        if start is None:
            return None
        code = start.group(1).casefold()
        is_domain = text.strip().casefold().startswith("domain")
        for area in self.areas:
            if area.code.casefold() == code and (area.domain is None) == (
                    is_domain or not code[-1:].isalpha()):
                return area
        return None

    def aligned(self, area: str | None, planned: set[str]) -> bool:
        """Whether an entry's focus area (a label) serves a plan's focus areas (labels): the
        same area, or a component of a planned domain."""
        if not area:
            return False
        if area in planned:
            return True
        found = self.by_label.get(area)
        if found is None or found.domain is None:
            return False
        return any(p.domain is None and p.code == found.domain
                   for p in (self.by_label.get(label) for label in planned) if p is not None)


def parse_framework(data: dict[str, Any], where: str = "framework") -> Framework:
    """A :class:`Framework` from ``framework.toml`` or a config's ``[framework]`` table."""
    areas: list[FocusArea] = []
    domains = data.get("domain", [])
    if not isinstance(domains, list) or not domains:
        raise SchemaError(f"{where}: lists no [[domain]] (each with a name, and optionally a "
                          "code and components)")
    for i, raw in enumerate(domains):
        spot = f"{where}.domain[{i}]"
        if not isinstance(raw, dict) or not str(raw.get("name", "")).strip():
            raise SchemaError(f"{spot} needs a name")
        code = str(raw.get("code", "")).strip()
        areas.append(FocusArea(code, str(raw["name"]).strip(), None,
                               tuple(str(a) for a in raw.get("aliases", ()))))
        for j, comp in enumerate(raw.get("components", ())):
            if not isinstance(comp, dict) or not str(comp.get("name", "")).strip():
                raise SchemaError(f"{spot}.components[{j}] needs a name")
            areas.append(FocusArea(str(comp.get("code", "")).strip(), str(comp["name"]).strip(),
                                   code, tuple(str(a) for a in comp.get("aliases", ()))))
    labels = [a.label for a in areas]
    if len(set(labels)) != len(labels):
        raise SchemaError(f"{where}: two focus areas have the same name")
    return Framework(name=str(data.get("name", "Framework")), areas=tuple(areas))


@cache
def default_framework() -> Framework:
    """The built-in framework: Danielson's, from ``sheet_templates/framework.toml``."""
    with (templates_dir() / "framework.toml").open("rb") as fh:
        return parse_framework(tomllib.load(fh), "framework.toml")

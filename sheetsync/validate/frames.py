"""Turn validated records into the typed program frames documented in :mod:`sheetsync.dataset`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from sheetsync.dataset import FRAME_NAMES
from sheetsync.schema import load_schema

if TYPE_CHECKING:
    import pandas as pd

_EXTRA = {
    "goals": ["source", "weeks"],
    "weekly": ["source", "row"],
    "actions": ["source", "row"],
    "coaches": ["source"],
    "relationships": ["source", "coach", "row"],
    "time_log": ["source", "coach", "row", "activity_group", "outside_role"],
    "cycles": ["source", "coach", "row"],
}
_TAB_OF_FRAME = {"goals": ("team", "Goal"), "weekly": ("team", "Weekly Progress"),
                 "actions": ("team", "Action Steps"), "coaches": ("coach", "About"),
                 "relationships": ("coach", "Relationships"), "time_log": ("coach", "Time Log"),
                 "cycles": ("coach", "Coaching Cycles")}
_DTYPE = {"date": "datetime64[ns]", "int": "Int64", "number": "float64", "percent": "float64",
          "metric": "float64", "yesno": "boolean"}


def _columns(frame: str) -> dict[str, str]:
    kind, tab = _TAB_OF_FRAME[frame]
    spec = load_schema(kind).tab(tab)  # type: ignore[arg-type]
    cols = {c: "object" for c in _EXTRA[frame]}
    cols.update({c.key: _DTYPE.get(c.type, "object") for c in spec.columns})
    if frame == "goals":
        cols["weeks"] = "Int64"
        cols["start_date"] = cols["end_date"] = "datetime64[ns]"
    if "row" in cols:
        cols["row"] = "Int64"
    if frame == "time_log":
        cols["minutes"] = "float64"
        cols["outside_role"] = "boolean"
    return cols


def _typed(records: list[dict[str, Any]], columns: dict[str, str]) -> pd.DataFrame:
    import pandas as pd

    data = {}
    for col, dtype in columns.items():
        values = [r.get(col) for r in records]
        if dtype == "datetime64[ns]":
            data[col] = pd.to_datetime(pd.Series(values, dtype="object"), errors="coerce"
                                       ).astype("datetime64[ns]")
        elif dtype == "object":
            data[col] = pd.Series(values, dtype="object")
        else:
            data[col] = pd.Series(values, dtype="object").astype(dtype)
    return pd.DataFrame(data)


def empty_frames() -> dict[str, pd.DataFrame]:
    return {name: _typed([], _columns(name)) for name in FRAME_NAMES}


def build_frames(records_by_frame: Iterable[dict[str, list[dict[str, Any]]]],
                 activity_groups: dict[str, tuple[str, bool]] | None = None,
                 ) -> dict[str, pd.DataFrame]:
    """Concatenate per-workbook records into one typed frame per tab kind.

    ``activity_groups`` maps an activity's canonical name to (group, outside_role).
    """
    merged: dict[str, list[dict[str, Any]]] = {name: [] for name in FRAME_NAMES}
    for records in records_by_frame:
        for name, rows in records.items():
            merged[name].extend(rows)
    groups = activity_groups or {}
    for rec in merged["time_log"]:
        group, outside = groups.get(rec.get("activity") or "", ("Unknown", False))
        rec["activity_group"], rec["outside_role"] = group, outside
    return {name: _typed(rows, _columns(name)) for name, rows in merged.items()}

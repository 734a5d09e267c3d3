"""Scopes: one school's or one region's part of a program, for a principal's dashboard.

A scoped dashboard is built from the program's data cut down to the sources in the scope (a
team tracker whose Goal names the school; a coach workbook whose About tab lists it, or whose
school is in the region), then analysed again, so every figure, table and chart on it is drawn
only from that scope's teams and coaches: no other school's names can reach it. A coach who
serves two schools is in both schools' dashboards, with all of their own figures.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import pandas as pd

from sheetsync.analytics.plans import PlanResults


def in_scope(sources_in: Mapping[str, tuple[frozenset[str], frozenset[str]]], *,
             school: str | None = None, region: str | None = None) -> set[str]:
    """The sources of one school, or of one region (names compared ignoring case)."""
    want_school = school.casefold() if school else None
    want_region = region.casefold() if region else None
    chosen = set()
    for source, (schools, regions) in sources_in.items():
        if want_school is not None and want_school in {s.casefold() for s in schools}:
            chosen.add(source)
        if want_region is not None and want_region in {r.casefold() for r in regions}:
            chosen.add(source)
    return chosen


def only_sources(frames: Mapping[str, pd.DataFrame], sources: set[str]
                 ) -> dict[str, pd.DataFrame]:
    """Every frame cut down to the rows of ``sources``."""
    out = {}
    for name, frame in frames.items():
        if frame is None or "source" not in frame.columns:
            out[name] = frame
            continue
        out[name] = frame[frame["source"].isin(sources).to_numpy(dtype=bool)].reset_index(
            drop=True)
    return out


def scoped_plans(plans: PlanResults, *, school: str | None = None,
                 region: str | None = None) -> PlanResults:
    """The school and region tables of a scope: its own school (or its region's schools) and,
    for a region, its own row; no district row (see :attr:`PlanResults.scope`)."""
    def keep(values: pd.Series, wanted: str | None) -> pd.Series:
        if wanted is None:
            return pd.Series(True, index=values.index)
        return values.fillna("").astype(str).str.casefold() == wanted.casefold()

    schools = plans.schools
    if school is not None:
        schools = schools[keep(schools["school"], school).to_numpy(dtype=bool)]
        regions = plans.regions.iloc[0:0]
    else:
        schools = schools[keep(schools["region"], region).to_numpy(dtype=bool)]
        regions = plans.regions[keep(plans.regions["region"], region).to_numpy(dtype=bool)]
    return replace(plans, schools=schools.reset_index(drop=True),
                   regions=regions.reset_index(drop=True), scope=school or region)

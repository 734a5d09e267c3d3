"""The Check-ins tab: the sponsorship team's three check-ins with the team leaders.

Each check-in that has happened shows every team **as it was on that day**, read from the
history (each team's latest record on or before the check-in date), so later weeks never change
it: status and reason, the share of the gap closed, what the team tried since the previous
check-in, and the change since then. The next check-in gets an agenda, one block per team: the
figures, the action steps overdue, and "what we learned" and "next steps" from the team's latest
Weekly Progress entry.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from sheetsync.analytics import wording
from sheetsync.history import cycle_start
from sheetsync.history.calendar import Checkin, checkin_dates
from sheetsync.history.records import HistoryView
from sheetsync.report.dashboard import _clean, _figure
from sheetsync.report.model import STATUS_COLOURS, Cell, Sheet, Table
from sheetsync.report.trends import label_of, team_order

if TYPE_CHECKING:
    from sheetsync.analytics.program import Analysis
    from sheetsync.config import Config
    from sheetsync.dataset import ProgramData

CHECKIN_COLUMNS = ["Status", "Team", "School", "Latest (week)", "Target", "% of gap closed",
                   "Change since the previous check-in", "Tried since the previous check-in",
                   "Reason and suggestion"]
AGENDA_TAB = "Check-in Agenda"
CHANGE_FORMAT = '+0%" of the gap";-0%" of the gap";0%" of the gap"'


def tried_between(weeks: pd.DataFrame, after: str | None, until: str) -> dict[str, str]:
    """Each team's distinct "What We Tried" entries recorded after ``after`` up to ``until``,
    in order, joined by "; " (one pass over the records, whatever the number of teams)."""
    if not len(weeks):
        return {}
    keep = (weeks["as_of"] <= until) & (weeks["as_of"] > after if after is not None else True)
    rows = weeks.loc[keep.to_numpy(dtype=bool), ["source", "as_of", "what_we_tried"]]
    rows = rows.sort_values(["source", "as_of"], kind="stable")
    seen: dict[str, list[str]] = {}
    for source, text in zip(rows["source"].tolist(), rows["what_we_tried"].tolist(),
                            strict=True):
        if isinstance(text, str) and text.strip():
            listed = seen.setdefault(source, [])
            if text.strip() not in listed:
                listed.append(text.strip())
    return {source: "; ".join(texts) for source, texts in seen.items()}


def checkin_table(checkin: Checkin, frozen: pd.DataFrame, previous: pd.DataFrame | None,
                  previous_day: str | None, weeks: pd.DataFrame, row: int) -> Table:
    """One past check-in: the teams as the history holds them on its date."""
    day = checkin.day.isoformat()
    before = ({} if previous is None else
              dict(zip(previous["source"], previous["gap_closed"], strict=True)))
    rows: list[list[Any]] = []
    recorded = sorted(set(frozen["as_of"])) if len(frozen) else []
    tried = tried_between(weeks, previous_day, day)
    by_source = ({rec["source"]: rec for rec in frozen.to_dict("records")}
                 if len(frozen) else {})
    for source in team_order(frozen) if len(frozen) else []:
        r = by_source[source]
        unit = _clean(r["unit"])
        week = _clean(r["latest_week"])
        gap = _clean(r["gap_closed"])
        earlier = _clean(before.get(source)) if previous is not None else 0.0
        change = None if gap is None or earlier is None else gap - earlier
        school, team = label_of(r["school"], r["team"], source)
        rows.append([r["status"], team, school,
                     _figure(r["latest_value"], unit,
                             f" (wk {int(week)})" if week is not None else ""),
                     _figure(r["target"], unit), gap,
                     None if change is None else Cell(round(change, 4), CHANGE_FORMAT),
                     tried.get(source, ""),
                     _clean(r["reason"])])
    note = (f"As recorded on {recorded[-1]}" if recorded and recorded[-1] != day
            else "As recorded that day")
    since = "the previous check-in" if previous is not None else "the start (the baseline)"
    return Table(columns=list(CHECKIN_COLUMNS), rows=rows, row=row,
                 title=f"{checkin.label}, {checkin.day:%A} {day}",
                 status_columns=["Status"], number_formats={"% of gap closed": "0%"},
                 wrap_columns=["Tried since the previous check-in", "Reason and suggestion"],
                 intro=[f"{note}, frozen: later weeks do not change it. Change: since {since}."]
                 if rows else ["No run was recorded on or before this date: `sheetsync history "
                               "--rebuild --from DATE` recomputes past dates from the sources."])


def agenda_tables(checkin: Checkin, data: ProgramData, analysis: Analysis,
                  view: HistoryView, last_day: str | None, row: int) -> list[Table]:
    """The next check-in's agenda: one block per team."""
    teams = analysis.teams.teams
    weekly = data.frames.get("weekly")
    actions = data.frames.get("actions")
    as_of = pd.Timestamp(analysis.as_of)
    tables: list[Table] = []
    head = Table(columns=[], rows=[], row=row,
                 title=f"Agenda: {checkin.label}, {checkin.day:%A} {checkin.day.isoformat()}",
                 intro=["One block per team: where it stands, the action steps overdue, and its "
                        "latest \u201cwhat we learned\u201d and \u201cnext steps\u201d."])
    tables.append(head)
    at = head.last_row + 2
    words = _latest_words(weekly)
    overdue = _overdue(actions, as_of)
    tried = tried_between(view.team_weeks, last_day, analysis.as_of.isoformat())
    by_source = {rec["source"]: rec for rec in teams.to_dict("records")} if len(teams) else {}
    for source in team_order(teams) if len(teams) else []:
        t = by_source[source]
        unit = _clean(t["unit"])
        school, team = label_of(t["school"], t["team"], source)
        week = _clean(t["latest_week"])
        latest = _clean(t["latest_value"])
        target = _clean(t["target"])
        gap = _clean(t["gap_closed"])
        figures = ("No weekly value yet" if latest is None or week is None else
                   f"{wording.metric(latest, unit)} in week {int(week)}; target "
                   + ("unknown" if target is None else wording.metric(target, unit))
                   + ("" if gap is None else f"; {wording.share(gap)} of the gap closed"))
        learned, next_steps = words.get(source, ("", ""))
        status = Cell(t["status"], fill=STATUS_COLOURS.get(t["status"]), bold=True)
        rows = [["Status", status], ["Figures", figures],
                ["Action steps overdue", overdue.get(source, "None")],
                ["Tried since the last check-in", tried.get(source) or "(nothing new recorded)"],
                ["What we learned", learned or "(not filled in)"],
                ["Next steps", next_steps or "(not filled in)"],
                ["Reason and suggestion", _clean(t["reason"])]]
        name = f"{team} ({school})" if school else team
        block = Table(columns=["Agenda item", name], rows=rows, row=at, wrap_columns=[name],
                      column_widths={"Agenda item": 26, name: 90})
        tables.append(block)
        at = block.last_row + 2
    return tables


def _latest_words(weekly: pd.DataFrame | None) -> dict[str, tuple[str, str]]:
    """Each team's latest non-blank "What We Learned" and "Next Steps"."""
    if weekly is None or not len(weekly):
        return {}
    rows = weekly.sort_values(["source", "week"], kind="stable")
    found: dict[str, list[str]] = {}
    for i, key in enumerate(("what_we_learned", "next_steps")):
        if key not in rows.columns:
            continue
        for source, text in zip(rows["source"].tolist(), rows[key].tolist(), strict=True):
            if isinstance(text, str) and text.strip():
                found.setdefault(source, ["", ""])[i] = text.strip()
    return {source: (texts[0], texts[1]) for source, texts in found.items()}


def _overdue(actions: pd.DataFrame | None, as_of: pd.Timestamp) -> dict[str, str]:
    """Each team's action steps past their due date and not Done, one a line."""
    if actions is None or not len(actions) or "due" not in actions.columns:
        return {}
    due = pd.to_datetime(actions["due"], errors="coerce")
    done = actions["status"].astype(str).str.strip().str.casefold().eq("done")
    late = (due < as_of).fillna(False).to_numpy(dtype=bool) & ~done.to_numpy(dtype=bool)
    texts = (actions["action"] if "action" in actions.columns
             else pd.Series([None] * len(actions), index=actions.index))
    out: dict[str, list[str]] = {}
    for source, action, day in zip(actions["source"][late].tolist(), texts[late].tolist(),
                                   due[late].tolist(), strict=True):
        text = _clean(action) or "(an action step)"
        out.setdefault(source, []).append(f"{text} (due {day:%Y-%m-%d})" if pd.notna(day)
                                          else text)
    return {source: "\n".join(items) for source, items in out.items()}


def checkins_sheet(config: Config, data: ProgramData, analysis: Analysis,
                   view: HistoryView) -> list[Sheet]:
    """The Check-ins tab, and the Check-in Agenda tab while a check-in is still to come."""
    start = cycle_start(config, analysis)
    checkins = checkin_dates(config.checkins, start)
    listed = "; ".join(f"{c.label}: {c.day.isoformat()}" for c in checkins) or "none set"
    head = Table(columns=[], rows=[], title="Sponsor check-ins",
                 intro=[f"The sponsorship team's check-ins with the team leaders: {listed}. "
                        "A past check-in shows each team as it was that day, from the history."])
    tables = [head]
    at = head.last_row + 2
    previous = None
    previous_day = None
    upcoming = None
    for checkin in checkins:
        if checkin.day > analysis.as_of:
            upcoming = upcoming or checkin
            continue
        frozen = view.checkins.get(checkin.number)
        if frozen is None:
            frozen = pd.DataFrame(columns=view.team_weeks.columns)
        table = checkin_table(checkin, frozen, previous, previous_day, view.team_weeks, at)
        tables.append(table)
        at = table.last_row + 3
        previous, previous_day = frozen, checkin.day.isoformat()
    sheets = [Sheet("Check-ins", tables=tables,
                    column_widths={1: 11, 2: 20, 3: 20, 4: 12, 5: 9, 6: 10, 7: 16, 8: 40,
                                   9: 60})]
    if upcoming is not None:
        agenda = agenda_tables(upcoming, data, analysis, view, previous_day, 1)
    else:
        agenda = [Table(columns=[], rows=[], title="Check-in agenda", intro=[
            "Every check-in of this cycle has happened: the Check-ins tab shows them, and the "
            "Retrospective tab the close-out."])]
    # Printed, each team's block starts a page of its own: one page per team at the check-in.
    breaks = [t.row for t in agenda[2:]]
    sheets.append(Sheet(AGENDA_TAB, tables=agenda, column_widths={1: 26, 2: 90},
                        page_breaks=breaks))
    return sheets

"""Generate the example program: 3 schools, 6 team trackers and 4 coach workbooks.

Run from the repository root::

    python sheet_templates/examples/generate.py            # rewrites the committed files
    python sheet_templates/examples/generate.py --out DIR  # somewhere else

The program is a 10-week challenge starting Monday 2026-09-07 (week n starts on
2026-09-07 + 7*(n-1)); the example config pins the as-of date 2026-11-04, a Wednesday in week 9,
so weeks 1..8 are complete. Everything is drawn from ``random.Random(SEED)`` and the workbooks carry
fixed timestamps, so running this twice gives the same files.

Everyday messiness, on purpose (none of it is an error; a reader must cope with all of it):

* title rows above the header: teams/riverside-grade7-lunchtime (Weekly Progress: one title row),
  teams/riverside-grade6-math (Weekly Progress: merged title cell A1:I1 plus a school-name row),
  teams/maple-hill-grade4-reading (Weekly Progress: school-name row and a blank row),
  coaches/renata-okafor (Relationships: title row and school-name row);
* aliased headers: "Wk", "Week Starting", "Result" (lunchtime); "Week #" (chronic absence);
  "Students Meeting", "Out Of" (grade 5 attendance); "Mins", "Teacher Name", "Know Face?",
  "Know Classroom?", "Room #" (marcus-bell); "Hrs" with times kept in hours, columns in a
  different order (priya-natarajan); "Duration (min)", "Start Time", "End Time", "Teacher Name",
  "Delight (1-3)", "Engagement (1-3)", "Last Contacted" (jordan-castillo); Goal labels
  "Team Name", "Goal Statement", "Starting Point", "Performance Coach"; About labels "Name",
  "School", "Position", "Coach Name", "Campuses";
* aliased tab names in jordan-castillo: "Profile", "Relationship Tracker", "Time Tracker", "Cycles";
* percentages typed as text ("71%"), as fractions (0.72 formatted 0%) and as points (72);
* fractions "20 of 47" and "23/47" (a count goal: they mean 20 and 23 students);
* missing values "N/A", "-", "n/a" and blank cells;
* dates as text ("9/8", "Sept 8", "2026-09-08", "9/7/2026"), as plain Excel serial numbers
  without a date format (maple-hill-chronic-absence Week Of, jordan-castillo dates) and as real
  date cells;
* blank rows inside the data (grade 5 attendance, renata-okafor Relationships, priya-natarajan and
  jordan-castillo time logs);
* the literal text "#DIV/0!" in one Value cell (a formula error as a reader sees it);
* yes/no written as "Yes", "No", "Y", "N", "x", "\u2713", "TRUE", "FALSE", "no", real booleans;
* activities written as aliases ("sub coverage", "testing", "data chat", "plc", "goals");
* phases written as aliases ("planning", "reflection", "done");
* action-step statuses written as aliases ("complete", "ongoing", "not yet").

Plans, focus areas, outcomes and regions (written without drawing from the random stream, so
every other figure stays as it was; the example config puts Cedar Grove in the South region and
the two other schools in the North). Figures worked out by hand from the rows:

* Marcus Bell's plan names Domain 3 and 2d; 1,050 of his 1,750 coaching minutes carry one of
  them (a component of Domain 3, or 2d): 60% aligned. His review was due 2026-10-30 (overdue);
* Renata Okafor never coaches 3b and Priya Natarajan never 4c: focus areas with no coaching;
  Jordan Castillo has no plan;
* Maple Hill's roster is Priya Natarajan's 9 teachers and Jordan Castillo's 7 there; in the last
  4 weeks 9 and 3 of them were coached: reach 12 of 16 = 75%;
* each coach closes one cycle; in the North, 2 of the 3 closed cycles have student evidence;
* Renata Okafor's closed cycle has Plan, Act and Reflect dates, and three focus teachers.

Deliberate errors (exact cells in README.md and expected_findings.json):

* teams/cedar-grove-grade3-literacy: "Sept 31" as a Week Of date (bad-date);
* teams/cedar-grove-grade5-attendance: "#DIV/0!" as a Value (formula-error);
* teams/riverside-grade7-lunchtime: week 8 entered twice (duplicate-week);
* teams/riverside-grade6-math: an extra "Color Code" column (unknown-column, info only);
* coaches/renata-okafor: a Delight rating of 5 (out-of-range);
* coaches/marcus-bell: -30 minutes (out-of-range) and "all morning" as minutes (bad-number);
* coaches/priya-natarajan: the activity "Obsrvation" (unknown-activity).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from pathlib import Path
from typing import Any

EXAMPLES_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(EXAMPLES_DIR.parents[1]))  # run from a checkout without installing

from sheetsync.backends.excel.templates import FIXED_TIMESTAMP, save_workbook_deterministic  # noqa: E402
from sheetsync.grid import a1, column_letter, date_serial  # noqa: E402
from sheetsync.schema import default_activities  # noqa: E402

SEED = 20260907
START = date(2026, 9, 7)
AS_OF = date(2026, 11, 4)
WEEKS = 10
REPORTED_WEEKS = 8
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "June", "July", "Aug", "Sept", "Oct", "Nov", "Dec")
STALLED_BEFORE = AS_OF - timedelta(days=22)  # cycles last updated before this are stalled


def week_of(week: int) -> date:
    """The Monday a challenge week starts on."""
    return START + timedelta(days=7 * (week - 1))


# -- how dates are typed -------------------------------------------------------------------------

def as_serial(day: date) -> int:
    """A plain Excel serial day number, as a cell holds it when its date format is lost."""
    return date_serial(day)


def as_us(day: date) -> str:
    return f"{day.month}/{day.day}"


def as_month(day: date) -> str:
    return f"{MONTHS[day.month - 1]} {day.day}"


def as_iso(day: date) -> str:
    return day.isoformat()


# -- writing workbooks -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Formatted:
    """A cell value with an explicit number format (0.72 shown as 72%, a time as 8:15 AM)."""

    value: Any
    number_format: str


@dataclass
class Row:
    """One data row: header text (as written in this tab) -> raw value.

    ``expect`` names the headers whose cells carry a deliberate error, with the finding code.
    """

    values: dict[str, Any]
    expect: dict[str, str] = field(default_factory=dict)


@dataclass
class Book:
    """One workbook being written, and the deliberate errors placed in it."""

    file: str  # relative to the examples folder, e.g. "teams/x.xlsx"
    shows: str
    expected: list[dict[str, str]] = field(default_factory=list)
    workbook: Any = None

    def __post_init__(self) -> None:
        from openpyxl import Workbook

        self.workbook = Workbook()
        self.workbook.remove(self.workbook.active)

    def expect(self, tab: str, cell: str, code: str, value: Any) -> None:
        self.expected.append({"file": self.file, "tab": tab, "cell": cell, "code": code,
                              "value": str(value)})

    def form(self, tab: str, pairs: Sequence[tuple[str, Any]]) -> None:
        """A label/value tab: labels in column A, values in column B."""
        from openpyxl.styles import Font

        ws = self.workbook.create_sheet(tab)
        for row, (label, value) in enumerate(pairs, start=1):
            ws.cell(row=row, column=1, value=label).font = Font(bold=True)
            put(ws.cell(row=row, column=2), value)
        ws.column_dimensions["A"].width = 18
        ws.column_dimensions["B"].width = 70

    def table(self, tab: str, headers: Sequence[str], rows: Sequence[Row | None], *,
              above: Sequence[str] = (), merge_title: bool = False,
              header_expect: dict[str, str] | None = None) -> None:
        """A table tab. ``above`` are lines written above the header (titles, a school name,
        "" for a blank row); ``None`` in ``rows`` is a blank row inside the data."""
        from openpyxl.styles import Font
        ws = self.workbook.create_sheet(tab)
        for row, line in enumerate(above, start=1):
            if line:
                ws.cell(row=row, column=1, value=line).font = Font(bold=True, size=13 - row)
        if merge_title and above:
            ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(headers))
        header_row = len(above) + 1
        column_of = {}
        for col, name in enumerate(headers, start=1):
            ws.cell(row=header_row, column=col, value=name).font = Font(bold=True)
            column_of[name] = col
            ws.column_dimensions[column_letter(col)].width = max(10, len(name) + 3)
        for name, code in (header_expect or {}).items():
            self.expect(tab, a1(header_row, column_of[name]), code, name)
        for offset, record in enumerate(rows, start=1):
            if record is None:
                continue
            row = header_row + offset
            unknown = set(record.values) - set(column_of)
            if unknown:
                raise KeyError(f"{self.file} {tab}: no column for {sorted(unknown)}")
            for name, value in record.values.items():
                put(ws.cell(row=row, column=column_of[name]), value)
            for name, code in record.expect.items():
                self.expect(tab, a1(row, column_of[name]), code, record.values[name])

    def save(self, out_dir: Path) -> Path:
        path = out_dir / self.file
        path.parent.mkdir(parents=True, exist_ok=True)
        props = self.workbook.properties
        props.creator = props.lastModifiedBy = "sheetsync example generator"
        props.created = props.modified = FIXED_TIMESTAMP
        save_workbook_deterministic(self.workbook, path)
        return path


def put(cell: Any, value: Any) -> None:
    """Write a raw value the way a person's spreadsheet would hold it."""
    if isinstance(value, Formatted):
        cell.value = value.value
        cell.number_format = value.number_format
    elif isinstance(value, date):
        cell.value = value
        cell.number_format = "m/d/yyyy"
    elif isinstance(value, time):
        cell.value = value
        cell.number_format = "h:mm AM/PM"
    else:
        cell.value = value


# -- the people ------------------------------------------------------------------------------------

SCHOOLS = ("Cedar Grove Elementary", "Riverside Middle School", "Maple Hill Elementary")

SURNAMES = (
    "Alvarez", "Brennan", "Castellano", "Dubois", "Eriksen", "Fairbanks", "Galloway", "Hashemi",
    "Iwasaki", "Jablonski", "Kowalczyk", "Lachance", "Montague", "Nakamura", "Oyelaran",
    "Pellegrino", "Quintanilla", "Rasmussen", "Szabo", "Thibodeaux", "Underwood", "Valdivia",
    "Whitcombe", "Xiong", "Yarborough", "Zielinski", "Abernathy", "Bustamante", "Cardenas",
    "Esposito", "Fitzgerald", "Halvorsen", "Jovanovic", "Kaminski", "Marchetti", "Nwosu",
    "Papadakis", "Quigley", "Rosenthal", "Sorensen", "Takahashi", "Ulrich", "Wojcik", "Yamamoto",
    "Zamora", "Albrecht", "Beaumont", "Chaudhry", "Desrosiers", "Ekwueme", "Ferraro",
    "Grabowski", "Holloway", "Ilunga", "Janssen", "Okonkwo", "Pasternak", "Ruiz-Ortega",
)
TITLES = ("Ms.", "Ms.", "Ms.", "Mr.", "Mr.", "Mrs.", "Dr.", "Mx.")

COMPETITIONS = ("robotics", "chess", "quiz bowl", "debate", "Science Olympiad", "spelling bee",
                "mock trial", "math league")
CLUBS = ("yearbook", "garden", "coding", "origami", "newspaper", "birdwatching", "board game")
TOWNS = ("Tucson", "Duluth", "Savannah", "Spokane", "Albuquerque", "Akron", "Fresno", "Billings",
         "Wichita", "Bangor", "Laramie", "Mobile")
PRACTICES = ("station rotation", "number talks", "reciprocal teaching", "interactive notebooks",
             "standards-based grading", "Socratic seminars", "math journals", "book clubs",
             "the writing workshop model", "flexible seating")
UNITS = ("ecosystems", "fractions on a number line", "persuasive essay", "ancient Egypt",
         "weather and climate", "ratios and rates", "poetry", "the water cycle", "simple machines")
PETS = ("beagles", "cats", "parakeets", "rabbits", "tortoises", "ferrets", "goldfish")
PET_NAMES = ("Pepper", "Biscuit", "Nova", "Waffles", "Juniper", "Mochi", "Pickles", "Ziggy",
             "Clementine", "Bramble", "Tofu", "Sprocket")
INSTRUMENTS = ("banjo", "cello", "trombone", "fiddle", "ukulele", "bass guitar", "accordion")
BANDS = ("bluegrass", "community jazz", "church", "polka", "garage rock", "mariachi")
HOBBIES = ("vintage bicycles", "antique radios", "a 1968 sailboat", "mid-century lamps",
           "old typewriters", "pinball machines")
TRIPS = ("Lisbon", "Yellowstone", "Oaxaca", "the Outer Banks", "Quebec City", "Glacier Bay",
         "Kyoto", "the Badlands")
TOPICS = ("turn-and-talk routines", "small-group rotations", "exit ticket data",
          "academic vocabulary walls", "wait time during questioning", "anchor charts",
          "fluency partners", "math discourse prompts", "transitions after recess",
          "guided reading groups", "checks for understanding", "student goal trackers")


def professional_fact(rng: random.Random) -> str:
    return rng.choice((
        lambda: f"Coached the {rng.choice(COMPETITIONS)} team to the district final",
        lambda: f"Taught {rng.randint(3, 14)} years in {rng.choice(TOWNS)} before joining",
        lambda: f"Piloting {rng.choice(PRACTICES)} this fall",
        lambda: f"Wrote the district {rng.choice(UNITS)} unit",
        lambda: f"National Board certified in {rng.randint(2009, 2024)}",
        lambda: f"Runs the after-school {rng.choice(CLUBS)} club",
    ))()


def personal_fact(rng: random.Random) -> str:
    return rng.choice((
        lambda: f"Has two {rng.choice(PETS)} named {' and '.join(rng.sample(PET_NAMES, 2))}",
        lambda: f"Training for the {rng.choice(TOWNS)} half marathon",
        lambda: f"Plays {rng.choice(INSTRUMENTS)} in a {rng.choice(BANDS)} band",
        lambda: f"Restores {rng.choice(HOBBIES)} on weekends",
        lambda: f"Just back from a trip to {rng.choice(TRIPS)}",
        lambda: f"Grows {rng.randint(6, 40)} kinds of tomatoes at a community garden",
    ))()


def relationship_note(rng: random.Random) -> str:
    return rng.choice((
        lambda: f"Asked for help with {rng.choice(TOPICS)}; revisit in {rng.choice(MONTHS[9:])}",
        lambda: f"Interested in co-teaching a lesson on {rng.choice(UNITS)}",
        lambda: f"Prefers quick check-ins before first bell about {rng.choice(TOPICS)}",
        lambda: f"Wants to watch {rng.choice(PRACTICES)} in action before trying it",
    ))()


class Names:
    """Unique, synthetic teacher names and distinctive facts, drawn without repeats."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.surnames = list(SURNAMES)
        rng.shuffle(self.surnames)
        self.used: set[str] = set()

    def teacher(self) -> str:
        return f"{self.rng.choice(TITLES)} {self.surnames.pop()}"

    def unique(self, make: Callable[[random.Random], str]) -> str:
        for _ in range(200):
            text = make(self.rng)
            if text not in self.used:
                self.used.add(text)
                return text
        raise RuntimeError("ran out of distinct example strings")


# -- team trackers ---------------------------------------------------------------------------------

@dataclass
class Team:
    slug: str
    school: str
    team: str
    lead: str
    coach: str
    focus: str
    smart_goal: str
    metric: str
    unit: str
    baseline: Any
    target: Any
    values: list[float | None]  # weeks 1..8 as the team measured them
    shows: str
    direction: str = ""
    members: str = "6 staff"

    @property
    def file(self) -> str:
        return f"teams/{self.slug}.xlsx"


TRIED = {
    "Literacy": ("Daily 10-minute phonics warm-up", "Partner reading with fluency trackers",
                 "Re-grouped students by skill after the check", "Added a second read-aloud",
                 "Used exit tickets to form Friday groups", "Vocabulary preview before reading"),
    "Attendance": ("Called families of students absent twice", "Morning greeter at the door",
                   "Attendance raffle on Fridays", "Check-in/check-out mentors",
                   "Postcards home for perfect weeks", "Moved tutoring to first period"),
    "School climate": ("Assigned seating by table", "Two adults on the cafeteria floor",
                       "Lunch clubs in the library", "Practiced the exit routine",
                       "Recognized quiet tables over the intercom", "Restorative circles"),
    "Math": ("Daily number talk", "Small-group reteach of unit rates",
             "Spiral review on Mondays", "Math lab during advisory",
             "Student goal folders", "Peer tutoring pairs"),
}
LEARNED = ("Students respond to visible progress", "Scheduling was the main barrier",
           "Works better in small groups", "Need more time before we see change",
           "Families appreciated the calls", "Consistency across classrooms matters",
           "Some students need a different approach")
NEXT = ("Keep going and check again next week", "Share the routine with the whole grade",
        "Try it with the lowest group first", "Ask the coach for a model lesson",
        "Review data at Tuesday's meeting", "Add one more touchpoint with families")


def build_teams() -> list[Team]:
    return [
        Team("cedar-grove-grade3-literacy", SCHOOLS[0], "Grade 3 Literacy", "K. Lindqvist",
             "Renata Okafor", "Literacy",
             "Raise the share of grade 3 students proficient on the weekly reading check from "
             "70% to 80% by the end of the 10-week challenge.",
             "% proficient on weekly reading check", "percent", "70%", "80%",
             [71, 72, 72, 74, 74, 77, 76, 79],
             "A percent goal (70% to 80%) on track; values typed as \"71%\", 0.72 and 72.",
             members="5 teachers and the reading specialist"),
        Team("cedar-grove-grade5-attendance", SCHOOLS[0], "Grade 5 Attendance", "D. Achebe",
             "Renata Okafor", "Attendance",
             "Increase the number of our 47 targeted grade 5 students attending 92% or more of "
             "days (41 of 44) from 18 to 32.",
             "Targeted students at 92%+ attendance", "count", 18, "32 of 47",
             [20, None, 23, 24, 24, 27, 28, 30],
             "A count goal (\"32 of 47\" students at 92%+ attendance) on track; fractions, "
             "numerator/denominator columns and one #DIV/0!."),
        Team("riverside-grade7-lunchtime", SCHOOLS[1], "Grade 7 Lunchtime", "S. Haddad",
             "Marcus Bell", "School climate",
             "Reduce lunchtime incidents in the grade 7 cafeteria by 30%, from 40 to 28 a week.",
             "Lunchtime incidents per week", "count", 40, 28,
             [39, 36, 37, 33, 34, 33, 30, 29],
             "A decreasing goal (incidents 40 to 28) on track; aliased headers, text dates and a "
             "week entered twice.", direction="decrease"),
        Team("riverside-grade6-math", SCHOOLS[1], "Grade 6 Math", "P. Mwangi",
             "Jordan Castillo", "Math",
             "Move 75 grade 6 math students from Level 0 to Level 2 or higher on the unit "
             "checkpoint.",
             "Students at Level 2 or higher", "count", 0, 75,
             [6, 12, 18, 22, 23, 23, 24, 23],
             "Off track: flat at about 23 for the last 5 weeks, far below the aimline; merged "
             "title cell and an extra Color Code column."),
        Team("maple-hill-chronic-absence", SCHOOLS[2], "Attendance Team", "R. Delacroix",
             "Priya Natarajan", "Attendance",
             "Increase the number of chronically absent students who attend 5 of 5 days in a "
             "week from 24 to 35.",
             "Chronically absent students attending 5 of 5 days", "count", 24, 35,
             [25, 27, 29, 31, 33, 34, 36, 37],
             "Already met its target (37 against 35) in week 8; Week Of as serial numbers."),
        Team("maple-hill-grade4-reading", SCHOOLS[2], "Grade 4 Reading", "T. Baptiste",
             "Priya Natarajan", "Literacy",
             "Raise grade 4 average oral reading fluency from 88 to 100 words correct per minute.",
             "Average words correct per minute", "score", 88, 100,
             [89, 90, 90, None, 91, 92, None, None],
             "Behind its aimline with missing weeks: no value for weeks 4 (N/A) and 7 (-), and "
             "no week 8 row, so it is stale."),
    ]


def goal_form(book: Book, team: Team, labels: dict[str, str] | None = None,
              start: Any = START) -> None:
    labels = labels or {}
    fields = [("School", team.school), ("Team", team.team), ("Team Lead", team.lead),
              ("Coach", team.coach), ("Focus Area", team.focus), ("Members", team.members),
              ("SMART Goal", team.smart_goal), ("Metric", team.metric), ("Unit", team.unit),
              ("Baseline", team.baseline), ("Target", team.target),
              ("Direction", team.direction or None), ("Start Date", start), ("End Date", None)]
    book.form("Goal", [(labels.get(label, label), value) for label, value in fields])


def reflections(rng: random.Random, team: Team, week: int) -> dict[str, Any]:
    return {"What We Tried": TRIED[team.focus][(week - 1) % len(TRIED[team.focus])],
            "What We Learned": rng.choice(LEARNED) if rng.random() < 0.8 else None,
            "Next Steps": rng.choice(NEXT) if rng.random() < 0.7 else None}


def action_steps(book: Book, rng: random.Random, team: Team, team_number: int) -> None:
    owners = (team.lead, "All teachers", "Interventionist", "Grade-level team")
    statuses = ("Done", "complete", "In progress", "ongoing", "Not started", "not yet")
    rows = []
    for index, action in enumerate(TRIED[team.focus][:4]):
        due = week_of((2, 5, 8, 10)[index]) + timedelta(days=4)  # Fridays of those weeks
        if due < AS_OF - timedelta(days=14):
            status = rng.choice(statuses[:2])
        elif due < AS_OF:  # due last Friday: some teams are late with it
            status = rng.choice((*statuses[:2], "In progress"))
        else:  # not due yet: each team words "still going" its own way
            status = statuses[2 + team_number % 4]
        rows.append(Row({"Action": action, "Owner": owners[index % len(owners)], "Due": due,
                         "Status": status, "Notes": None}))
    book.table("Action Steps", ["Action", "Owner", "Due", "Status", "Notes"], rows)


def percent_text(week: int, value: float) -> Any:
    """Grade 3 literacy types its percentages three ways."""
    style = week % 3
    if style == 1:
        return f"{value:g}%"
    if style == 2:
        return Formatted(value / 100, "0%")
    return value


def write_team(team: Team, team_number: int, rng: random.Random) -> Book:
    book = Book(team.file, team.shows)
    progress = "Weekly Progress"
    canonical = ["Week", "Week Of", "Value", "Numerator", "Denominator", "What We Tried",
                 "What We Learned", "Next Steps"]
    rows: list[Row | None] = []

    if team.slug == "cedar-grove-grade3-literacy":
        goal_form(book, team)
        for week, value in enumerate(team.values, start=1):
            row = Row({"Week": week, "Week Of": week_of(week), "Value": percent_text(week, value),
                       **reflections(rng, team, week)})
            if week == 4:  # the 28th typed from memory
                row.values["Week Of"] = "Sept 31"
                row.expect["Week Of"] = "bad-date"
            rows.append(row)
        book.table(progress, canonical, rows)

    elif team.slug == "cedar-grove-grade5-attendance":
        goal_form(book, team, {"SMART Goal": "Goal Statement"}, start=as_iso(START))
        headers = ["Week", "Week Of", "Value", "Students Meeting", "Out Of", "What We Tried",
                   "What We Learned", "Next Steps"]
        for week, value in enumerate(team.values, start=1):
            row = Row({"Week": week, "Week Of": as_iso(week_of(week)),
                       **reflections(rng, team, week)})
            if value is None:  # the sheet divides by a total nobody typed in
                row.values["Value"] = "#DIV/0!"
                row.expect["Value"] = "formula-error"
            elif week % 2:
                row.values.update({"Value": f"{value:g} of 47", "Students Meeting": value,
                                   "Out Of": 47})
            else:
                row.values["Value"] = f"{value:g}/47"
            rows.append(row)
            if week == 4:
                rows.append(None)
        book.table(progress, headers, rows)

    elif team.slug == "riverside-grade7-lunchtime":
        goal_form(book, team, {"Team": "Team Name"})
        headers = ["Wk", "Week Starting", "Result", "What We Tried", "What We Learned",
                   "Next Steps"]
        for week, value in enumerate(team.values, start=1):
            day = week_of(week)
            typed = as_us(day) if week % 2 else as_month(day)
            tried = reflections(rng, team, week)
            rows.append(Row({"Wk": week, "Week Starting": typed, "Result": value,
                             "What We Tried": tried["What We Tried"],
                             "What We Learned": tried["What We Learned"],
                             "Next Steps": tried["Next Steps"]}))
        # Week 8 entered again after a recount.
        rows.append(Row({"Wk": 8, "Week Starting": as_us(week_of(8)), "Result": 28,
                         "What We Learned": "Recounted after the Friday assembly"},
                        expect={"Wk": "duplicate-week"}))
        book.table(progress, headers, rows, above=["Grade 7 Lunchtime Incidents - Weekly Tracker"])

    elif team.slug == "riverside-grade6-math":
        goal_form(book, team, {"Baseline": "Starting Point"})
        headers = [*canonical, "Color Code"]
        for week, value in enumerate(team.values, start=1):
            colour = "green" if week <= 3 else ("yellow" if week <= 5 else "red")
            rows.append(Row({"Week": week, "Week Of": week_of(week), "Value": value,
                             "Numerator": value, "Denominator": 75, "Color Code": colour,
                             **reflections(rng, team, week)}))
        book.table(progress, headers, rows, merge_title=True,
                   above=["Grade 6 Math Breakthrough Team", team.school],
                   header_expect={"Color Code": "unknown-column"})

    elif team.slug == "maple-hill-chronic-absence":
        goal_form(book, team, {"Coach": "Performance Coach"}, start=as_serial(START))
        headers = ["Week #", "Week Of", "Value", "What We Tried", "What We Learned",
                   "Next Steps"]
        for week, value in enumerate(team.values, start=1):
            rows.append(Row({"Week #": week, "Week Of": as_serial(week_of(week)), "Value": value,
                             **reflections(rng, team, week)}))
        book.table(progress, headers, rows)

    elif team.slug == "maple-hill-grade4-reading":
        goal_form(book, team, start="9/7/2026")
        headers = ["Week", "Week Of", "Value", "What We Tried", "What We Learned", "Next Steps"]
        missing = {4: "N/A", 7: "-"}
        for week, value in enumerate(team.values[:7], start=1):
            row = Row({"Week": week, "Week Of": as_month(week_of(week)),
                       "Value": missing.get(week, value), **reflections(rng, team, week)})
            if week in missing:
                row.values["What We Learned"] = "No check this week"
            rows.append(row)
        book.table(progress, headers, rows, above=[team.school, ""])

    else:  # pragma: no cover - every team above has its own layout
        raise ValueError(team.slug)

    action_steps(book, rng, team, team_number)
    return book


# -- coach workbooks -------------------------------------------------------------------------------

@dataclass
class Coach:
    slug: str
    name: str
    schools: tuple[str, ...]
    role: str
    teachers: int
    rated: int  # teachers with Delight/Engagement filled in
    mix: dict[str, float]  # activity group -> share of time-log rows
    other: tuple[tuple[str, float], ...]  # "Other duties" activities and their weights
    last_week: int  # last challenge week with time-log rows (9 = through the as-of date)
    rows_per_week: int
    cycles: int
    stalled: int
    shows: str
    yes_no: tuple[Any, Any, Any]  # how this coach writes yes, no, and unknown
    names: list[str] = field(default_factory=list)

    @property
    def file(self) -> str:
        return f"coaches/{self.slug}.xlsx"


def build_coaches() -> list[Coach]:
    return [
        Coach("renata-okafor", "Renata Okafor", (SCHOOLS[0],), "Instructional coach", 16, 16,
              {"Coaching with teachers": 0.45, "Collaborative": 0.25, "Other duties": 0.30},
              (("Admin tasks", 3), ("Tech support", 2), ("Lunch/recess duty", 1)),
              9, 30, 5, 1,
              "About 45% of time coaching teachers; Start/End and Minutes; a Delight of 5.",
              ("Yes", "No", None)),
        Coach("marcus-bell", "Marcus Bell", (SCHOOLS[1],), "Instructional coach", 12, 12,
              {"Coaching with teachers": 0.14, "Collaborative": 0.15, "Other duties": 0.71},
              (("Substitute coverage", 4), ("Assessment administration/scoring", 3),
               ("Admin tasks", 1), ("Lunch/recess duty", 1)),
              9, 32, 3, 1,
              "About 15% coaching, much substitute coverage and assessment scoring; \"Mins\", "
              "text dates, negative and non-numeric minutes.",
              ("Y", "N", "n/a")),
        Coach("priya-natarajan", "Priya Natarajan", (SCHOOLS[2],), "Literacy coach", 9, 4,
              {"Coaching with teachers": 0.30, "Collaborative": 0.25, "Other duties": 0.45},
              (("Admin tasks", 3), ("Assessment administration/scoring", 2), ("Tech support", 2),
               ("Substitute coverage", 1)),
              9, 28, 4, 1,
              "About 30% coaching; time kept in hours (\"Hrs\"); only 4 teachers rated, so the "
              "delight/engagement distribution must be suppressed; an activity typo.",
              ("\u2713", "no", None)),
        Coach("jordan-castillo", "Jordan Castillo", (SCHOOLS[1], SCHOOLS[2]), "Math coach", 14, 14,
              {"Coaching with teachers": 0.35, "Collaborative": 0.25, "Other duties": 0.40},
              (("Admin tasks", 2), ("Tech support", 2), ("Lunch/recess duty", 1),
               ("Assessment administration/scoring", 1)),
              6, 30, 4, 2,
              "No time logged for the last 2 weeks (nothing after Oct 16); serial-number dates; "
              "aliased tab names; two stalled cycles.",
              ("TRUE", "FALSE", None)),
    ]


COACHING_NOTES = {
    "Co-planning": "Planned the {unit} lesson sequence",
    "Modeling": "Modeled {topic} in the second block",
    "Co-teaching": "Co-taught a lesson built around {topic}",
    "Observation": "Looked for {topic} during the lesson",
    "Feedback/debrief": "Debriefed {topic} from yesterday's visit",
    "Goal setting": "Set a cycle goal around {topic}",
    "Data conversation": "Sorted exit tickets on {unit}",
}
OTHER_NOTES = {
    "Substitute coverage": "Covered {period} period, no sub available",
    "Assessment administration/scoring": "Scored {assessment} for {grade}",
    "Tech support": "Reset {device} logins for {grade}",
    "Admin tasks": "Updated the {report} for the front office",
    "Lunch/recess duty": "Covered {place} duty",
}
FILLERS = {"period": ("1st", "2nd", "3rd", "4th", "6th"),
           "assessment": ("the benchmark writing samples", "fluency probes", "the unit checkpoint",
                          "the interim reading screener"),
           "grade": ("grade 3", "grade 4", "grade 6", "grade 7"),
           "device": ("Chromebook", "tablet", "reading program"),
           "report": ("intervention roster", "PD sign-in sheets", "duty schedule"),
           "place": ("cafeteria", "bus loop", "playground")}
DURATIONS = (15, 20, 30, 30, 45, 45, 45, 60, 60, 75, 90)
HOUR_DURATIONS = (15, 30, 30, 45, 45, 60, 60, 75, 90)  # a coach who logs in quarter hours


def activity_label(rng: random.Random, name: str, aliased: bool) -> str:
    """The canonical activity name, or now and then one of its accepted aliases."""
    if not aliased or rng.random() < 0.6:
        return name
    catalog = {a.name: a for a in default_activities().activities}
    return rng.choice(catalog[name].aliases[:3])


def note_for(rng: random.Random, activity: str) -> str | None:
    if activity in COACHING_NOTES:
        return COACHING_NOTES[activity].format(topic=rng.choice(TOPICS), unit=rng.choice(UNITS))
    if activity in OTHER_NOTES:
        fill = {key: rng.choice(options) for key, options in FILLERS.items()}
        return OTHER_NOTES[activity].format(**fill)
    return None


@dataclass
class LogEntry:
    day: date
    start: time
    end: time
    minutes: int
    activity: str  # canonical name
    teacher: str | None
    note: str | None


def school_days(week: int) -> list[date]:
    monday = week_of(week)
    days = [monday + timedelta(days=i) for i in range(5)]
    # Labor Day (the challenge's first Monday) is a holiday; nothing after the as-of date.
    return [d for d in days if d != START and d <= AS_OF]


def time_log(rng: random.Random, coach: Coach) -> list[LogEntry]:
    catalog = default_activities()
    groups = {g: [a.name for a in catalog.activities if a.group == g] for g in catalog.groups}
    durations = HOUR_DURATIONS if coach.slug == "priya-natarajan" else DURATIONS
    entries = []
    for week in range(1, coach.last_week + 1):
        days = school_days(week)
        count = round(coach.rows_per_week * len(days) / 5)
        plan: list[str] = []
        for group, share in coach.mix.items():
            plan += [group] * round(count * share)
        rng.shuffle(plan)
        per_day = [plan[i::len(days)] for i in range(len(days))]
        for day, day_groups in zip(days, per_day, strict=True):
            clock = 7 * 60 + 30 + rng.choice((0, 15, 30))
            for group in day_groups:
                if group == "Other duties":
                    names, weights = zip(*coach.other, strict=True)
                    activity = rng.choices(names, weights)[0]
                else:
                    activity = rng.choice(groups[group])
                minutes = rng.choice(durations)
                start = clock
                clock += minutes
                teacher = rng.choice(coach.names) if group == "Coaching with teachers" else None
                note = note_for(rng, activity) if rng.random() < 0.35 else None
                entries.append(LogEntry(day, time(start // 60, start % 60),
                                        time(clock // 60, clock % 60), minutes, activity,
                                        teacher, note))
                clock += rng.choice((0, 0, 5, 10, 15, 30))
    return entries


def relationships(rng: random.Random, coach: Coach, names: Names) -> list[dict[str, Any]]:
    """One record per teacher, in canonical terms; each coach's writer renders them."""
    grades = ("K", "1st", "2nd", "3rd", "4th", "5th") if "Elementary" in coach.schools[0] else (
        "6th Math", "7th ELA", "6th Science", "7th Math", "8th Social Studies", "8th ELA")
    last_day = min(AS_OF, week_of(coach.last_week) + timedelta(days=4))
    rooms = rng.sample([f"{wing}-{number}" for wing in "ABC" for number in range(101, 131)],
                       len(coach.names))
    records = []
    for index, teacher in enumerate(coach.names):
        # Mostly known; the rest is a "no" or left blank (not filled in yet).
        knows_face = True if rng.random() < 0.85 else rng.choice((False, None))
        knows_room = True if rng.random() < 0.8 else rng.choice((False, None))
        rated = index < coach.rated
        records.append({
            "Teacher": teacher,
            "School": coach.schools[index % len(coach.schools)],
            "Grade/Subject": rng.choice(grades),
            "Room": rooms[index],
            "Knows Face": knows_face,
            "Knows Classroom": knows_room,
            "Professional Fact": names.unique(professional_fact) if rng.random() < 0.9 else None,
            "Personal Fact": names.unique(personal_fact) if rng.random() < 0.75 else None,
            "Delight": rng.choice((1, 2, 2, 3, 3)) if rated else None,
            "Engagement": rng.choice((1, 2, 2, 3, 3)) if rated else None,
            "Last Contact": last_day - timedelta(days=rng.choice((0, 1, 2, 5, 8, 13, 21, 40))),
            "Notes": names.unique(relationship_note) if rng.random() < 0.5 else None,
        })
    return records


def cycles(rng: random.Random, coach: Coach, names: Names) -> list[dict[str, Any]]:
    records = []
    for index in range(coach.cycles):
        stalled = index < coach.stalled
        started = week_of(1 + index) + timedelta(days=rng.randint(0, 4))
        total = rng.randint(3, 5)
        if stalled:
            phase, done = rng.choice(("Plan", "Act")), rng.randint(0, 1)
            updated = STALLED_BEFORE - timedelta(days=rng.randint(3, 10))
        elif index == coach.cycles - 1 and coach.cycles > 2:
            phase, done = "Complete", total
            updated = AS_OF - timedelta(days=rng.randint(1, 6))
        else:
            phase, done = rng.choice(("Act", "Reflect")), rng.randint(1, total - 1)
            updated = AS_OF - timedelta(days=rng.randint(0, 12))
        last_logged = week_of(coach.last_week) + timedelta(days=4)
        updated = max(min(updated, last_logged), started)
        records.append({"Teacher": coach.names[index * 2 % len(coach.names)],
                        "Focus": names.unique(lambda r: f"Cycle on {r.choice(TOPICS)} "
                                                        f"({r.choice(UNITS)})"),
                        "Start Date": started, "Phase": phase, "Next Steps Total": total,
                        "Next Steps Done": done, "Last Update": updated})
    return records


# -- plans, focus areas and outcomes ---------------------------------------------------------------
# Written without drawing from the random stream, so every other figure stays as it was.

PLANS: dict[str, tuple[str, date, date | None, tuple[tuple[str, str], ...]]] = {
    "renata-okafor": ("Dr. Alana Reyes", date(2026, 8, 24), date(2026, 11, 20), (
        ("2a", "Students and adults speak to each other with respect in every classroom"),
        ("2c: Managing Classroom Procedures", "Transitions take under two minutes"),
        ("3b", "Every lesson has a structured discussion"))),
    "marcus-bell": ("Mr. Victor Osei", date(2026, 8, 17), date(2026, 10, 30), (
        ("Domain 3: Instruction", "Students talk about their thinking in every lesson"),
        ("2d", "Fewer removals from class in grades 6 and 7"))),
    "priya-natarajan": ("Ms. Hana Kowalski", date(2026, 8, 26), None, (
        ("1e", "Units planned backward from the grade 4 reading standards"),
        ("3c: Engaging Students in Learning", "Every student reads aloud daily"),
        ("4c", "Families get a reading update every two weeks"))),
}
"""Each coach's plan: principal, date agreed, next quarterly review, (focus area, goal). Jordan
Castillo has none (a missing plan); Marcus Bell's review was due 2026-10-30 (overdue)."""

ALIGNED_SHARE_COACH = "marcus-bell"
ALIGNED_TAGS = ("3c", "3b: Using Questioning and Discussion Techniques", "2d",
                "3d Using Assessment in Instruction")
UNALIGNED_TAGS = ("1d", None)


def counted_coaching(coach: Coach, log: list[LogEntry]) -> list[int]:
    """The time-log entries that count as coaching minutes: coaching activities, except the
    rows given deliberate errors (Marcus Bell's rows 40 and 101)."""
    catalog = {a.name: a.group for a in default_activities().activities}
    broken = (40, 101) if coach.slug == "marcus-bell" else ()
    return [i for i, e in enumerate(log) if catalog[e.activity] == "Coaching with teachers"
            and i not in broken]


def aligned_subset(minutes: list[int], target: int) -> set[int]:
    """Positions of ``minutes`` that add up to exactly ``target`` (the first such set found,
    scanning in order)."""
    reach: dict[int, tuple[int, int] | None] = {0: None}
    for position, value in enumerate(minutes):
        for total in sorted(reach, reverse=True):
            if total + value <= target and total + value not in reach:
                reach[total + value] = (total, position)
    if target not in reach:
        raise ValueError(f"no entries add up to {target} minutes")
    chosen: set[int] = set()
    total = target
    while reach[total] is not None:
        total, position = reach[total]  # type: ignore[misc]
        chosen.add(position)
    return chosen


def focus_areas(coach: Coach, log: list[LogEntry]) -> list[str | None] | None:
    """The Focus Area of each time-log entry, or None for a log without the column.

    Marcus Bell: exactly 60% of his coaching minutes carry a focus area of his plan (a component
    of Domain 3, or 2d); the rest carry 1d (not in his plan) or nothing. Renata Okafor: 2a from
    Monday to Wednesday, 2c on Thursdays, nothing on Fridays (3b never coached). Priya
    Natarajan: 1e and 3c in turn, now and then nothing (4c never coached)."""
    if coach.slug not in PLANS:
        return None
    tags: list[str | None] = [None] * len(log)
    counted = counted_coaching(coach, log)
    if coach.slug == ALIGNED_SHARE_COACH:
        minutes = [log[i].minutes for i in counted]
        total = sum(minutes)
        if total * 3 % 5:
            raise ValueError(f"{coach.slug}: {total} coaching minutes have no exact 60%")
        chosen = aligned_subset(minutes, total * 3 // 5)
        aligned = unaligned = 0
        for position, i in enumerate(counted):
            if position in chosen:
                tags[i] = ALIGNED_TAGS[aligned % len(ALIGNED_TAGS)]
                aligned += 1
            else:
                tags[i] = UNALIGNED_TAGS[unaligned % len(UNALIGNED_TAGS)]
                unaligned += 1
    elif coach.slug == "renata-okafor":
        for i in counted:
            weekday = log[i].day.weekday()
            tags[i] = "2a" if weekday < 3 else "2c: Managing Classroom Procedures" \
                if weekday == 3 else None
    else:
        for n, i in enumerate(counted):
            tags[i] = (None if n % 5 == 4 else "1e" if n % 2 else
                       "3c: Engaging Students in Learning")
    return tags


CYCLE_FOCUS = {"renata-okafor": ("2a", "2c", "2a", "2c", "2a"),
               "marcus-bell": ("3c", "1d", "3b"),
               "priya-natarajan": ("1e", "1e", "3c", "1e")}
OUTCOMES = {"renata-okafor": ("Met", True), "marcus-bell": ("Met", True),
            "priya-natarajan": ("partly", True), "jordan-castillo": ("Not met", False)}
"""Each coach's closed cycle: its outcome and whether there is evidence of student work. In the
North region (Marcus Bell, Priya Natarajan, Jordan Castillo) 2 of the 3 closed cycles have
student evidence."""


def with_outcomes(coach: Coach, rows: list[dict[str, Any]]) -> None:
    """Add the focus-area, outcome and (for Renata Okafor) phase-date columns to the cycles."""
    focus = CYCLE_FOCUS.get(coach.slug)
    outcome, evidence = OUTCOMES[coach.slug]
    for index, row in enumerate(rows):
        closed = row["Phase"] == "Complete"
        if focus is not None:
            row["Focus Area"] = focus[index % len(focus)]
        row["Student Goal"] = "Most students meet the exit-ticket goal" if closed else None
        row["Student Evidence"] = yes_no(coach, evidence) if closed else None
        row["Teacher Describes Impact"] = yes_no(coach, True) if closed else None
        row["Applied in New Context"] = yes_no(coach, not evidence) if closed else None
        row["Outcome"] = outcome if closed else None
        if coach.slug == "renata-okafor":
            start, updated = row["Start Date"], row["Last Update"]
            reached = PHASES_REACHED[row["Phase"]]
            row["Plan Started"] = start
            row["Act Started"] = min(start + timedelta(days=5), updated) if reached > 0 else None
            row["Reflect Started"] = (min(start + timedelta(days=10), updated)
                                      if reached > 1 else None)
            row["Ended"] = updated if closed else None


FOCUS_TEACHERS = (1, 4, 7)
"""Renata Okafor's focus teachers for the quarter (positions in her Relationships tab)."""

PHASES_REACHED = {"Plan": 0, "Act": 1, "Reflect": 2, "Complete": 3}


def plan_rows(coach: Coach) -> list[Row] | None:
    if coach.slug not in PLANS:
        return None
    principal, agreed, review, areas = PLANS[coach.slug]
    rows = []
    for n, (area, goal) in enumerate(areas):
        rows.append(Row({"School": coach.schools[0], "Focus Area": area, "Goal": goal,
                         "Principal": principal if n == 0 else None,
                         "Date Agreed": agreed if n == 0 else None,
                         "Next Review": review if n == 0 else None}))
    return rows


PLAN_HEADERS = ["School", "Focus Area", "Goal", "Principal", "Date Agreed", "Next Review"]


def yes_no(coach: Coach, value: bool | None) -> Any:
    yes, no, unknown = coach.yes_no
    return unknown if value is None else (yes if value else no)


def write_coach(coach: Coach, rng: random.Random, names: Names) -> Book:
    book = Book(coach.file, coach.shows)
    people = relationships(rng, coach, names)
    log = time_log(rng, coach)
    cycle_rows = cycles(rng, coach, names)
    schools = ", ".join(coach.schools)
    tags = focus_areas(coach, log)
    with_outcomes(coach, cycle_rows)

    if coach.slug == "renata-okafor":
        book.form("About", [("Coach", coach.name), ("School(s)", schools), ("Role", coach.role)])
        headers = [*people[0], "Focus Teacher"]
        rows: list[Row | None] = []
        for index, person in enumerate(people):
            record = dict(person, **{"Knows Face": yes_no(coach, person["Knows Face"]),
                                     "Knows Classroom": yes_no(coach, person["Knows Classroom"]),
                                     "Focus Teacher": "Yes" if index in FOCUS_TEACHERS else None})
            row = Row(record)
            if index == 5:  # a 1-3 scale, typed as if it were 1-5
                record["Delight"] = 5
                row.expect["Delight"] = "out-of-range"
            rows.append(row)
            if index == 9:
                rows.append(None)
        book.table("Relationships", headers, rows,
                   above=["Relationship Tracker 2026-27", coach.schools[0]])
        log_headers = ["Date", "Start", "End", "Minutes", "Activity", "Teacher(s)", "Notes",
                       "Focus Area"]
        book.table("Time Log", log_headers, [Row({
            "Date": e.day, "Start": e.start, "End": e.end, "Minutes": e.minutes,
            "Activity": e.activity, "Teacher(s)": e.teacher, "Notes": e.note,
            "Focus Area": tag}) for e, tag in zip(log, tags or [], strict=True)])
        book.table("Coaching Cycles", list(cycle_rows[0]), [Row(c) for c in cycle_rows])

    elif coach.slug == "marcus-bell":
        book.form("About", [("Name", coach.name), ("School", schools), ("Position", coach.role)])
        headers = ["Teacher", "School", "Grade/Subject", "Room #", "Know Face?",
                   "Know Classroom?", "Professional Fact", "Personal Fact", "Delight",
                   "Engagement", "Last Contact", "Notes"]
        rows = []
        for person in people:
            rows.append(Row({
                **{k: person[k] for k in ("Teacher", "School", "Grade/Subject",
                                          "Professional Fact", "Personal Fact", "Delight",
                                          "Engagement", "Notes")},
                "Room #": person["Room"], "Know Face?": yes_no(coach, person["Knows Face"]),
                "Know Classroom?": yes_no(coach, person["Knows Classroom"]),
                "Last Contact": as_us(person["Last Contact"])}))
        book.table("Relationships", headers, rows)
        rows = []
        for index, e in enumerate(log):
            typed = as_month(e.day) if index % 7 == 3 else (
                as_iso(e.day) if index % 11 == 5 else as_us(e.day))
            row = Row({"Date": typed, "Mins": e.minutes,
                       "Activity": activity_label(rng, e.activity, aliased=True),
                       "Teacher Name": e.teacher, "Focus Area": (tags or [])[index],
                       "Notes": e.note})
            if index == 40:  # meant to type 30
                row.values["Mins"] = -30
                row.expect["Mins"] = "out-of-range"
            if index == 101:
                row.values.update({"Mins": "all morning",
                                   "Activity": "Substitute coverage"})
                row.expect["Mins"] = "bad-number"
            rows.append(row)
        book.table("Time Log", ["Date", "Mins", "Activity", "Teacher Name", "Focus Area",
                                "Notes"], rows)
        book.table("Coaching Cycles", list(cycle_rows[0]), [
            Row(dict(c, **{"Start Date": as_us(c["Start Date"]),
                           "Last Update": as_us(c["Last Update"])})) for c in cycle_rows])

    elif coach.slug == "priya-natarajan":
        book.form("About", [("Coach", coach.name), ("School(s)", schools), ("Role", coach.role)])
        rows = []
        for index, p in enumerate(people):
            face = False if index == 3 else p["Knows Face"]  # at least one "no"
            rows.append(Row(dict(p, **{"Knows Face": yes_no(coach, face),
                                       "Knows Classroom": "x" if p["Knows Classroom"] else None,
                                       "Last Contact": as_iso(p["Last Contact"])})))
        book.table("Relationships", list(people[0]), rows)
        rows = []
        previous_week = None
        typo_done = False
        for e, tag in zip(log, tags or [], strict=True):
            week = (e.day - START).days // 7 + 1
            if previous_week is not None and week != previous_week:
                rows.append(None)  # a blank row between weeks
            previous_week = week
            row = Row({"Date": as_iso(e.day),
                       "Activity": activity_label(rng, e.activity, aliased=True),
                       "Hrs": e.minutes / 60, "Teacher(s)": e.teacher, "Notes": e.note,
                       "Focus Area": tag})
            if week == 5 and e.activity == "Observation" and not typo_done:
                row.values["Activity"] = "Obsrvation"
                row.expect["Activity"] = "unknown-activity"
                typo_done = True
            rows.append(row)
        book.table("Time Log", ["Date", "Activity", "Hrs", "Teacher(s)", "Notes", "Focus Area"],
                   rows)
        phases = {"Plan": "planning", "Reflect": "reflection", "Complete": "done"}
        book.table("Coaching Cycles", list(cycle_rows[0]), [
            Row(dict(c, Phase=phases.get(c["Phase"], c["Phase"]))) for c in cycle_rows])

    elif coach.slug == "jordan-castillo":
        book.form("Profile", [("Coach Name", coach.name), ("Campuses", schools),
                              ("Role", coach.role)])
        headers = ["Teacher Name", "School", "Grade/Subject", "Room", "Knows Face",
                   "Knows Classroom", "Professional Fact", "Personal Fact", "Delight (1-3)",
                   "Engagement (1-3)", "Last Contacted", "Notes"]
        rows = []
        for index, p in enumerate(people):
            face = True if (index % 4 == 0 and p["Knows Face"]) else yes_no(coach, p["Knows Face"])
            rows.append(Row({
                **{k: p[k] for k in ("School", "Grade/Subject", "Room", "Professional Fact",
                                     "Personal Fact", "Notes")},
                "Teacher Name": p["Teacher"], "Knows Face": face,
                "Knows Classroom": yes_no(coach, p["Knows Classroom"]),
                "Delight (1-3)": p["Delight"], "Engagement (1-3)": p["Engagement"],
                "Last Contacted": as_serial(p["Last Contact"])}))
        book.table("Relationship Tracker", headers, rows)
        rows = []
        for index, e in enumerate(log):
            rows.append(Row({"Date": as_serial(e.day), "Start Time": e.start, "End Time": e.end,
                             "Duration (min)": e.minutes,
                             "Activity": activity_label(rng, e.activity, aliased=False),
                             "Teacher(s)": e.teacher, "Notes": e.note}))
            if index in (17, 88):
                rows.append(None)
        book.table("Time Tracker", ["Date", "Start Time", "End Time", "Duration (min)",
                                    "Activity", "Teacher(s)", "Notes"], rows)
        book.table("Cycles", list(cycle_rows[0]), [Row(c) for c in cycle_rows])

    else:  # pragma: no cover
        raise ValueError(coach.slug)
    plan = plan_rows(coach)
    if plan is not None:
        book.table("Coaching Plan", PLAN_HEADERS, plan,
                   above=[f"Coaching plan agreed with the principal, {coach.schools[0]}"])
    return book


# -- the program -----------------------------------------------------------------------------------

def generate(out_dir: Path = EXAMPLES_DIR, seed: int = SEED) -> list[Path]:
    """Write every example workbook, README.md and expected_findings.json into ``out_dir``."""
    out_dir = Path(out_dir)
    rng = random.Random(seed)
    names = Names(rng)
    coaches = build_coaches()
    for coach in coaches:
        coach.names = [names.teacher() for _ in range(coach.teachers)]
    books = [write_team(team, number, rng) for number, team in enumerate(build_teams())]
    books += [write_coach(coach, rng, names) for coach in coaches]
    written = [book.save(out_dir) for book in books]
    expected = [item for book in books for item in book.expected]
    findings_path = out_dir / "expected_findings.json"
    findings_path.write_text(json.dumps(expected, indent=2, ensure_ascii=False) + "\n",
                             encoding="utf-8")
    readme = out_dir / "README.md"
    readme.write_text(render_readme(books, expected), encoding="utf-8")
    return [*written, findings_path, readme]


def render_readme(books: list[Book], expected: list[dict[str, str]]) -> str:
    lines = [
        "# Example program",
        "",
        "Three schools, six breakthrough team trackers and four coach workbooks for a 10-week",
        f"challenge starting Monday {START.isoformat()}. The example config pins the as-of date",
        f"{AS_OF.isoformat()}, so weeks 1 to {REPORTED_WEEKS} are complete.",
        "",
        "Generated by `python sheet_templates/examples/generate.py` (seeded, deterministic; do not",
        "edit the files by hand). The generator's docstring lists the everyday messiness placed in",
        "the files on purpose.",
        "",
        "| file | what it shows |",
        "|---|---|",
    ]
    lines += [f"| `{book.file}` | {book.shows} |" for book in books]
    lines += [
        "",
        "## Deliberate errors",
        "",
        "A validator must report each of these, at exactly this tab and cell. The same list is",
        "in `expected_findings.json`. Tab names are the names in the file.",
        "",
        "| file | tab | cell | code | value |",
        "|---|---|---|---|---|",
    ]
    lines += [f"| `{e['file']}` | {e['tab']} | {e['cell']} | `{e['code']}` | `{e['value']}` |"
              for e in expected]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate the example program workbooks.")
    parser.add_argument("--out", type=Path, default=EXAMPLES_DIR, help="output folder")
    parser.add_argument("--seed", type=int, default=SEED, help="random seed")
    args = parser.parse_args(argv)
    for path in generate(args.out, args.seed):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Focus areas: the framework's wording variants, the Coaching Plan tab, the optional Focus Area
columns, a config's own framework, and the templates' dropdowns from the hidden Lists tab."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from sheetsync.backends.base import RawTab, RawWorkbook
from sheetsync.config import ConfigError, load_config
from sheetsync.schema import default_framework, load_schema
from sheetsync.validation import ValidationContext, build_frames, validate_workbook

CTX = ValidationContext(as_of=date(2026, 11, 4))
RESPECT = "2a: Creating an Environment of Respect and Rapport"


@pytest.mark.parametrize("typed, label", [
    ("2a", RESPECT),
    ("2A", RESPECT),
    ("2a: Creating an Environment of Respect & Rapport", RESPECT),
    ("Component 2a:", RESPECT),
    ("Cultivating Respectful and Affirming Environments", RESPECT),  # the 2022 name
    ("Domain 2: Classroom Environment", "Domain 2: The Classroom Environment"),
    ("DOMAIN 1 \u2022 PLANNING AND PREPARATION", "Domain 1: Planning and Preparation"),
    ("1a. DEMONSTRATING KNOWLEDGE OF CONTENT AND PEDAGOGY",
     "1a: Demonstrating Knowledge of Content and Pedagogy"),
    ("4a Refecting on Teaching", "4a: Reflecting on Teaching"),
    ("4d Participating in the Professional Community",
     "4d: Participating in a Professional Community"),
    ("Domain 3", "Domain 3: Instruction"),
])
def test_the_wordings_districts_use_name_one_focus_area(typed, label):
    found = default_framework().find(typed)
    assert found is not None and found.label == label


def test_the_default_framework_is_danielsons_four_domains_and_22_components():
    framework = default_framework()
    domains = [a for a in framework.areas if a.domain is None]
    assert [d.code for d in domains] == ["1", "2", "3", "4"]
    assert len(framework.areas) - len(domains) == 22
    assert framework.find("Domain 9") is None and framework.find("Respect") is None


def test_a_component_of_a_planned_domain_is_aligned_but_not_the_other_way_round():
    framework = default_framework()
    assert framework.aligned(RESPECT, {"Domain 2: The Classroom Environment"})
    assert not framework.aligned("Domain 2: The Classroom Environment", {RESPECT})
    assert not framework.aligned("3c: Engaging Students in Learning", {RESPECT})
    assert not framework.aligned(None, {RESPECT})


def coach(tabs: dict[str, list[list]]) -> RawWorkbook:
    base = {"About": [["Coach", "A. Coach"], ["School(s)", "Lincoln"], ["Region", "North"]],
            "Relationships": [["Teacher"], ["T. One"]],
            "Time Log": [["Date", "Minutes", "Activity", "Focus Area"],
                         ["2026-10-01", 30, "Co-planning", "2a"],
                         ["2026-10-02", 45, "Modeling", "Classroom culture"],
                         ["2026-10-03", 20, "Admin tasks", None]]}
    base.update(tabs)
    return RawWorkbook("coach.xlsx", {name: RawTab(name, rows) for name, rows in base.items()})


def test_the_coaching_plan_tab_and_the_focus_area_column_are_read():
    raw = coach({"Coaching Plan": [
        ["Coaching plan agreed with the principal"],
        ["School", "Focus Area", "Goal", "Principal", "Date Agreed", "Next Review"],
        ["Lincoln", "2a", "Routines for respectful talk", "Dr. Vega", "2026-08-20", "2026-11-20"],
        [None, "Domain 3", "More student discourse", None, None, None],
        ["Lincoln", "Domain 7", "Not in the framework", None, None, None]]})
    result = validate_workbook(raw, load_schema("coach"), source="A", ctx=CTX)
    frames = build_frames([result.records])
    plans = frames["plans"]
    assert plans["focus_area"].tolist() == [RESPECT, "Domain 3: Instruction", None]
    assert plans["coach"].tolist() == ["A. Coach"] * 3 and plans["row"].tolist() == [3, 4, 5]
    assert plans["next_review"].iloc[0] == datetime(2026, 11, 20)
    assert frames["coaches"]["region"].tolist() == ["North"]
    assert frames["time_log"]["focus_area"].tolist() == [RESPECT, None, None]
    unknown = {(f.tab, f.cell, f.severity.value) for f in result.findings
               if f.code == "unknown-focus-area"}
    assert unknown == {("Coaching Plan", "B5", "warning"), ("Time Log", "D3", "warning")}


def test_a_cycles_focus_column_headed_focus_area_is_the_dropdown_column_now():
    raw = coach({"Coaching Cycles": [
        ["Teacher", "Focus", "Focus Area", "Phase", "Student Evidence", "Outcome"],
        ["T. One", "Turn and talk", "3b", "Complete", "Yes", "partly"]]})
    result = validate_workbook(raw, load_schema("coach"), source="A", ctx=CTX)
    cycles = build_frames([result.records])["cycles"]
    assert cycles["focus"].tolist() == ["Turn and talk"]
    assert cycles["focus_area"].tolist() == ["3b: Using Questioning and Discussion Techniques"]
    assert cycles["student_evidence"].tolist() == [True]
    assert cycles["outcome"].tolist() == ["Partly met"]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sheetsync.toml"
    path.write_text('[[sources]]\nkind = "coach"\npath = "c/"\n[output]\npath = "o.xlsx"\n'
                    + text, encoding="utf-8")
    return path


def test_a_config_replaces_the_framework_and_validation_follows(tmp_path):
    config = load_config(write(tmp_path, '''
[framework]
name = "Riverside priorities"
[[framework.domain]]
code = "P1"
name = "Literacy across the content areas"
components = [{ code = "P1.1", name = "Academic vocabulary" }]
'''))
    assert config.framework.labels() == ("Domain P1: Literacy across the content areas",
                                         "P1.1: Academic vocabulary")
    ctx = ValidationContext(as_of=date(2026, 11, 4), framework=config.framework)
    result = validate_workbook(coach({}), load_schema("coach"), source="A", ctx=ctx)
    assert {f.message.split("\u201d")[0] for f in result.findings
            if f.code == "unknown-focus-area"} == {"Focus Area: \u201c2a",
                                                   "Focus Area: \u201cClassroom culture"}


@pytest.mark.parametrize("text, words", [
    ("[framework]\nname = \"x\"\n", "lists no [[domain]]"),
    ("[framework]\n[[framework.domain]]\ncode = \"1\"\n", "needs a name"),
    ("[framework]\nlevels = 4\n", "levels"),
])
def test_a_bad_framework_gets_a_clear_config_error(tmp_path, text, words):
    with pytest.raises(ConfigError, match=".*") as err:
        load_config(write(tmp_path, text))
    assert words in str(err.value)


def test_the_coach_template_has_focus_area_dropdowns_from_the_hidden_lists_tab(tmp_path):
    from sheetsync.backends.excel.templates import write_templates

    write_templates(tmp_path)
    wb = openpyxl.load_workbook(tmp_path / "coach_workbook.xlsx")
    lists = wb["Lists"]
    assert lists.sheet_state == "hidden"
    labels = [lists.cell(row=r, column=2).value for r in range(2, lists.max_row + 1)]
    assert labels == list(default_framework().labels())
    for tab in ("Coaching Plan", "Time Log", "Coaching Cycles"):
        ws = wb[tab]
        header = [c.value for c in ws[1]]
        letter = openpyxl.utils.get_column_letter(header.index("Focus Area") + 1)
        rules = {str(v.sqref): v.formula1 for v in ws.data_validations.dataValidation}
        assert rules[f"{letter}2:{letter}2001"] == f"Lists!$B$2:$B${len(labels) + 1}"

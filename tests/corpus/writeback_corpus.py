"""Coach workbooks that each hold one part a careless write-back would lose.

Every workbook starts from the same small coach time log built with openpyxl. Parts openpyxl
cannot author (an image without Pillow, a pivot table, a VBA project, custom XML) are added by
editing the zip package, exactly as Excel would lay them out. Nothing here is a stored binary:
``build_corpus(tmp_path)`` makes the whole set in well under a second.
"""

from __future__ import annotations

import re
import struct
import zipfile
import zlib
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

from sheetsync.backends.excel.ooxml import NS_MAIN, NS_PKG_REL, NS_REL, XML_DECLARATION

CORPUS_KINDS: tuple[str, ...] = (
    "chart",
    "image",
    "comments",
    "data_validation",
    "conditional_formatting",
    "defined_names",
    "pivot_table",
    "macros",
    "custom_xml",
    "prefixed_xml",
)
"""One workbook per kind; ``prefixed_xml`` writes SpreadsheetML with an ``x:`` prefix."""

DRAWING_NS = "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing"
A_NS = "http://schemas.openxmlformats.org/drawingml/2006/main"

TIME_LOG_HEADER = ["Date", "Teacher", "Activity", "Minutes"]
ACTIVITIES = ("Plan", "Act", "Reflect")
DUMMY_VBA_PROJECT = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"sheetsync corpus vbaProject" * 40
CUSTOM_XML_ITEM = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<coachingProgram xmlns="urn:example:coaching"><district>Example USD</district>'
    b"<cycle>Plan, Act, Reflect</cycle></coachingProgram>"
)


def build_corpus(directory: Path) -> dict[str, Path]:
    """Build one workbook per :data:`CORPUS_KINDS` in ``directory``; returns kind -> path."""
    return {kind: build_workbook(kind, directory) for kind in CORPUS_KINDS}


def build_workbook(kind: str, directory: Path) -> Path:
    """Build the corpus workbook for ``kind`` in ``directory`` and return its path."""
    builders: dict[str, Callable[[Path], Path]] = {
        "chart": _with_chart,
        "image": _with_image,
        "comments": _with_comments,
        "data_validation": _with_data_validation,
        "conditional_formatting": _with_conditional_formatting,
        "defined_names": _with_defined_names,
        "pivot_table": _with_pivot_table,
        "macros": _with_macros,
        "custom_xml": _with_custom_xml,
        "prefixed_xml": _with_prefixed_xml,
    }
    directory.mkdir(parents=True, exist_ok=True)
    return builders[kind](directory)


def build_typical_coach_workbook(directory: Path, *, months: int = 10,
                                 rows_per_month: int = 80) -> Path:
    """A realistic coach workbook: a time log tab per month, a relationship tracker and a
    cycle tracker, with a chart, comments, a drop-down and conditional formatting."""
    from openpyxl import Workbook
    from openpyxl.chart import BarChart, Reference
    from openpyxl.comments import Comment
    from openpyxl.formatting.rule import CellIsRule
    from openpyxl.styles import Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = Workbook()
    wb.remove(wb.active)
    start = date(2026, 8, 3)
    for month in range(months):
        ws = wb.create_sheet(f"Time Log {month + 1:02d}")
        ws["A1"] = "Ms. Rivera - coaching time log"
        ws["A1"].font = Font(bold=True, size=14)
        ws.append([])
        ws.append(TIME_LOG_HEADER + ["Notes"])
        for i in range(rows_per_month):
            day = start + timedelta(days=month * 30 + i % 28)
            ws.append([day, f"Teacher {i % 17}", ACTIVITIES[i % 3], 15 * (1 + i % 6),
                       f"Co-planned the fractions unit, step {i}"])
        dv = DataValidation(type="list", formula1='"Plan,Act,Reflect"', allow_blank=True)
        ws.add_data_validation(dv)
        dv.add(f"C4:C{3 + rows_per_month}")
        ws.conditional_formatting.add(
            f"D4:D{3 + rows_per_month}",
            CellIsRule(operator="greaterThan", formula=["60"],
                       fill=PatternFill("solid", start_color="FFEB9C")),
        )
    tracker = wb.create_sheet("Relationships")
    tracker.append(["Teacher", "Knows face", "Knows classroom", "Professional fact",
                    "Personal fact", "Delight", "Engagement"])
    for i in range(17):
        tracker.append([f"Teacher {i}", "Yes", "Yes", "Teaches 4th grade", "Runs marathons",
                        1 + i % 3, 1 + (i + 1) % 3])
    tracker["A2"].comment = Comment("Met at the August launch.", "Coach")
    cycles = wb.create_sheet("Cycles")
    cycles.append(["Week", "Minutes"])
    for week in range(1, 11):
        cycles.append([week, 100 + 7 * week])
    chart = BarChart()
    chart.title = "Minutes per week"
    chart.add_data(Reference(cycles, min_col=2, min_row=1, max_row=11), titles_from_data=True)
    chart.set_categories(Reference(cycles, min_col=1, min_row=2, max_row=11))
    cycles.add_chart(chart, "D2")
    path = directory / "typical_coach.xlsx"
    wb.save(path)
    return path


def build_user_flags_tab_workbook(directory: Path, tab_name: str = "Sheetsync Flags") -> Path:
    """A workbook where the coach made their own tab called ``tab_name`` (not sheetsync's)."""
    wb = _time_log_workbook()
    own = wb.create_sheet(tab_name)
    own.append(["My own flags", "Do not overwrite"])
    path = directory / "user_flags_tab.xlsx"
    wb.save(path)
    return path


def tiny_png(width: int = 2, height: int = 2) -> bytes:
    """A valid RGB PNG of the given size, built from scratch (no Pillow needed)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))

    raw = b"".join(b"\x00" + b"\x2e\x75\xb6" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw))
            + chunk(b"IEND", b""))


def edit_package(path: Path, edit: Callable[[dict[str, bytes]], None]) -> None:
    """Rewrite the zip at ``path`` after ``edit`` has changed its parts (name -> bytes) in place.

    Used to add the parts openpyxl cannot author, and by tests to build damaged packages.
    """
    with zipfile.ZipFile(path) as zf:
        parts = {name: zf.read(name) for name in zf.namelist()}
    edit(parts)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)


def insert_before(xml: bytes, closing: str, fragment: str) -> bytes:
    """``xml`` with ``fragment`` inserted before the last ``closing`` tag."""
    at = xml.rindex(closing.encode())
    return xml[:at] + fragment.encode() + xml[at:]


# --------------------------------------------------------------------------- the workbooks


def _time_log_workbook():  # -> openpyxl.Workbook
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Time Log"
    ws.append(TIME_LOG_HEADER)
    for i in range(20):
        ws.append([date(2026, 9, 7) + timedelta(days=i), f"Teacher {i % 5}",
                   ACTIVITIES[i % 3], 15 * (1 + i % 4)])
    return wb


def _with_chart(directory: Path) -> Path:
    from openpyxl.chart import BarChart, Reference

    wb = _time_log_workbook()
    ws = wb["Time Log"]
    chart = BarChart()
    chart.title = "Coaching minutes"
    chart.add_data(Reference(ws, min_col=4, min_row=1, max_row=21), titles_from_data=True)
    ws.add_chart(chart, "F2")
    return _save(wb, directory / "chart.xlsx")


def _with_comments(directory: Path) -> Path:
    from openpyxl.comments import Comment

    wb = _time_log_workbook()
    wb["Time Log"]["B2"].comment = Comment("Prefers Tuesday check-ins.", "Coach")
    wb["Time Log"]["D5"].comment = Comment("Includes the debrief.", "Coach")
    return _save(wb, directory / "comments.xlsx")


def _with_data_validation(directory: Path) -> Path:
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = _time_log_workbook()
    ws = wb["Time Log"]
    activity = DataValidation(type="list", formula1='"Plan,Act,Reflect"', allow_blank=True)
    minutes = DataValidation(type="whole", operator="between", formula1="0", formula2="480")
    for dv in (activity, minutes):
        ws.add_data_validation(dv)
    activity.add("C2:C200")
    minutes.add("D2:D200")
    return _save(wb, directory / "data_validation.xlsx")


def _with_conditional_formatting(directory: Path) -> Path:
    from openpyxl.formatting.rule import CellIsRule, ColorScaleRule, DataBarRule
    from openpyxl.styles import Font, PatternFill

    wb = _time_log_workbook()
    ws = wb["Time Log"]
    ws["A1"].font = Font(bold=True, color="1F4E79")  # an existing custom style to keep
    ws.conditional_formatting.add(
        "D2:D21", CellIsRule(operator="lessThan", formula=["30"],
                             fill=PatternFill("solid", start_color="FFC7CE"))
    )
    ws.conditional_formatting.add(
        "D2:D21", ColorScaleRule(start_type="min", start_color="FFFFFF",
                                 end_type="max", end_color="63BE7B")
    )
    ws.conditional_formatting.add(
        "E2:E21", DataBarRule(start_type="min", end_type="max", color="638EC6")
    )
    return _save(wb, directory / "conditional_formatting.xlsx")


def _with_defined_names(directory: Path) -> Path:
    from openpyxl.workbook.defined_name import DefinedName

    wb = _time_log_workbook()
    ws = wb["Time Log"]
    wb.defined_names["CoachingMinutes"] = DefinedName(
        "CoachingMinutes", attr_text="'Time Log'!$D$2:$D$21"
    )
    wb.defined_names["TargetShare"] = DefinedName("TargetShare", attr_text="0.75")
    ws.defined_names["WeekOne"] = DefinedName("WeekOne", attr_text="'Time Log'!$A$2:$D$6")
    ws.print_area = "A1:D21"
    return _save(wb, directory / "defined_names.xlsx")


def _with_image(directory: Path) -> Path:
    path = _save(_time_log_workbook(), directory / "image.xlsx")

    def add_image(parts: dict[str, bytes]) -> None:
        parts["xl/media/image1.png"] = tiny_png(4, 3)
        parts["xl/drawings/drawing1.xml"] = (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<xdr:wsDr xmlns:xdr="{DRAWING_NS}" xmlns:a="{A_NS}" xmlns:r="{NS_REL}">'
            "<xdr:oneCellAnchor><xdr:from><xdr:col>5</xdr:col><xdr:colOff>0</xdr:colOff>"
            "<xdr:row>1</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:from>"
            '<xdr:ext cx="381000" cy="285750"/>'
            '<xdr:pic><xdr:nvPicPr><xdr:cNvPr id="2" name="School logo"/><xdr:cNvPicPr/>'
            '</xdr:nvPicPr><xdr:blipFill><a:blip r:embed="rId1"/><a:stretch><a:fillRect/>'
            '</a:stretch></xdr:blipFill><xdr:spPr><a:xfrm><a:off x="0" y="0"/>'
            '<a:ext cx="381000" cy="285750"/></a:xfrm><a:prstGeom prst="rect"><a:avLst/>'
            "</a:prstGeom></xdr:spPr></xdr:pic><xdr:clientData/></xdr:oneCellAnchor></xdr:wsDr>"
        ).encode()
        parts["xl/drawings/_rels/drawing1.xml.rels"] = _rels(
            ("rId1", NS_REL + "/image", "../media/image1.png")
        )
        parts["xl/worksheets/_rels/sheet1.xml.rels"] = _rels(
            ("rId1", NS_REL + "/drawing", "../drawings/drawing1.xml")
        )
        parts["xl/worksheets/sheet1.xml"] = insert_before(
            parts["xl/worksheets/sheet1.xml"], "</worksheet>",
            f'<drawing xmlns:r="{NS_REL}" r:id="rId1"/>',
        )
        _content_types(parts, defaults={"png": "image/png"}, overrides={
            "/xl/drawings/drawing1.xml": "application/vnd.openxmlformats-officedocument.drawing+xml"
        })

    edit_package(path, add_image)
    return path


def _with_pivot_table(directory: Path) -> Path:
    wb = _time_log_workbook()
    pivot = wb.create_sheet("Minutes by Activity")
    pivot["A3"], pivot["B3"] = "Row Labels", "Sum of Minutes"
    totals = {a: sum(15 * (1 + i % 4) for i in range(20) if ACTIVITIES[i % 3] == a)
              for a in ACTIVITIES}
    for row, activity in enumerate(ACTIVITIES, start=4):
        pivot.cell(row, 1, activity)
        pivot.cell(row, 2, totals[activity])
    pivot["A7"], pivot["B7"] = "Grand Total", sum(totals.values())
    path = _save(wb, directory / "pivot_table.xlsx")
    records = "".join(
        f'<r><x v="{i % 3}"/><n v="{15 * (1 + i % 4)}"/></r>' for i in range(20)
    )

    def add_pivot(parts: dict[str, bytes]) -> None:
        parts["xl/pivotCache/pivotCacheDefinition1.xml"] = (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<pivotCacheDefinition xmlns="{NS_MAIN}" xmlns:r="{NS_REL}" r:id="rId1" '
            'refreshOnLoad="1" createdVersion="6" refreshedVersion="6" minRefreshableVersion="3" '
            'recordCount="20"><cacheSource type="worksheet">'
            '<worksheetSource ref="C1:D21" sheet="Time Log"/></cacheSource>'
            '<cacheFields count="2"><cacheField name="Activity" numFmtId="0">'
            '<sharedItems count="3"><s v="Plan"/><s v="Act"/><s v="Reflect"/></sharedItems>'
            '</cacheField><cacheField name="Minutes" numFmtId="0"><sharedItems '
            'containsSemiMixedTypes="0" containsString="0" containsNumber="1" containsInteger="1" '
            'minValue="15" maxValue="60"/></cacheField></cacheFields></pivotCacheDefinition>'
        ).encode()
        parts["xl/pivotCache/pivotCacheRecords1.xml"] = (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<pivotCacheRecords xmlns="{NS_MAIN}" xmlns:r="{NS_REL}" count="20">{records}'
            "</pivotCacheRecords>"
        ).encode()
        parts["xl/pivotTables/pivotTable1.xml"] = (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<pivotTableDefinition xmlns="{NS_MAIN}" name="MinutesByActivity" cacheId="1" '
            'applyNumberFormats="0" applyBorderFormats="0" applyFontFormats="0" '
            'applyPatternFormats="0" applyAlignmentFormats="0" applyWidthHeightFormats="1" '
            'dataCaption="Values" updatedVersion="6" minRefreshableVersion="3" '
            'useAutoFormatting="1" itemPrintTitles="1" createdVersion="6" indent="0" '
            'outline="1" outlineData="1" multipleFieldFilters="0">'
            '<location ref="A3:B7" firstHeaderRow="1" firstDataRow="1" firstDataCol="1"/>'
            '<pivotFields count="2"><pivotField axis="axisRow" showAll="0"><items count="4">'
            '<item x="0"/><item x="1"/><item x="2"/><item t="default"/></items></pivotField>'
            '<pivotField dataField="1" showAll="0"/></pivotFields>'
            '<rowFields count="1"><field x="0"/></rowFields>'
            '<rowItems count="4"><i><x/></i><i><x v="1"/></i><i><x v="2"/></i>'
            '<i t="grand"><x/></i></rowItems><colItems count="1"><i/></colItems>'
            '<dataFields count="1"><dataField name="Sum of Minutes" fld="1" baseField="0" '
            'baseItem="0"/></dataFields><pivotTableStyleInfo name="PivotStyleLight16" '
            'showRowHeaders="1" showColHeaders="1" showRowStripes="0" showColStripes="0" '
            'showLastColumn="1"/></pivotTableDefinition>'
        ).encode()
        parts["xl/pivotCache/_rels/pivotCacheDefinition1.xml.rels"] = _rels(
            ("rId1", NS_REL + "/pivotCacheRecords", "pivotCacheRecords1.xml")
        )
        parts["xl/pivotTables/_rels/pivotTable1.xml.rels"] = _rels(
            ("rId1", NS_REL + "/pivotCacheDefinition", "../pivotCache/pivotCacheDefinition1.xml")
        )
        parts["xl/worksheets/_rels/sheet2.xml.rels"] = _rels(
            ("rId1", NS_REL + "/pivotTable", "../pivotTables/pivotTable1.xml")
        )
        parts["xl/_rels/workbook.xml.rels"] = insert_before(
            parts["xl/_rels/workbook.xml.rels"], "</Relationships>",
            f'<Relationship Id="rId90" Type="{NS_REL}/pivotCacheDefinition" '
            'Target="pivotCache/pivotCacheDefinition1.xml"/>',
        )
        # Excel omits an empty <definedNames>; without it the write-back must place its marker
        # name before <calcPr>, and the <pivotCaches> list comes after both.
        workbook = re.sub(rb"<definedNames\s*/>", b"", parts["xl/workbook.xml"])
        parts["xl/workbook.xml"] = insert_before(
            workbook, "</workbook>",
            '<pivotCaches><pivotCache cacheId="1" r:id="rId90"/></pivotCaches>',
        )
        spreadsheetml = "application/vnd.openxmlformats-officedocument.spreadsheetml"
        _content_types(parts, overrides={
            "/xl/pivotCache/pivotCacheDefinition1.xml": f"{spreadsheetml}.pivotCacheDefinition+xml",
            "/xl/pivotCache/pivotCacheRecords1.xml": f"{spreadsheetml}.pivotCacheRecords+xml",
            "/xl/pivotTables/pivotTable1.xml": f"{spreadsheetml}.pivotTable+xml",
        })

    edit_package(path, add_pivot)
    return path


def _with_macros(directory: Path) -> Path:
    path = _save(_time_log_workbook(), directory / "macros.xlsm")

    def add_vba(parts: dict[str, bytes]) -> None:
        parts["xl/vbaProject.bin"] = DUMMY_VBA_PROJECT
        parts["xl/_rels/workbook.xml.rels"] = insert_before(
            parts["xl/_rels/workbook.xml.rels"], "</Relationships>",
            '<Relationship Id="rId91" '
            'Type="http://schemas.microsoft.com/office/2006/relationships/vbaProject" '
            'Target="vbaProject.bin"/>',
        )
        types = parts["[Content_Types].xml"].replace(
            b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
            b"application/vnd.ms-excel.sheet.macroEnabled.main+xml",
        )
        parts["[Content_Types].xml"] = types
        _content_types(parts, defaults={"bin": "application/vnd.ms-office.vbaProject"})
        parts["xl/workbook.xml"] = parts["xl/workbook.xml"].replace(
            b"<workbookPr", b'<workbookPr codeName="ThisWorkbook"', 1
        )

    edit_package(path, add_vba)
    return path


def _with_custom_xml(directory: Path) -> Path:
    path = _save(_time_log_workbook(), directory / "custom_xml.xlsx")

    def add_custom_xml(parts: dict[str, bytes]) -> None:
        parts["customXml/item1.xml"] = CUSTOM_XML_ITEM
        parts["customXml/itemProps1.xml"] = (
            b'<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'
            b'<ds:datastoreItem ds:itemID="{6E3F1F2A-1B7C-4C55-9D7E-2A1B3C4D5E6F}" '
            b'xmlns:ds="http://schemas.openxmlformats.org/officeDocument/2006/customXml">'
            b"<ds:schemaRefs/></ds:datastoreItem>"
        )
        parts["customXml/_rels/item1.xml.rels"] = _rels(
            ("rId1", NS_REL + "/customXmlProps", "itemProps1.xml")
        )
        parts["xl/_rels/workbook.xml.rels"] = insert_before(
            parts["xl/_rels/workbook.xml.rels"], "</Relationships>",
            f'<Relationship Id="rId92" Type="{NS_REL}/customXml" '
            'Target="../customXml/item1.xml"/>',
        )
        _content_types(parts, overrides={
            "/customXml/itemProps1.xml":
                "application/vnd.openxmlformats-officedocument.customXmlProperties+xml",
        })

    edit_package(path, add_custom_xml)
    return path


def _with_prefixed_xml(directory: Path) -> Path:
    """Workbook index and styles written as ``<x:workbook xmlns:x=...>``, as some tools do."""
    path = _save(_time_log_workbook(), directory / "prefixed_xml.xlsx")

    def add_prefix(parts: dict[str, bytes]) -> None:
        for name in ("xl/workbook.xml", "xl/styles.xml"):
            text = parts[name].decode()
            text = re.sub(r"<(/?)(?![?!])([A-Za-z]\w*)(?=[\s/>])", r"<\1x:\2", text)
            text = text.replace(f'xmlns="{NS_MAIN}"', f'xmlns:x="{NS_MAIN}"')
            parts[name] = text.encode()

    edit_package(path, add_prefix)
    return path


# --------------------------------------------------------------------------- package pieces


def _save(wb, path: Path) -> Path:  # wb: openpyxl.Workbook
    wb.save(path)
    return path


def _rels(*relationships: tuple[str, str, str]) -> bytes:
    body = "".join(
        f'<Relationship Id="{rid}" Type="{kind}" Target="{target}"/>'
        for rid, kind, target in relationships
    )
    return f'{XML_DECLARATION}<Relationships xmlns="{NS_PKG_REL}">{body}</Relationships>'.encode()


def _content_types(parts: dict[str, bytes], *, defaults: dict[str, str] | None = None,
                   overrides: dict[str, str] | None = None) -> None:
    fragment = "".join(
        f'<Default Extension="{ext}" ContentType="{ct}"/>' for ext, ct in (defaults or {}).items()
    ) + "".join(
        f'<Override PartName="{name}" ContentType="{ct}"/>'
        for name, ct in (overrides or {}).items()
    )
    parts["[Content_Types].xml"] = insert_before(parts["[Content_Types].xml"], "</Types>",
                                                 fragment)

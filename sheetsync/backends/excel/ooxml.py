"""The rules of the .xlsx format (Office Open XML) that every workbook sheetsync writes obeys.

The dashboard writer, the flags write-back and the test-workbook writer each build sheet XML
by hand, so the rules live here once: what text a cell may hold and how it is escaped, which
text would turn into a formula, what a tab may be called, how big a sheet may be, and the
namespaces and content types of a package. Plain Python (no openpyxl), so any module may use it.
"""

from __future__ import annotations

import re

from sheetsync.grid import MAX_CELL_CHARS

__all__ = [
    "CT_RELATIONSHIPS",
    "CT_STYLES",
    "CT_WORKBOOK",
    "CT_WORKSHEET",
    "FORMULA_LIKE_STARTS",
    "MAX_CELL_CHARS",
    "MAX_COLUMNS",
    "MAX_ROWS",
    "MAX_TAB_NAME_CHARS",
    "NS_CONTENT_TYPES",
    "NS_MAIN",
    "NS_PKG_REL",
    "NS_REL",
    "NS_STRICT_MAIN",
    "REL_OFFICE_DOCUMENT",
    "REL_STYLES",
    "REL_WORKSHEET",
    "RESERVED_TAB_NAME",
    "MAX_LABEL_CHARS",
    "XML_DECLARATION",
    "clean_cell_text",
    "clean_label",
    "escape_text",
    "is_valid_tab_name",
    "protect_escapes",
    "unescape",
    "xml_attr",
    "xml_text",
]

# -- sizes -----------------------------------------------------------------------------------------

MAX_ROWS = 1_048_576
MAX_COLUMNS = 16_384  # XFD
MAX_TAB_NAME_CHARS = 31

# -- namespaces and package vocabulary -------------------------------------------------------------

NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_STRICT_MAIN = "http://purl.oclc.org/ooxml/spreadsheetml/main"  # "Strict Open XML" saves
NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
NS_CONTENT_TYPES = "http://schemas.openxmlformats.org/package/2006/content-types"
REL_OFFICE_DOCUMENT = NS_REL + "/officeDocument"
REL_WORKSHEET = NS_REL + "/worksheet"
REL_STYLES = NS_REL + "/styles"
_SPREADSHEETML = "application/vnd.openxmlformats-officedocument.spreadsheetml"
CT_WORKBOOK = _SPREADSHEETML + ".sheet.main+xml"
CT_WORKSHEET = _SPREADSHEETML + ".worksheet+xml"
CT_STYLES = _SPREADSHEETML + ".styles+xml"
CT_RELATIONSHIPS = "application/vnd.openxmlformats-package.relationships+xml"
XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'

# -- tab names -------------------------------------------------------------------------------------

_INVALID_TAB_CHARS = re.compile(r"[\[\]:*?/\\]")
RESERVED_TAB_NAME = "History"
"""Excel keeps this name (any case) for its change-tracking log."""


def is_valid_tab_name(name: str) -> bool:
    """Whether Excel accepts ``name`` for a tab: 1 to 31 characters, none of ``[ ] : * ? / \\``
    nor a control character, not starting or ending with an apostrophe.
    (:data:`RESERVED_TAB_NAME` is checked apart.)"""
    return bool(name) and len(name) <= MAX_TAB_NAME_CHARS and name.isprintable() and not (
        _INVALID_TAB_CHARS.search(name) or name.startswith("'") or name.endswith("'"))


# -- cell text -------------------------------------------------------------------------------------

FORMULA_LIKE_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
"""Text starting like this would be a formula (or a DDE payload) if someone re-entered the cell,
so writers keep it literal text and mark it with quotePrefix."""

# Characters XML 1.0 cannot hold at all (openpyxl raises IllegalCharacterError on the controls).
_NOT_XML = "\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff"
_ILLEGAL_XML_CHARS = re.compile(f"[{_NOT_XML}]")
# Excel decodes "_xHHHH_" in cell text as an escaped character; "_x005F_" protects a literal one.
_ESCAPE_LOOKALIKE = re.compile("_(x[0-9A-Fa-f]{4}_)")
_ESCAPE = re.compile("_x([0-9A-Fa-f]{4})_")


def clean_cell_text(text: str) -> tuple[str, int]:
    """``text`` as a cell can hold it, and 1 if it had to be cut short (else 0).

    Characters XML cannot carry are dropped; text over :data:`MAX_CELL_CHARS` UTF-16 code units
    (Excel's count: an emoji is two) is cut to fit, ending in an ellipsis.
    """
    text = _ILLEGAL_XML_CHARS.sub("", text)
    # A string of n characters has at most 2n UTF-16 units: short text needs no encoding.
    if len(text) <= MAX_CELL_CHARS // 2 or len(text.encode("utf-16-le")) <= 2 * MAX_CELL_CHARS:
        return text, 0
    kept: list[str] = []
    units = 0
    for ch in text:
        size = 2 if ord(ch) > 0xFFFF else 1
        if units + size > MAX_CELL_CHARS - 1:
            break
        kept.append(ch)
        units += size
    return "".join(kept) + "\u2026", 1


MAX_LABEL_CHARS = 60
"""Titles and labels outside cells (chart and axis titles) are cut to this many characters.
Excel allows 255 in a chart title, but a dashboard chart is about 15 cm wide: a longer title
only wraps over the plot (and LibreOffice spends minutes laying out one of tens of thousands)."""

_LABEL_BREAKS = re.compile(r"[\t\n\r\x0b\x0c\x1c-\x1f\x85\u2028\u2029]")


def clean_label(text: str, max_chars: int = MAX_LABEL_CHARS) -> str:
    """``text`` as a title or label outside a cell may hold it (a chart or axis title).

    Such text is XML too, but Excel does not decode ``_xHHHH_`` escapes in it, so what XML cannot
    carry goes: line breaks, tabs and the like become one space, other control characters,
    surrogates and non-characters are dropped, and text over ``max_chars`` is cut, ending in an
    ellipsis.
    """
    text = _ILLEGAL_XML_CHARS.sub("", _LABEL_BREAKS.sub(" ", text)).replace("\x7f", "")
    text = " ".join(text.split())
    if len(text) > max_chars:
        text = text[: max_chars - 1].rstrip() + "\u2026"
    return text


def protect_escapes(text: str) -> str:
    """``text`` with each literal ``_xHHHH_`` guarded, so Excel shows it rather than decoding it."""
    return _ESCAPE_LOOKALIKE.sub(r"_x005F_\1", text) if "_x" in text else text


# XML cannot hold these, and would read a CR as a line feed, so Excel writes them as _xHHHH_.
_WRITTEN_ESCAPED = re.compile(f"[\r{_NOT_XML}]")


def escape_text(text: str) -> str:
    """``text`` as Excel saves it in a cell, so that it reads back exactly as given.

    Look-alikes are protected first; then CR and the characters XML cannot hold become
    ``_xHHHH_`` escapes. (Element-content escaping, :func:`xml_text`, still follows.)
    """
    return _WRITTEN_ESCAPED.sub(lambda m: f"_x{ord(m.group()):04X}_", protect_escapes(text))


def unescape(text: str) -> str:
    """Undo Excel's ``_xHHHH_`` escapes (openpyxl reads them literally)."""
    if "_x" not in text:
        return text
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)


def xml_text(text: str) -> str:
    """``text`` escaped for element content, exactly as ElementTree (and so openpyxl) does."""
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    return text


def xml_attr(text: str) -> str:
    """``text`` escaped for a double-quoted attribute value."""
    return xml_text(text).replace('"', "&quot;")

"""Drive v3 for the fake Google API: files with content, permissions, uploads, and the
``files.list`` query language (``q``).

Native spreadsheets live in :mod:`~sheetsync.testing.fake_sheets`; every other file (an .xlsx,
.xls or .ods kept in Drive, or any upload) is a :class:`FakeFile` holding its bytes, with the
``md5Checksum`` and ``size`` Drive reports for binary content.

Query language supported: ``name``, ``mimeType``, ``modifiedTime``, ``createdTime``,
``trashed``, ``starred``, ``parents`` and ``fullText`` terms with
``= != < <= > >= contains in``, joined by ``and``/``or``/``not`` and parentheses. Both
``'<folder>' in parents`` (Drive's syntax) and ``parents in "<folder>"`` (what gspread sends)
are accepted.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

EXCEL_MIMES = {
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".xlsm": "application/vnd.ms-excel.sheet.macroEnabled.12",
    ".xls": "application/vnd.ms-excel",
    ".ods": "application/vnd.oasis.opendocument.spreadsheet",
    ".csv": "text/csv",
}
"""The media types Drive gives spreadsheet files kept as files, by extension."""


def mime_for(name: str) -> str:
    """The media type Drive infers from a file name (``application/octet-stream`` if unknown)."""
    lowered = name.lower()
    for extension, mime in EXCEL_MIMES.items():
        if lowered.endswith(extension):
            return mime
    return "application/octet-stream"


@dataclass
class FakeFile:
    """A Drive file with binary content, such as an .xlsx kept in a shared folder."""

    file_id: str
    name: str
    mime_type: str
    content: bytes = b""
    parents: list[str] = field(default_factory=list)
    permissions: dict[str, str] = field(default_factory=dict)  # email -> reader|writer|owner
    created: datetime = field(default_factory=lambda: datetime.now(UTC))
    modified: datetime = field(default_factory=lambda: datetime.now(UTC))
    app_properties: dict[str, str] = field(default_factory=dict)

    @property
    def md5(self) -> str:
        return hashlib.md5(self.content).hexdigest()  # noqa: S324 - Drive's own checksum

    def replace_content(self, content: bytes, when: datetime | None = None) -> None:
        self.content = content
        self.modified = when or datetime.now(UTC)


def permission_id(email: str) -> str:
    """Drive's permission id for a user: a number written as text, the same on every file."""
    if email == "anyone":
        return "anyoneWithLink"
    digest = hashlib.sha256(email.lower().encode("utf-8")).hexdigest()
    return str(int(digest[:16], 16)).rjust(20, "0")


class UploadError(ValueError):
    """An upload body the Drive API would refuse (400 badRequest)."""


def parse_upload(body: bytes, content_type: str, upload_type: str
                 ) -> tuple[dict[str, Any], bytes, str]:
    """(metadata, media bytes, media type) of a ``uploadType=media`` or ``multipart`` body."""
    import json

    if upload_type == "media":
        return {}, body, content_type.split(";")[0].strip() or "application/octet-stream"
    if upload_type == "resumable":
        raise NotImplementedError("uploadType=resumable")
    if upload_type != "multipart":
        raise UploadError(f"Invalid upload type: {upload_type}")
    if not content_type.lower().startswith("multipart/related"):
        raise UploadError("A multipart upload needs Content-Type: multipart/related")
    message = BytesParser(policy=HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode("latin-1") + body)
    parts = list(message.iter_parts()) if message.is_multipart() else []
    if len(parts) != 2:
        raise UploadError("A multipart upload has exactly two parts: metadata, then media")
    try:
        metadata = json.loads(parts[0].get_payload(decode=True) or b"{}")
    except ValueError as exc:
        raise UploadError(f"The metadata part is not JSON: {exc}") from None
    media = parts[1].get_payload(decode=True) or b""
    return metadata, media, parts[1].get_content_type()

_TOKEN = re.compile(r"""\s*(?:(?P<str>'(?:\\.|[^'\\])*'|"(?:\\.|[^"\\])*")|(?P<op><=|>=|!=|=|<|>)
                        |(?P<paren>[()])|(?P<word>[A-Za-z_][A-Za-z0-9_]*))""", re.VERBOSE)


class DriveQueryError(ValueError):
    """``q`` is not a valid Drive query (the API answers 400 "Invalid Value")."""


@dataclass
class DriveItem:
    """What a query can test about a file."""

    name: str
    mime_type: str
    parents: list[str]
    modified: datetime
    created: datetime
    trashed: bool = False
    starred: bool = False


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise DriveQueryError(f"cannot parse q at {pos}: {text!r}")
        kind = m.lastgroup or ""
        value = m.group(kind)
        if kind == "str":
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        out.append((kind, value))
        pos = m.end()
    return out


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise DriveQueryError("unexpected end of query")
        self.pos += 1
        return token

    def is_word(self, word: str) -> bool:
        token = self.peek()
        return token is not None and token[0] == "word" and token[1].lower() == word

    def expr(self) -> Any:
        node = self.term()
        while self.is_word("or"):
            self.take()
            node = ("or", node, self.term())
        return node

    def term(self) -> Any:
        node = self.factor()
        while self.is_word("and"):
            self.take()
            node = ("and", node, self.factor())
        return node

    def factor(self) -> Any:
        if self.is_word("not"):
            self.take()
            return ("not", self.factor())
        token = self.peek()
        if token == ("paren", "("):
            self.take()
            node = self.expr()
            if self.take() != ("paren", ")"):
                raise DriveQueryError("unbalanced parentheses")
            return node
        return self.comparison()

    def comparison(self) -> Any:
        left = self.take()
        middle = self.take()
        right = self.take()
        if middle == ("word", "in"):
            if left[0] == "str" and right[0] == "word":
                return ("in", right[1], left[1])  # 'folder' in parents
            if left[0] == "word" and right[0] == "str":
                return ("in", left[1], right[1])  # parents in "folder" (gspread)
            raise DriveQueryError("bad 'in' term")
        if left[0] != "word":
            raise DriveQueryError(f"expected a field name, got {left[1]!r}")
        if middle[0] == "op" or middle == ("word", "contains"):
            value: Any = right[1]
            if right[0] == "word":
                if right[1].lower() not in ("true", "false"):
                    raise DriveQueryError(f"bad value {right[1]!r}")
                value = right[1].lower() == "true"
            return ("cmp", left[1], middle[1], value)
        raise DriveQueryError(f"expected an operator, got {middle[1]!r}")


def parse_query(text: str) -> Any:
    """Parse ``q`` into a small expression tree."""
    if not text.strip():
        return None
    parser = _Parser(_tokens(text))
    node = parser.expr()
    if parser.peek() is not None:
        raise DriveQueryError(f"unexpected {parser.peek()!r}")
    _check(node)
    return node


_FIELDS = {"name", "mimeType", "modifiedTime", "createdTime", "trashed", "starred", "parents",
           "fullText", "viewedByMeTime"}


def _check(node: Any) -> None:
    if node is None:
        return
    if node[0] in ("and", "or"):
        _check(node[1])
        _check(node[2])
    elif node[0] == "not":
        _check(node[1])
    elif node[0] in ("cmp", "in") and node[1] not in _FIELDS:
        raise DriveQueryError(f"unknown field {node[1]!r}")


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def matches(node: Any, item: DriveItem) -> bool:
    """Evaluate a parsed query against one file."""
    if node is None:
        return True
    kind = node[0]
    if kind == "and":
        return matches(node[1], item) and matches(node[2], item)
    if kind == "or":
        return matches(node[1], item) or matches(node[2], item)
    if kind == "not":
        return not matches(node[1], item)
    if kind == "in":
        return node[1] == "parents" and node[2] in item.parents
    _, name, op, value = node
    actual: Any
    if name in ("modifiedTime", "createdTime"):
        actual = item.modified if name == "modifiedTime" else item.created
        value = _time(str(value))
    elif name == "name":
        actual = item.name
    elif name == "fullText":
        actual = item.name
        op = "contains"
    elif name == "mimeType":
        actual = item.mime_type
    elif name == "trashed":
        actual = item.trashed
    elif name == "starred":
        actual = item.starred
    else:
        return False
    if op == "contains":
        return str(value).lower() in str(actual).lower()
    return {
        "=": actual == value, "!=": actual != value, "<": actual < value,
        "<=": actual <= value, ">": actual > value, ">=": actual >= value,
    }[op]


def rfc3339(moment: datetime) -> str:
    """Drive's timestamp format: ``2023-08-17T10:53:41.910Z``."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"

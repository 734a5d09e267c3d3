"""The Drive v3 ``files.list`` query language (``q``) for the fake Google API.

Supported: ``name``, ``mimeType``, ``modifiedTime``, ``createdTime``, ``trashed``, ``starred``,
``parents`` and ``fullText`` terms with ``= != < <= > >= contains in``, joined by
``and``/``or``/``not`` and parentheses. Both ``'<folder>' in parents`` (Drive's syntax) and
``parents in "<folder>"`` (what gspread sends) are accepted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

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

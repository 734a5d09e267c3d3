"""Google API partial-response field masks (``fields=sheets(properties,data.rowData)``).

Both the Sheets and the Drive API accept the same small grammar: a comma-separated list of
paths; a path's parts are joined by ``.`` or ``/``; ``name(a,b)`` selects sub-fields of
``name``; ``*`` selects everything.
"""

from __future__ import annotations

from typing import Any

MaskTree = dict[str, "MaskTree | None"]
"""A parsed mask: each key maps to its sub-mask, or ``None`` for "the whole value"."""


class FieldMaskError(ValueError):
    """The mask text cannot be parsed."""


def parse_field_mask(text: str) -> MaskTree | None:
    """Parse ``text`` into a tree; ``None`` means "every field" (empty text or ``*``)."""
    text = text.strip()
    if not text or text == "*":
        return None
    tree, pos = _parse_list(text, 0)
    if pos != len(text):
        raise FieldMaskError(f"unexpected {text[pos]!r} at position {pos} in field mask {text!r}")
    return tree


def _parse_list(text: str, pos: int) -> tuple[MaskTree, int]:
    tree: MaskTree = {}
    while True:
        pos = _skip_spaces(text, pos)
        path: list[str] = []
        while True:
            start = pos
            while pos < len(text) and (text[pos].isalnum() or text[pos] in "_@*"):
                pos += 1
            if start == pos:
                raise FieldMaskError(f"expected a field name at position {pos} in {text!r}")
            path.append(text[start:pos])
            if pos < len(text) and text[pos] in "./":
                pos += 1
                continue
            break
        sub: MaskTree | None = None
        if pos < len(text) and text[pos] == "(":
            sub, pos = _parse_list(text, pos + 1)
            if pos >= len(text) or text[pos] != ")":
                raise FieldMaskError(f"unbalanced parenthesis in field mask {text!r}")
            pos += 1
        _merge_path(tree, path, sub)
        pos = _skip_spaces(text, pos)
        if pos < len(text) and text[pos] == ",":
            pos += 1
            continue
        return tree, pos


def _skip_spaces(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] == " ":
        pos += 1
    return pos


def _merge_path(tree: MaskTree, path: list[str], leaf: MaskTree | None) -> None:
    node = tree
    for i, name in enumerate(path):
        last = i == len(path) - 1
        if name == "*":
            node.clear()
            node["*"] = None
            return
        if last:
            existing = node.get(name, {})
            if leaf is None or existing is None:
                node[name] = None
            else:
                for key, value in leaf.items():
                    _merge_path(existing, [key], value)
                node[name] = existing
            return
        child = node.get(name, {})
        if child is None:  # already selecting the whole value
            return
        node[name] = child
        node = child


def mask_paths(tree: MaskTree | None, prefix: str = "") -> list[str]:
    """Flatten a mask into dotted paths (``["gridProperties.rowCount", "title"]``)."""
    if tree is None:
        return [prefix] if prefix else ["*"]
    paths: list[str] = []
    for key, sub in tree.items():
        name = f"{prefix}.{key}" if prefix else key
        paths.extend(mask_paths(sub, name) if sub is not None else [name])
    return paths


def apply_field_mask(value: Any, tree: MaskTree | None, *, keep_empty_lists: bool = False
                     ) -> Any:
    """Keep only the fields of ``value`` that ``tree`` selects (lists are masked item by item).

    A selected object that is present stays, even when nothing inside it is selected or set:
    Google answers ``{"sheets":[{"properties":{}}]}`` for
    ``fields=sheets.properties.tabColorStyle`` on a tab with no colour. A list left empty is
    dropped, as proto3 JSON drops every empty repeated field (the Sheets API);
    ``keep_empty_lists`` keeps it, as the Drive API does (``{"files": []}``).
    """
    if tree is None or "*" in tree:
        return value
    if isinstance(value, list):
        return [apply_field_mask(item, tree, keep_empty_lists=keep_empty_lists)
                for item in value]
    if isinstance(value, dict):
        masked = {}
        for key, sub in tree.items():
            if key in value:
                kept = apply_field_mask(value[key], sub, keep_empty_lists=keep_empty_lists)
                if kept == [] and not keep_empty_lists:
                    continue
                masked[key] = kept
        return masked
    return value

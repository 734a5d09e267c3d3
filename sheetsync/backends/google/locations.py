"""Spreadsheet and Drive folder locations: URLs or bare keys, as people paste them."""

from __future__ import annotations

import re

FOLDER_MIME = "application/vnd.google-apps.folder"

_SPREADSHEET_URL = re.compile(r"/spreadsheets/d/([A-Za-z0-9_-]+)")
_FOLDER_URL = re.compile(r"/folders/([A-Za-z0-9_-]+)|[?&]id=([A-Za-z0-9_-]+)")
_BARE_ID = re.compile(r"^[A-Za-z0-9_-]+$")


def spreadsheet_key(location: str) -> str:
    """The spreadsheet key in a ``docs.google.com/spreadsheets/d/<key>/...`` URL, or the key."""
    text = location.strip()
    found = _SPREADSHEET_URL.search(text)
    if found:
        return found.group(1)
    if _BARE_ID.match(text):
        return text
    raise ValueError(f"{location!r} is not a Google spreadsheet URL or key")


def folder_id(location: str) -> str:
    """The folder id in a ``drive.google.com/drive/folders/<id>`` URL, or the id itself."""
    text = location.strip()
    if text.startswith("folder:"):
        text = text[len("folder:"):]
    found = _FOLDER_URL.search(text)
    if found:
        return found.group(1) or found.group(2)
    if _BARE_ID.match(text):
        return text
    raise ValueError(f"{location!r} is not a Google Drive folder URL or id")


def spreadsheet_url(key: str) -> str:
    return f"https://docs.google.com/spreadsheets/d/{key}/edit"


_DRIVE_FILE_URL = re.compile(r"drive\.google\.com/file/d/([A-Za-z0-9_-]+)")


def drive_file_url(file_id: str) -> str:
    """Where a file kept in Drive (an .xlsx, say) opens: its location as a source."""
    return f"https://drive.google.com/file/d/{file_id}/view"


def drive_file_id(location: str) -> str | None:
    """The id in a ``drive.google.com/file/d/<id>`` URL, or None for any other location."""
    found = _DRIVE_FILE_URL.search(location)
    return found.group(1) if found else None

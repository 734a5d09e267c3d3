"""Keeping Google credentials secret: key-file permission warnings and token redaction.

* :func:`check_key_file_permissions` warns when a service-account key file can be read (or
  changed) by users other than its owner. Anyone who can read the key can act as the service
  account on every spreadsheet shared with it.
* :func:`redact` removes secrets from text before it is shown, logged or written anywhere:
  PEM private keys, bearer tokens, OAuth access and refresh tokens, signed JWT assertions,
  and the values of secret-named fields (``access_token``, ``client_secret``, ...) in JSON,
  form or query-string text. Error messages from HTTP libraries can quote request headers
  or bodies, so every message that may hold one goes through :func:`redact`.

Neither function reads the key's contents or raises: they only look at what they are given.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

__all__ = ["REDACTED", "check_key_file_permissions", "redact"]

REDACTED = "[redacted]"

_PRIVATE_KEY = re.compile(
    r"-----BEGIN (?:[A-Z]+ )*PRIVATE KEY-----.*?(?:-----END (?:[A-Z]+ )*PRIVATE KEY-----|\Z)",
    re.S)
_BEARER = re.compile(r"(?i)\b(bearer|basic)(\s+)[A-Za-z0-9\-._~+/]+=*")
_SECRET_FIELDS = (r"access_token|refresh_token|id_token|client_secret|private_key_id|"
                  r"private_key|assertion|password|passwd|api_key|apikey|x-goog-api-key|"
                  r"authorization|code_verifier")
# "field": "value" (JSON), field=value (forms, query strings), field: value (headers, repr).
_FIELD_VALUE = re.compile(
    r"""(?ix)
    (["']?\b(?:""" + _SECRET_FIELDS + r""")\b["']?\s*[:=]\s*)   # the field name and separator
    (?:
        \[redacted\]               # already redacted
      | "(?:[^"\\]|\\.)*"          # a double-quoted value
      | '(?:[^'\\]|\\.)*'          # a single-quoted value
      | (?:bearer|basic)\s+\S+     # an Authorization header value
      | [^\s"'&,;}\]]+             # a bare value, up to a delimiter
    )""")
_QUERY_KEY = re.compile(r"(?i)([?&](?:key|token|sig|signature)=)[^&#\s\"']+")
_GOOGLE_ACCESS_TOKEN = re.compile(r"\bya29\.[A-Za-z0-9_\-.]+")
_GOOGLE_REFRESH_TOKEN = re.compile(r"(?<![A-Za-z0-9])1//[A-Za-z0-9_\-]{10,}")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*")


def redact(text: str) -> str:
    """``text`` with every credential-looking secret replaced by :data:`REDACTED`."""
    if not text:
        return text
    out = _PRIVATE_KEY.sub(f"-----{REDACTED} PRIVATE KEY-----", text)
    out = _FIELD_VALUE.sub(lambda m: m.group(1) + REDACTED, out)
    out = _BEARER.sub(lambda m: m.group(1) + m.group(2) + REDACTED, out)
    out = _QUERY_KEY.sub(lambda m: m.group(1) + REDACTED, out)
    out = _GOOGLE_ACCESS_TOKEN.sub("ya29." + REDACTED, out)
    out = _GOOGLE_REFRESH_TOKEN.sub("1//" + REDACTED, out)
    return _JWT.sub(REDACTED, out)


def check_key_file_permissions(path: str | os.PathLike[str]) -> list[str]:
    """Warnings about who besides its owner may read or change the key file at ``path``.

    Returns an empty list when the file is private (for example ``chmod 600``), when it does
    not exist (the credentials loader reports that), or on Windows, where access is governed
    by ACLs that the mode bits do not show.
    """
    if os.name == "nt":
        return []
    key = Path(path)
    try:
        mode = key.stat().st_mode
    except OSError:
        return []
    warnings: list[str] = []
    mode_text = stat.filemode(mode)
    if mode & (stat.S_IRGRP | stat.S_IROTH):
        who = "every user of this computer" if mode & stat.S_IROTH else "its group"
        warnings.append(f"The Google key file {key} can be read by {who} ({mode_text}); anyone "
                        "who reads it can act as the service account. Run: chmod 600 "
                        f"{key}")
    if mode & (stat.S_IWGRP | stat.S_IWOTH):
        warnings.append(f"The Google key file {key} can be changed by other users "
                        f"({mode_text}). Run: chmod 600 {key}")
    try:
        folder_mode = key.parent.stat().st_mode
    except OSError:
        return warnings
    if folder_mode & stat.S_IWOTH and not folder_mode & stat.S_ISVTX:
        warnings.append(f"The folder {key.parent} that holds the Google key file can be changed "
                        "by every user, so the key could be swapped. Keep the key in a private "
                        "folder.")
    return warnings

"""Every error sheetsync raises on purpose, in one tree.

Problems in the *data* are never exceptions: they are :class:`~sheetsync.findings.Finding`\\ s.
The exceptions below are about the run itself: a config that cannot be used, a source that could
not be read at all, a target that could not be written, another run holding the lock::

    SheetsyncError                 message, hint, transient
    ├── ConfigError                the config file cannot be used (names the key)       terminal
    ├── SchemaError                a schema in sheet_templates/ is malformed (a bug)    terminal
    ├── CredentialsError           Google credentials cannot be used (names the field)  terminal
    ├── SourceReadError            one source could not be read (code: a finding code)  either
    ├── TargetWriteError           a target could not be written; nothing changed       either
    │   └── WritebackError         a source's flags tab could not be written back       either
    ├── LockHeld                   another rollup holds the run lock                    transient
    └── RunFailed                  the run could not happen or could not write          either

``transient`` says whether trying again later can help (a timeout, a quota, a file open in
Excel, a lock held by another run) or not (a wrong key, a file that is not shared). The nightly
scheduler retries only transient failures early; the others wait for a person.

Every message may reach a terminal, a log or a spreadsheet, so text from an HTTP library goes
through :func:`redact` before it is shown.
"""

from __future__ import annotations

import re

from sheetsync.findings import Finding, Severity

__all__ = [
    "REDACTED",
    "ConfigError",
    "CredentialsError",
    "LockHeld",
    "RunFailed",
    "SchemaError",
    "SheetsyncError",
    "SourceReadError",
    "TargetWriteError",
    "WritebackError",
    "redact",
]


class SheetsyncError(Exception):
    """The root of sheetsync's own errors: a message for people, a hint, and ``transient``."""

    transient: bool = False

    def __init__(self, message: str, *, hint: str = "", transient: bool | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        if transient is not None:
            self.transient = transient


class ConfigError(SheetsyncError):
    """The config cannot be used. The message names the key and the problem."""


class SchemaError(SheetsyncError, ValueError):
    """A schema file in ``sheet_templates/`` is malformed (a bug in sheetsync, not in data)."""


class CredentialsError(SheetsyncError):
    """Google credentials cannot be used; ``field`` names the key-file field at fault, if any."""

    def __init__(self, message: str, *, field: str | None = None, hint: str = "") -> None:
        super().__init__(message, hint=hint)
        self.field = field


class SourceReadError(SheetsyncError):
    """A source could not be read at all; ``code`` is the finding code it becomes."""

    def __init__(self, message: str, *, code: str = "unreadable-source", hint: str = "",
                 transient: bool = False) -> None:
        super().__init__(message, hint=hint, transient=transient)
        self.code = code


class TargetWriteError(SheetsyncError):
    """A target (the dashboard, or a source's flags tab) could not be written; nothing was
    changed."""


class WritebackError(TargetWriteError):
    """A source's flags tab could not be written back; the source was left exactly as it was.

    ``code`` is the finding code the failure becomes (see :meth:`as_finding`)."""

    code = "writeback-failed"
    severity = "warning"

    def as_finding(self, *, source: str = "", file: str = "", tab: str = "") -> Finding:
        """This failure as the one finding a run reports for the source."""
        return Finding(code=self.code, severity=Severity(self.severity), message=self.message,
                       hint=self.hint, source=source, file=file, tab=tab)


class LockHeld(SheetsyncError):
    """Another rollup holds the run lock; it will finish."""

    transient = True


class RunFailed(SheetsyncError):
    """The run could not happen or could not write its output; nothing was changed."""


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

"""sheetsync: validate and consolidate coaching and team spreadsheets into one trustworthy view.

The public API, for scripts and notebooks::

    import sheetsync

    config = sheetsync.load_config("config/district.toml")
    data = sheetsync.validate(config)            # typed frames, findings, source states
    outcome = sheetsync.run(config)              # ... and the dashboard written

Everything named in ``__all__`` is stable; the rest of the package may move. Names load on
first use, so ``import sheetsync`` stays cheap (the command line's ``--help`` imports neither
pandas nor gspread).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from sheetsync.backends.base import RawTab, RawWorkbook
    from sheetsync.backends.memory import MemoryBackend
    from sheetsync.config import Config, load_config
    from sheetsync.dataset import ProgramData, SourceStatus
    from sheetsync.errors import (
        ConfigError,
        LockHeld,
        RunFailed,
        SheetsyncError,
        SourceReadError,
        TargetWriteError,
    )
    from sheetsync.findings import Finding, Findings, Severity
    from sheetsync.pipeline import RollupContext, RunOutcome, rollup, run, validate

_LAZY = {
    "Config": "sheetsync.config",
    "ConfigError": "sheetsync.errors",
    "Finding": "sheetsync.findings",
    "Findings": "sheetsync.findings",
    "LockHeld": "sheetsync.errors",
    "MemoryBackend": "sheetsync.backends.memory",
    "ProgramData": "sheetsync.dataset",
    "RawTab": "sheetsync.backends.base",
    "RawWorkbook": "sheetsync.backends.base",
    "RollupContext": "sheetsync.pipeline",
    "RunFailed": "sheetsync.errors",
    "RunOutcome": "sheetsync.pipeline",
    "Severity": "sheetsync.findings",
    "SheetsyncError": "sheetsync.errors",
    "SourceReadError": "sheetsync.errors",
    "SourceStatus": "sheetsync.dataset",
    "TargetWriteError": "sheetsync.errors",
    "load_config": "sheetsync.config",
    "rollup": "sheetsync.pipeline",
    "run": "sheetsync.pipeline",
    "validate": "sheetsync.pipeline",
}

__all__ = [
    "Config",
    "ConfigError",
    "Finding",
    "Findings",
    "LockHeld",
    "MemoryBackend",
    "ProgramData",
    "RawTab",
    "RawWorkbook",
    "RollupContext",
    "RunFailed",
    "RunOutcome",
    "Severity",
    "SheetsyncError",
    "SourceReadError",
    "SourceStatus",
    "TargetWriteError",
    "__version__",
    "load_config",
    "rollup",
    "run",
    "validate",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'sheetsync' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__

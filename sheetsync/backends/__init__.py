"""Spreadsheet backends: where workbooks live, behind one small contract.

Each backend is one module or folder of the same shape, implementing
:class:`sheetsync.backends.base.Backend`:

* ``excel/``  - .xlsx, .xlsm, .xls and .ods files on a disk or a shared drive;
* ``google/`` - Google Sheets and Drive, through the real gspread and google-auth stack;
* ``memory``  - workbooks held in a dict: the quickest way to test the pipeline without files,
  as httpx's MockTransport is for HTTP.

This registry names them and imports each only when a run needs it, so ``sheetsync --help``
and Excel-only runs never import gspread. A backend's config section (``[google]``,
``[limits]``) is declared by its own settings dataclass, named here so the config loader can
check it without importing the backend itself.

To add a backend: a folder with a class implementing the contract and, if it has settings, a
settings dataclass; then one line in :data:`BACKENDS` and, for settings, one in
:data:`SECTIONS`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sheetsync.backends.base import Backend

BACKENDS: dict[str, str] = {
    "excel": "sheetsync.backends.excel:ExcelBackend",
    "google": "sheetsync.backends.google:GoogleBackend",
    "memory": "sheetsync.backends.memory:MemoryBackend",
}
"""Backend name -> ``module:class``; the class is built with ``from_config(config)``."""

SECTIONS: dict[str, str] = {
    "limits": "sheetsync.backends.excel.settings:ReadLimits",
    "google": "sheetsync.backends.google.settings:GoogleSettings",
}
"""Config section -> the settings dataclass that declares it."""


def _load(spec: str) -> Any:
    module, _, name = spec.partition(":")
    return getattr(import_module(module), name)


def settings_class(section: str) -> type:
    """The dataclass declaring a backend's config section."""
    return _load(SECTIONS[section])


class Backends:
    """The backends of one run, each built on first use from the config.

    ``given`` supplies ready-made instances (a :class:`~sheetsync.backends.memory.MemoryBackend`
    in a test, or a Google backend sharing one connection across runs)."""

    def __init__(self, factory: Callable[[type], Backend],
                 given: Mapping[str, Backend] | None = None) -> None:
        self._factory = factory
        self._built: dict[str, Backend] = dict(given or {})

    def __getitem__(self, name: str) -> Backend:
        if name not in self._built:
            if name not in BACKENDS:
                raise KeyError(f"no backend named {name!r} (known: {', '.join(BACKENDS)})")
            self._built[name] = self._factory(_load(BACKENDS[name]))
        return self._built[name]

    def built(self) -> list[Backend]:
        """The backends this run has used so far."""
        return list(self._built.values())

    def api_calls(self) -> dict[str, int]:
        """Every backend's API calls, by kind."""
        calls: dict[str, int] = {}
        for backend in self._built.values():
            for kind, n in backend.api_calls().items():
                calls[kind] = calls.get(kind, 0) + n
        return calls

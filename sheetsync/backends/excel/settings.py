"""Excel mode's settings: the ``[limits]`` section of the config.

Declared as a dataclass whose fields say their config key, type and range; the config loader
(:func:`sheetsync.config.settings_from_table`) reads it from the TOML, so this section is
checked and defaulted here, once.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ReadLimits:
    """Refuse files beyond these sizes (configurable under ``[limits]``)."""

    max_file_mb: float = field(default=100.0, metadata={"min": 0.001})
    max_uncompressed_mb: float = field(default=500.0, metadata={"min": 0.001})
    max_cells: int = field(default=5_000_000, metadata={"min": 1})

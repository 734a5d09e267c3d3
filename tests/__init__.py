"""sheetsync's tests, grouped by capability: one folder per room of the package."""

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
"""The repository's root (the example program, the schemas and the config live under it)."""

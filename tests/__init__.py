"""sheetsync's tests, grouped by capability: one folder per room of the package."""

import os
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
"""The repository's root (the example program, the schemas and the config live under it)."""

# lxml is a test extra, used as a strict XML parser to check what sheetsync writes. openpyxl
# would switch its own XML writer to lxml when it is installed; keep openpyxl on the standard
# library, as it is where sheetsync is installed without the test extras. (Subprocesses that
# tests start inherit this.)
os.environ.setdefault("OPENPYXL_LXML", "False")

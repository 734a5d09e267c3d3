"""Validation: raw workbooks in, typed pandas DataFrames and cell-addressed findings out.

(The package is named ``validation`` so that ``sheetsync.validate`` stays the public function.)
"""

from sheetsync.validation.frames import build_frames, empty_frames
from sheetsync.validation.workbook import ValidationContext, WorkbookResult, validate_workbook

__all__ = ["ValidationContext", "WorkbookResult", "build_frames", "empty_frames",
           "validate_workbook"]

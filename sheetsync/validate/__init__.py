"""Validation: raw workbooks in, typed pandas DataFrames and cell-addressed findings out."""

from sheetsync.validate.frames import build_frames, empty_frames
from sheetsync.validate.workbook import ValidationContext, WorkbookResult, validate_workbook

__all__ = ["ValidationContext", "WorkbookResult", "build_frames", "empty_frames",
           "validate_workbook"]

"""Spreadsheet backends: Excel files and Google Sheets behind one small contract.

A backend does two things (see :mod:`sheetsync.backends.base`):

* **read** every tab of one source workbook into a :class:`RawWorkbook` of plain cell values;
* **write** sheetsync's managed tabs (:class:`~sheetsync.report.model.Sheet`) to a target.

Heavy imports (openpyxl, gspread) stay inside the backend modules.
"""

"""Excel mode: .xlsx, .xlsm, .xls and .ods files on a disk or a shared drive."""

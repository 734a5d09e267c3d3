"""sheetsync: validate and consolidate coaching and team spreadsheets into one trustworthy view."""

__version__ = "0.1.0"

"""Sources: find the configured workbooks, read them through their backend, validate, cache."""

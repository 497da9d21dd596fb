"""Tests of the condition language (parse, type-check, Python and SQL)."""

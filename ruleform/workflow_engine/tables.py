"""Importing this module registers the workflow engine's system tables (outbox, …) with
the storage layer, so ``build_metadata`` and the migration planner include them."""

from . import outbox  # noqa: F401

"""Importing this module registers the workflow engine's system tables (outbox, transitions,
status periods, approvals, delegations, duplicate keys) with the storage layer, so
``build_metadata`` and the migration planner include them."""

from . import outbox  # noqa: F401
from . import workflow_tables  # noqa: F401

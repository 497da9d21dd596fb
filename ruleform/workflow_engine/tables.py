"""Importing this module registers the workflow engine's system tables (outbox, transitions,
status periods, approvals, delegations, duplicate keys) with the storage layer, so
``build_metadata`` and the migration planner include them."""

from . import (
    outbox,  # noqa: F401
    workflow_tables,  # noqa: F401
)
from .delivery import deliveries  # noqa: F401,E402
from .delivery import flags  # noqa: F401,E402
from .delivery import inbox  # noqa: F401,E402
from .delivery import targets  # noqa: F401,E402
from . import tasks  # noqa: F401,E402  the tasks time rules give people
from .timerules import tables as _timerule_tables  # noqa: F401,E402  ledger, runs, states

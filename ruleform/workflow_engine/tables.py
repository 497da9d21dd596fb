"""The workflow engine's system tables: importing this module registers them (transitions,
status periods, approvals, delegations, duplicate keys, tasks, deliveries, delivery flags,
the inbox, webhook targets, the time rules' ledger, runs and states) with the storage
layer, so ``build_metadata`` and the migration planner include them. The wiring list
(``ruleform/wiring.py``) names this module; the outbox is the platform's own."""

from . import (
    tasks,  # noqa: F401  the tasks time rules give people
    workflow_tables,  # noqa: F401
)
from .delivery import (
    deliveries,  # noqa: F401
    flags,  # noqa: F401
    inbox,  # noqa: F401
    targets,  # noqa: F401
)
from .timerules import tables as _timerule_tables  # noqa: F401  ledger, runs, states

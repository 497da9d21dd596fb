"""Approval steps whose time ran out (``escalate_at``) escalate: the time rules' clock
calls ``escalate_due`` on each tick, as the system."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from ..platform.actors import SYSTEM
from ..platform.clock import utcnow
from .approval_service import ApprovalService
from .approvals import ACTIVE, PENDING
from .service import WorkflowService

__all__ = ["escalate_due"]


def escalate_due(runtime: Any, conn: Any, now: datetime | None = None) -> list[int]:
    """Escalate every active step whose ``escalate_at`` has passed; the ids of the requests.

    The time rules' clock calls this (as the system) on each tick; a step escalates once
    (``escalated_at``), and each escalation is one outbox event ``escalated:<transition>``.
    """
    now = now or utcnow()
    steps, requests = (
        runtime.system_table("approval_steps"),
        runtime.system_table("approval_requests"),
    )
    due = (
        conn.execute(
            sa.select(steps.c.request_id)
            .join(requests, requests.c.id == steps.c.request_id)
            .where(
                steps.c.status == ACTIVE,
                steps.c.escalate_at <= now,
                steps.c.escalated_at.is_(None),
                requests.c.status == PENDING,
            )
            .order_by(steps.c.escalate_at)
        )
        .scalars()
        .all()
    )
    service = ApprovalService(WorkflowService(runtime, conn, SYSTEM))
    for request_id in due:
        service.escalate(request_id)
    return list(due)

"""Helpers run in other processes by the scheduler-lock tests (importable by ``spawn``)."""

from __future__ import annotations

import time
from datetime import UTC, datetime


def try_hold(url: str, start_at: float, slot_moment: str, hold_for: float) -> bool:
    """Wait until ``start_at`` (wall clock), try the scheduler lock, keep it ``hold_for`` s."""
    from ruleform.platform.database import create_engine
    from ruleform.workflow_engine.timerules.scheduler import hold

    engine = create_engine(url)
    try:
        while time.time() < start_at:
            time.sleep(0.005)
        now = datetime.fromisoformat(slot_moment).astimezone(UTC)
        with hold(engine, now, 30.0) as held:
            if held:
                time.sleep(hold_for)
            return bool(held)
    finally:
        engine.dispose()

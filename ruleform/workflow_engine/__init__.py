"""Transitions, approvals, time rules, the outbox and RQ jobs."""

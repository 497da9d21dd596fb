"""Delivery: outbox rows become inbox messages, emails, webhook calls and SMS — once.

The rule of this package: **the database decides, Redis only carries.** A row of the
outbox (written in the same transaction as its cause) is the message; a drain claims due
rows under a lease and either delivers them inline (the in-app inbox: one transaction,
a unique key) or enqueues one RQ job per row under a deterministic job id. The job takes
the outbox id, confirms its claim atomically (a stale or duplicate job is a no-op),
renders the message at delivery time with what the recipient may read, applies the
delivery policies (kill switch, sandbox, quiet hours, frequency cap), writes a
``deliveries`` record marked ``sending`` *before* it sends and ``sent`` after — so a worker
killed in between leaves a visible "in doubt" record that the retry resolves instead of
blindly sending again. See docs/delivery.md for the guarantees per channel.

Modules: ``settings`` (configuration), ``flags`` (runtime flags, the kill switch),
``inbox`` / ``deliveries`` / ``targets`` (tables), ``recipients`` and ``render`` (who and
what), ``policy`` (quiet hours, frequency cap, sandbox), ``prepare`` (the decision for one
row), ``outcomes`` (writing the decision), ``drain``, ``jobs`` (RQ), ``channels/``,
``ssrf`` (safe outgoing HTTP), ``worker`` (``ruleform worker``), ``web`` and ``commands``.
"""

from __future__ import annotations

from .flags import kill_switch_on, set_kill_switch

__all__ = ["kill_switch_on", "set_kill_switch"]

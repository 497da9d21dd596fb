"""Time rules: reminders, SLAs, escalations and automated touches that never fire twice and
never get lost (docs/time-rules.md).

The rule of this package: **set-based evaluation, ledger first.** Each rule is one SQL
query per tick selecting the records due now; each firing is a set of ledger rows under a
unique key, written in the same transaction as its outbox rows, tasks and record changes.
Delivery (RQ jobs, channels, retries, quiet hours, frequency caps, the kill switch) reads
the outbox — see ``workflow_engine/delivery``.

Modules, in the order a tick uses them:

- ``tables`` — ``rule_firings`` (the ledger), ``rule_runs``, ``rule_states``,
  ``rule_dry_runs``, ``scheduler_lock``; ``catalog`` — rule keys (``<entity>.<rule>``);
- ``recipients`` (the organisation of one tick), ``calendars`` (whose calendar, and the
  bounds the queries bind);
- ``sweep`` (timing → SQL: the window and the base query), ``timings/`` (one module per
  timing kind: after, inactive, yearly, deadline, schedule, threshold, on);
  ``occurrences`` (keys, anchors, late policy);
- ``plan`` (items per recipient × channel, escalation chains, canary), ``messages``
  (outbox payloads, task titles, dry-run previews), ``changes`` (``set`` / ``reassign``
  through the record service), ``actions`` (writing a batch), ``ledger``;
- ``rollout`` (states and caps), ``ticks`` (one tick: ``tick()``), ``scheduler`` (the one clock: lock,
  slots, the worker's runtime);
- ``why``, ``health``, ``commands`` (``ruleform rules …``), ``web`` (admin page, my tasks,
  ``/api/v1/tasks``).

Entry point: ``ticks.tick(runtime, engine, now)`` (the worker calls it; ``scheduler`` holds
the one lock). Import the modules you need; importing the package imports nothing.
"""

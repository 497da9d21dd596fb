"""The workflow engine: transitions, approvals, duplicate rules, time rules, the outbox.

The rule of this package: **pure core, thin I/O shell** (docs/workflow.md).

- Pure — no Flask, no SQLAlchemy, no I/O: ``machine`` (which transitions leave a status,
  which the actor may take now and why not), ``approvals`` / ``approval_state`` (the
  approval state machine: modes, segregation of duties, 退回 / 加签 / 转交 / 撤回,
  delegation, escalation), ``snapshot`` (the pinned approval definition), ``normalise``
  (duplicate-rule normalisers and keys), ``diagram`` (the status graph as SVG), ``texts``.
- I/O shell — takes a runtime, a connection and an ``Actor``, writes in the caller's
  transaction: ``service`` (``apply_transition``: lock, check, persist, history, status
  periods, outbox), ``approval_service`` / ``approval_store`` (approval commands),
  ``approval_queries`` (inbox, requests, exception report, delegations), ``parties``
  (approvers from the organisation), ``duplicates`` and ``record_hooks`` (what the record
  service runs on every write), ``history``, ``workflow_tables`` / ``tables`` (system
  tables), ``outbox``, ``calendar``.
- HTTP: ``web`` (the blueprint; ``init_app``), ``web_api``, ``web_pages``, ``panel``
  (``transition_panel`` for the detail page).

Import the modules you need; importing the package imports nothing.
"""

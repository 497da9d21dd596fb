"""The time rules' system tables (registered with ``@system_table``; imported from
``workflow_engine/tables.py`` so ``build_metadata`` and migrations create them).

* ``rule_firings`` — **the ledger**, the source of truth of what fired. One row per
  (rule, record, occurrence, channel, recipient) under a unique index, plus one *marker*
  row per occurrence (``channel = '*'``, ``recipient = ''``) written when the occurrence
  is complete. Typed anchors (``anchor_at`` / ``anchor_date`` / ``anchor_num`` and
  ``step``) let the sweep query exclude fired occurrences in SQL (``NOT EXISTS``), from
  a partial index of the markers alone.
* ``rule_runs`` — one row per rule per tick: scanned, matched, sent, skipped by cap,
  dry-run, skipped late, errors, and the watermark the run reached.
* ``rule_states`` — per rule: admin overrides of the rulebook's rollout and caps, the
  watermark and last success (health), why it was paused.
* ``rule_dry_runs`` — what a rule in dry run (or outside its canary) *would* send: the
  audience and every rendered message, deduplicated like the ledger.
* ``scheduler_lock`` — the one clock: a lease row (SQLite; PostgreSQL uses an advisory
  lock) and the last tick slot, so two schedulers never tick the same slot twice.
"""

from __future__ import annotations

import sqlalchemy as sa

from ...metadata.sqltypes import UTCDateTime
from ...platform.storage.system_tables import (
    JSON_DOCUMENT,
    add_index,
    id_column,
    primary_key,
    system_table,
)

__all__ = ["MARKER", "SENT", "DRY", "COALESCED", "SKIPPED"]

#: The channel of an occurrence's marker row.
MARKER = "*"
#: Ledger statuses: delivered to the outbox (or applied), or recorded without effect.
SENT, COALESCED, SKIPPED, DRY = "sent", "coalesced", "skipped", "dry_run"


@system_table("rule_firings")
def rule_firings_table(metadata: sa.MetaData) -> sa.Table:
    t = sa.Table(
        "rule_firings",
        metadata,
        id_column(),
        sa.Column("rule", sa.String(120), nullable=False),  # <entity>.<rule name>
        sa.Column("entity", sa.String(64), nullable=False),  # users / departments: thresholds
        sa.Column("record_id", sa.BigInteger, nullable=False),
        sa.Column("occurrence", sa.String(200), nullable=False),
        sa.Column("channel", sa.String(40), nullable=False),  # '*' marker, a<i>:<channel>
        sa.Column("recipient", sa.String(320), nullable=False, server_default=""),
        sa.Column("action", sa.String(16)),  # notify task escalate reassign set webhook
        sa.Column("status", sa.String(16), nullable=False),  # sent coalesced skipped
        sa.Column("step", sa.Integer, nullable=False, server_default=sa.text("0")),  # SLA level
        sa.Column("anchor_at", UTCDateTime),
        sa.Column("anchor_date", sa.Date),
        sa.Column("anchor_num", sa.BigInteger),
        sa.Column("due_at", UTCDateTime),
        sa.Column("fired_at", UTCDateTime, nullable=False),
        sa.Column("run_id", sa.BigInteger),
        sa.Column("outbox_key", sa.String(400)),
        sa.Column("detail", JSON_DOCUMENT),
        primary_key("rule_firings", "id"),
    )
    add_index(t, "rule", "record_id", "occurrence", "channel", "recipient", unique=True)
    add_index(t, "rule", "fired_at")
    add_index(t, "entity", "record_id")
    # the markers only, with the anchors: a sweep's "not fired yet" (NOT EXISTS) and
    # ``drop_fired`` read this small index instead of every message row of the ledger
    marker = t.c.channel == MARKER
    add_index(t, "rule", "record_id", "anchor_at", "anchor_date", "anchor_num", "step",
              postgresql_where=marker, sqlite_where=marker)  # fmt: skip
    return t


@system_table("rule_runs")
def rule_runs_table(metadata: sa.MetaData) -> sa.Table:
    t = sa.Table(
        "rule_runs",
        metadata,
        id_column(),
        sa.Column("rule", sa.String(120), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),  # dry_run canary active
        sa.Column("status", sa.String(16), nullable=False),  # running ok error paused
        sa.Column("started_at", UTCDateTime, nullable=False),
        sa.Column("finished_at", UTCDateTime),
        sa.Column("since", UTCDateTime),  # the watermark it caught up from
        sa.Column("watermark", UTCDateTime),  # the tick time it evaluated ("now")
        sa.Column("scanned", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("matched", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("sent", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("skipped_by_cap", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("skipped_late", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("dry_run", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("errors", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("message", sa.Text),
        primary_key("rule_runs", "id"),
    )
    add_index(t, "rule", "started_at")
    add_index(t, "started_at")
    return t


@system_table("rule_states")
def rule_states_table(metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        "rule_states",
        metadata,
        sa.Column("rule", sa.String(120), nullable=False),
        sa.Column("rollout", sa.String(16)),  # NULL: the rulebook's rollout
        sa.Column("previous_rollout", sa.String(16)),  # what "resume" returns to
        sa.Column("canary", JSON_DOCUMENT),  # NULL: the rulebook's canary allow-list
        sa.Column("canary_share", sa.Integer),  # percent of records in the canary (0-100)
        sa.Column("cap_per_run", sa.Integer),  # NULL: the rulebook's caps
        sa.Column("cap_per_day", sa.Integer),
        sa.Column("paused_reason", sa.Text),
        sa.Column("watermark", UTCDateTime),  # the tick time of the last successful run
        sa.Column("last_success_at", UTCDateTime),
        sa.Column("last_error_at", UTCDateTime),
        sa.Column("last_error", sa.Text),
        sa.Column("updated_by", sa.BigInteger),  # the admin who changed the rollout
        sa.Column("updated_at", UTCDateTime),
        primary_key("rule_states", "rule"),
    )


@system_table("rule_dry_runs")
def rule_dry_runs_table(metadata: sa.MetaData) -> sa.Table:
    t = sa.Table(
        "rule_dry_runs",
        metadata,
        id_column(),
        sa.Column("rule", sa.String(120), nullable=False),
        sa.Column("entity", sa.String(64), nullable=False),
        sa.Column("record_id", sa.BigInteger, nullable=False),
        sa.Column("occurrence", sa.String(200), nullable=False),
        sa.Column("channel", sa.String(40), nullable=False),
        sa.Column("recipient", sa.String(320), nullable=False, server_default=""),
        sa.Column("action", sa.String(16)),
        sa.Column("mode", sa.String(16), nullable=False),  # dry_run | held_back (canary)
        sa.Column("locale", sa.String(16)),
        sa.Column("subject", sa.Text),
        sa.Column("body", sa.Text),
        sa.Column("run_id", sa.BigInteger),
        sa.Column("created_at", UTCDateTime, nullable=False),
        primary_key("rule_dry_runs", "id"),
    )
    add_index(t, "rule", "record_id", "occurrence", "channel", "recipient", unique=True)
    add_index(t, "rule", "created_at")
    return t


@system_table("scheduler_lock")
def scheduler_lock_table(metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        "scheduler_lock",
        metadata,
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("holder", sa.String(200)),  # host:pid:token of the scheduler holding it
        sa.Column("acquired_at", UTCDateTime),
        sa.Column("heartbeat_at", UTCDateTime),
        sa.Column("expires_at", UTCDateTime),
        sa.Column("last_slot", sa.BigInteger),  # the last tick slot done (now // interval)
        sa.Column("last_tick_at", UTCDateTime),
        primary_key("scheduler_lock", "name"),
    )

"""The workflow engine's system tables: transitions, status periods, approvals, delegations
and the duplicate keys. Registered with ``@system_table`` (imported from ``tables.py``), so
``build_metadata`` and the migration planner create them like every platform table.

* ``transition_log`` — one row per status change (who, when, from, to, comment, reason,
  the approval request it completed, whether it was an exception, R48).
* ``status_periods`` — one row per stay in a status: ``entered_at`` / ``left_at`` (NULL
  while current). SLA clocks read the current period's ``entered_at``.
* ``approval_requests`` → ``approval_steps`` → ``approval_tasks`` — requests are records of
  their own, never extra statuses. A request pins its definition (``definition`` JSON) and
  the rulebook version; at most one request per record is pending (partial unique index).
* ``delegations`` — while ``starts_at <= now < ends_at`` the delegate acts for the user.
* ``duplicate_keys`` — normalised keys of the duplicate rules, so a match is an index lookup.
"""

from __future__ import annotations

import sqlalchemy as sa

from ..metadata.sqltypes import UTCDateTime
from ..platform.storage.system_tables import (
    JSON_DOCUMENT,
    add_index,
    id_column,
    link_column,
    primary_key,
    system_table,
)

__all__ = ["PENDING_ONLY"]

#: Partial-index condition: only pending requests (both dialects support partial indexes).
PENDING_ONLY = sa.text("status = 'pending'")


def _user(table: str, name: str, nullable: bool = True) -> sa.Column:
    return link_column(
        table, name, "users", ondelete="SET NULL" if nullable else "RESTRICT", nullable=nullable
    )


@system_table("transition_log")
def transition_log_table(metadata: sa.MetaData) -> sa.Table:
    t = sa.Table(
        "transition_log",
        metadata,
        id_column(),
        sa.Column("entity", sa.String(64), nullable=False),
        sa.Column("record_id", sa.BigInteger, nullable=False),
        sa.Column("transition", sa.String(64), nullable=False),
        sa.Column("from_status", sa.String(64)),
        sa.Column("to_status", sa.String(64), nullable=False),
        _user("transition_log", "user_id"),  # NULL: the system
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("comment", sa.Text),
        sa.Column("reason", sa.Text),
        sa.Column("exception", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("request_id", sa.BigInteger),  # the approval request it completed
        sa.Column("rulebook_version", sa.Integer),
        primary_key("transition_log", "id"),
    )
    add_index(t, "entity", "record_id")
    add_index(t, "exception", "at")
    return t


@system_table("status_periods")
def status_periods_table(metadata: sa.MetaData) -> sa.Table:
    t = sa.Table(
        "status_periods",
        metadata,
        id_column(),
        sa.Column("entity", sa.String(64), nullable=False),
        sa.Column("record_id", sa.BigInteger, nullable=False),
        sa.Column("status", sa.String(64), nullable=False),
        sa.Column("entered_at", UTCDateTime, nullable=False),
        sa.Column("left_at", UTCDateTime),  # NULL: the record is in this status now
        _user("status_periods", "entered_by"),
        sa.Column("transition", sa.String(64)),  # NULL: the record was created in it
        primary_key("status_periods", "id"),
    )
    add_index(t, "entity", "record_id", "left_at")
    add_index(t, "entity", "status", "left_at")
    return t


@system_table("approval_requests")
def approval_requests_table(metadata: sa.MetaData) -> sa.Table:
    t = sa.Table(
        "approval_requests",
        metadata,
        id_column(),
        sa.Column("entity", sa.String(64), nullable=False),
        sa.Column("record_id", sa.BigInteger, nullable=False),
        sa.Column("transition", sa.String(64), nullable=False),
        sa.Column("from_status", sa.String(64), nullable=False),
        sa.Column("to_status", sa.String(64), nullable=False),
        sa.Column("rulebook_version", sa.Integer),  # pinned: the version it started under
        sa.Column("definition", JSON_DOCUMENT, nullable=False),  # pinned steps and policies
        _user("approval_requests", "requested_by"),
        _user("approval_requests", "owner_id"),  # the record's owner at submission
        sa.Column(
            "status", sa.String(16), nullable=False
        ),  # pending approved rejected withdrawn void
        sa.Column("exception", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("reason", sa.Text),  # why (required for exceptions, R48)
        sa.Column("comment", sa.Text),
        sa.Column("payload", JSON_DOCUMENT),  # the values the requester gave
        sa.Column("current_step", sa.Integer),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("decided_at", UTCDateTime),
        _user("approval_requests", "decided_by"),
        primary_key("approval_requests", "id"),
    )
    add_index(
        t,
        "entity",
        "record_id",
        unique=True,
        postgresql_where=PENDING_ONLY,
        sqlite_where=PENDING_ONLY,
    )  # one pending request per record
    add_index(t, "status", "created_at")
    add_index(t, "exception", "created_at")
    add_index(t, "requested_by")
    return t


@system_table("approval_steps")
def approval_steps_table(metadata: sa.MetaData) -> sa.Table:
    t = sa.Table(
        "approval_steps",
        metadata,
        id_column(),
        link_column(
            "approval_steps", "request_id", "approval_requests", ondelete="CASCADE", nullable=False
        ),
        sa.Column("step_index", sa.Integer, nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("at_least", sa.Integer, nullable=False, server_default=sa.text("1")),
        sa.Column(
            "status", sa.String(16), nullable=False
        ),  # waiting active approved rejected skipped
        sa.Column("round", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("started_at", UTCDateTime),
        sa.Column("decided_at", UTCDateTime),
        sa.Column("escalate_at", UTCDateTime),  # when the step escalates if still undecided
        sa.Column("escalated_at", UTCDateTime),
        primary_key("approval_steps", "id"),
    )
    add_index(t, "request_id", "step_index", unique=True)
    add_index(t, "status", "escalate_at")
    return t


@system_table("approval_tasks")
def approval_tasks_table(metadata: sa.MetaData) -> sa.Table:
    t = sa.Table(
        "approval_tasks",
        metadata,
        id_column(),
        link_column(
            "approval_tasks", "request_id", "approval_requests", ondelete="CASCADE", nullable=False
        ),
        sa.Column("step_index", sa.Integer, nullable=False),
        sa.Column("round", sa.Integer, nullable=False, server_default=sa.text("0")),
        _user("approval_tasks", "approver_id", nullable=False),  # resolved when the step started
        _user("approval_tasks", "acting_approver_id"),  # a delegate acting for the approver
        sa.Column("source", sa.String(16), nullable=False),  # resolved added transferred escalated
        _user("approval_tasks", "added_by"),  # 加签 / 转交 by
        sa.Column("relaxed", JSON_DOCUMENT),  # segregation-of-duties rules relaxed (audited)
        sa.Column("decision", sa.String(16)),  # NULL open; approved rejected returned transferred …
        _user("approval_tasks", "decided_by"),  # who actually decided (approver or delegate)
        sa.Column("comment", sa.Text),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("decided_at", UTCDateTime),
        primary_key("approval_tasks", "id"),
    )
    add_index(t, "request_id", "step_index")
    add_index(t, "approver_id", "decision")
    add_index(t, "acting_approver_id", "decision")
    return t


@system_table("delegations")
def delegations_table(metadata: sa.MetaData) -> sa.Table:
    t = sa.Table(
        "delegations",
        metadata,
        id_column(),
        _user("delegations", "user_id", nullable=False),
        _user("delegations", "delegate_id", nullable=False),
        sa.Column("starts_at", UTCDateTime, nullable=False),
        sa.Column("ends_at", UTCDateTime, nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("revoked_at", UTCDateTime),
        primary_key("delegations", "id"),
    )
    add_index(t, "user_id", "ends_at")
    add_index(t, "delegate_id", "ends_at")
    return t


@system_table("duplicate_keys")
def duplicate_keys_table(metadata: sa.MetaData) -> sa.Table:
    t = sa.Table(
        "duplicate_keys",
        metadata,
        sa.Column("entity", sa.String(64), nullable=False),
        sa.Column("rule", sa.String(64), nullable=False),
        sa.Column("record_id", sa.BigInteger, nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        primary_key("duplicate_keys", "entity", "rule", "record_id"),
    )
    add_index(t, "entity", "rule", "key_hash")
    return t

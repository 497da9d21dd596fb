"""The RQ job: deliver one outbox row on an external channel (email, webhook, SMS).

``deliver(outbox_id, claim)`` is a top-level function taking ids, as RQ jobs should. It

1. **confirms its claim** atomically — ``UPDATE … SET attempts = attempts + 1,
   claimed_by = '<claim>:run' WHERE id = … AND status = 'pending' AND claimed_by = <claim>``:
   a stale job (row delivered, re-claimed, cancelled) or a duplicate changes nothing and
   returns ``"stale"``; the kill switch hands the row back (``"held"``);
2. finds the row's ``deliveries`` record: ``sent`` → just mark the row; ``sending`` → the
   previous attempt died mid-send: **in doubt** (step 4); none → decide (render, policies)
   and write ``sending`` with the Message-ID / Idempotency-Key — commit;
3. sends, outside any transaction;
4. in doubt, email with ``DELIVERY_EMAIL_IN_DOUBT = "confirm"`` asks the configured hook
   whether the server has the Message-ID; ``"assume_sent"`` marks it delivered; otherwise
   (and for webhooks / SMS) the *stored* message is sent again with the same identifier;
5. records ``sent`` and marks the row delivered (retrying the write while the database is
   briefly away), or records the failure: retry with backoff, or ``failed``.
"""

from __future__ import annotations

import importlib
import logging
import time
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ...platform.database import is_unavailable
from ...platform.outbox import PENDING
from ...platform.runtime import utcnow
from . import deliveries, outcomes
from .channels import CHANNELS, Outgoing, SendError, sender_for
from .context import DeliveryContext, current
from .flags import kill_switch_on
from .prepare import Preparer, apply_decision, delivery_values
from .recipients import RecipientError, UserCache, resolve_recipient

__all__ = ["deliver", "run", "confirm_hook"]

log = logging.getLogger("ruleform.delivery")


def deliver(outbox_id: int, claim: str) -> str:
    """RQ entry point: deliver outbox row ``outbox_id`` if ``claim`` still holds it."""
    return run(current(), outbox_id, claim)


def run(ctx: DeliveryContext, outbox_id: int, claim: str, now: datetime | None = None) -> str:
    """Steps 1–5 above; the outcome as a word (for logs and tests)."""
    now = now or utcnow()
    token = f"{claim}:run"
    try:
        with ctx.engine.begin() as conn:
            plan = _plan(ctx, conn, outbox_id, claim, token, now)
    except sa.exc.DBAPIError as exc:
        if is_unavailable(exc):
            raise  # nothing was written; the lease runs out and the row is claimed again
        return _give_up_for_now(ctx, outbox_id, claim, exc, now)
    except Exception as exc:  # a bug in deciding must not loop the row forever
        return _give_up_for_now(ctx, outbox_id, claim, exc, now)
    if isinstance(plan, str):
        return plan
    row, outgoing, in_doubt = plan
    if in_doubt:
        verdict = _resolve_in_doubt(ctx, row, outgoing)
        if verdict is not None:
            _record_sent(ctx, row, verdict, token)
            return "confirmed"
    try:
        answer = sender_for(row["channel"])(outgoing, ctx.settings)
    except SendError as exc:
        return _record_failure(ctx, row, token, str(exc), exc.permanent, exc.in_doubt)
    except Exception as exc:  # a bug or a timeout of the job: the server may have it
        log.exception("sending outbox row %s failed unexpectedly", outbox_id)
        return _record_failure(ctx, row, token, f"{type(exc).__name__}: {exc}", False, True)
    _record_sent(ctx, row, answer, token)
    return "sent"


def _give_up_for_now(ctx: DeliveryContext, outbox_id: int, claim: str, exc: Exception,
                     now: datetime) -> str:  # fmt: skip
    """Deciding raised: count the attempt, back off (or fail after the last one)."""
    log.exception("deciding outbox row %s failed", outbox_id)
    outbox = ctx.outbox
    with ctx.engine.begin() as conn:
        row = conn.execute(sa.select(outbox.c.attempts).where(outbox.c.id == outbox_id)).first()
        if row is None:
            return "stale"
        error = f"{type(exc).__name__}: {exc}"
        status = outcomes.retry(conn, outbox, outbox_id, row.attempts + 1, error, ctx.settings,
                                now, claim)  # fmt: skip
    return "failed" if status == "failed" else "retry"


# --- step 1 and 2: in one transaction -------------------------------------------------------


def _plan(ctx: DeliveryContext, conn: Connection, outbox_id: int, claim: str, token: str,
          now: datetime) -> str | tuple[dict, Outgoing, bool]:  # fmt: skip
    outbox = ctx.outbox
    if kill_switch_on(conn):
        outcomes.release(conn, outbox, outbox_id, claim)
        return "held"
    row = _confirm(conn, outbox, outbox_id, claim, token, ctx, now)
    if row is None:
        return "stale"
    existing = deliveries.find(conn, row["idempotency_key"])
    if existing is not None and existing["status"] == deliveries.SENT:
        outcomes.delivered(conn, outbox, outbox_id, now, token)
        return "already-sent"
    if existing is not None and existing["status"] == deliveries.SENDING:  # resolved always
        table = deliveries.DELIVERIES
        conn.execute(table.update().where(table.c.id == existing["id"]).values(claim=token))
        return row, _stored_outgoing(row, existing, ctx, conn), True
    if row["attempts"] > int(ctx.settings["DELIVERY_MAX_ATTEMPTS"]):
        outcomes.fail(conn, outbox, outbox_id, row.get("last_error") or "too many attempts",
                      now, token)  # fmt: skip
        return "failed"
    decision = Preparer(ctx.runtime, conn, ctx.settings).decide(row, now)
    if decision.action != "send":
        return apply_decision(conn, outbox, row, decision, now, token, counted=True)
    assert decision.outgoing is not None
    deliveries.record(conn, delivery_values(row, decision, deliveries.SENDING, now, token))
    return row, decision.outgoing, False


def _confirm(conn: Connection, outbox: sa.Table, outbox_id: int, claim: str, token: str,
             ctx: DeliveryContext, now: datetime) -> dict | None:  # fmt: skip
    lease = timedelta(seconds=float(ctx.settings["DELIVERY_LEASE"]))
    confirmed = conn.execute(
        outbox.update()
        .where(outbox.c.id == outbox_id, outbox.c.status == PENDING, outbox.c.claimed_by == claim)
        .values(attempts=outbox.c.attempts + 1, claimed_by=token, claimed_until=now + lease)
    ).rowcount  # fmt: skip
    if confirmed != 1:
        return None
    row = conn.execute(sa.select(outbox).where(outbox.c.id == outbox_id)).mappings().one()
    return dict(row)


def _stored_outgoing(row: dict, stored: dict, ctx: DeliveryContext, conn: Connection) -> Outgoing:
    """The message exactly as the attempt that died was sending it."""
    target: dict[str, Any] = {}
    if CHANNELS[row["channel"]].needs_target:
        try:  # the target as configured now (its URL may have been corrected meanwhile)
            recipient = resolve_recipient(row, UserCache(conn))
            target = Preparer(ctx.runtime, conn, ctx.settings).target(row["channel"], recipient)
        except RecipientError:
            target = {}  # gone: the send fails for good, saying so
    return Outgoing(key=row["idempotency_key"], channel=row["channel"], address=stored["address"],
                    subject=stored["subject"] or "", body=stored["body"] or "",
                    link=stored["link"] or "", message_id=stored["message_id"], target=target,
                    meta={"rule": row.get("rule"), "entity": row.get("entity"),
                          "record_id": row.get("record_id")})  # fmt: skip


# --- step 4: in doubt ---------------------------------------------------------------------------


def confirm_hook(path: str | None) -> Any:
    """The function named ``module:function`` (``DELIVERY_EMAIL_CONFIRM``), or None."""
    if not path:
        return None
    module, _, name = str(path).partition(":")
    return getattr(importlib.import_module(module), name)


def _resolve_in_doubt(ctx: DeliveryContext, row: dict, outgoing: Outgoing) -> str | None:
    """A reason to consider the message sent without sending again, or None to resend."""
    if row["channel"] != "email":
        return None
    mode = ctx.settings["DELIVERY_EMAIL_IN_DOUBT"]
    if mode == "assume_sent":
        return "in doubt after an interrupted send; assumed sent (DELIVERY_EMAIL_IN_DOUBT)"
    if mode == "confirm":
        hook = confirm_hook(ctx.settings["DELIVERY_EMAIL_CONFIRM"])
        try:
            answer = hook(outgoing.message_id, outgoing.address) if hook else None
        except Exception:
            log.exception("the in-doubt confirmation hook failed; resending")
            answer = None
        if answer is True:
            return f"in doubt; the server confirmed {outgoing.message_id}"
    return None


# --- step 5 -------------------------------------------------------------------------------------


def _persist(ctx: DeliveryContext, write: Any, patience: float = 30.0) -> None:
    """Run ``write(conn)`` in a transaction, retrying while the database is briefly away."""
    deadline, pause = time.monotonic() + patience, 0.5
    while True:
        try:
            with ctx.engine.begin() as conn:
                write(conn)
            return
        except sa.exc.DBAPIError as exc:
            if not is_unavailable(exc) or time.monotonic() > deadline:
                raise
            log.warning("database unavailable while recording a delivery; retrying")
            time.sleep(pause)
            pause = min(pause * 2, 5.0)


def _record_sent(ctx: DeliveryContext, row: dict, answer: str, token: str) -> None:
    def write(conn: Connection) -> None:
        now = utcnow()
        deliveries.finish(conn, row["idempotency_key"], deliveries.SENT, now, answer)
        outcomes.delivered(conn, ctx.outbox, row["id"], now)  # sent is sent, whoever holds it

    _persist(ctx, write)


def _record_failure(ctx: DeliveryContext, row: dict, token: str, error: str, permanent: bool,
                    in_doubt: bool) -> str:  # fmt: skip
    outcome: list[str] = []

    def write(conn: Connection) -> None:
        now = utcnow()
        if not in_doubt:
            deliveries.finish(conn, row["idempotency_key"], deliveries.FAILED, now, error)
        if permanent:
            outcomes.fail(conn, ctx.outbox, row["id"], error, now, token)
            outcome.append("failed")
        else:
            text = f"in doubt: {error}" if in_doubt else error
            outcome.append(outcomes.retry(conn, ctx.outbox, row["id"], row["attempts"], text,
                                          ctx.settings, now, token))  # fmt: skip

    _persist(ctx, write)
    return "failed" if outcome[-1] == "failed" else "retry"

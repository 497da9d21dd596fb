"""The delivery pages (routes in ``web.py``): the user's inbox, and for administrators the
outbox (filter, retry, last error, the kill switch), the sandbox and the webhook targets.
Templates live in ``templates/delivery/`` and extend the pages' ``base.html``.
"""

from __future__ import annotations

import re
from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for

from ...errors import NotFound
from ...platform.auth.guards import safe_next
from ...platform.database import read_connection, transaction
from ...platform.i18n import current_locale
from ...platform.runtime import utcnow
from ...platform.web import current_actor
from ...workflow_engine.delivery import outcomes, queries, ssrf
from ...workflow_engine.delivery.channels import channel_names
from ...workflow_engine.delivery.flags import flag, kill_switch_on, set_kill_switch
from ...workflow_engine.delivery.inbox import list_messages, mark_read, unread_count
from ...workflow_engine.delivery.settings import DeliverySettings
from ...workflow_engine.delivery.targets import (
    KINDS,
    Target,
    delete_target,
    list_targets,
    save_target,
)
from ...workflow_engine.delivery.texts import text

__all__ = ["inbox", "inbox_read", "outbox", "outbox_retry", "kill_switch", "sandbox",
           "webhooks", "webhook_delete", "PAGE"]  # fmt: skip

PAGE = 50
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def _t(key: str, **params: Any) -> str:
    return text(key, current_locale(), **params)


def _settings() -> DeliverySettings:
    return DeliverySettings.from_config(current_app.config)


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, "")
    return int(value) if value.isdigit() else None


def _user_id() -> int:
    actor = current_actor()
    assert actor is not None and actor.user_id is not None
    return actor.user_id


# --- the inbox ----------------------------------------------------------------------------------


def inbox() -> Any:
    """My messages, newest first, ``PAGE`` at a time (``?before=<id>`` for older ones)."""
    user_id = _user_id()
    with read_connection() as conn:
        messages = list_messages(conn, user_id, before=_int_arg("before"), limit=PAGE)
        unread = unread_count(conn, user_id)
    older = messages[-1]["id"] if len(messages) == PAGE else None
    return render_template("delivery/inbox.html", messages=messages, unread=unread, older=older)


def inbox_read() -> Any:
    """Mark the messages ``id`` (or, with ``all``, every one) read."""
    ids = [int(i) for i in request.form.getlist("id") if i.isdigit()]
    with transaction() as conn:
        count = mark_read(conn, _user_id(), None if request.form.get("all") else ids, utcnow())
    flash(_t("marked", n=count), "success")
    return redirect(url_for("delivery.inbox"))


# --- administrators --------------------------------------------------------------------------


def outbox() -> Any:
    status = request.args.get("status") or None
    channel = request.args.get("channel") or None
    status = status if status in queries.STATUSES else None
    channel = channel if channel in channel_names() else None
    with read_connection() as conn:
        rows = queries.list_outbox(conn, status=status, channel=channel,
                                   before=_int_arg("before"), limit=PAGE)  # fmt: skip
        counts = queries.status_counts(conn)
        killed, switched = kill_switch_on(conn), flag(conn, "delivery.kill_switch")
    older = rows[-1]["id"] if len(rows) == PAGE else None
    return render_template("delivery/outbox.html", rows=rows, counts=counts, killed=killed,
                           switched=switched, status=status, channel=channel, older=older,
                           statuses=queries.STATUSES, channels=channel_names(),
                           sandbox_mode=_settings().sandbox)  # fmt: skip


def outbox_retry(row_id: int) -> Any:
    actor = current_actor()
    assert actor is not None
    with transaction() as conn:
        done = outcomes.retry_now(conn, queries.OUTBOX, row_id, utcnow(), actor.username)
    flash(_t("retried" if done else "not_retried", id=row_id), "success" if done else "error")
    back = url_for("delivery.outbox", status="failed")
    return redirect(safe_next(request.form.get("back"), back))


def kill_switch() -> Any:
    on = request.form.get("state") == "on"
    actor = current_actor()
    with transaction() as conn:
        set_kill_switch(conn, on, utcnow(), actor.user_id if actor else None)
    flash(_t("kill_done_on" if on else "kill_done_off"), "success")
    return redirect(url_for("delivery.outbox"))


def sandbox() -> Any:
    with read_connection() as conn:
        rows = queries.list_sandbox(conn, before=_int_arg("before"), limit=PAGE)
    older = rows[-1]["id"] if len(rows) == PAGE else None
    return render_template("delivery/sandbox.html", rows=rows, older=older,
                           sandbox_mode=_settings().sandbox)  # fmt: skip


# --- webhook targets --------------------------------------------------------------------------


def webhooks() -> Any:
    configured = _settings()["WEBHOOK_TARGETS"]
    errors: dict[str, str] = {}
    form = request.form if request.method == "POST" else {}
    if request.method == "POST":
        target, errors = _target_from_form()
        if target is not None and not errors:
            actor = current_actor()
            with transaction() as conn:
                save_target(conn, target, utcnow(), actor.user_id if actor else None)
            flash(_t("saved", name=target.name), "success")
            return redirect(url_for("delivery.webhooks"))
    with read_connection() as conn:
        targets = list_targets(conn, configured)
    status = 422 if errors else 200
    return render_template("delivery/webhooks.html", targets=targets, kinds=KINDS,
                           errors=errors, form=form), status  # fmt: skip


def _target_from_form() -> tuple[Target | None, dict[str, str]]:
    f = request.form
    name, kind, url = f.get("name", "").strip(), f.get("kind", ""), f.get("url", "").strip()
    allow_private = bool(f.get("allow_private"))
    errors = {}
    if not _NAME.match(name):
        errors["name"] = _t("bad_name")
    if kind not in KINDS:
        errors["kind"] = _t("bad_kind")
    try:
        ssrf.pin(url, allow_private=allow_private)
    except ssrf.Refused as exc:
        errors["url"] = _t("refused", reason=str(exc))
    target = Target(name, url, kind, f.get("secret") or None, allow_private,
                    bool(f.get("active")))  # fmt: skip
    return target, errors


def webhook_delete(name: str) -> Any:
    with transaction() as conn:
        if not delete_target(conn, name):
            raise NotFound(name)
    flash(_t("deleted", name=name), "success")
    return redirect(url_for("delivery.webhooks"))

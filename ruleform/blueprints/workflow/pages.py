"""The workflow pages (routes in ``web.py``): the transition form, the approval inbox, one
request with its actions (approve, reject, 退回, 加签, 转交, 撤回), the exception report,
delegations and the status diagram. Templates live in ``templates/workflow/`` and extend
the pages' ``base.html``.

A refused action comes back as a flashed message on the page it was taken from; a
transition form with field errors is shown again with the errors (422).
"""

from __future__ import annotations

from typing import Any

from flask import Response, flash, redirect, render_template, request, url_for
from werkzeug.routing import BuildError

from ...errors import FieldErrors, NotFound, PermissionDenied, TransitionNotAllowed, VersionConflict
from ...metadata.field_types import type_of
from ...platform.database import read_connection, transaction
from ...platform.messages import message
from ...platform.runtime import utcnow
from ...platform.web import current_runtime
from ...workflow_engine.approval_queries import ApprovalQueries
from ...workflow_engine.diagram import entity_svg
from ...workflow_engine.service import WorkflowService
from ...workflow_engine.texts import wf_text
from .api import ACTIONS, actor, parse_time, run_action
from .panel import can_withdraw, form_fields
from .texts import ui_text

__all__ = [
    "diagram",
    "transition_form",
    "inbox",
    "request_page",
    "act",
    "exceptions",
    "delegate",
    "revoke",
    "record_url",
]

_REFUSALS = (TransitionNotAllowed, VersionConflict, PermissionDenied)


def record_url(entity: str, record_id: int) -> str:
    """The record's detail page (the pages blueprint's, when installed)."""
    try:
        return url_for("pages.detail", entity=entity, record_id=record_id)
    except BuildError:
        return f"/{entity}/{record_id}"


def diagram(entity: str) -> Response:
    """The entity's status diagram as SVG (for anyone who may read the entity)."""
    runtime = current_runtime()
    model = runtime.rulebook.entities.get(entity)
    if model is None or not runtime.policy.can(actor(), model, "read"):
        raise NotFound(entity)
    svg = entity_svg(model, actor().locale or runtime.rulebook.default_locale)
    response = Response(svg, mimetype="image/svg+xml")
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    response.headers["Cache-Control"] = "private, max-age=300"
    return response


# --- taking a transition ------------------------------------------------------------------------


def transition_form(entity: str, record_id: int, name: str) -> Any:
    """GET: the form for transition ``name``; POST: take it."""
    runtime = current_runtime()
    who = actor()
    if request.method == "POST":
        payload = _form_values(runtime, entity, name)
        try:
            with transaction() as conn:
                result = WorkflowService(runtime, conn, who).apply(
                    entity,
                    record_id,
                    name,
                    payload,
                    request.form.get("row_version"),
                    comment=request.form.get("comment"),
                    reason=request.form.get("reason"),
                )
        except FieldErrors as exc:
            return _render_form(entity, record_id, name, exc.errors, payload, 422)
        except _REFUSALS as exc:
            flash(str(exc), "error")
            return redirect(record_url(entity, record_id))
        label = runtime.entity(entity).transitions[name].label.get(who.locale or "zh-CN", name)
        done = "transition_done" if result.outcome == "done" else "approval_requested"
        flash(wf_text(done, who.locale, label=label), "success")
        for warning in result.warnings:
            flash(warning, "warning")
        return redirect(record_url(entity, record_id))
    return _render_form(entity, record_id, name, {}, None, 200)


def _form_values(runtime: Any, entity: str, name: str) -> dict[str, Any]:
    model = runtime.rulebook.entities.get(entity)
    t = model.transitions.get(name) if model is not None else None
    if t is None:
        raise NotFound(name)
    values: dict[str, Any] = {}
    for field_name in t.require:
        f = model.fields.get(field_name)
        if f is None:
            continue
        if type_of(f).widget == "checkbox":
            values[field_name] = "true" if request.form.get(field_name) else "false"
        elif type_of(f).list_valued:
            values[field_name] = request.form.getlist(field_name)
        elif field_name in request.form:
            values[field_name] = request.form.get(field_name)
    return values


def _render_form(
    entity: str,
    record_id: int,
    name: str,
    errors: dict[str, list[str]],
    given: dict[str, Any] | None,
    status: int,
) -> Any:
    runtime = current_runtime()
    who = actor()
    with read_connection() as conn:
        wf = WorkflowService(runtime, conn, who)
        record, options = wf.options(entity, record_id)
        option = next((o for o in options if o.name == name), None)
        if option is None:
            raise NotFound(name)
        queries = ApprovalQueries(runtime, conn, who)
        model = wf.entity(entity)
        fields = form_fields(
            model,
            option.transition,
            record,
            who.locale or "zh-CN",
            queries.people(),
            given,
            runtime.rulebook.timezone,
        )
    body = render_template(
        "workflow/transition.html",
        entity=model,
        record=record,
        option=option,
        fields=fields,
        errors=errors,
        comment=request.form.get("comment", ""),
        reason=request.form.get("reason", ""),
        record_href=record_url(entity, record["id"]),
        locale=who.locale,
    )
    return body, status


# --- approvals --------------------------------------------------------------------------------


def inbox() -> Any:
    """My open approval tasks, my requests and my delegations."""
    with read_connection() as conn:
        q = ApprovalQueries(current_runtime(), conn, actor())
        now = utcnow()
        return render_template(
            "workflow/inbox.html",
            tasks=q.inbox(now),
            mine=q.mine(30),
            delegations=q.delegations(now),
            people=q.people(),
            record_url=record_url,
        )


def request_page(request_id: int) -> Any:
    who = actor()
    with read_connection() as conn:
        q = ApprovalQueries(current_runtime(), conn, who)
        info = q.request(request_id)
        mine = [t for t in q.inbox(utcnow()) if t["request_id"] == info["id"]]
        people = q.people() if mine else []
    earlier = [
        s
        for s in info["steps"]
        if s["status"] == "approved"
        and info["current_step"] is not None
        and s["index"] < info["current_step"]
    ]
    return render_template(
        "workflow/request.html",
        req=info,
        task=mine[0] if mine else None,
        earlier=earlier,
        people=people,
        can_withdraw=can_withdraw(info, who.user_id),
        record_href=record_url(info["entity"], info["record_id"]),
    )


def act(request_id: int, action: str) -> Any:
    """A page form's approval command; back to where it came from."""
    if action not in ACTIONS:
        raise NotFound(action)
    body = {
        "comment": request.form.get("comment"),
        "step": request.form.get("step"),
        "user": request.form.get("user"),
    }
    back = request.form.get("back") == "inbox"
    try:
        with transaction() as conn:
            run_action(WorkflowService(current_runtime(), conn, actor()), request_id, action, body)
        flash(wf_text("decision_saved", actor().locale), "success")
    except (FieldErrors, *_REFUSALS) as exc:
        flash(_error_text(exc), "error")
    if back:
        return redirect(url_for("workflow.inbox"))
    return redirect(url_for("workflow.request_page", request_id=request_id))


def exceptions() -> Any:
    """The exception report (R48): every exception request, with its reason and outcome."""
    entity = request.args.get("entity") or None
    with read_connection() as conn:
        items = ApprovalQueries(current_runtime(), conn, actor()).exceptions(entity)
    return render_template(
        "workflow/exceptions.html", items=items, record_url=record_url, entity=entity
    )


def delegate() -> Any:
    timezone = current_runtime().rulebook.timezone
    try:
        starts = parse_time(request.form.get("starts_at"), timezone, "starts_at") or utcnow()
        ends = parse_time(request.form.get("ends_at"), timezone, "ends_at")
        if ends is None:
            raise FieldErrors({"ends_at": [message("required", actor().locale)]})
        with transaction() as conn:
            ApprovalQueries(current_runtime(), conn, actor()).delegate(
                request.form.get("delegate"), starts, ends, request.form.get("reason"), utcnow()
            )
        flash(ui_text("delegation_saved"), "success")
    except FieldErrors as exc:
        flash(_error_text(exc), "error")
    return redirect(url_for("workflow.inbox"))


def revoke(delegation_id: int) -> Any:
    with transaction() as conn:
        ApprovalQueries(current_runtime(), conn, actor()).revoke(delegation_id, utcnow())
    return redirect(url_for("workflow.inbox"))


def _error_text(exc: Exception) -> str:
    if isinstance(exc, FieldErrors):
        return "; ".join(
            f"{k}: {', '.join(v)}" if not k.startswith("_") else ", ".join(v)
            for k, v in exc.errors.items()
        )
    return str(exc) or message("forbidden", actor().locale)

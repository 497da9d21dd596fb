"""The permission pages' views (see the package docstring)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Response, current_app, flash, redirect, render_template, request, url_for

from ...errors import FieldErrors, PermissionDenied
from ...platform.database import read_connection
from ...platform.i18n import label, t
from ...platform.records.exports import FORMATS, export_rows, to_csv, to_xlsx
from ...platform.records.read_audit import query_audit
from ...platform.records.transfer import transfer_records
from ...platform.web import access_limits, current_actor, current_runtime, reading, records
from ..api.access import _user, audit_query
from ..pages.common import entity_of, locale
from ..pages.listing import parse_listing
from ..pages.lookups import user_options

__all__ = ["export", "transfer", "read_audit", "why"]


def export(entity: str) -> Any:
    """The list as the user filtered it, as a file (only with the export right)."""
    fmt = request.args.get("format", "csv")
    if fmt not in FORMATS:
        fmt = "csv"
    with records() as service:
        ent = entity_of(service, entity)
        if not service.policy.can(service.actor, ent, "export"):
            raise PermissionDenied("export")
        query = parse_listing(service, ent, request.args, locale()).query()
        query.cursor, query.count = None, False
        data = export_rows(service, ent, query, limits=access_limits(),
                           max_rows=int(current_app.config.get("EXPORT_MAX_ROWS", 10_000)))  # fmt: skip
    body = to_csv(data) if fmt == "csv" else to_xlsx(data, entity)
    stamp = datetime.now().strftime("%Y%m%d-%H%M")
    return Response(body, headers={"Content-Type": FORMATS[fmt],
                                   "Content-Disposition": f'attachment; filename="{entity}-{stamp}.{fmt}"'})  # fmt: skip


def transfer(entity: str) -> Any:
    """Move every record of one person to another (R14 handover, R16 hoarding)."""
    errors: dict[str, list[str]] = {}
    form = {k: request.form.get(k, "") for k in ("from", "to", "reason")}
    if request.method == "POST":
        try:
            with records() as service:
                ent = entity_of(service, entity)
                result = transfer_records(service, ent.name, _id(form["from"]), _id(form["to"]),
                                          reason=form["reason"] or None)  # fmt: skip
            flash(t("access.transferred", count=result.count), "success")
            return redirect(url_for("pages.list_records", entity=entity), 303)
        except FieldErrors as exc:
            errors = exc.errors
    with reading() as service:
        ent = entity_of(service, entity)
        if not ent.owner or not service.policy.may_assign_owner(service.actor, ent, "update"):
            raise PermissionDenied("transfer")
        users = user_options(service)
        reasons = _reasons(ent)
    return render_template("access/transfer.html", entity=ent, users=users, form=form,
                           errors=errors, reasons=reasons), 422 if errors else 200  # fmt: skip


def _id(raw: str) -> int:
    return int(raw) if raw.isdigit() else 0


def _reasons(entity: Any) -> list[tuple[str, str]]:
    f = entity.fields.get("handover_reason")
    if f is None or not f.choices:
        return []
    return [(c.value, label(c.label, c.value)) for c in f.choices]


def read_audit() -> Any:
    """Who saw what, newest first, with filters (administrators only)."""
    _admin()
    rt = current_runtime()
    errors: dict[str, list[str]] = {}
    rows, cursor = [], None
    try:
        query = audit_query(request.args, rt.rulebook.timezone, locale(), limit=100)
        with read_connection() as conn:
            rows, cursor = query_audit(conn, rt, query)
    except FieldErrors as exc:
        errors = exc.errors
    args = {k: request.args.get(k, "") for k in ("user", "entity", "record", "since", "until")}
    return render_template("access/read_audit.html", rows=rows, cursor=cursor, args=args,
                           errors=errors, entities=rt.rulebook.entities), 422 if errors else 200  # fmt: skip


def why() -> Any:
    """The policy's reasons why a user may (not) read a record and a field."""
    _admin()
    rt = current_runtime()
    args = {k: request.args.get(k, "").strip()[:64] for k in ("user", "entity", "record", "field")}
    decision, errors = None, {}
    if args["user"] and args["entity"] and args["record"]:
        entity = rt.rulebook.entities.get(args["entity"])
        if entity is None or not args["record"].isdigit():
            errors = {"entity" if entity is None else "record": [t("invalid_filter",
                                                                   field=args["entity"])]}  # fmt: skip
        else:
            try:
                with read_connection() as conn:
                    target = _user(conn, args["user"])
                    decision = rt.policy.explain(target, entity, int(args["record"]),
                                                 args["field"] or None, conn=conn,
                                                 tables=rt.tables, locale=locale())  # fmt: skip
            except FieldErrors as exc:
                errors = exc.errors
    return render_template("access/why.html", args=args, decision=decision, errors=errors,
                           entities=rt.rulebook.entities)  # fmt: skip


def _admin() -> None:
    actor = current_actor()
    if actor is None or not actor.is_admin:
        raise PermissionDenied("administrators only")

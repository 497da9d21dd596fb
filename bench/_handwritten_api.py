"""The comparison side of bench/api.py: a hand-written Flask + SQLAlchemy Core app serving
``e_customer`` — what a careful developer would write for this one table, doing the same
checks and the same writes as Ruleform's generic endpoints, with none of the generality.

- auth: the same bearer tokens (SHA-256 lookup joined with the user and roles, then the
  department subtree) — the same two queries Ruleform's auth runs;
- ``POST /hand/customer``: JSON object, unknown keys refused, required fields, choices,
  score bounds, phone and e-mail checked, the importance score computed, the duplicate keys
  looked up (mobile; company + department), then the row, its history, its duplicate keys,
  its first status period and the ``entered`` outbox event; the record back, masked;
- ``GET /hand/customer``: the caller's row scope (department subtree for a manager), sort
  ``-updated_at``, keyset cursor, 50 a page, the count capped at 10,000, sensitive columns
  masked — the same page Ruleform answers; customers audit reads (R40), so the page writes
  a read-audit row per record and counts the caller's reads of the last hour (R47).
"""

from __future__ import annotations

import base64
import hashlib
import json
import warnings
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import phonenumbers
import sqlalchemy as sa
from flask import Flask, abort, jsonify, request

SOURCES = {"trade_show", "online", "website", "referral", "cold_call", "campaign", "other"}
SCORES = ("company_type_score", "size_score", "brand_score", "demand_score",
          "industry_position_score", "market_share_score")  # fmt: skip
WEIGHTS = (15, 20, 15, 20, 15, 15)
WRITABLE = {"company_name", "short_name", "contact_name", "contact_department", "job_title",
            "mobile", "direct_phone", "email", "wechat", "qq", "source", "source_detail",
            "industry", "segments", "next_contact_on", *SCORES}  # fmt: skip
SENSITIVE = ("mobile", "contact_birthday", "bank_account")


def _json(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _mask(value: Any) -> Any:
    if value in (None, ""):
        return value
    text = str(value)
    return "••••" + text[-2:] if len(text) > 4 else "••••"


def create_handwritten_app(url: str) -> Flask:
    """The hand-written app on the database at ``url`` (tables reflected, not declared)."""
    engine = sa.create_engine(url, connect_args={"check_same_thread": False}
                              if url.startswith("sqlite") else {})  # fmt: skip
    md = sa.MetaData()
    names = ["e_customer", "api_tokens", "users", "user_roles", "departments", "record_history",
             "duplicate_keys", "status_periods", "outbox", "read_audit"]  # fmt: skip
    with warnings.catch_warnings():  # SQLite skips the users.lower(username) index: fine here
        warnings.simplefilter("ignore", sa.exc.SAWarning)
        md.reflect(engine, only=names)
    t = md.tables
    customer, audit = t["e_customer"], t["read_audit"]
    app = Flask("handwritten")

    def actor(conn: Any) -> dict[str, Any]:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            abort(401)
        digest = hashlib.sha256(header[7:].encode()).hexdigest()
        tok, users, roles = t["api_tokens"], t["users"], t["user_roles"]
        rows = conn.execute(
            sa.select(users.c.id, users.c.department_id, users.c.active, roles.c.role)
            .select_from(tok.join(users, users.c.id == tok.c.user_id)
                         .outerjoin(roles, roles.c.user_id == users.c.id))
            .where(tok.c.token_hash == digest, tok.c.revoked_at.is_(None))
        ).all()  # fmt: skip
        if not rows or not rows[0].active:
            abort(401)
        deps = t["departments"]
        tree = sa.select(deps.c.id).where(deps.c.id == rows[0].department_id).cte(recursive=True)
        tree = tree.union_all(sa.select(deps.c.id).where(deps.c.parent_id == tree.c.id))
        subtree = list(conn.execute(sa.select(tree.c.id)).scalars())
        return {"id": rows[0].id, "department": rows[0].department_id, "subtree": subtree,
                "roles": {r.role for r in rows}}  # fmt: skip

    @app.post("/hand/customer")
    def create() -> Any:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            abort(400)
        with engine.begin() as conn:
            me = actor(conn)
            row, errors = _validate(body)
            if errors:
                return jsonify({"code": "validation_failed", "errors": errors}), 422
            dup, hist, periods, outbox = (t["duplicate_keys"], t["record_history"],
                                          t["status_periods"], t["outbox"])  # fmt: skip
            keys = _duplicate_keys(row)
            for rule, key in keys.items():
                conn.execute(sa.select(dup.c.record_id).where(
                    dup.c.entity == "customer", dup.c.rule == rule,
                    dup.c.key_hash == key).limit(20)).all()  # fmt: skip
            now = datetime.now(UTC)
            row.update(owner=me["id"], department=me["department"], status="pending_review",
                       created_at=now, updated_at=now, created_by=me["id"], updated_by=me["id"],
                       row_version=1, rulebook_version=1, last_contact_at=now, at_risk=False,
                       consent_given=False)  # fmt: skip
            new_id = conn.execute(
                customer.insert().values(**row).returning(customer.c.id)
            ).scalar_one()
            changes = {k: [None, _json(v)] for k, v in row.items() if v not in (None, "", [])}
            conn.execute(hist.insert().values(entity="customer", record_id=new_id, action="create",
                                              changes=changes, user_id=me["id"], at=now,
                                              rulebook_version=1))  # fmt: skip
            for rule, key in keys.items():
                conn.execute(dup.insert().values(entity="customer", rule=rule, record_id=new_id,
                                                 key_hash=key))  # fmt: skip
            period = conn.execute(periods.insert().values(
                entity="customer", record_id=new_id, status="pending_review", entered_at=now,
                entered_by=me["id"]).returning(periods.c.id)).scalar_one()  # fmt: skip
            conn.execute(outbox.insert().values(
                idempotency_key=f"hw:entered:customer:{new_id}:{period}", kind="event",
                channel="event", entity="customer", record_id=new_id,
                payload={"event": "entered", "name": "pending_review"}, status="pending",
                attempts=0, created_at=now, not_before=now, next_attempt_at=now))  # fmt: skip
        data = {k: (_mask(v) if k in SENSITIVE else _json(v)) for k, v in row.items()}
        response = jsonify({"data": {**data, "id": new_id}, "meta": {"version": 1}})
        response.status_code = 201
        response.headers["ETag"] = 'W/"1"'
        return response

    @app.get("/hand/customer")
    def page() -> Any:
        size = min(int(request.args.get("page_size", 50)), 200)
        cursor = request.args.get("cursor")
        with engine.begin() as conn:
            me = actor(conn)
            scope = customer.c.department.in_(me["subtree"])
            where = [scope, customer.c.archived.is_(False)]
            query = sa.select(customer).where(*where)
            if cursor:
                stamp, last = json.loads(
                    base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
                )
                at = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
                query = query.where(sa.or_(customer.c.updated_at < at,
                                           sa.and_(customer.c.updated_at == at,
                                                   customer.c.id > last)))  # fmt: skip
            query = query.order_by(customer.c.updated_at.desc(), customer.c.id).limit(size + 1)
            rows = conn.execute(query).mappings().all()
            count = None
            if not cursor:
                inner = sa.select(sa.literal(1)).select_from(customer).where(*where).limit(10_001)
                count = conn.execute(
                    sa.select(sa.func.count()).select_from(inner.subquery())
                ).scalar_one()
            # R40: customers audit reads — a row per record listed; R47: reads in the last hour
            now = datetime.now(UTC)
            shown_fields = [c.name for c in customer.columns]
            if rows:
                conn.execute(
                    audit.insert(),
                    [
                        {
                            "user_id": me["id"],
                            "entity": "customer",
                            "record_id": r["id"],
                            "fields": shown_fields,
                            "at": now,
                            "via": "list",
                        }
                        for r in rows[:size]
                    ],
                )
            conn.execute(sa.select(sa.func.count()).select_from(audit).where(
                audit.c.user_id == me["id"], audit.c.at > now - timedelta(hours=1),
                audit.c.via.in_(("view", "list", "reveal")))).scalar_one()  # fmt: skip
        data = [
            {k: (_mask(v) if k in SENSITIVE else _json(v)) for k, v in r.items()}
            for r in rows[:size]
        ]
        next_cursor = None
        if len(rows) > size:
            last = rows[size - 1]
            raw = json.dumps([_json(last["updated_at"]), last["id"]]).encode()
            next_cursor = base64.urlsafe_b64encode(raw).decode().rstrip("=")
        shown = None if count is None else min(count, 10_000)
        meta = {"next_cursor": next_cursor, "count": shown,
                "count_capped": bool(count and count > 10_000)}  # fmt: skip
        return jsonify({"data": data, "meta": meta})

    app.extensions["engine"] = engine
    return app


def _validate(body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    errors: dict[str, list[str]] = {}
    row: dict[str, Any] = {}
    for key, value in body.items():
        if key not in WRITABLE:
            errors[key] = ["Unknown field."]
        elif value not in (None, ""):
            row[key] = value.strip() if isinstance(value, str) else value
    for key in ("company_name", "contact_name", "source"):
        if not row.get(key):
            errors.setdefault(key, []).append("This field is required.")
    if len(str(row.get("company_name", ""))) > 200:
        errors["company_name"] = ["At most 200 characters."]
    if row.get("source") and row["source"] not in SOURCES:
        errors["source"] = ["Choose one of the offered options."]
    for key in SCORES:
        value = row.get(key, 1)
        if not isinstance(value, int) or not 1 <= value <= 5:
            errors[key] = ["Must be between 1 and 5."]
        row[key] = value
    if row.get("mobile"):
        try:
            number = phonenumbers.parse(str(row["mobile"]), "CN")
            if not phonenumbers.is_valid_number(number):
                raise ValueError
            row["mobile"] = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        except (phonenumbers.NumberParseException, ValueError):
            errors["mobile"] = ["Enter a valid phone number."]
    if not any(row.get(k) for k in ("mobile", "direct_phone", "email", "wechat")):
        errors.setdefault("mobile", []).append("Give at least one way to reach the contact.")
    if not errors:
        total = sum(row[k] * w for k, w in zip(SCORES, WEIGHTS, strict=True))
        row["importance_score"] = (Decimal(total) / 5).quantize(Decimal("0.01"))
    return row, errors


def _duplicate_keys(row: dict[str, Any]) -> dict[str, str]:
    def digest(*parts: Any) -> str:
        return hashlib.sha256("\x1f".join(str(p or "").lower() for p in parts).encode()).hexdigest()

    keys = {
        "same_company_department": digest(row.get("company_name"), row.get("contact_department"))
    }
    if row.get("mobile"):
        keys["same_mobile"] = digest(row["mobile"])
    return keys

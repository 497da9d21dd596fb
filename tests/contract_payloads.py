"""The contract payloads: one payload, one outcome, on every write path.

Each ``Case`` is a create payload for the CRM rulebook, the user who sends it and what must
happen: saved, or refused with errors naming (at least) ``fields``. A contract test replays
every case through each path — the REST API (tests/api/test_contract.py), the Python
``RecordService``, and the form (the pages add that leg) — against the same database state
and asserts that the outcomes are *identical*: saved with the same values, or refused with
the same per-field messages.

Write paths differ only in how a payload reaches the service, so a difference here means one
of them parses, drops or adds something it should not.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Case", "CASES", "VALID_CUSTOMER", "outcome"]

VALID_CUSTOMER: dict[str, Any] = {
    "company_name": "上海恒远精密机械有限公司",
    "contact_name": "张三",
    "mobile": "138 0013 8000",
    "source": "trade_show",
    "company_type_score": 3, "size_score": 4, "brand_score": 2,
    "demand_score": 5, "industry_position_score": 3, "market_share_score": 1,
}  # fmt: skip


@dataclass(frozen=True)
class Case:
    """A payload, its sender and the expected outcome (``fields`` empty: it is saved)."""

    name: str
    payload: dict[str, Any]
    fields: tuple[str, ...] = ()
    user: str = "sales1"
    entity: str = "customer"
    tags: tuple[str, ...] = field(default=())  # e.g. "mass_assignment", "type"

    @property
    def valid(self) -> bool:
        return not self.fields


def _c(name: str, changes: dict[str, Any], fields: tuple[str, ...] = (), *,
       drop: tuple[str, ...] = (),
       user: str = "sales1", tags: tuple[str, ...] = ()) -> Case:  # fmt: skip
    payload = {k: v for k, v in {**VALID_CUSTOMER, **changes}.items() if k not in drop}
    return Case(name, payload, fields, user, "customer", tags)


CASES: list[Case] = [
    # --- saved ------------------------------------------------------------------------------
    _c("valid_minimal", {}),
    _c(
        "valid_everything_a_salesperson_writes",
        {
            "short_name": "恒远",
            "contact_department": "采购部",
            "job_title": "经理",
            "direct_phone": "021-61234567",
            "email": "Buyer@Example.COM",
            "wechat": "hy_buyer",
            "qq": "123456",
            "source_detail": "2026 工博会",
            "industry": "manufacturing",
            "purchase_frequency": "high",
            "order_value_level": "medium",
            "segments": ["key_account", "自定义"],
            "next_contact_on": "2026-12-01",
            "consent_given": True,
            "consent_on": "2026-01-05",
            "consent_purposes": ["service"],
            "retention_until": "2029-01-05",
            "contact_birthday": "1980-02-29",
            "invoice_title": "上海恒远精密机械有限公司",
            "tax_id": "91310000MA1FL0000X",
            "bank_name": "工商银行",
            "bank_account": "6222020000000000000",
            "payment_terms": "net_30",
            "products_needed": "数控机床",
            "remarks": "首次录入",
        },
    ),
    _c("valid_lenient_types", {"size_score": "4", "consent_given": "no", "segments": "a, b；c"}),
    _c("valid_blank_optional_fields", {"email": "", "qq": None, "industry": ""}),
    _c(
        "valid_owner_by_manager", {"owner": "__sales2__"}, user="manager", tags=("mass_assignment",)
    ),
    # --- refused: values ---------------------------------------------------------------------
    _c(
        "missing_required",
        {},
        ("company_name", "contact_name", "source"),
        drop=("company_name", "contact_name", "source"),
        tags=("required",),
    ),
    _c("bad_phone", {"mobile": "12345"}, ("mobile",), tags=("type",)),
    _c("bad_email", {"email": "not-an-email"}, ("email",), tags=("type",)),
    _c("too_long", {"company_name": "x" * 201}, ("company_name",), tags=("type",)),
    _c("pattern", {"qq": "0123"}, ("qq",), tags=("type",)),
    _c("not_a_choice", {"source": "tv"}, ("source",), tags=("type",)),
    _c("choice_not_a_string", {"source": ["online"]}, ("source",), tags=("type",)),
    _c("not_an_integer", {"size_score": "four"}, ("size_score",), tags=("type",)),
    _c(
        "integer_out_of_range",
        {"size_score": 9, "brand_score": 0},
        ("size_score", "brand_score"),
        tags=("type",),
    ),
    _c("boolean_nonsense", {"consent_given": "perhaps"}, ("consent_given",), tags=("type",)),
    _c("bad_date", {"next_contact_on": "2026-02-30"}, ("next_contact_on",), tags=("type",)),
    _c(
        "multi_choice_unknown",
        {
            "consent_given": True,
            "consent_on": "2026-01-05",
            "retention_until": "2029-01-05",
            "consent_purposes": ["sales"],
        },
        ("consent_purposes",),
        tags=("type",),
    ),
    _c("object_for_text", {"company_name": {"zh": "x"}}, ("company_name",), tags=("type",)),
    # --- refused: record rules --------------------------------------------------------------
    _c("unreachable_contact", {}, ("mobile",), drop=("mobile",), tags=("rule",)),
    _c(
        "consent_incomplete",
        {"consent_given": True, "consent_on": "2026-01-05"},
        ("_record",),
        tags=("rule",),
    ),
    _c(
        "retention_before_consent",
        {
            "consent_given": True,
            "consent_on": "2026-01-05",
            "consent_purposes": ["service"],
            "retention_until": "2025-01-01",
        },
        ("retention_until",),
        tags=("rule",),
    ),
    # --- refused: unknown and mass-assigned fields --------------------------------------------
    _c("unknown_field", {"bogus": 1}, ("bogus",), tags=("unknown",)),
    _c(
        "unknown_fields_and_bad_values",
        {"bogus": 1, "mobile": "1"},
        ("bogus", "mobile"),
        tags=("unknown",),
    ),
    *[
        _c(f"system_{name}", {name: value}, (name,), tags=("mass_assignment",))
        for name, value in [
            ("id", 1),
            ("row_version", 5),
            ("created_at", "2020-01-01T00:00:00Z"),
            ("created_by", 1),
            ("updated_at", "2020-01-01T00:00:00Z"),
            ("updated_by", 1),
            ("archived", True),
            ("archived_at", None),
            ("rulebook_version", 9),
            ("status", "won"),
        ]
    ],
    _c("owner_by_salesperson", {"owner": "__sales2__"}, ("owner",), tags=("mass_assignment",)),
    _c("department_by_salesperson", {"department": 1}, ("department",), tags=("mass_assignment",)),
    _c("read_only_field", {"at_risk": True}, ("at_risk",), tags=("mass_assignment",)),
    _c(
        "computed_field", {"importance_score": 99}, ("importance_score",), tags=("mass_assignment",)
    ),
    _c(
        "unwritable_for_the_role",
        {"credit_limit": "1000"},
        ("credit_limit",),
        tags=("mass_assignment",),
    ),
]


def resolve(payload: dict[str, Any], users: dict[str, int]) -> dict[str, Any]:
    """Replace ``"__<username>__"`` placeholders by that user's id."""
    out = {}
    for key, value in payload.items():
        if isinstance(value, str) and value.startswith("__") and value.endswith("__"):
            value = users[value[2:-2]]
        out[key] = value
    return out


#: Values that differ between two saves of the same payload (ids, clocks, defaults of now()).
VOLATILE = frozenset({"id", "created_at", "updated_at", "last_contact_at"})


def outcome(saved: dict[str, Any] | None, errors: dict[str, list[str]] | None) -> dict[str, Any]:
    """A comparable outcome: the saved values (JSON form, volatile ones left out) or the errors."""
    if errors is not None:
        return {"refused": {k: list(v) for k, v in errors.items()}}
    assert saved is not None
    return {"saved": {k: v for k, v in saved.items() if k not in VOLATILE}}

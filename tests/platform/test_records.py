"""The record service on the CRM rulebook: the rules a user relies on when saving records."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from ruleform.app import state
from ruleform.errors import FieldErrors, NotFound, PermissionDenied, VersionConflict
from ruleform.platform.actors import load_actor
from ruleform.platform.records import Filter, ListQuery, RecordService, run_list

pytestmark = pytest.mark.app

CUSTOMER = {
    "company_name": "上海恒远精密机械有限公司",
    "contact_name": "张三",
    "mobile": "138 0013 8000",
    "source": "trade_show",
    "company_type_score": 3, "size_score": 4, "brand_score": 2,
    "demand_score": 5, "industry_position_score": 3, "market_share_score": 1,
}  # fmt: skip


@pytest.fixture
def as_user(app, org):
    """Run ``fn(service)`` as ``username`` in one transaction."""
    st = state(app)

    def run(username, fn):
        with st.engine.begin() as conn:
            return fn(RecordService(st.runtime, conn, load_actor(conn, org.user(username))))

    return run


def _create(as_user, username="sales1", **extra):
    return as_user(username, lambda s: s.create("customer", {**CUSTOMER, **extra}))


def test_R01_phone_and_email_are_validated_and_normalised(as_user):
    with pytest.raises(FieldErrors) as err:
        _create(as_user, mobile="12345", email="not-an-email")
    assert set(err.value.errors) >= {"mobile", "email"}
    view = _create(as_user, email="Zhang.San@EXAMPLE.com")
    full = as_user("sales1", lambda s: s.get("customer", view.id, reveal=["mobile"]))
    assert full.values["mobile"] == "+8613800138000"
    assert full.values["email"] == "Zhang.San@example.com"


def test_every_error_is_reported_at_once_and_nothing_is_saved(app, as_user):
    with pytest.raises(FieldErrors) as err:
        as_user(
            "sales1",
            lambda s: s.create("customer", {"company_name": "x", "mobile": "1", "bogus": 1}),
        )
    assert {"mobile", "bogus", "contact_name", "source"} <= set(err.value.errors)
    with state(app).engine.connect() as conn:
        assert conn.execute(sa.text("select count(*) from e_customer")).scalar() == 0


def test_R03_importance_score_is_computed_on_save(as_user):
    view = _create(as_user)
    expected = Decimal(3 * 15 + 4 * 20 + 2 * 15 + 5 * 20 + 3 * 15 + 1 * 15) / 5
    assert view.values["importance_score"] == expected


def test_R12_append_only_field_keeps_original_and_records_supplement(as_user):
    view = _create(as_user)
    as_user(
        "sales1",
        lambda s: s.update("customer", view.id, {"company_name": "改过的名字"}, view.version),
    )
    after = as_user("sales1", lambda s: s.get("customer", view.id))
    assert after.values["company_name"] == CUSTOMER["company_name"]
    assert [x["text"] for x in after.supplements["company_name"]] == ["改过的名字"]


def test_system_columns_and_status_cannot_be_mass_assigned(as_user):
    for field in ("status", "id", "row_version", "created_at", "owner"):
        with pytest.raises(FieldErrors) as err:
            _create(as_user, **{field: "1" if field != "status" else "won"})
        assert field in err.value.errors


def test_R28_salesperson_cannot_read_or_update_anothers_customer(as_user):
    view = _create(as_user, "sales1")
    with pytest.raises(NotFound):
        as_user("sales2", lambda s: s.get("customer", view.id))
    with pytest.raises(NotFound):
        as_user("sales2", lambda s: s.update("customer", view.id, {"qq": "12345"}, 1))
    manager = as_user("manager", lambda s: s.get("customer", view.id))
    assert manager.values["company_name"] == CUSTOMER["company_name"]


def test_stale_version_is_refused_not_overwritten(as_user):
    view = _create(as_user)
    as_user("sales1", lambda s: s.update("customer", view.id, {"qq": "11111"}, view.version))
    with pytest.raises(VersionConflict):
        as_user("sales1", lambda s: s.update("customer", view.id, {"qq": "22222"}, view.version))
    assert as_user("sales1", lambda s: s.get("customer", view.id)).values["qq"] == "11111"


def test_role_without_create_right_is_refused(as_user):
    with pytest.raises(PermissionDenied):
        _create(as_user, "finance")


def test_R33_history_records_who_changed_what_from_what_to_what(app, as_user, org):
    view = _create(as_user)
    as_user("sales1", lambda s: s.update("customer", view.id, {"qq": "12345"}, view.version))
    with state(app).engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "select action, changes, user_id from record_history where record_id = :id "
                "order by id"
            ),
            {"id": view.id},
        ).all()
    assert [r.action for r in rows] == ["create", "update"]
    changes = (
        rows[1].changes
        if isinstance(rows[1].changes, dict)
        else __import__("json").loads(rows[1].changes)
    )
    assert changes["qq"] == [None, "12345"]
    assert rows[1].user_id == org.user("sales1")


def test_list_filters_sorts_and_pages_inside_the_database(as_user):
    for i in range(7):
        _create(as_user, company_name=f"公司{i}", qq=str(10000 + i), mobile=f"1380013800{i}")
    _create(as_user, "sales2", company_name="别人的公司")

    def page(s, cursor=None):
        return run_list(
            s,
            s.rt.entity("customer"),
            ListQuery(sort=[], cursor=cursor, page_size=3, filters=[Filter("qq", "ge", "10002")]),
        )

    seen, cursor = [], None
    while True:
        result = as_user("sales1", lambda s, c=cursor: page(s, c))
        seen += [r["company_name"] for r in result.rows]
        if result.next_cursor is None:
            break
        cursor = result.next_cursor
    assert sorted(seen) == [f"公司{i}" for i in range(2, 7)]
    assert len(seen) == len(set(seen))


def test_filtering_on_a_field_the_role_cannot_read_is_refused(as_user):
    _create(as_user)
    with pytest.raises(FieldErrors):
        as_user(
            "finance",
            lambda s: run_list(
                s, s.rt.entity("customer"), ListQuery(filters=[Filter("qq", "eq", "12345")])
            ),
        )

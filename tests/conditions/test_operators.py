"""Every operator, run in Python and in SQL on SQLite and PostgreSQL: both must select the
same records, and the ones expected. Records are in ``schema.py``; ``now()`` is Wednesday
2026-03-04 10:30 in Shanghai (02:30 UTC)."""

from __future__ import annotations

import pytest

from ruleform.metadata.conditions import UserContext

CASES = [
    # comparison, and null
    ("status = 'won'", {1}),
    ("status != 'won'", {2, 3}),
    ("not (status = 'won')", {2, 3, 4}),
    ("status = 'won' or status != 'won'", {1, 2, 3}),
    ("employees = 0", {4}),
    ("amount >= 99.5", {1, 2}),
    ("amount < 0", {4}),
    ("amount > 100 or amount < 0", {1, 4}),
    ("not (amount > 100)", {2, 3, 4}),
    ("amount <= 99.50 and amount > -3.25", {2}),
    ("employees != amount", {1, 2, 4}),
    # membership
    ("status in ['won', 'lost']", {1, 3}),
    ("status not in ['won', 'lost']", {2}),
    ("not (status in ['won', 'lost'])", {2, 4}),
    ("employees in [5, 120]", {1, 2}),
    ("amount in [employees, 99.5]", {2}),
    ("signed_on in [today(), date('2026-03-02')]", {2, 4}),
    # emptiness
    ("status is empty", {4}),
    ("status is not empty", {1, 2, 3}),
    ("email is empty", {2, 3}),
    ("email is not empty", {1, 4}),
    ("amount is empty", {3}),
    ("not (amount is empty)", {1, 2, 4}),
    ("tags is empty", {2, 3}),
    ("tags is not empty", {1, 4}),
    ("channels is empty", {3, 4}),
    ("signed_on is empty", {3}),
    # arithmetic
    ("employees * 2 > 9", {1, 2}),
    ("amount / 2 < 50", {2, 4}),
    ("employees / 4 = 1.25", {2}),
    ("employees / 0 = 1", set()),
    ("not (employees / 0 = 1)", {1, 2, 3, 4}),
    ("-amount > 0", {4}),
    ("amount + employees > 100", {1, 2}),
    ("(amount - 1) * 2 = 197", {2}),
    ("employees - 1 < 0", {4}),
    # text (case-sensitive; % and _ are plain characters)
    ("name contains 'acme'", {4}),
    ("name contains 'ACME'", {3}),
    ("name contains '%'", {2}),
    ("name contains '_'", {2}),
    ("name contains '0% P'", {2}),
    ("name contains 'a_m'", set()),
    ("name contains 'ac%e'", set()),
    ("name contains '某某'", {1}),
    ("name starts with '上海'", {1}),
    ("name starts with 'acme'", {4}),
    ("name starts with 'ACME'", {3}),
    ("name starts with '1_0'", set()),
    ("name ends with 'Water'", {2}),
    ("name ends with 'water'", set()),
    ("name ends with ''", {1, 2, 3, 4}),
    ("name contains ''", {1, 2, 3, 4}),
    ("not (name contains 'acme')", {1, 2, 3}),
    ("email contains '@'", {1, 4}),
    ("not (email contains '@')", {2, 3}),
    ("name contains status", set()),
    ("'acme' starts with name", {4}),
    ("name < 'B'", {2, 3}),
    ("name > 'a'", {1, 4}),
    ("name >= 'acme'", {1, 4}),
    # lists
    ("tags contains 'vip'", {1}),
    ("tags contains 'VIP'", {4}),
    ("not (tags contains 'vip')", {2, 3, 4}),
    ("channels contains 'web' or channels contains 'shop'", {1, 2}),
    ("tags contains name", set()),
    # booleans
    ("vip", {1}),
    ("not vip", {2, 3, 4}),
    ("vip = false", {2, 4}),
    ("vip != true", {2, 4}),
    ("vip is empty", {3}),
    ("vip = (amount > 100)", {1, 2, 4}),
    ("vip and status = 'won'", {1}),
    ("true", {1, 2, 3, 4}),
    ("false", set()),
    ("1 = 1 and status = 'won'", {1}),
    ("(status = 'won' or status = 'lost') and not (vip = true)", {3}),
    # dates and times
    ("signed_on = date('2026-03-02')", {2}),
    ("signed_on = '2026-03-02'", {2}),
    ("signed_on < today()", {1, 2}),
    ("signed_on >= today()", {4}),
    ("today() > signed_on", {1, 2}),
    ("signed_on + 3 days <= today()", {1}),
    ("3 days + signed_on <= today()", {1}),
    ("signed_on - 1 days >= today() - 2 days", {4}),
    ("signed_on + 1 weeks > today()", {1, 2, 4}),
    ("signed_on > today() - 2 working days", {4}),
    ("signed_on >= today() - 2 working days", {2, 4}),
    ("created_at >= today()", {2, 4}),
    ("created_at < today()", {1, 3}),
    ("created_at >= '2026-03-03T16:00:00Z'", {2, 4}),
    ("created_at >= datetime('2026-03-04T00:00:00')", {2, 4}),
    ("signed_on < now()", {1, 2, 4}),
    ("signed_on = now()", set()),
    ("signed_on != now()", {1, 2, 4}),
    ("signed_on + 1 days > now()", {4}),
    ("signed_on + 2 days >= now() + 1 hours", {4}),
    ("signed_on + 2 days >= now() - 11 hours", {2, 4}),
    ("now() < signed_on + 2 days", {4}),
    ("last_contact_at > now() - 24 hours", {2, 4}),
    ("last_contact_at + 2 days > now()", {2, 4}),
    ("last_contact_at + 30 minutes - 1 hours >= now() - 1 hours", {4}),
    ("last_contact_at < now() - 4 working hours", {1}),
    ("last_contact_at >= now() - 1 working days", {2, 4}),
    ("last_contact_at >= now() - 1 working day", {2, 4}),
    ("last_contact_at > now() - 1 weeks and signed_on > today() - 1 weeks", {2, 4}),
    # the current user
    ("owner = current_user", {1}),
    ("owner = current_user.id", {1}),
    ("owner != current_user", {2, 3}),
    ("not (owner = current_user)", {2, 3, 4}),
    ("owner in [current_user, 8]", {1, 2}),
    ("department = current_user.department", {1}),
    ("department in current_user.departments", {1, 2}),
    ("department not in current_user.departments", {3}),
    ("current_user has role 'sales'", {1, 2, 3, 4}),
    ("current_user has role 'finance'", set()),
    ("owner = current_user or current_user has role 'sales_manager'", {1}),
    ("owner = 8", {2}),
    # references, one step
    ("partner.level = 'a'", {1}),
    ("partner.level != 'a'", {2}),
    ("not (partner.level = 'a')", {2, 3, 4}),
    ("partner.tags contains 'gold'", {1}),
    ("partner.tags is empty", {2, 3, 4}),
    ("partner.name starts with 'A'", {1}),
    ("partner = 2", {2}),
    # related records
    ("count(activity) = 3", {1}),
    ("count(activity) = 0", {3, 4}),
    ("count(activity where kind = 'call') >= 2", {1}),
    ("count(activity where kind = 'call' and happened_at > now() - 2 days) = 1", {1}),
    ("count(activity where minutes is empty) > 0", {2}),
    ("count(activity where not (minutes > 5)) = 1", {1, 2}),
    ("count(activity where customer.status = 'won') > 0", {1}),
    ("count(activity where happened_at + 2 days > now()) > 0", {1}),
    ("count(activity where kind in ['call', 'visit']) > employees", set()),
    ("count(activity) * 10 > employees", {2}),
    # injection attempts are values
    ("name = '\\'; DROP TABLE customer; --'", set()),
    ("name = \"x' OR '1'='1\"", set()),
    ("name contains '\\\\'", set()),
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[0] for c in CASES])
def test_python_and_sql_select_the_same_records(sample_db, text, expected):
    assert sample_db.ids(text) == expected


def test_without_a_user_the_user_conditions_are_false(sample_db):
    assert sample_db.ids("owner = current_user", user=None) == set()
    assert sample_db.ids("not (owner = current_user)", user=None) == {1, 2, 3, 4}
    assert sample_db.ids("current_user has role 'sales'", user=None) == set()
    assert sample_db.ids("department in current_user.departments", user=None) == set()
    assert sample_db.ids("department not in current_user.departments", user=None) == {1, 2, 3}
    assert sample_db.ids("current_user is empty", user=None) == {1, 2, 3, 4}


def test_a_user_without_a_department(sample_db):
    user = UserContext(id=8, roles=frozenset(), department=None)
    assert sample_db.ids("department = current_user.department", user=user) == set()
    assert sample_db.ids("department in [current_user.department, 3]", user=user) == {1}
    assert sample_db.ids("department not in [current_user.department, 3]", user=user) == set()


def test_the_table_survives_an_injection_attempt(sample_db):
    sample_db.ids("name = '\\'; DROP TABLE customer; --'")
    assert sample_db.ids("status = 'won'") == {1}


def test_related_entity_conditions_run_on_their_own_table(sample_db):
    assert sample_db.ids("kind = 'call' and customer.vip", entity="activity") == {1, 3}
    assert sample_db.ids("customer.partner = 1", entity="activity") == {1, 2, 3}
    assert sample_db.ids("count(customer) = 1", entity="partner") == {1, 2}
    assert sample_db.ids("count(customer where count(activity) > 2) = 1", entity="partner") == {1}

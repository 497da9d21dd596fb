"""List pages: keyset pagination, sorting, filters, search and capped counts."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta

import pytest

from ruleform.app import state
from ruleform.platform.actors import load_actor
from ruleform.platform.records import RecordService
from tests.pages.rulebooks import kitchen

pytestmark = pytest.mark.app


def small_pages(size: int = 4) -> dict:
    rulebook = kitchen()
    rulebook["entities"]["thing"]["views"]["all"]["page_size"] = size
    return rulebook


def seed(app, org, username: str, count: int) -> list[str]:
    """``count`` things owned by ``username``; every third has no due date."""
    st = state(app)
    names = []
    with st.engine.begin() as conn:
        service = RecordService(st.runtime, conn, load_actor(conn, org[username]))
        for i in range(count):
            name = f"thing-{i:02d}"
            due = None if i % 3 == 0 else (date(2026, 1, 1) + timedelta(days=i % 5)).isoformat()
            service.create("thing", {"name": name, "due": due, "qty": i % 4,
                                     "kind": "alpha" if i % 2 else "beta"})  # fmt: skip
            names.append(name)
    return names


def organisation(app) -> dict[str, int]:
    import sqlalchemy as sa

    with state(app).engine.connect() as conn:
        return dict(conn.execute(sa.text("select username, id from users")).all())


def rows_of(body: str) -> list[str]:
    return re.findall(r'class="row-link" href="/thing/\d+">([^<]+)</a>', body)


def next_link(body: str) -> str | None:
    match = re.search(r'<a class="btn" rel="next" href="([^"]+)"', body)
    return html.unescape(match.group(1)) if match else None


@pytest.mark.parametrize("sort", ["due", "-due", "-qty", "name"])
def test_keyset_pagination_walks_every_row_exactly_once(make_app, sort):
    app, pages = make_app(small_pages(4))
    names = seed(app, organisation(app), "sales2", 11)
    client = pages.client("sales2")
    seen, url, pages_walked = [], f"/thing?sort={sort}", 0
    while url:
        response = client.get(url)
        assert response.status_code == 200
        body = response.get_data(as_text=True)
        seen += rows_of(body)
        pages_walked += 1
        if pages_walked > 1:
            assert "First page" in body
        url = next_link(body)
    assert sorted(seen) == sorted(names)
    assert len(seen) == len(set(seen)) == 11
    assert pages_walked == 3


def test_nulls_sort_last_in_both_directions(make_app):
    app, pages = make_app(small_pages(50))
    seed(app, organisation(app), "sales2", 6)
    client = pages.client("sales2")
    for sort in ("due", "-due"):
        shown = rows_of(client.get(f"/thing?sort={sort}").get_data(as_text=True))
        assert set(shown[-2:]) == {"thing-00", "thing-03"}  # no due date


def test_count_is_capped_and_formatted(make_app):
    app, pages = make_app(small_pages(4), LIST_COUNT_CAP=5)
    seed(app, organisation(app), "sales2", 7)
    body = pages.client("sales2").get("/thing").get_data(as_text=True)
    assert "5+ records" in body
    with app.test_request_context(headers={"Accept-Language": "en"}):
        from ruleform.platform.i18n import format_num, t

        assert t("page.count_capped", count=format_num(10_000)) == "10,000+ records"


def test_sortable_headers_only_for_sortable_readable_columns(make_app):
    app, pages = make_app(small_pages(4))
    seed(app, organisation(app), "sales2", 2)
    body = pages.client("sales2").get("/thing").get_data(as_text=True)
    assert "sort=-name" in body  # sorted by name ascending now: the header flips it
    assert 'aria-sort="ascending"' in body
    assert "sort=secret" not in body and "sort=-secret" not in body  # sensitive: not sortable


def test_filters_and_search(make_app):
    app, pages = make_app(small_pages(50))
    seed(app, organisation(app), "sales2", 9)
    client = pages.client("sales2")
    body = client.get("/thing?f.kind=alpha").get_data(as_text=True)
    assert rows_of(body) and all(int(n[-2:]) % 2 == 1 for n in rows_of(body))
    assert '<option value="alpha" selected>' in body
    dated = rows_of(
        client.get("/thing?f.due.from=2026-01-03&f.due.to=2026-01-04").get_data(as_text=True)
    )
    assert dated and all(int(n[-2:]) % 5 in (2, 3) and int(n[-2:]) % 3 for n in dated)
    assert rows_of(client.get("/thing?q=thing-07").get_data(as_text=True)) == ["thing-07"]
    numbers = rows_of(client.get("/thing?f.qty.from=3").get_data(as_text=True))
    assert numbers and all(int(n[-2:]) % 4 == 3 for n in numbers)


def test_bad_filter_is_reported_on_the_page(make_app):
    app, pages = make_app(small_pages(50))
    response = pages.client("sales2").get("/thing?f.due.from=yesterday")
    assert response.status_code == 422
    assert "Enter a date as YYYY-MM-DD." in response.get_data(as_text=True)


def test_sensitive_columns_are_masked_in_lists(make_app):
    app, pages = make_app(small_pages(50))
    st = state(app)
    org = organisation(app)
    with st.engine.begin() as conn:
        service = RecordService(st.runtime, conn, load_actor(conn, org["sales2"]))
        service.create("thing", {"name": "S", "secret": "topsecret"})
    body = pages.client("sales2").get("/thing").get_data(as_text=True)
    assert "topsecret" not in body and "••••et" in body


def test_archived_records_are_hidden(make_app):
    app, pages = make_app(small_pages(50))
    st = state(app)
    org = organisation(app)
    with st.engine.begin() as conn:
        service = RecordService(st.runtime, conn, load_actor(conn, org["manager"]))
        kept = service.create("thing", {"name": "kept"})
        gone = service.create("thing", {"name": "gone"})
        service.archive("thing", gone.id, gone.version)
    body = pages.client("manager").get("/thing").get_data(as_text=True)
    assert "kept" in rows_of(body) and "gone" not in rows_of(body)
    assert kept.id

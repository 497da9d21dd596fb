"""Language selection, message tables, security headers and CSRF on page POSTs."""

from __future__ import annotations

import re
import string

import pytest

from ruleform.app import state
from ruleform.platform.auth.users import create_user
from ruleform.platform.messages import MESSAGES
from tests.auth import logged_in_client, login

pytestmark = pytest.mark.app


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_message_exists_in_both_locales_with_the_same_placeholders():
    en, zh = MESSAGES["en"], MESSAGES["zh-CN"]
    assert set(en) == set(zh), set(en) ^ set(zh)
    for key in en:
        assert _placeholders(en[key]) == _placeholders(zh[key]), key


def test_page_messages_are_grouped_under_pages():
    source = open(__import__("ruleform.platform.messages", fromlist=["x"]).__file__).read()
    assert source.count("# pages") == 2


def test_language_follows_the_users_preference(pages):
    zh = pages.client("sales1", accept_language="en").get("/customer").get_data(as_text=True)
    assert '<html lang="zh-CN"' in zh and "客户" in zh  # sales1 prefers zh-CN
    en = pages.client("sales2", accept_language="zh-CN").get("/customer").get_data(as_text=True)
    assert '<html lang="en"' in en and "Customers" in en  # sales2 prefers en


def test_without_a_preference_accept_language_decides(pages, app, org):
    with state(app).engine.begin() as conn:
        create_user(conn, "nolocale", "demo-password", display_name="No Locale",
                    department_id=org.departments["sales"], roles=["sales"])  # fmt: skip
    client = pages.client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en-GB,en;q=0.9"
    login(client, "nolocale", "demo-password")
    assert '<html lang="en"' in client.get("/customer").get_data(as_text=True)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN,zh;q=0.9"
    assert '<html lang="zh-CN"' in client.get("/customer").get_data(as_text=True)


def test_language_switch_sets_cookie_and_preference(pages):
    client = pages.client("sales1")
    response = client.post("/lang", data={"lang": "en", "next": "/customer"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/customer")
    assert "lang=en" in response.headers.get("Set-Cookie", "")
    assert '<html lang="en"' in client.get("/customer").get_data(as_text=True)
    evil = client.post("/lang", data={"lang": "zh-CN", "next": "//evil.example/"})
    assert evil.headers["Location"] in ("/", "http://localhost/")  # no open redirect


def test_anonymous_language_switch_uses_the_cookie(pages):
    client = pages.client()
    client.post("/lang", data={"lang": "en", "next": "/"})
    login = client.get("/login")
    if login.status_code == 200:
        assert '<html lang="en"' in login.get_data(as_text=True)


def test_security_headers_on_pages_and_error_pages(pages):
    client = pages.client("sales1")
    for url in ("/customer", "/customer/new", "/customer/999999"):
        response = client.get(url)
        csp = response.headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Referrer-Policy"]


def test_pages_have_no_inline_scripts_or_styles(pages):
    body = pages.client("sales1").get("/customer/new").get_data(as_text=True)
    assert not re.search(r"<script(?![^>]*\bsrc=)", body)
    assert " style=" not in body and "<style" not in body
    assert re.search(r'<script src="/static/pages/ruleform\.js\?v=\w+" defer>', body)
    assert pages.client("sales1").get("/static/pages/ruleform.css").status_code == 200


def test_page_posts_need_a_csrf_token(make_app):
    from tests.pages.rulebooks import kitchen

    app, pages = make_app(kitchen(), WTF_CSRF_ENABLED=True)
    client = logged_in_client(app, "sales2")
    refused = client.post("/thing/new", data={"name": "x", "_fields": ["name"]})
    assert refused.status_code == 400
    page = client.get("/thing/new").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    accepted = client.post("/thing/new", data={"name": "x", "_fields": ["name"],
                                               "csrf_token": token})  # fmt: skip
    assert accepted.status_code == 303
    state_ok = client.post("/thing/form-state", data={}, headers={"X-CSRFToken": token})
    assert state_ok.status_code == 200

"""The administrators' pages: users and departments. Admins only; every write checked."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from ruleform.app import state
from ruleform.platform.auth.users import find_user, get_department, get_user
from tests.auth import logged_in_client, sign_in

pytestmark = pytest.mark.app

PAGES = ["/admin/users", "/admin/users/new", "/admin/users/1", "/admin/users/1/password",
         "/admin/departments", "/admin/departments/new", "/admin/departments/1"]  # fmt: skip
POSTS = ["/admin/users/new", "/admin/users/1", "/admin/users/1/deactivate",
         "/admin/users/1/reactivate", "/admin/users/1/password", "/admin/departments/new",
         "/admin/departments/1"]  # fmt: skip


@pytest.fixture
def admin(app):
    return logged_in_client(app, "admin")


def user_form(**values):
    data = {"username": "newbie", "display_name": "新人", "email": "newbie@example.com",
            "department_id": "", "manager_id": "", "roles": ["sales"], "locale": "en",
            "active": "y", "password": "first-password-1"}  # fmt: skip
    data.update(values)
    return {k: v for k, v in data.items() if v is not None}


@pytest.mark.parametrize("username", ["sales1", "manager", "gm", "it"])
def test_everyone_but_admins_gets_403(app, username):
    client = sign_in(app.test_client(), username)
    for path in PAGES:
        assert client.get(path).status_code == 403, path
    for path in POSTS:
        assert client.post(path, data=user_form()).status_code == 403, path
    with state(app).engine.connect() as conn:
        assert find_user(conn, "newbie") is None


def test_anonymous_visitors_are_sent_to_login(client):
    response = client.get("/admin/users")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=/admin/users")
    assert client.post("/admin/users/new", data=user_form()).status_code == 302


def test_the_user_list_searches_and_filters(app, admin, org):
    page = admin.get("/admin/users").get_data(as_text=True)
    assert "sales1" in page and "张伟" in page and "销售人员" in page
    found = admin.get("/admin/users?q=sales").get_data(as_text=True)
    assert ">sales3<" in found and ">finance<" not in found
    from ruleform.platform.auth.users import deactivate_user

    with state(app).engine.begin() as conn:
        deactivate_user(conn, org.user("sales2"))
    assert ">sales2<" not in admin.get("/admin/users").get_data(as_text=True)
    assert ">sales2<" in admin.get("/admin/users?active=no").get_data(as_text=True)
    assert ">sales2<" in admin.get("/admin/users?active=all").get_data(as_text=True)
    assert admin.get("/admin/users?q=%25&active=bogus&page=x").status_code == 200


def test_admin_creates_a_user_who_can_then_log_in(app, admin, org):
    response = admin.post("/admin/users/new", data=user_form(
        department_id=str(org.departments["sales"]),
        manager_id=str(org.user("manager"))))  # fmt: skip
    assert response.status_code == 302, response.get_data(as_text=True)
    with state(app).engine.connect() as conn:
        user = find_user(conn, "newbie")
        user = get_user(conn, user["id"])
    assert user["roles"] == ["sales"]
    assert user["department_id"] == org.departments["sales"]
    assert user["manager_id"] == org.user("manager")
    assert user["locale"] == "en" and user["active"]
    assert user["password_hash"].startswith("$argon2id$")
    newbie = sign_in(app.test_client(), "newbie", "first-password-1")
    assert newbie.get("/account/password").status_code == 200
    assert newbie.get("/admin/users").status_code == 403


def test_one_account_per_person_usernames_are_case_insensitive(app, admin):
    response = admin.post("/admin/users/new", data=user_form(username="Sales1"))
    assert response.status_code == 422
    assert "该用户名已被使用" in response.get_data(as_text=True)  # the admin reads Chinese
    with state(app).engine.connect() as conn:
        count = conn.execute(sa.text("select count(*) from users where lower(username) = 'sales1'"))
        assert count.scalar() == 1


def test_the_form_refuses_bad_values_and_shows_why(admin):
    response = admin.post("/admin/users/new", data=user_form(
        username="two words", email="not-an-email", password="short", roles=["no_such_role"],
        department_id="999999"))  # fmt: skip
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert page.count('class="field__error"') >= 3


def test_text_is_escaped(app, admin):
    evil = "<script>alert(1)</script>"
    admin.post("/admin/users/new", data=user_form(username="xss", display_name=evil))
    page = admin.get("/admin/users").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_admin_edits_a_user(app, admin, org):
    uid = org.user("sales3")
    page = admin.get(f"/admin/users/{uid}").get_data(as_text=True)
    assert 'value="sales3"' in page
    response = admin.post(f"/admin/users/{uid}", data=user_form(
        username="sales3", display_name="陈静静", roles=["sales", "customer_service"],
        department_id=str(org.departments["service"]), password=None))  # fmt: skip
    assert response.status_code == 302, response.get_data(as_text=True)
    with state(app).engine.connect() as conn:
        user = get_user(conn, uid)
    assert user["display_name"] == "陈静静"
    assert user["roles"] == ["customer_service", "sales"]
    assert user["department_id"] == org.departments["service"]


def test_a_manager_chain_cannot_loop(admin, org):
    # manager reports to gm; making gm report to manager would close a loop
    response = admin.post(f"/admin/users/{org.user('gm')}", data=user_form(
        username="gm", roles=["general_manager"], manager_id=str(org.user("sales1")),
        password=None))  # fmt: skip
    assert response.status_code == 422
    assert "该上级直接或间接向此用户汇报" in response.get_data(as_text=True)


def test_deactivate_and_reactivate(app, admin, org):
    uid = org.user("sales2")
    sales2 = sign_in(app.test_client(), "sales2")
    assert admin.post(f"/admin/users/{uid}/deactivate").status_code == 302
    assert sales2.get("/account/password").status_code == 302  # logged out at once
    again = app.test_client().post("/login", data={"username": "sales2", "password": "demo"})
    assert again.status_code == 200
    assert admin.post(f"/admin/users/{uid}/reactivate").status_code == 302
    sign_in(app.test_client(), "sales2")


def test_admins_cannot_deactivate_themselves(app, admin, org):
    admin.post(f"/admin/users/{org.user('admin')}/deactivate")
    with state(app).engine.connect() as conn:
        assert get_user(conn, org.user("admin"))["active"]
    assert admin.get("/admin/users").status_code == 200


def test_admin_resets_a_password(app, admin, org):
    uid = org.user("finance")
    finance = sign_in(app.test_client(), "finance")
    response = admin.post(f"/admin/users/{uid}/password", data={
        "new_password": "reset-by-admin-1", "confirm_password": "reset-by-admin-1"})  # fmt: skip
    assert response.status_code == 302
    assert finance.get("/account/password").status_code == 302
    sign_in(app.test_client(), "finance", "reset-by-admin-1")


def test_unknown_ids_are_404(admin):
    assert admin.get("/admin/users/999999").status_code == 404
    assert admin.get("/admin/departments/999999").status_code == 404
    assert admin.post("/admin/users/999999/deactivate").status_code == 404


# --- departments -----------------------------------------------------------------------------


def test_the_department_tree_shows_nesting(admin):
    page = admin.get("/admin/departments").get_data(as_text=True)
    company, sales, east = (page.index(name) for name in ("总公司", "销售部", "华东销售组"))
    assert company < sales < east
    nested = re.search(r"销售部</a>.*?<ul>.*?华东销售组", page, re.S)
    assert nested is not None


def test_admin_creates_and_edits_a_department(app, admin, org):
    response = admin.post("/admin/departments/new", data={
        "name": "sales_north", "label_zh": "华北销售组", "label_en": "Sales North",
        "parent_id": str(org.departments["sales"]),
        "manager_id": str(org.user("manager"))})  # fmt: skip
    assert response.status_code == 302, response.get_data(as_text=True)
    new_id = int(response.headers["Location"].rsplit("/", 1)[1])
    response = admin.post(f"/admin/departments/{new_id}", data={
        "name": "sales_north", "label_zh": "华北大区", "label_en": "North",
        "parent_id": str(org.departments["company"]), "manager_id": ""})  # fmt: skip
    assert response.status_code == 302
    with state(app).engine.connect() as conn:
        dept = get_department(conn, new_id)
    assert (dept["label_zh"], dept["parent_id"], dept["manager_id"]) == (
        "华北大区",
        org.departments["company"],
        None,
    )


def test_a_department_cannot_move_below_itself(app, admin, org):
    sales, east = org.departments["sales"], org.departments["sales_east"]
    response = admin.post(f"/admin/departments/{sales}", data={
        "name": "sales", "label_zh": "销售部", "label_en": "Sales", "parent_id": str(east),
        "manager_id": ""})  # fmt: skip
    assert response.status_code == 200  # not offered, so not accepted
    with state(app).engine.connect() as conn:
        assert get_department(conn, sales)["parent_id"] == org.departments["company"]
    page = admin.get(f"/admin/departments/{sales}").get_data(as_text=True)
    parents = re.search(r'<select[^>]*name="parent_id".*?</select>', page, re.S).group(0)
    assert f'value="{east}"' not in parents and f'value="{sales}"' not in parents
    assert f'value="{org.departments["finance"]}"' in parents


def test_department_identifiers_are_unique(admin):
    response = admin.post(
        "/admin/departments/new",
        data={"name": "SALES", "label_zh": "", "label_en": "", "parent_id": "", "manager_id": ""},
    )
    assert response.status_code == 422
    assert "已有其他部门使用此标识" in response.get_data(as_text=True)


def test_the_database_itself_refuses_a_username_differing_only_in_case(app):
    """Even a write that skips the account code (an import, a race) cannot make a second
    account for the same person."""
    with state(app).engine.connect() as conn, pytest.raises(sa.exc.IntegrityError):
        conn.execute(
            sa.text(
                "insert into users (username, display_name, active, is_admin, session_epoch,"
                " created_at) values ('SALES1', 'x', true, false, 0, CURRENT_TIMESTAMP)"
            )
        )

"""The organisation as data (users.py) and ``ruleform users …`` on the command line."""

from __future__ import annotations

import click
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from ruleform.app import state
from ruleform.errors import FieldErrors
from ruleform.platform.auth import commands
from ruleform.platform.auth.passwords import password_problems, verify_password
from ruleform.platform.auth.users import (
    create_department,
    create_user,
    deactivate_user,
    find_user,
    get_user,
    list_users,
    move_department,
    reactivate_user,
    update_department,
    update_user,
)

pytestmark = pytest.mark.app


@pytest.fixture
def conn(app):
    with state(app).engine.begin() as connection:
        yield connection


def refused(fn, *args, **kwargs) -> dict[str, list[str]]:
    with pytest.raises(FieldErrors) as err:
        fn(*args, **kwargs)
    return err.value.errors


# --- users.py --------------------------------------------------------------------------------


def test_R02_one_account_per_person(conn):
    assert refused(create_user, conn, "SALES1", "pw") == {"username": ["username_taken"]}
    assert refused(create_user, conn, " sales1 ", "pw") == {"username": ["username_taken"]}
    assert refused(create_user, conn, "two words", "pw") == {"username": ["username_invalid"]}
    assert refused(create_user, conn, "", "pw") == {"username": ["username_invalid"]}


def test_the_password_is_stored_as_an_argon2id_hash_only(conn):
    uid = create_user(conn, "hashme", "correct horse battery")
    stored = get_user(conn, uid)["password_hash"]
    assert stored.startswith("$argon2id$") and "correct horse" not in stored
    assert verify_password(stored, "correct horse battery")
    assert not verify_password(stored, "wrong")
    create_user(conn, "nopassword", None)
    assert find_user(conn, "nopassword")["password_hash"] is None


def test_update_user_checks_every_value(conn, org):
    uid = org.user("sales2")
    errors = refused(update_user, conn, uid, {"username": "Sales1", "email": "nope",
                                              "locale": "fr", "department_id": 999999,
                                              "manager_id": uid})  # fmt: skip
    assert errors == {"username": ["username_taken"], "email": ["not_email"],
                      "locale": ["unknown_locale"], "department_id": ["unknown_department"],
                      "manager_id": ["manager_cycle"]}  # fmt: skip
    update_user(conn, uid, {"username": "Sales2", "display_name": "  ", "email": ""})
    user = get_user(conn, uid)
    assert (user["username"], user["display_name"], user["email"]) == ("Sales2", "Sales2", None)
    with pytest.raises(ValueError):
        update_user(conn, uid, {"password_hash": "x"})


def test_a_manager_chain_cannot_loop(conn, org):
    # sales1 → manager → gm; gm reporting to sales1 would close the loop
    assert refused(update_user, conn, org.user("gm"), {"manager_id": org.user("sales1")}) == {
        "manager_id": ["manager_cycle"]
    }
    update_user(conn, org.user("sales1"), {"manager_id": org.user("gm")})


def test_departments_cannot_move_below_themselves(conn, org):
    company, sales, east = (org.departments[n] for n in ("company", "sales", "sales_east"))
    assert refused(move_department, conn, sales, east) == {"parent_id": ["department_cycle"]}
    assert refused(move_department, conn, sales, sales) == {"parent_id": ["department_cycle"]}
    assert refused(move_department, conn, company, east) == {"parent_id": ["department_cycle"]}
    assert refused(move_department, conn, sales, 999999) == {"parent_id": ["unknown_department"]}
    move_department(conn, east, company)
    move_department(conn, sales, east)  # now fine: east is no longer below sales


def test_department_names_are_identifiers_and_unique(conn, org):
    assert refused(create_department, conn, "销售二部") == {"name": ["department_name_invalid"]}
    assert refused(create_department, conn, "Sales") == {"name": ["department_name_taken"]}
    new = create_department(conn, "sales_2", "销售二部", None, org.departments["sales"])
    update_department(conn, new, name="sales_two", label_zh="销售二部", label_en=None,
                      parent_id=None, manager_id=org.user("manager"))  # fmt: skip
    errors = refused(update_department, conn, new, name="sales_two", label_zh=None,
                     label_en=None, parent_id=None, manager_id=999999)  # fmt: skip
    assert errors == {"manager_id": ["unknown_user"]}


def test_deactivation_revokes_tokens_and_reactivation_starts_a_new_epoch(conn, org):
    from ruleform.platform.auth.tokens import create_token, verify_token

    uid = org.user("sales1")
    token = create_token(conn, uid).token
    deactivate_user(conn, uid)
    assert verify_token(conn, token) is None
    user = get_user(conn, uid)
    assert not user["active"] and user["deactivated_at"] is not None and user["session_epoch"] == 1
    reactivate_user(conn, uid)
    user = get_user(conn, uid)
    assert user["active"] and user["session_epoch"] == 2
    assert verify_token(conn, token) is None


def test_list_users_searches_names_and_escapes_wildcards(conn):
    rows, total = list_users(conn, "张")
    assert {r["username"] for r in rows} == {"sales1"} and total == 1
    assert list_users(conn, "%")[1] == 0
    assert list_users(conn, "_")[1] == 1  # only service_manager has an underscore
    rows, total = list_users(conn, limit=3, offset=0)
    assert len(rows) == 3 and total == 12 and all("roles" in r for r in rows)


def test_password_rules_for_new_passwords():
    assert password_problems("short") == ["password_too_short"]
    assert password_problems("Sales1-Sales1", "sales1-sales1") == ["password_is_username"]
    assert password_problems("a good long one") == []


# --- the command line ------------------------------------------------------------------------


@pytest.fixture
def cli(database_url):
    group = click.Group("ruleform")
    group.add_command(commands.users)
    group.add_command(commands.tokens)
    runner = CliRunner()

    def run(*args, input=None):
        return runner.invoke(group, [*args, "--database", database_url], input=input)

    return run


def user(app, username):
    with state(app).engine.connect() as conn:
        found = find_user(conn, username)
        return get_user(conn, found["id"]) if found else None


def test_cli_creates_a_user_with_roles_department_and_manager(cli, app, client, org):
    result = cli("users", "create", "wang", "--password", "long-enough-1", "--role", "sales",
                 "--role", "customer_service", "--department", "销售部", "--manager", "manager",
                 "--locale", "en", "--display-name", "王小明")  # fmt: skip
    assert result.exit_code == 0, result.output
    created = user(app, "wang")
    assert created["roles"] == ["customer_service", "sales"]
    assert created["department_id"] == org.departments["sales"]
    assert created["manager_id"] == org.user("manager")
    assert created["locale"] == "en" and not created["is_admin"]
    assert client.post("/login", data={"username": "wang",
                                       "password": "long-enough-1"}).status_code == 302  # fmt: skip


def test_cli_prompts_for_the_password_and_makes_superusers(cli, app):
    result = cli("users", "create", "root2", "--admin", input="long-enough-1\nlong-enough-1\n")
    assert result.exit_code == 0, result.output
    created = user(app, "root2")
    assert created["is_admin"] and created["password_hash"].startswith("$argon2id$")


@pytest.mark.parametrize("args, text", [
    (["users", "create", "SALES1", "--password", "long-enough-1"], "username is taken"),
    (["users", "create", "x1", "--password", "short"], "at least 8 characters"),
    (["users", "create", "x2", "--password", "long-enough-1", "--role", "wizard"], "unknown role"),
    (["users", "create", "x3", "--password", "long-enough-1", "--department", "mars"],
     "no department 'mars'"),
    (["users", "create", "x4", "--password", "long-enough-1", "--manager", "ghost"],
     "no user 'ghost'"),
    (["users", "deactivate", "ghost"], "no user 'ghost'"),
    (["users", "set-password", "ghost", "--password", "long-enough-1"], "no user 'ghost'"),
    (["users", "roles", "ghost", "sales"], "no user 'ghost'"),
    (["users", "roles", "sales1", "wizard"], "unknown role"),
])  # fmt: skip
def test_cli_refusals_exit_1_with_a_message(cli, args, text):
    result = cli(*args)
    assert result.exit_code == 1, result.output
    assert text in result.stderr


def test_cli_usage_errors_exit_2(cli):
    assert cli("users", "create").exit_code == 2
    assert cli("users", "roles", "sales1").exit_code == 2
    assert cli("users", "create", "x", "--locale", "fr").exit_code == 2


def test_cli_list_deactivate_set_password_and_roles(cli, app, client):
    listing = cli("users", "list")
    assert listing.exit_code == 0 and "sales1" in listing.stdout and "张伟" in listing.stdout
    assert cli("users", "deactivate", "sales2").exit_code == 0
    assert "sales2" not in cli("users", "list").stdout
    assert "[deactivated]" in cli("users", "list", "--all").stdout
    assert cli("users", "reactivate", "sales2").exit_code == 0
    assert cli("users", "set-password", "sales2", "--password", "brand-new-pw").exit_code == 0
    assert client.post("/login", data={"username": "sales2",
                                       "password": "brand-new-pw"}).status_code == 302  # fmt: skip
    assert cli("users", "roles", "sales2", "sales", "finance").exit_code == 0
    assert user(app, "sales2")["roles"] == ["finance", "sales"]


def test_cli_creates_the_tables_of_a_new_database(tmp_path):
    group = click.Group("ruleform")
    group.add_command(commands.users)
    group.add_command(commands.tokens)
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    result = CliRunner().invoke(group, ["users", "create", "first", "--admin", "--password",
                                        "long-enough-1", "--database", url])  # fmt: skip
    assert result.exit_code == 0, result.output
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        assert connection.execute(sa.text("select username from users")).scalar() == "first"
    engine.dispose()

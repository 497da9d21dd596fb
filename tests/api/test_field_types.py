"""Every field type through the API, on a rulebook with one field of each type."""

from __future__ import annotations

import textwrap
from contextlib import contextmanager

import pytest

from ruleform.app import create_app, state
from ruleform.blueprints.api.fields import API_FIELDS
from ruleform.demo.organisation import seed_organisation
from ruleform.metadata.field_types import FIELD_TYPES
from tests.conftest import backend
from tests.databases import temporary_postgres_database

from .conftest import Api, Tokens, copied_database

pytestmark = pytest.mark.app

RULEBOOK = textwrap.dedent("""\
    language: ruleform/v1
    name: alltypes
    version: "1"
    locales: [zh-CN, en]
    default_locale: en
    timezone: Asia/Shanghai
    roles:
      sales: {label: {zh-CN: 销售, en: Sales}}
      finance: {label: {zh-CN: 财务, en: Finance}}
    entities:
      box:
        label: {zh-CN: 箱, en: Box}
        title: label
        fields:
          label: {type: string, label: {zh-CN: 名称, en: Label}, required: true}
        permissions:
          sales: {actions: all, scope: all}
          finance: {actions: [read], scope: all}
      thing:
        label: {zh-CN: 物品, en: Thing}
        title: name
        fields:
          name: {type: string, label: {zh-CN: 名称, en: Name}, required: true, max_length: 40}
          notes: {type: text, label: {zh-CN: 备注, en: Notes}}
          quantity: {type: integer, label: {zh-CN: 数量, en: Quantity}, min: 0, max: 1000}
          ratio: {type: decimal, label: {zh-CN: 比率, en: Ratio}, scale: 3}
          price: {type: money, label: {zh-CN: 价格, en: Price}, min: 0}
          active: {type: boolean, label: {zh-CN: 有效, en: Active}}
          due_on: {type: date, label: {zh-CN: 到期, en: Due on}}
          meeting_at: {type: datetime, label: {zh-CN: 会议, en: Meeting at}}
          size:
            type: choice
            label: {zh-CN: 尺寸, en: Size}
            choices:
              s: {zh-CN: 小, en: Small}
              m: {zh-CN: 中, en: Medium}
              l: {zh-CN: 大, en: Large}
          colours:
            type: multi_choice
            label: {zh-CN: 颜色, en: Colours}
            choices: {red: {zh-CN: 红, en: Red}, blue: {zh-CN: 蓝, en: Blue}}
          labels: {type: tags, label: {zh-CN: 标签, en: Labels}}
          email: {type: email, label: {zh-CN: 邮箱, en: Email}}
          phone: {type: phone, label: {zh-CN: 电话, en: Phone}}
          website: {type: url, label: {zh-CN: 网址, en: Website}}
          box: {type: reference, entity: box, label: {zh-CN: 箱, en: Box}}
          reviewer: {type: user, label: {zh-CN: 审核人, en: Reviewer}}
          team: {type: department, label: {zh-CN: 部门, en: Team}}
          double_price: {type: computed, returns: decimal, expression: "price * 2",
                         label: {zh-CN: 双倍, en: Double}}
          secret: {type: string, sensitive: true, label: {zh-CN: 秘密, en: Secret}}
        permissions:
          sales: {actions: all, scope: all}
          finance:
            actions: [read]
            scope: all
            fields: {read: [name, price]}
    """)

TYPES_OF_THING = {"name", "notes", "quantity", "ratio", "price", "active", "due_on", "meeting_at",
                  "size", "colours", "labels", "email", "phone", "website", "box", "reviewer",
                  "team", "double_price", "secret"}  # fmt: skip


@pytest.fixture(scope="module")
def types_template(tmp_path_factory):
    """A database with the all-types rulebook and the standard organisation, built once."""
    folder = tmp_path_factory.mktemp("alltypes")
    path = folder / "rulebook.yaml"
    path.write_text(RULEBOOK, encoding="utf-8")

    def build(url):
        app = create_app({"INSTANCE_PATH": str(folder / "instance"), "RULEBOOK": str(path),
                          "DATABASE_URL": url, "TESTING": True})  # fmt: skip
        org = seed_organisation(state(app).engine, set(state(app).runtime.rulebook.roles))
        state(app).engine.dispose()
        return org

    if backend() == "postgres":
        with temporary_postgres_database() as url:
            yield {"url": url, "org": build(url), "folder": folder}
        return
    url = f"sqlite:///{folder / 'types.db'}"
    yield {"url": url, "path": folder / "types.db", "org": build(url), "folder": folder}


@contextmanager
def _types_app(template, folder):
    """An app on a fresh copy of the template database."""
    with copied_database(template, folder) as url:
        app = create_app({"INSTANCE_PATH": str(folder / "instance"), "DATABASE_URL": url,
                          "TESTING": True})  # fmt: skip
        try:
            yield Api(app.test_client(), Tokens(app, template["org"].users)), template["org"]
        finally:
            state(app).engine.dispose()


@pytest.fixture
def types_api(types_template, tmp_path):
    with _types_app(types_template, tmp_path) as pair:
        yield pair


@pytest.fixture(scope="module")
def shared_types_api(types_template, tmp_path_factory):
    """One app for the tests that change nothing (refusals)."""
    with _types_app(types_template, tmp_path_factory.mktemp("shared")) as pair:
        yield pair


def test_the_api_field_registry_covers_every_field_type():
    assert {t.api for t in FIELD_TYPES.values()} - {None} == set(API_FIELDS)


def test_the_rulebook_has_one_field_of_every_type():
    import pathlib
    import tempfile  # noqa: E401

    from ruleform.metadata.compiler import check_rulebook

    with tempfile.TemporaryDirectory() as folder:
        path = pathlib.Path(folder) / "rulebook.yaml"
        path.write_text(RULEBOOK, encoding="utf-8")
        result = check_rulebook(path)
    assert result.ok, [p.format() for p in result.problems]
    thing = result.rulebook.entities["thing"]
    assert {f.type for f in thing.fields.values()} == set(FIELD_TYPES)
    assert set(thing.fields) == TYPES_OF_THING


def test_every_field_type_round_trips(types_api):
    api, org = types_api
    box = api.post("/box", json={"label": "B1"}).get_json()["data"]["id"]
    payload = {
        "name": "  Widget  ", "notes": "line 1\nline 2", "quantity": "12", "ratio": 0.125,
        "price": "1,234.50", "active": "yes", "due_on": "2026-03-01",
        "meeting_at": "2026-03-01 09:30", "size": "m", "colours": ["red", "blue", "red"],
        "labels": "vip, 重点客户", "email": "A.B@Example.COM", "phone": "021 6123 4567",
        "website": "https://example.com/x?y=1", "box": box, "reviewer": org.user("manager"),
        "team": org.departments["sales"], "secret": "s3cr3t-value",
    }  # fmt: skip
    created = api.post("/thing", json=payload)
    assert created.status_code == 201, created.get_json()
    url = f"/thing/{created.get_json()['data']['id']}"
    data = api.get(url).get_json()["data"]
    assert data["name"] == "Widget"
    assert data["notes"] == "line 1\nline 2"
    assert data["quantity"] == 12
    assert data["ratio"] == "0.125"
    assert data["price"] == "1234.50"
    assert data["active"] is True
    assert data["due_on"] == "2026-03-01"
    assert data["meeting_at"] == "2026-03-01T01:30:00Z"  # 09:30 Asia/Shanghai
    assert data["size"] == "m"
    assert data["colours"] == ["red", "blue"]
    assert data["labels"] == ["vip", "重点客户"]
    assert data["email"] == "A.B@example.com"
    assert data["phone"] == "+862161234567"
    assert data["website"] == "https://example.com/x?y=1"
    assert data["box"] == box
    assert data["reviewer"] == org.user("manager")
    assert data["team"] == org.departments["sales"]
    assert data["double_price"] == "2469.00"
    assert data["secret"].startswith("••••")
    assert created.get_json()["data"]["double_price"] == "2469.00"
    assert api.get(url + "?reveal=secret").get_json()["data"]["secret"] == "s3cr3t-value"
    listed = api.get("/thing?fields=name,secret,price").get_json()["data"][0]
    assert listed["secret"].startswith("••••") and listed["price"] == "1234.50"


@pytest.mark.parametrize(
    "field, value",
    [
        ("name", 5),
        ("name", "x" * 41),
        ("quantity", "1.5"),
        ("quantity", 1001),
        ("quantity", True),
        ("ratio", "0.1234"),
        ("ratio", "abc"),
        ("price", -1),
        ("price", {"amount": 1}),
        ("active", "perhaps"),
        ("due_on", "2026-02-30"),
        ("due_on", "2026-03-01T10:00"),
        ("meeting_at", "tomorrow"),
        ("size", "xl"),
        ("size", ["m"]),
        ("colours", ["green"]),
        ("colours", "red,green"),
        ("labels", [1, 2]),
        ("labels", ["x" * 65]),
        ("email", "nope"),
        ("phone", "12345"),
        ("website", "javascript:alert(1)"),
        ("website", "ftp://x.org"),
        ("box", 999999),
        ("box", "abc"),
        ("reviewer", 999999),
        ("team", 999999),
        ("double_price", "1"),
    ],
)
def test_every_field_type_refuses_bad_values_with_a_field_message(shared_types_api, field, value):
    api, _org = shared_types_api
    response = api.post("/thing", json={"name": "ok", field: value})
    assert response.status_code == 422, response.get_json()
    errors = response.get_json()["errors"]
    assert list(errors) == [field] or field in errors
    assert all(isinstance(text, str) and text for text in errors[field])


def test_empty_values_clear_fields(types_api):
    api, _org = types_api
    created = api.post("/thing", json={"name": "x", "quantity": 3, "size": "s", "labels": ["a"]})
    url = f"/thing/{created.get_json()['data']['id']}"
    changed = api.patch(
        url, json={"quantity": None, "size": "", "labels": []}, headers={"If-Match": 'W/"1"'}
    )
    assert changed.status_code == 200, changed.get_json()
    data = changed.get_json()["data"]
    assert data["quantity"] is None and data["size"] is None and data["labels"] in (None, [])


def test_filters_on_every_type(types_api):
    api, org = types_api
    box = api.post("/box", json={"label": "B1"}).get_json()["data"]["id"]
    api.post("/thing", json={"name": "a", "quantity": 1, "ratio": "0.5", "price": 10,
                             "active": True,
                             "due_on": "2026-01-01", "meeting_at": "2026-01-01T00:00:00Z",
                             "size": "s", "colours": ["red"], "labels": ["x"], "box": box,
                             "email": "a@b.cn", "reviewer": org.user("gm")})  # fmt: skip
    api.post("/thing", json={"name": "b", "quantity": 5})
    checks = {
        "filter[quantity][ge]=2": ["b"], "filter[ratio]=0.5": ["a"], "filter[price][lt]=11": ["a"],
        "filter[active]=true": ["a"], "filter[due_on][le]=2026-06-01": ["a"],
        "filter[meeting_at][ge]=2025-12-31T00:00:00Z": ["a"], "filter[size][in]=s,m": ["a"],
        "filter[colours][contains]=red": ["a"], "filter[labels][contains]=x": ["a"],
        f"filter[box]={box}": ["a"], "filter[email][contains]=b.cn": ["a"],
        f"filter[reviewer]={org.user('gm')}": ["a"], "filter[size][empty]": ["b"],
        "filter[double_price][gt]=5": ["a"],
    }  # fmt: skip
    for query, names in checks.items():
        response = api.get(f"/thing?{query}&sort=name&fields=name")
        assert response.status_code == 200, (query, response.get_json())
        assert [r["name"] for r in response.get_json()["data"]] == names, query


def test_the_openapi_schema_describes_every_type(shared_types_api):
    api, _org = shared_types_api
    doc = api.get("/openapi.json").get_json()
    props = doc["components"]["schemas"]["thing"]["properties"]
    assert set(props) >= TYPES_OF_THING
    assert props["quantity"]["type"] == ["integer", "null"] and props["quantity"]["maximum"] == 1000
    assert props["name"]["maxLength"] == 40
    assert props["due_on"]["format"] == "date"
    assert props["meeting_at"]["format"] == "date-time"
    assert props["email"]["format"] == "email"
    assert props["website"]["format"] == "uri"
    assert props["size"]["enum"] == ["s", "m", "l", None]
    assert props["colours"]["items"]["enum"] == ["red", "blue"]
    assert props["price"]["format"] == "decimal"
    assert props["box"]["x-ruleform-links"] == "box"
    assert props["double_price"]["readOnly"] is True
    create = doc["components"]["schemas"]["thing.create"]
    assert create["required"] == ["name"]
    assert "double_price" not in create["properties"]
    finance = api.get("/openapi.json", user="finance").get_json()
    assert set(finance["components"]["schemas"]["thing"]["properties"]) - {
        "id",
        "row_version",
        "created_at",
        "updated_at",
        "created_by",
        "updated_by",
        "archived",
        "owner",
        "department",
    } == {"name", "price"}

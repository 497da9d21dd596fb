"""The field-type registry drives every layer: a field type is one module.

Each ``FieldType`` names the kinds the upper layers key their registries by (storage,
widget, API); these tests keep every kind known to its registry, the JSON Schema's type
enum equal to the registry, and prove the point of the design: a throw-away ``rating``
type, written as one module and registered at test time, compiles in a rulebook, gets a
table column, renders in a form and round-trips through the API — with no other change.
"""

from __future__ import annotations

import importlib.util
import pkgutil
import re
import textwrap

import pytest
import sqlalchemy as sa

from ruleform.blueprints.api.fields import API_FIELDS
from ruleform.blueprints.pages.formatting import DISPLAYS
from ruleform.blueprints.pages.widgets import WIDGETS
from ruleform.metadata import field_types
from ruleform.metadata.compiler import check_rulebook
from ruleform.metadata.field_types import (
    COMPUTED_RETURNS,
    FIELD_TYPES,
    register_field_type,
    unregister_field_type,
)
from ruleform.metadata.schema import rulebook_schema
from ruleform.platform.storage import COLUMN_TYPES, build_metadata, ensure_schema
from ruleform.platform.storage.typesig import signature

# --- every kind is known ---------------------------------------------------------------------


def _kinds(attribute: str) -> dict[str, str | None]:
    return {name: getattr(t, attribute) for name, t in FIELD_TYPES.items()}


def test_every_storage_kind_is_a_column_type():
    for name, kind in _kinds("storage").items():
        if name == "computed":
            assert kind is None  # stored as what it returns
            continue
        assert kind in COLUMN_TYPES, f"{name}: storage kind {kind!r}"
        assert COLUMN_TYPES[kind].list_valued == FIELD_TYPES[name].list_valued, name


def test_every_widget_kind_has_an_input_and_a_display():
    for name, kind in _kinds("widget").items():
        if kind is None:
            assert name == "computed"  # never an input; shown as what it returns
            continue
        assert kind in WIDGETS, f"{name}: widget kind {kind!r}"
        assert kind in DISPLAYS, f"{name}: widget kind {kind!r}"


def test_every_api_kind_has_a_converter():
    for name, kind in _kinds("api").items():
        if kind is None:
            assert name == "computed"  # described as what it returns
            continue
        assert kind in API_FIELDS, f"{name}: api kind {kind!r}"


def test_what_a_computed_field_returns_has_every_kind():
    for name in COMPUTED_RETURNS:
        t = FIELD_TYPES[name]
        assert t.storage in COLUMN_TYPES and t.widget in DISPLAYS and t.api in API_FIELDS, name


def test_the_registries_hold_no_kind_no_type_uses():
    used = {a: set(_kinds(a).values()) - {None} for a in ("storage", "widget", "api")}
    assert set(COLUMN_TYPES) == used["storage"]
    assert set(WIDGETS) == set(DISPLAYS) == used["widget"]
    assert set(API_FIELDS) == used["api"]


def test_choices_and_address_kinds_are_known_words():
    for name, t in FIELD_TYPES.items():
        assert t.choices in (None, "closed", "suggested"), name
        assert t.address_kind in (None, "email", "phone"), name
        assert (t.choices is not None) == ("choices" in t.options), name
        assert set(t.option_defaults) <= t.options | {"precision", "scale"}, name


# --- one module per type, and the schema follows -------------------------------------------------


def test_every_module_of_the_package_defines_a_registered_type():
    names = [m.name for m in pkgutil.iter_modules(field_types.__path__) if m.name != "base"]
    assert len(names) == len(FIELD_TYPES)
    for module_name in names:
        module = importlib.import_module(f"ruleform.metadata.field_types.{module_name}")
        assert module.FIELD_TYPE.name == module_name
        assert FIELD_TYPES[module_name] is module.FIELD_TYPE


def _schema_types() -> list[str]:
    entity = rulebook_schema()["properties"]["entities"]["additionalProperties"]
    field = entity["properties"]["fields"]["additionalProperties"]
    return field["properties"]["type"]["enum"]


def test_the_json_schema_lists_exactly_the_registered_types():
    assert set(_schema_types()) == set(FIELD_TYPES)
    assert len(_schema_types()) == len(FIELD_TYPES)


# --- a throw-away type, registered at test time ------------------------------------------------

#: The whole of a new field type: one module (written here, loaded from a file).
RATING_MODULE = '''
"""``rating``: one to five stars (a whole number)."""

from ruleform.metadata.field_types import integer
from ruleform.metadata.field_types.base import NUMBER_OPTIONS, FieldType

FIELD_TYPE = FieldType(
    "rating", "number", NUMBER_OPTIONS, integer.parse, label=("评分", "rating"),
    storage="integer", widget="number", api="integer",
)
'''

RULEBOOK = textwrap.dedent("""\
    language: ruleform/v1
    name: ratings
    version: "1"
    locales: [zh-CN, en]
    default_locale: en
    timezone: Asia/Shanghai
    roles:
      sales: {label: {zh-CN: 销售, en: Sales}}
    entities:
      thing:
        label: {zh-CN: 物品, en: Thing}
        title: name
        fields:
          name: {type: string, label: {zh-CN: 名称, en: Name}, required: true}
          score: {type: rating, label: {zh-CN: 评分, en: Score}, min: 1, max: 5}
        views:
          all: {label: {zh-CN: 全部, en: All}, default: true, columns: [name, score],
                filters: [score], sort: [-score]}
        permissions:
          sales: {actions: all, scope: all}
    """)


@pytest.fixture
def rating(tmp_path):
    """The ``rating`` type, loaded from its own module file and registered (then removed)."""
    path = tmp_path / "rating.py"
    path.write_text(RATING_MODULE, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("rating_field_type", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert "rating" not in _schema_types()
    register_field_type(module.FIELD_TYPE)
    try:
        yield module.FIELD_TYPE
    finally:
        unregister_field_type("rating")
    assert "rating" not in _schema_types()  # the schema cache followed both ways


@pytest.fixture
def rulebook_path(rating, tmp_path):
    path = tmp_path / "rulebook.yaml"
    path.write_text(RULEBOOK, encoding="utf-8")
    return path


def test_a_rulebook_using_the_new_type_compiles(rulebook_path):
    assert "rating" in _schema_types()
    result = check_rulebook(rulebook_path)
    assert result.ok, [p.format() for p in result.problems]
    score = result.rulebook.entities["thing"].fields["score"]
    assert score.type == "rating" and (score.min, score.max) == (1, 5)


def test_the_new_type_is_refused_once_removed(rulebook_path):
    unregister_field_type("rating")
    result = check_rulebook(rulebook_path)
    assert not result.ok
    assert any("rating" in p.format() for p in result.problems)


def test_the_new_type_gets_a_table_column(rulebook_path, sqlite_engine):
    rulebook = check_rulebook(rulebook_path).rulebook
    ensure_schema(sqlite_engine, rulebook)
    live = {c["name"]: c for c in sa.inspect(sqlite_engine).get_columns("e_thing")}
    assert signature(live["score"]["type"], sqlite_engine.dialect).family == "integer"
    table = build_metadata(rulebook).tables["e_thing"]
    with sqlite_engine.begin() as conn:
        conn.execute(sa.insert(table).values(name="x", score=4))
        assert conn.execute(sa.select(table.c.score)).scalar_one() == 4


@pytest.fixture
def rating_app(rulebook_path, tmp_path):
    from ruleform.app import create_app, state
    from ruleform.demo.organisation import seed_organisation

    app = create_app({"INSTANCE_PATH": str(tmp_path / "instance"),
                      "DATABASE_URL": f"sqlite:///{tmp_path / 'ratings.db'}",
                      "RULEBOOK": str(rulebook_path), "TESTING": True,
                      "WTF_CSRF_ENABLED": False, "SESSION_COOKIE_SECURE": False})  # fmt: skip
    org = seed_organisation(state(app).engine, set(state(app).runtime.rulebook.roles))
    yield app, org
    state(app).engine.dispose()


@pytest.mark.app
def test_the_new_type_renders_in_a_form_and_round_trips(rating_app):
    from tests.api.conftest import Api, Tokens
    from tests.pages.conftest import Pages, field_block, record_id

    app, org = rating_app
    pages = Pages(app).client("sales2")  # reads English
    block = field_block(pages.get("/thing/new").get_data(as_text=True), "score")
    assert 'type="number"' in block and 'name="score"' in block
    assert 'step="1"' in block and 'min="1"' in block and 'max="5"' in block
    response = pages.post("/thing/new", data={"name": "Widget", "score": "4",
                                              "_fields": ["name", "score"]})  # fmt: skip
    assert response.status_code == 303, response.get_data(as_text=True)
    thing = record_id(response.headers["Location"])
    detail = pages.get(f"/thing/{thing}").get_data(as_text=True)
    assert re.search(r"Score</dt>\s*<dd[^>]*>\s*4\s", detail)
    refused = pages.post("/thing/new", data={"name": "Bad", "score": "9",
                                             "_fields": ["name", "score"]})  # fmt: skip
    assert refused.status_code == 422
    listing = pages.get("/thing?f.score.from=3").get_data(as_text=True)
    assert "Widget" in listing and 'name="f.score.from"' in listing  # a number range filter

    api = Api(app.test_client(), Tokens(app, org.users))
    created = api.post("/thing", json={"name": "Gadget", "score": "5"}, user="sales1")
    assert created.status_code == 201, created.get_json()
    data = created.get_json()["data"]
    assert data["score"] == 5
    assert api.get(f"/thing/{data['id']}", user="sales1").get_json()["data"]["score"] == 5
    bad = api.post("/thing", json={"name": "Bad", "score": "many"}, user="sales1")
    assert bad.status_code == 422 and "score" in bad.get_json()["errors"]
    document = api.get("/openapi.json", user="sales1").get_json()
    schemas = document["components"]["schemas"]
    score = next(s["properties"]["score"] for s in schemas.values()
                 if "score" in s.get("properties", {}))  # fmt: skip
    assert score["x-ruleform-type"] == "rating" and "integer" in str(score["type"])

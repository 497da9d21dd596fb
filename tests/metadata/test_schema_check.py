"""The fast schema check agrees with jsonschema, always.

``validate_shape`` trusts ``schema_check`` to say "valid" and skips jsonschema then; a
disagreement would hide mistakes. These tests compare the two on every fixture, on
keyword edge cases, and on random mutations of real entities.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from ruleform.errors import RulebookError
from ruleform.metadata.overlays import load_rulebook_source
from ruleform.metadata.schema import rulebook_schema
from ruleform.metadata.schema_check import compile_schema
from ruleform.metadata.validation import jsonable

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "fixtures"


def _data(path: Path):
    try:
        return jsonable(load_rulebook_source(path).data)
    except RulebookError:
        return None  # refused by the loader: nothing for the schema to see


SOURCES = {
    str(path.relative_to(ROOT)): data
    for path in sorted(
        [p for p in FIXTURES.rglob("*") if p.suffix in (".yaml", ".json") and p.is_file()]
        + [ROOT / "metadata" / "crm", ROOT / "metadata" / "examples" / "retail-overlay"]
    )
    if (data := _data(path)) is not None
}


@pytest.mark.parametrize("name", SOURCES)
def test_fast_check_agrees_with_jsonschema_on_every_fixture(name):
    data, schema = SOURCES[name], rulebook_schema()
    assert compile_schema(schema)(data) == Draft202012Validator(schema).is_valid(data)


def test_the_fixtures_include_valid_and_invalid_shapes():
    schema = rulebook_schema()
    verdicts = {Draft202012Validator(schema).is_valid(d) for d in SOURCES.values()}
    assert verdicts == {True, False}


EDGE_CASES = [
    ({"enum": ["a", "b"]}, ["a", "c", 1, None, True]),
    ({"enum": [1, True, "x"]}, [1, 1.0, True, False, 0, "x"]),
    ({"const": True}, [True, 1, 1.0, "true", False]),
    ({"const": "all"}, ["all", "All", ["all"]]),
    ({"type": "integer"}, [1, 1.0, 1.5, True, "1", None]),
    ({"type": "number"}, [1, 1.5, True, "1"]),
    ({"type": ["string", "null"]}, ["", None, 0, []]),
    ({"type": "object", "minProperties": 1}, [{}, {"a": 1}, [], "x"]),
    ({"maxLength": 2}, ["ab", "abc", "中文", "中文字", 123, ["a", "b", "c"]]),
    ({"minLength": 1}, ["", "a", 0]),
    ({"pattern": "^[a-z]+$"}, ["abc", "aBc", "", 5]),
    ({"pattern": "b"}, ["abc", "xyz"]),  # search, not match
    ({"minimum": 0, "maximum": 5}, [0, 5, -1, 6, 2.5, True, "3"]),
    ({"minItems": 1, "maxItems": 2, "uniqueItems": True},
     [[], [1], [1, 2], [1, 2, 3], [1, 1], [1, True], [1, 1.0], ["a", "a"], "ab"]),
    ({"items": {"type": "string"}}, [["a"], ["a", 1], [], {"a": 1}]),
    ({"required": ["a"]}, [{"a": None}, {}, [], "a"]),
    ({"propertyNames": {"pattern": "^[a-z]+$"}}, [{"ab": 1}, {"Ab": 1}, {}, ["Ab"]]),
    ({"properties": {"a": {"type": "string"}}, "additionalProperties": False},
     [{"a": "x"}, {"a": 1}, {"b": 1}, {}, "x"]),
    ({"properties": {"a": {"type": "string"}}, "additionalProperties": {"type": "integer"}},
     [{"a": "x", "b": 1}, {"b": "y"}]),
    ({"additionalProperties": {"type": "integer"}}, [{"b": 1}, {"b": "y"}, []]),
    ({"anyOf": [{"type": "string"}, {"required": ["x"]}]}, ["s", {"x": 1}, {"y": 1}, 3]),
    ({"type": ["string", "object"], "maxLength": 3, "additionalProperties": {"type": "string"},
      "minProperties": 1}, ["abc", "abcd", {"en": "x"}, {}, {"en": 1}, 5]),
]  # fmt: skip


@pytest.mark.parametrize(("schema", "instances"), EDGE_CASES, ids=range(len(EDGE_CASES)))
def test_keyword_semantics_match_jsonschema(schema, instances):
    fast, slow = compile_schema(schema), Draft202012Validator(schema)
    for instance in instances:
        assert fast(instance) == slow.is_valid(instance), instance


def test_an_unsupported_keyword_is_refused_when_compiled():
    with pytest.raises(ValueError, match="does not support the keyword 'oneOf'"):
        compile_schema({"oneOf": [{"type": "string"}]})
    with pytest.raises(ValueError, match="'patternProperties'"):
        compile_schema({"properties": {"a": {"patternProperties": {"x": True}}}})


# --- random mutations of real entities -------------------------------------------------------

ENTITY_SCHEMA = rulebook_schema()["properties"]["entities"]["additionalProperties"]
CRM = jsonable(load_rulebook_source(ROOT / "metadata" / "crm").data)
ENTITIES = ["quote", "opportunity", "sales_order", "ticket"]
FAST = compile_schema(ENTITY_SCHEMA)
SLOW = Draft202012Validator(ENTITY_SCHEMA)

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 3), st.floats(-2, 2, allow_nan=False),
    st.sampled_from(["", "a", "read", "all", "owner", "3 days", "string", "zh-CN", "x" * 70]),
)  # fmt: skip
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(["label", "type", "en", "from", "x", "to"]), inner,
                        max_size=3),
    ),
    max_leaves=6,
)  # fmt: skip


def _paths(value, path=()):
    yield path
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, (*path, key))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from _paths(child, (*path, i))


def _mutate(entity: dict, path: tuple, action: str, new) -> dict:
    entity = copy.deepcopy(entity)
    if not path:
        return new if action == "replace" else entity
    parent = entity
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    if action == "replace":
        parent[last] = new
    elif action == "delete":
        del parent[last]
    elif isinstance(parent[last], dict):
        parent[last]["unexpected_key"] = new
    return entity


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(ENTITIES),
    pick=st.floats(0, 1, exclude_max=True),
    action=st.sampled_from(["replace", "delete", "add"]),
    new=values,
)
def test_fast_check_agrees_with_jsonschema_on_mutated_entities(name, pick, action, new):
    entity = CRM["entities"][name]
    paths = list(_paths(entity))
    path = paths[int(pick * len(paths))]
    mutated = _mutate(entity, path, action, new)
    assert FAST(mutated) == SLOW.is_valid(mutated), (path, action, new)

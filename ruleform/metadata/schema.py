"""The JSON Schema of the metadata language ``ruleform/v1``.

Built in Python from small fragments so that the field types come from the registry and
cannot drift. ``rulebook_schema()`` is what ``ruleform schema`` prints and what
``validation.py`` checks a source tree against. Semantic checks (references between
names, reachability, conditions) live in ``checks.py``; this schema checks shape only.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from .channels import channel_names, on_change
from .field_types import COMMON_OPTIONS, COMPUTED_RETURNS, FIELD_TYPES
from .field_types import on_change as on_field_types_change
from .timings import TIMING_KINDS, SchemaParts

LANGUAGE = "ruleform/v1"
IDENT = r"^[a-z][a-z0-9_]{0,47}$"
LOCALE = r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"
DURATION = r"^\s*\d+(\.\d+)?\s+(working\s+)?(minute|minutes|hour|hours|day|days|week|weeks)\s*$"
TIME_RANGE = r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-4]):[0-5]\d$"
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
#: Where a field of a conflict case comes from (duplicates.<rule>.case.fields).
CASE_SOURCE = r"^((existing|new)(\.[a-z][a-z0-9_]{0,47})?|rule|summary)$"


def _obj(props: dict[str, Any], required: list[str] | None = None, **extra: Any) -> dict:
    schema: dict[str, Any] = {"type": "object", "properties": props, "additionalProperties": False}
    if required:
        schema["required"] = required
    schema.update(extra)
    return schema


def _named(item: dict, overlay_ok: bool = True) -> dict:
    """A mapping from identifiers to items (fields, statuses, rules…)."""
    return {"type": "object", "propertyNames": {"pattern": IDENT}, "additionalProperties": item}


def _list_of(item: dict, **extra: Any) -> dict:
    return {"type": "array", "items": item, **extra}


# One schema for both forms (no anyOf: texts are the most numerous nodes, and anyOf makes
# jsonschema try each branch): string keywords apply to strings, object keywords to objects.
TEXT = {
    "description": "Text for people: a string, or a mapping from locale to text.",
    "type": ["string", "object"],
    "maxLength": 4000,
    "propertyNames": {"pattern": LOCALE},
    "additionalProperties": {"type": "string", "maxLength": 4000},
    "minProperties": 1,
}
CONDITION = {"type": "string", "minLength": 1, "maxLength": 2000, "description": "A condition"}
EXPRESSION = {"type": "string", "minLength": 1, "maxLength": 2000, "description": "An expression"}
IDENT_S = {"type": "string", "pattern": IDENT}
IDENT_LIST = _list_of(IDENT_S, uniqueItems=True)
DURATION_S = {
    "type": "string",
    "pattern": DURATION,
    "description": "e.g. '3 days', '24 working hours'",
}
SCALAR = {"type": ["string", "number", "boolean", "null"]}
DATE_S = {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"}

PARTY = {
    "description": "Who: owner, owner_manager, creator, or a mapping (role/in, user_field, users, field)",
    "anyOf": [
        {"enum": ["owner", "owner_manager", "creator"]},
        _obj({"role": IDENT_S, "in": {"enum": ["owner_department", "organisation"]}}, ["role"]),
        _obj({"owner_manager": {"const": True}}, ["owner_manager"]),
        _obj({"user_field": IDENT_S}, ["user_field"]),
        _obj({"users": _list_of({"type": "string"}, minItems=1)}, ["users"]),
        _obj({"field": IDENT_S}, ["field"]),
    ],
}
PARTIES = {"anyOf": [PARTY, _list_of(PARTY, minItems=1)]}
MESSAGE = _obj({"subject": TEXT, "body": TEXT})


def _field_schema() -> dict:
    options = {
        "type": {"enum": sorted(FIELD_TYPES)},
        "label": TEXT, "help": TEXT, "placeholder": TEXT, "pattern_message": TEXT,
        "required": {"type": "boolean"}, "index": {"type": "boolean"},
        "read_only": {"type": "boolean"}, "sensitive": {"type": "boolean"},
        "append_only": {"type": "boolean"},
        "required_when": CONDITION, "visible_when": CONDITION, "editable_when": CONDITION,
        "default": {"anyOf": [SCALAR, _list_of(SCALAR), _obj({"expression": EXPRESSION},
                                                             ["expression"])]},
        "unique": {"anyOf": [{"type": "boolean"}, _obj({"scope": IDENT_LIST}, ["scope"])]},
        "min": {"type": ["number", "string"]}, "max": {"type": ["number", "string"]},
        "min_length": {"type": "integer", "minimum": 0, "maximum": 100000},
        "max_length": {"type": "integer", "minimum": 1, "maximum": 100000},
        "pattern": {"type": "string", "maxLength": 500},
        "choices": _named({"anyOf": [TEXT, _obj({"label": TEXT, "color": {"type": "string"},
                                                "remove": {"type": "boolean"}})]}),
        "region": {"type": "string", "pattern": r"^[A-Z]{2}$"},
        "currency": {"type": "string", "pattern": r"^[A-Z]{3}$"},
        "precision": {"type": "integer", "minimum": 1, "maximum": 38},
        "scale": {"type": "integer", "minimum": 0, "maximum": 10},
        "entity": IDENT_S,
        "on_delete": {"enum": ["restrict", "set_null"]},
        "related_label": TEXT,
        "reference_scope": {"enum": ["readable", "any"]},
        "returns": {"enum": list(COMPUTED_RETURNS)},
        "expression": EXPRESSION,
    }  # fmt: skip
    assert set(options) >= COMMON_OPTIONS
    return _obj(options, ["type"])


def _permission_schema() -> dict:
    actions = ["read", "create", "update", "archive", "export", "import"]
    access = {"anyOf": [{"const": "all"}, IDENT_LIST, _obj({"except": IDENT_LIST}, ["except"])]}
    return _obj(
        {
            "actions": {"anyOf": [{"const": "all"}, _list_of({"enum": actions}, uniqueItems=True)]},
            "transitions": {"anyOf": [{"const": "all"}, IDENT_LIST]},
            "scope": {
                "anyOf": [
                    {"enum": ["own", "department", "department_tree", "all"]},
                    _obj({"where": CONDITION}, ["where"]),
                ]
            },
            "fields": _obj({"read": access, "write": access}),
        },
        ["actions"],
    )


def _approval_schema() -> dict:
    step = _obj(
        {
            "label": TEXT,
            "approvers": PARTIES,
            "mode": {"anyOf": [{"enum": ["any", "all"]},
                               _obj({"at_least": {"type": "integer", "minimum": 1}},
                                    ["at_least"])]},
            "when": CONDITION,
            "escalate_after": DURATION_S,
            "escalate_to": PARTIES,
        },
        ["approvers"],
    )  # fmt: skip
    relax = ["submitter", "owner", "editor", "same_approver_consecutive"]
    return _obj(
        {
            "steps": {**_named(step), "minProperties": 1},
            "on_reject": IDENT_S,
            "withdraw": {"enum": ["never", "before_first_decision", "any_time"]},
            "locked_fields": IDENT_LIST,
            "allow": _obj({k: {"type": "boolean"} for k in relax}),
        },
        ["steps"],
    )


def _transition_schema() -> dict:
    return _obj(
        {
            "from": {"anyOf": [IDENT_S, {"const": "*"}, _list_of(IDENT_S, minItems=1)]},
            "to": IDENT_S,
            "label": TEXT,
            "roles": IDENT_LIST,
            "when": CONDITION,
            "when_message": TEXT,
            "require": IDENT_LIST,
            "set": _named(EXPRESSION),
            "confirm": TEXT,
            "approval": _approval_schema(),
            "exception": {"type": "boolean"},
        },
        ["from", "to"],
    )


def _action_schema() -> dict:
    channels = _list_of({"enum": list(channel_names())}, uniqueItems=True)
    return {
        "anyOf": [
            _obj({"notify": PARTIES, "channels": channels, "message": MESSAGE}, ["notify"]),
            _obj({"task": _obj({"assignee": PARTY, "title": TEXT, "due": DURATION_S},
                               ["assignee"])}, ["task"]),
            _obj({"reassign": _obj({"to": PARTY, "pick": {"enum": ["least_loaded", "round_robin"]}},
                                   ["to"])}, ["reassign"]),
            _obj({"escalate": PARTIES, "message": MESSAGE, "channels": channels}, ["escalate"]),
            _obj({"set": _named(EXPRESSION)}, ["set"]),
            _obj({"webhook": _obj({"target": IDENT_S, "message": MESSAGE}, ["target"])},
                 ["webhook"]),
        ]
    }  # fmt: skip


def _time_rule_schema() -> dict:
    actions = _list_of(_action_schema(), minItems=1)
    sort = _list_of({"type": "string", "pattern": r"^-?[a-z][a-z0-9_]*$"})
    parts = SchemaParts(obj=_obj, list_of=_list_of, ident=IDENT_S, ident_list=IDENT_LIST,
                        duration=DURATION_S, condition=CONDITION, actions=actions, sort=sort)  # fmt: skip
    timings = {name: kind.schema(parts) for name, kind in TIMING_KINDS.items()}
    props = {
        "label": TEXT, "description": TEXT, "where": CONDITION, "actions": actions,
        "calendar": {"enum": ["organisation", "department", "owner"]},
        "audience": {"enum": ["internal", "customers"]},
        "rollout": {"enum": ["draft", "dry_run", "canary", "active", "paused"]},
        "canary": _list_of({"type": "string"}),
        "caps": _obj({"per_run": {"type": "integer", "minimum": 1},
                      "per_day": {"type": "integer", "minimum": 1}}),
        "late": _obj({"policy": {"enum": ["fire", "skip_older_than", "coalesce"]},
                      "age": DURATION_S}, ["policy"]),
        **timings,
    }  # fmt: skip
    # at least one timing (the compiler says which may be declared together)
    one_of = [{"required": [k]} for k in timings]
    return {
        **_obj(props),
        "anyOf": one_of,
        "description": "A time rule: where + one timing + actions",
    }


def _entity_schema() -> dict:
    example = {
        "anyOf": [
            _named(True),
            _obj({"record": {"type": "object"}, "user": _obj({"roles": IDENT_LIST})}, ["record"]),
        ]
    }
    validation = _obj(
        {
            "when": CONDITION, "require": IDENT_LIST, "forbid": CONDITION, "assert": CONDITION,
            "unless_roles": IDENT_LIST, "field": IDENT_S, "message": TEXT,
            "examples": _obj({"pass": _list_of(example), "fail": _list_of(example)}),
        },
        ["message"],
    )  # fmt: skip
    section = _obj(
        {
            "label": TEXT,
            "columns": {"type": "integer", "minimum": 1, "maximum": 4},
            "fields": IDENT_LIST,
            "visible_when": CONDITION,
        },
        ["fields"],
    )
    sort = _list_of({"type": "string", "pattern": r"^-?[a-z][a-z0-9_]*$"})
    view = _obj(
        {
            "label": TEXT,
            "columns": _list_of(IDENT_S, minItems=1),
            "filters": IDENT_LIST,
            "search": IDENT_LIST,
            "sort": sort,
            "where": CONDITION,
            "default": {"type": "boolean"},
            "page_size": {"type": "integer", "minimum": 1, "maximum": 200},
        },
        ["columns"],
    )
    duplicate = _obj(
        {"label": TEXT,
         "match": _list_of(_obj({"field": IDENT_S, "normalize": {
             "enum": ["text", "phone", "email", "company_name", "exact"]}}, ["field"]), minItems=1),
         "on_match": {"enum": ["allow", "warn", "block", "conflict"]}, "message": TEXT,
         "case": _obj({"entity": IDENT_S,
                       "fields": {"type": "object", "propertyNames": {"pattern": IDENT},
                                  "additionalProperties": {"type": "string",
                                                           "pattern": CASE_SOURCE}},
                       "auto_transition": IDENT_S}, ["entity", "fields"])},
        ["match", "on_match"],
    )  # fmt: skip
    status = _obj(
        {
            "label": TEXT,
            "description": TEXT,
            "category": {"enum": ["open", "won", "lost", "closed"]},
            "final": {"type": "boolean"},
            "pauses_sla": {"type": "boolean"},
        },
        ["label"],
    )
    return _obj(
        {
            "label": TEXT, "plural": TEXT, "description": TEXT,
            "icon": {"type": "string", "pattern": r"^[a-z0-9-]{1,40}$"},
            "title": IDENT_S,
            "ownership": _obj({"owner": {"type": "boolean"}, "department": {"type": "boolean"}}),
            "audit": _obj({"reads": {"type": "boolean"}}),
            "fields": {**_named(_field_schema()), "minProperties": 1, "maxProperties": 1000},
            "layout": _named(section),
            "views": _named(view),
            "validations": _named(validation),
            "duplicates": _named(duplicate),
            "statuses": _obj({"initial": IDENT_S, "states": {**_named(status), "minProperties": 1}},
                             ["initial", "states"]),
            "transitions": _named(_transition_schema()),
            "permissions": _named(_permission_schema()),
            "time_rules": _named(_time_rule_schema()),
        },
        ["label", "fields"],
    )  # fmt: skip


def _calendar_schema() -> dict:
    hours = _list_of({"type": "string", "pattern": TIME_RANGE}, minItems=1)
    days = _list_of({"enum": WEEKDAYS}, uniqueItems=True)
    base = {
        "working_days": days,
        "working_hours": hours,
        "holidays": _obj({"country": {"type": "string", "pattern": r"^[A-Z]{2}$"},
                          "subdivision": {"type": ["string", "null"]}}, ["country"]),
        "extra_holidays": {"type": "object",
                           "propertyNames": {"pattern": r"^\d{4}-\d{2}-\d{2}$"},
                           "additionalProperties": TEXT},
        "extra_working_days": _list_of(DATE_S),
    }  # fmt: skip
    return _obj({**base, "departments": _named(_obj(base))})


@cache
def rulebook_schema() -> dict:
    """The JSON Schema (draft 2020-12) of a whole rulebook, after overlays are merged."""
    role = _obj(
        {
            "label": TEXT,
            "description": TEXT,
            "start_page": {"type": "string"},
            "manages": {"type": "boolean"},
            "admin": {"type": "boolean"},
        },
        ["label"],
    )
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://ruleform.dev/schema/ruleform-v1.json",
        "title": "Ruleform rulebook (ruleform/v1)",
        **_obj(
            {
                "language": {"const": LANGUAGE},
                "name": IDENT_S,
                "version": {"type": ["string", "number"]},
                "label": TEXT,
                "description": TEXT,
                "locales": _list_of({"type": "string", "pattern": LOCALE}, minItems=1,
                                    uniqueItems=True),
                "default_locale": {"type": "string", "pattern": LOCALE},
                "timezone": {"type": "string", "pattern": r"^[A-Za-z_]+(/[A-Za-z0-9_+-]+)*$"},
                "effective": _obj({"from": DATE_S, "trial_until": DATE_S}),
                "extends": {"type": "string"},
                "calendar": _calendar_schema(),
                "roles": _named(role),
                "entities": {**_named(_entity_schema()), "maxProperties": 500},
            },
            ["language", "name", "version", "locales", "default_locale", "timezone", "entities"],
        ),
    }  # fmt: skip


on_change(rulebook_schema.cache_clear)
on_field_types_change(rulebook_schema.cache_clear)

"""Forms of the administrators' user and department pages, and their choices.

Choices (departments, managers, roles) come from the database and the active rulebook,
so they are filled per request by ``fill_user_choices`` / ``fill_department_choices``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    Field,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.fields import SelectChoice

from ..i18n import current_locale, label
from ..messages import SUPPORTED_LOCALES
from ..runtime import Runtime
from .forms import MaxLength, NewPassword, Required, say

__all__ = ["UserForm", "NewUserForm", "DepartmentForm", "optional_int",
           "department_tree", "fill_user_choices", "fill_department_choices",
           "department_label", "LOCALE_NAMES"]  # fmt: skip

#: Each locale named in its own language.
LOCALE_NAMES = {"zh-CN": "中文（简体）", "en": "English"}


def optional_int(value: Any) -> int | None:
    """A select's value: ``""`` → None, ``"7"`` → 7."""
    if value is None or value == "" or value == "None":
        return None
    return int(value)


class OptionalNewPassword(NewPassword):
    """Empty is allowed (the account cannot log in with a password until one is set)."""

    def __call__(self, form: FlaskForm, field: Field) -> None:
        if field.data:
            super().__call__(form, field)


class UserForm(FlaskForm):
    username = StringField("username", [Required(), MaxLength(150)])
    display_name = StringField("display_name", [MaxLength(200)])
    email = StringField("email", [MaxLength(254)])
    department_id = SelectField("department", coerce=optional_int)
    manager_id = SelectField("manager", coerce=optional_int)
    roles = SelectMultipleField("roles")
    locale = SelectField("locale")
    active = BooleanField("active", default=True)


class NewUserForm(UserForm):
    password = PasswordField("password", [MaxLength(1024), OptionalNewPassword("username")])


class DepartmentForm(FlaskForm):
    name = StringField("department_name", [Required(), MaxLength(64)])
    label_zh = StringField("label_zh", [MaxLength(200)])
    label_en = StringField("label_en", [MaxLength(200)])
    parent_id = SelectField("parent_department", coerce=optional_int)
    manager_id = SelectField("head", coerce=optional_int)


def department_label(dept: dict) -> str:
    text = dept["label_zh"] if current_locale() == "zh-CN" else dept["label_en"]
    return text or dept["name"]


def department_tree(departments: Iterable[dict]) -> list[tuple[dict, int]]:
    """Departments in tree order with their depth (children after their parent)."""
    rows = list(departments)
    ids = {d["id"] for d in rows}
    children: dict[int | None, list[dict]] = {}
    for dept in rows:
        parent = dept["parent_id"] if dept["parent_id"] in ids else None
        children.setdefault(parent, []).append(dept)
    ordered: list[tuple[dict, int]] = []

    def walk(parent: int | None, depth: int) -> None:
        for dept in sorted(children.get(parent, []), key=department_label):
            ordered.append((dept, depth))
            walk(dept["id"], depth + 1)

    walk(None, 0)
    return ordered


def _set_choices(field: SelectField, choices: list[SelectChoice]) -> None:
    field.choices = choices
    field.invalid_choice_message = say("not_a_choice")


def _none() -> SelectChoice:
    return SelectChoice("", "—")


def _department_choices(departments: Iterable[dict], skip: frozenset[int] = frozenset()) -> list:
    tree = [(d, depth) for d, depth in department_tree(departments) if d["id"] not in skip]
    indent = "\u3000"  # an ideographic space per level
    return [_none()] + [SelectChoice(str(d["id"]), indent * depth + department_label(d))
                        for d, depth in tree]  # fmt: skip


def _manager_choices(users: Iterable[dict], keep: int | None, skip: int | None) -> list:
    rows = [u for u in users if (u["active"] or u["id"] == keep) and u["id"] != skip]
    rows.sort(key=lambda u: (u["display_name"] or u["username"]).lower())
    return [_none()] + [SelectChoice(str(u["id"]), f"{u['display_name']} ({u['username']})")
                        for u in rows]  # fmt: skip


def fill_user_choices(form: UserForm, runtime: Runtime, departments: list[dict],
                      users: list[dict], user: dict | None = None) -> None:  # fmt: skip
    """Departments, managers, the rulebook's roles (and any stale role the user holds)."""
    _set_choices(form.department_id, _department_choices(departments))
    _set_choices(form.manager_id, _manager_choices(
        users, user["manager_id"] if user else None, user["id"] if user else None))  # fmt: skip
    roles = [SelectChoice(name, f"{label(role.label, name)} ({name})")
             for name, role in runtime.rulebook.roles.items()]  # fmt: skip
    held = set(user["roles"]) if user else set()
    roles += [SelectChoice(name, f"{name} ({say('role_not_in_rulebook')})")
              for name in sorted(held - set(runtime.rulebook.roles))]  # fmt: skip
    _set_choices(form.roles, roles)
    locales = [SelectChoice("", say("locale_default"))]
    locales += [SelectChoice(code, LOCALE_NAMES.get(code, code)) for code in SUPPORTED_LOCALES]
    _set_choices(form.locale, locales)


def fill_department_choices(form: DepartmentForm, departments: list[dict], users: list[dict],
                            dept: dict | None = None,
                            below: frozenset[int] = frozenset()) -> None:  # fmt: skip
    """Parents (not the department itself nor anything below it) and managers."""
    _set_choices(form.parent_id, _department_choices(departments, below))
    _set_choices(form.manager_id, _manager_choices(users, dept["manager_id"] if dept else None,
                                                   None))  # fmt: skip

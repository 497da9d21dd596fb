"""Forms of the login and account pages (Flask-WTF: each carries its CSRF token).

Labels are message codes rendered by the templates with ``t(code)``; validators put
messages in the request's locale (``say``), so a page shows one language throughout.
"""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import Field, PasswordField, StringField
from wtforms.validators import StopValidation, ValidationError

from ..i18n import current_locale
from ..messages import message
from .login import MAX_PASSWORD_LENGTH
from .passwords import MIN_PASSWORD_LENGTH, password_problems

__all__ = ["say", "Required", "MaxLength", "NewPassword", "LoginForm", "ChangePasswordForm",
           "SetPasswordForm", "add_errors"]  # fmt: skip


def say(code: str, **params: Any) -> str:
    """The message ``code`` in this request's locale."""
    return message(code, current_locale(), min=MIN_PASSWORD_LENGTH, **params)


def add_errors(form: FlaskForm, errors: dict[str, list[str]], fields: dict[str, str]) -> None:
    """Attach ``FieldErrors`` codes to the form's fields (``fields``: error key → field)."""
    for key, codes in errors.items():
        field = form[fields.get(key, key)] if fields.get(key, key) in form else None
        texts = [say(code) for code in codes]
        if field is not None:
            field.errors = [*field.errors, *texts]
        else:
            form.form_errors.extend(texts)


class Required:
    """A value is required (whitespace does not count)."""

    field_flags = {"required": True}

    def __call__(self, form: FlaskForm, field: Field) -> None:
        if field.data is None or (isinstance(field.data, str) and not field.data.strip()):
            raise StopValidation(say("required"))


class MaxLength:
    """At most ``size`` characters."""

    def __init__(self, size: int):
        self.size = size
        self.field_flags = {"maxlength": size}

    def __call__(self, form: FlaskForm, field: Field) -> None:
        if field.data is not None and len(field.data) > self.size:
            raise ValidationError(say("too_long", max=self.size))


class NewPassword:
    """A password acceptable as a new one (length, not the username)."""

    def __init__(self, username_field: str | None = None):
        self.username_field = username_field

    def __call__(self, form: FlaskForm, field: Field) -> None:
        username = form[self.username_field].data if self.username_field else None
        username = username or getattr(form, "rf_username", None)
        problems = password_problems(field.data or "", username)
        if problems:
            raise ValidationError(" ".join(say(code) for code in problems))


class Matches:
    """The same value as another field (a password typed twice)."""

    def __init__(self, other: str):
        self.other = other

    def __call__(self, form: FlaskForm, field: Field) -> None:
        if field.data != form[self.other].data:
            raise ValidationError(say("password_mismatch"))


class LoginForm(FlaskForm):
    username = StringField("username", [Required(), MaxLength(150)])
    password = PasswordField("password", [Required(), MaxLength(MAX_PASSWORD_LENGTH)])


class SetPasswordForm(FlaskForm):
    """A new password, typed twice (set ``rf_username`` to refuse the username)."""

    new_password = PasswordField("new_password", [Required(), NewPassword()])
    confirm_password = PasswordField("confirm_password", [Required(), Matches("new_password")])


class ChangePasswordForm(SetPasswordForm):
    current_password = PasswordField("current_password",
                                     [Required(), MaxLength(MAX_PASSWORD_LENGTH)])  # fmt: skip

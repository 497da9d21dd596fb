"""Administrators' pages for accounts: ``/admin/users`` (list, create, edit, deactivate,
reactivate, reset a password). Departments are in ``admin_departments``.

Every view is ``admin_required`` (403 for anyone else), every form carries a CSRF token,
and every write goes through ``users.py``, whose refusals are shown next to the fields.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from sqlalchemy.engine import Connection

from ...errors import FieldErrors
from ..database import read_connection, transaction
from ..web import current_actor, current_runtime
from .admin_forms import (
    NewUserForm,
    UserForm,
    department_label,
    fill_user_choices,
)
from .forms import SetPasswordForm, add_errors, say
from .guards import admin_required
from .request_auth import SESSION_EPOCH
from .users import (
    create_user,
    deactivate_user,
    get_user,
    list_departments,
    list_users,
    reactivate_user,
    set_password,
    set_roles,
    update_user,
    users_table,
)
from .views import auth_layout

__all__ = ["bp", "PAGE_SIZE"]

bp = Blueprint("accounts_admin", __name__, url_prefix="/admin", template_folder="templates")
bp.context_processor(auth_layout)

PAGE_SIZE = 50
_ACTIVE = {"yes": True, "no": False, "all": None}


def _all_users(conn: Connection) -> list[dict]:
    users = users_table()
    query = sa.select(users.c.id, users.c.username, users.c.display_name, users.c.active,
                      users.c.manager_id)  # fmt: skip
    return [dict(r) for r in conn.execute(query).mappings()]


def _page_number() -> int:
    try:
        return max(1, int(request.args.get("page", "1")))
    except ValueError:
        return 1


@bp.get("/users")
@admin_required
def users_index() -> Any:
    search = request.args.get("q", "")[:200]
    active_key = request.args.get("active", "yes")
    active_key = active_key if active_key in _ACTIVE else "yes"
    page = _page_number()
    with read_connection() as conn:
        rows, total = list_users(conn, search, _ACTIVE[active_key], PAGE_SIZE,
                                 (page - 1) * PAGE_SIZE)  # fmt: skip
        departments = {d["id"]: department_label(d) for d in list_departments(conn)}
    roles = current_runtime().rulebook.roles
    return render_template("auth/admin/users.html", users=rows, total=total, search=search,
                           active=active_key, page=page, pages=max(1, -(-total // PAGE_SIZE)),
                           departments=departments, roles=roles)  # fmt: skip


_FIELDS = {"department_id": "department_id", "manager_id": "manager_id", "id": "username"}


def _form_page(form: UserForm, user: dict | None, status: int = 200) -> Any:
    return render_template("auth/admin/user_form.html", form=form, user=user), status


@bp.route("/users/new", methods=["GET", "POST"])
@admin_required
def user_new() -> Any:
    form = NewUserForm()
    with read_connection() as conn:
        fill_user_choices(form, current_runtime(), list_departments(conn), _all_users(conn))
    if request.method == "GET" or not form.validate():
        return _form_page(form, None)
    try:
        with transaction() as conn:
            user_id = create_user(
                conn, form.username.data, form.password.data or None,
                display_name=form.display_name.data, email=form.email.data,
                department_id=form.department_id.data, manager_id=form.manager_id.data,
                roles=form.roles.data or [], locale=form.locale.data or None)  # fmt: skip
            if not form.active.data:
                deactivate_user(conn, user_id)
    except FieldErrors as exc:
        add_errors(form, exc.errors, _FIELDS)
        return _form_page(form, None, 422)
    flash(say("created"), "success")
    return redirect(url_for(".user_edit", user_id=user_id))


def _load_user(conn: Connection, user_id: int) -> dict:
    user = get_user(conn, user_id)
    if user is None:
        abort(404)
    return user


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@admin_required
def user_edit(user_id: int) -> Any:
    with read_connection() as conn:
        user = _load_user(conn, user_id)
        form = UserForm(data=None if request.method == "POST" else user)
        fill_user_choices(form, current_runtime(), list_departments(conn), _all_users(conn), user)
    if request.method == "GET" or not form.validate():
        return _form_page(form, user)
    actor = current_actor()
    if not form.active.data and user["active"] and actor and actor.user_id == user_id:
        form.active.errors = [say("cannot_deactivate_self")]
        return _form_page(form, user, 422)
    changes = {"username": form.username.data, "display_name": form.display_name.data,
               "email": form.email.data, "department_id": form.department_id.data,
               "manager_id": form.manager_id.data, "locale": form.locale.data}  # fmt: skip
    try:
        with transaction() as conn:
            update_user(conn, user_id, changes)
            set_roles(conn, user_id, form.roles.data or [])
            if user["active"] and not form.active.data:
                deactivate_user(conn, user_id)
            elif form.active.data and not user["active"]:
                reactivate_user(conn, user_id)
    except FieldErrors as exc:
        add_errors(form, exc.errors, _FIELDS)
        return _form_page(form, user, 422)
    flash(say("saved"), "success")
    return redirect(url_for(".user_edit", user_id=user_id))


@bp.post("/users/<int:user_id>/deactivate")
@admin_required
def user_deactivate(user_id: int) -> Any:
    actor = current_actor()
    with transaction() as conn:
        _load_user(conn, user_id)
        if actor is not None and actor.user_id == user_id:
            flash(say("cannot_deactivate_self"), "error")
        else:
            deactivate_user(conn, user_id)
            flash(say("user_deactivated"), "success")
    return redirect(url_for(".user_edit", user_id=user_id))


@bp.post("/users/<int:user_id>/reactivate")
@admin_required
def user_reactivate(user_id: int) -> Any:
    with transaction() as conn:
        _load_user(conn, user_id)
        reactivate_user(conn, user_id)
    flash(say("user_reactivated"), "success")
    return redirect(url_for(".user_edit", user_id=user_id))


@bp.route("/users/<int:user_id>/password", methods=["GET", "POST"])
@admin_required
def user_password(user_id: int) -> Any:
    with read_connection() as conn:
        user = _load_user(conn, user_id)
    form = SetPasswordForm()
    form.rf_username = user["username"]
    if request.method == "GET" or not form.validate():
        return render_template("auth/admin/user_password.html", form=form, user=user)
    with transaction() as conn:
        epoch = set_password(conn, user_id, form.new_password.data)
    actor = current_actor()
    if actor is not None and actor.user_id == user_id:
        session[SESSION_EPOCH] = epoch  # an administrator resetting their own: stay logged in
    flash(say("password_reset_done"), "success")
    return redirect(url_for(".user_edit", user_id=user_id))

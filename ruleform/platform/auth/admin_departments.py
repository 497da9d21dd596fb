"""Administrators' pages for the organisation: ``/admin/departments`` (tree, create, edit).

A department cannot move below itself (``users.move_department`` refuses the cycle; the
parent choice also leaves out the department and everything below it).
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for

from ...errors import FieldErrors
from ..actors import department_subtree
from ..database import read_connection, transaction
from .admin import _all_users, bp
from .admin_forms import DepartmentForm, department_label, department_tree, fill_department_choices
from .forms import add_errors, say
from .guards import admin_required
from .users import create_department, get_department, list_departments, update_department

__all__: list[str] = []


@bp.get("/departments")
@admin_required
def departments_index() -> Any:
    with read_connection() as conn:
        departments = list_departments(conn)
        managers = {u["id"]: u for u in _all_users(conn)}
    nodes: dict[int, dict] = {d["id"]: {"dept": d, "children": []} for d, _ in
                              department_tree(departments)}  # fmt: skip
    tree = []
    for node in nodes.values():  # tree order: a parent comes before its children
        parent = nodes.get(node["dept"]["parent_id"])
        (parent["children"] if parent else tree).append(node)
    return render_template("auth/admin/departments.html", tree=tree, managers=managers,
                           label_of=department_label)  # fmt: skip


def _save(form: DepartmentForm, department_id: int | None) -> int:
    values = {"name": form.name.data, "label_zh": form.label_zh.data or None,
              "label_en": form.label_en.data or None, "parent_id": form.parent_id.data,
              "manager_id": form.manager_id.data}  # fmt: skip
    with transaction() as conn:
        if department_id is None:
            return create_department(conn, **values)
        update_department(conn, department_id, **values)
        return department_id


def _form_page(form: DepartmentForm, dept: dict | None, status: int = 200) -> Any:
    return render_template("auth/admin/department_form.html", form=form, dept=dept), status


@bp.route("/departments/new", methods=["GET", "POST"])
@admin_required
def department_new() -> Any:
    form = DepartmentForm()
    with read_connection() as conn:
        fill_department_choices(form, list_departments(conn), _all_users(conn))
    if request.method == "GET" or not form.validate():
        return _form_page(form, None)
    try:
        department_id = _save(form, None)
    except FieldErrors as exc:
        add_errors(form, exc.errors, {})
        return _form_page(form, None, 422)
    flash(say("created"), "success")
    return redirect(url_for(".department_edit", department_id=department_id))


@bp.route("/departments/<int:department_id>", methods=["GET", "POST"])
@admin_required
def department_edit(department_id: int) -> Any:
    with read_connection() as conn:
        dept = get_department(conn, department_id)
        if dept is None:
            abort(404)
        form = DepartmentForm(data=None if request.method == "POST" else dept)
        # the parent choice leaves out the department and everything below it
        fill_department_choices(form, list_departments(conn), _all_users(conn), dept,
                                department_subtree(conn, department_id))  # fmt: skip
    if request.method == "GET" or not form.validate():
        return _form_page(form, dept)
    try:
        _save(form, department_id)
    except FieldErrors as exc:
        add_errors(form, exc.errors, {})
        return _form_page(form, dept, 422)
    flash(say("saved"), "success")
    return redirect(url_for(".department_edit", department_id=department_id))

"""Names behind ids: users, departments and referenced records, fetched in batches.

A page collects the ids it is about to show, then asks once per kind. Referenced records
are read through ``run_list`` with the target's read scope, so a record the actor may not
see shows as ``#id`` without a link — its title never leaks.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from ...errors import FieldErrors, NotFound
from ...metadata.field_types import type_of
from ...metadata.model import Entity, SortKey
from ...platform.records import Filter, ListQuery, RecordService, run_list

__all__ = ["Lookups", "user_options", "department_options", "record_options"]

# Lookups and options ask for no list view (``default_view=False``): a view's ``where``
# (e.g. "my customers") must not hide a record the actor may read.
_CHUNK = 100
_USER_COLUMNS = ("owner", "created_by", "updated_by")


class Lookups:
    """Display names for ids, resolved lazily in batches for one request."""

    def __init__(self, service: RecordService, locale: str):
        self.service = service
        self.locale = locale
        self.users: dict[int, str] = {}
        self.departments: dict[int, str] = {}
        self.records: dict[tuple[str, int], str | None] = {}

    # --- collecting ----------------------------------------------------------------------

    def prefetch(self, entity: Entity, rows: Iterable[dict[str, Any]],
                 columns: Iterable[str]) -> None:  # fmt: skip
        """Resolve every user, department and reference id in ``columns`` of ``rows``."""
        rows = list(rows)
        users, deps, refs = set(), set(), {}
        for name in columns:
            kind, target = _kind(entity, name)
            ids = {int(r[name]) for r in rows if isinstance(r.get(name), int)}
            if kind == "user":
                users |= ids
            elif kind == "department":
                deps |= ids
            elif kind == "reference" and target:
                refs.setdefault(target, set()).update(ids)
        self.load_users(users)
        self.load_departments(deps)
        for target, ids in refs.items():
            self.load_records(target, ids)

    def load_users(self, ids: Iterable[int]) -> None:
        missing = sorted(set(ids) - set(self.users))
        if not missing:
            return
        users = self.service.rt.system_table("users")
        for chunk in _chunks(missing):
            query = sa.select(users.c.id, users.c.display_name, users.c.username).where(
                users.c.id.in_(chunk))  # fmt: skip
            for row in self.service.conn.execute(query):
                self.users[row.id] = row.display_name or row.username

    def load_departments(self, ids: Iterable[int]) -> None:
        missing = sorted(set(ids) - set(self.departments))
        if not missing:
            return
        deps = self.service.rt.system_table("departments")
        for chunk in _chunks(missing):
            query = sa.select(deps).where(deps.c.id.in_(chunk))
            for row in self.service.conn.execute(query).mappings():
                self.departments[row["id"]] = _department_label(row, self.locale)

    def load_records(self, target: str, ids: Iterable[int]) -> None:
        missing = sorted({i for i in ids if (target, i) not in self.records})
        if not missing:
            return
        for i in missing:
            self.records[(target, i)] = None
        try:
            entity = self.service.entity(target)
        except NotFound:
            return
        title = entity.title_field
        for chunk in _chunks(missing):
            query = ListQuery(default_view=False, filters=[Filter("id", "in", chunk)],
                              columns=[title], page_size=len(chunk), count=False,
                              include_archived=True)  # fmt: skip
            try:
                page = run_list(self.service, entity, query)
            except FieldErrors:
                continue
            for row in page.rows:
                text = row.get(title)
                self.records[(target, row["id"])] = str(text) if text not in (None, "") else ""

    # --- answering -------------------------------------------------------------------------

    def user(self, user_id: Any) -> str:
        if user_id is None:
            return ""
        self.load_users([int(user_id)])
        return self.users.get(int(user_id), f"#{user_id}")

    def department(self, dep_id: Any) -> str:
        if dep_id is None:
            return ""
        self.load_departments([int(dep_id)])
        return self.departments.get(int(dep_id), f"#{dep_id}")

    def record(self, target: str, record_id: Any) -> str | None:
        """The title of a readable record (``""`` if it has none); None if not readable."""
        if record_id is None:
            return None
        self.load_records(target, [int(record_id)])
        return self.records.get((target, int(record_id)))


def _kind(entity: Entity, name: str) -> tuple[str, str | None]:
    if name in _USER_COLUMNS:
        return "user", None
    if name == "department":
        return "department", None
    f = entity.fields.get(name)
    if f is None:
        return "", None
    return type_of(f).storage or "", f.target  # user | department | reference | …


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def _department_label(row: Any, locale: str) -> str:
    key = "label_zh" if locale.startswith("zh") else "label_en"
    return row.get(key) or row.get("label_en") or row.get("name") or f"#{row['id']}"


# --- options for selects ---------------------------------------------------------------------


def user_options(service: RecordService) -> list[tuple[str, str]]:
    """Active users as ``(id, display name)``, by name."""
    users = service.rt.system_table("users")
    query = (sa.select(users.c.id, users.c.display_name, users.c.username)
             .where(users.c.active.is_(True))
             .order_by(users.c.display_name, users.c.id))  # fmt: skip
    return [(str(r.id), r.display_name or r.username) for r in service.conn.execute(query)]


def department_options(service: RecordService, locale: str) -> list[tuple[str, str]]:
    """Active departments as ``(id, label)``."""
    deps = service.rt.system_table("departments")
    query = sa.select(deps).where(deps.c.active.is_(True)).order_by(deps.c.id)
    return [(str(r["id"]), _department_label(r, locale))
            for r in service.conn.execute(query).mappings()]  # fmt: skip


def record_options(service: RecordService, target: str, limit: int = 200) -> list[tuple[str, str]]:
    """Up to ``limit`` records of ``target`` the actor may read, as ``(id, title)``."""
    try:
        entity = service.entity(target)
    except NotFound:
        return []
    title = entity.title_field
    f = entity.fields.get(title)
    sortable = f is not None and type_of(f).sortable and not f.sensitive
    query = ListQuery(default_view=False, columns=[title], page_size=limit, count=False,
                      sort=[_sort_key(title)] if sortable else None)  # fmt: skip
    try:
        page = run_list(service, entity, query)
    except FieldErrors:
        return []
    return [(str(r["id"]), str(r.get(title) or f"#{r['id']}")) for r in page.rows]


def _sort_key(name: str) -> Any:
    return SortKey(name)

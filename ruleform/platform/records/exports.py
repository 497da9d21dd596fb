"""Exports (CSV and XLSX) through the same permission compiler as lists.

An export needs the ``export`` action and reads only rows the actor may both read and
export, only readable fields; sensitive values stay masked unless asked for by name
(``reveal``), which the read audit records. A user holding several roles gets a cell only
where a role reaching its row reads the field (blank elsewhere; see ``policy_fields``).
Every exported record is written to the read audit (``via: export``), with the fields its
row showed; an export over the alert threshold raises an alert to the administrators (R47).
An export larger than ``max_rows`` is refused, not cut: a partial file that looks complete
is worse than none.

Cells that a spreadsheet would run as a formula (starting with ``= + - @``, tab or CR)
are written with a leading apostrophe.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ...errors import FieldErrors
from ...metadata.model import Entity
from ..messages import message
from ..runtime import utcnow
from .queries import ListQuery
from .read_audit import Thresholds, check_unusual, write_reads
from .scoped import compile_scope
from .values import mask, to_json

__all__ = ["ExportData", "export_rows", "to_csv", "to_xlsx", "FORMATS"]

FORMATS = {"csv": "text/csv; charset=utf-8",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}  # fmt: skip
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class ExportData:
    columns: list[str]
    headers: list[str]
    rows: list[list[Any]]
    masked: set[str]


def export_rows(service: Any, entity: Entity, query: ListQuery, *, max_rows: int,
                reveal: Sequence[str] = (), limits: Thresholds | None = None) -> ExportData:  # fmt: skip
    """The rows and columns of an export for ``service.actor``; audited and watched."""
    scoped = compile_scope(service, entity, query, "export")
    columns = _columns(entity, scoped, query)
    revealed = {n for n in reveal if n in scoped.readable and n in entity.fields
                and entity.fields[n].sensitive}  # fmt: skip
    for name in set(reveal) - revealed:
        scoped.fail("reveal", "invalid_column", field=name[:64])
    scoped.raise_errors()
    table, reach = scoped.table, scoped.reach
    flags = reach.flag_columns(scoped.params)  # none unless several roles read differently
    stmt = scoped.select(*(table.c[c] for c in columns), *flags).order_by(table.c.id)
    found = scoped.execute(service.conn, stmt.limit(max_rows + 1)).all()
    if len(found) > max_rows:
        raise FieldErrors({"export": [message("export_too_large", scoped.locale, max=max_rows)]})
    hidden = [reach.hidden_of(r[len(columns) :]) for r in found]
    rows = [{c: v for c, v in zip(columns, r, strict=False) if c not in h}
            for r, h in zip(found, hidden, strict=True)]  # fmt: skip
    masked = {c for c in columns if c in entity.fields and entity.fields[c].sensitive} - revealed
    now = utcnow()
    shown = [c for c in columns if c not in masked]
    by_fields: dict[frozenset[str], list[int]] = {}  # the read audit names what each row showed
    for r, h in zip(rows, hidden, strict=True):
        by_fields.setdefault(h, []).append(r["id"])
    for h, ids in by_fields.items():
        write_reads(service, entity.name, ids, [c for c in shown if c not in h], "export", now)
    check_unusual(service, entity.name, "export", len(rows), now, limits or service.limits)
    locale = scoped.locale
    headers = [_header(entity, c, locale) for c in columns]
    body = [[_cell(r[c], c in masked) if c in r else None for c in columns] for r in rows]
    return ExportData(columns, headers, body, masked)


def _columns(entity: Entity, scoped: Any, query: ListQuery) -> list[str]:
    table = scoped.table
    wanted = list(query.columns or (scoped.view.columns if scoped.view else ()) or
                  [n for n in table.c.keys() if n in entity.fields])  # fmt: skip
    for name in wanted:
        if name not in scoped.readable or name not in table.c:
            scoped.fail("fields", "invalid_column", field=name[:64])
    names = ["id"] + [n for n in wanted if n in scoped.readable and n in table.c and n != "id"]
    return list(dict.fromkeys(names))


def _header(entity: Entity, name: str, locale: str) -> str:
    f = entity.fields.get(name)
    return f.label.get(locale, name) if f is not None else name


def _cell(value: Any, masked: bool) -> Any:
    if masked:
        return mask(value)
    if isinstance(value, datetime):
        return to_json(value)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return value


def _safe(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA):
        return "'" + value
    return value


def to_csv(data: ExportData) -> bytes:
    """UTF-8 with a byte-order mark (so spreadsheet programs read Chinese correctly)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(data.headers)
    for row in data.rows:
        writer.writerow(["" if v is None else _safe(to_json(v)) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(data: ExportData, title: str = "export") -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=title[:31] or "export")
    sheet.append(data.headers)
    for row in data.rows:
        sheet.append([_xlsx_value(v) for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _xlsx_value(value: Any) -> Any:
    from datetime import date
    from decimal import Decimal

    if isinstance(value, bool | int | float | Decimal | date) or value is None:
        return value
    return _safe(str(to_json(value)))

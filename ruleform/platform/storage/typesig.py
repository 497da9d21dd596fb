"""Comparing column types across the model and a reflected database.

A type is reduced to a ``TypeSig`` read from the SQL it compiles to on the live dialect
(``VARCHAR(200)``, ``NUMERIC(18, 2)``, ``TIMESTAMP WITH TIME ZONE``, ``FLOAT`` …), so a
model type and a reflected type compare the same way on SQLite and PostgreSQL. SQLite
stores decimals as ``FLOAT``: a change of precision or scale is invisible there (and
harmless, values are quantised when read).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeEngine

__all__ = ["TypeSig", "Change", "signature", "compare_types"]

Change = Literal["same", "widen", "narrow", "change"]

_FAMILIES = (
    (r"(VARCHAR|CHARACTER VARYING|NVARCHAR)\s*\(\s*(\d+)\s*\)", "string"),
    (r"(VARCHAR|CHARACTER VARYING|TEXT|CLOB)", "text"),
    (r"(BIGINT|INTEGER|INT|SMALLINT)", "integer"),
    (r"(NUMERIC|DECIMAL)\s*\(\s*(\d+)\s*,\s*(\d+)\s*\)", "decimal"),
    (r"(NUMERIC|DECIMAL|FLOAT|REAL|DOUBLE PRECISION|DOUBLE)", "decimal"),
    (r"BOOLEAN", "boolean"),
    (r"(DATETIME|TIMESTAMP.*)", "datetime"),
    (r"DATE", "date"),
    (r"(JSON|JSONB)", "json"),
)
_INTEGER_SIZES = {"SMALLINT": 2, "INT": 4, "INTEGER": 4, "BIGINT": 8}


@dataclass(frozen=True, slots=True)
class TypeSig:
    """The parts of a column type a migration cares about."""

    family: str  # string text integer decimal boolean date datetime json other
    sql: str  # the compiled type, for messages and archives
    length: int | None = None  # string
    size: int | None = None  # integer, in bytes
    precision: int | None = None  # decimal (None: floating point, e.g. SQLite)
    scale: int | None = None

    def fits_length(self, value: str) -> bool:
        return self.length is None or len(value) <= self.length


def signature(type_: TypeEngine[Any], dialect: Dialect) -> TypeSig:
    """The ``TypeSig`` of a model or reflected type on ``dialect``."""
    sql = type_.compile(dialect=dialect).upper().strip()
    for pattern, family in _FAMILIES:
        match = re.fullmatch(pattern, sql)
        if match is None:
            continue
        if family == "string":
            return TypeSig(family, sql, length=int(match.group(2)))
        if family == "integer":
            return TypeSig(family, sql, size=_INTEGER_SIZES.get(sql, 8))
        if family == "decimal" and match.lastindex and match.lastindex >= 3:
            return TypeSig(family, sql, precision=int(match.group(2)), scale=int(match.group(3)))
        return TypeSig(family, sql)
    return TypeSig("other", sql)


def compare_types(old: TypeSig, new: TypeSig) -> Change:
    """How the live type ``old`` relates to the wanted type ``new``.

    ``widen`` keeps every stored value as it is (a longer string, string → text, a wider
    integer or decimal); ``narrow`` may not fit every value; ``change`` is another kind
    of value altogether.
    """
    if old.family != new.family:
        return "widen" if (old.family, new.family) == ("string", "text") else "change"
    if old.family == "string":
        return _order(old.length or 0, new.length or 0)
    if old.family == "integer":
        return _order(old.size or 8, new.size or 8)
    if old.family == "decimal":
        return _compare_decimals(old, new)
    return "same" if old.sql == new.sql else "change"


def _order(old: int, new: int) -> Change:
    if new == old:
        return "same"
    return "widen" if new > old else "narrow"


def _compare_decimals(old: TypeSig, new: TypeSig) -> Change:
    if old.precision is None or new.precision is None:
        return "same" if (old.precision is None) == (new.precision is None) else "change"
    old_scale, new_scale = old.scale or 0, new.scale or 0
    if (old.precision, old_scale) == (new.precision, new_scale):
        return "same"
    whole_fits = new.precision - new_scale >= old.precision - old_scale
    return "widen" if whole_fits and new_scale >= old_scale else "narrow"

"""Deterministic names for constraints and indexes.

Names are part of the schema a migration plan compares, so they must not depend on the
database or on the order things were declared in. PostgreSQL truncates identifiers at
63 bytes; a longer name keeps its first characters and ends in a short hash of the whole
name, so two long names never collide and the same definition always gets the same name.
"""

from __future__ import annotations

import hashlib

__all__ = ["MAX_IDENTIFIER", "make_name"]

MAX_IDENTIFIER = 63
_HASH_LENGTH = 10


def make_name(prefix: str, table: str, *parts: str) -> str:
    """``prefix_table_part1_part2``, shortened with a hash suffix when over 63 characters."""
    name = "_".join((prefix, table, *parts))
    if len(name.encode("utf-8")) <= MAX_IDENTIFIER:
        return name
    digest = hashlib.sha1(name.encode("utf-8")).hexdigest()[:_HASH_LENGTH]
    head = name.encode("utf-8")[: MAX_IDENTIFIER - _HASH_LENGTH - 1].decode("utf-8", "ignore")
    return f"{head}_{digest}"

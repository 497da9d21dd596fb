"""The timing kinds of time rules: one module each, read into ``SWEEPS`` here.

A timing kind is a module with ``KIND`` (its name in the rulebook's ``timing`` — the
language side lives in ``metadata/timings.py``) and ``SWEEP``, a :class:`~..sweep.Sweep`
subclass: ``statement(ids)`` selects the records due now in one query, ``finish(conn,
rows)`` turns the rows into occurrences. ``tests/timerules/test_registries.py`` fails when
a kind of the language has no sweep here, or a sweep no kind there.
"""

from __future__ import annotations

from types import ModuleType

from ..sweep import Sweep, Window
from . import after, deadline, inactive, on, schedule, threshold, yearly

__all__ = ["SWEEPS", "build_sweep"]

_KINDS: tuple[ModuleType, ...] = (after, inactive, yearly, deadline, schedule, threshold, on)

#: The sweep class of each timing kind.
SWEEPS: dict[str, type[Sweep]] = {kind.KIND: kind.SWEEP for kind in _KINDS}


def build_sweep(window: Window) -> Sweep:
    """The sweep of ``window.rule``'s timing."""
    return SWEEPS[window.rule.timing.kind](window)

"""The timing kinds of time rules, as the language knows them: one module each.

``TIMING_KINDS`` (name → ``TimingKind``) is what the schema, the compiler and the
explanations read; the workflow engine runs each kind with the sweep of the same name
(``workflow_engine/timerules/timings/``), and ``tests/timerules/test_registries.py`` fails
when the two lists differ. Adding a timing kind: a module here defining ``KIND``, a module
there defining ``SWEEP``, a line in each list.
"""

from __future__ import annotations

from types import ModuleType

from . import after, deadline, inactive, on, schedule, threshold, yearly
from .base import SchemaParts, TimingBuild, TimingKind, TimingWords

__all__ = ["TIMING_KINDS", "TimingKind", "SchemaParts", "TimingBuild", "TimingWords"]

_MODULES: tuple[ModuleType, ...] = (after, yearly, inactive, deadline, schedule, threshold, on)

#: Every timing kind by name, in the order the language lists them.
TIMING_KINDS: dict[str, TimingKind] = {m.KIND.name: m.KIND for m in _MODULES}

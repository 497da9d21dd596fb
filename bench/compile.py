"""How fast a rulebook is read, checked and compiled.

    python bench/compile.py [--quick]

Prints a table, then as its LAST line one JSON object: every figure with its value, the
baseline (measured before the compiler was tuned, on the reference machine) and its
target. Figures:

- ``crm_ms``: check + compile ``metadata/crm`` (median of N runs); target < 200 ms.
- ``generated_ms``: a generated rulebook of 200 entities × 50 fields (mixed types, with
  conditions, views, validations, statuses and transitions), written to a temporary
  folder; target < 2000 ms.
- ``crm_vs_yaml`` / ``generated_vs_yaml``: compile time over a plain ``yaml.safe_load``
  (libyaml's ``CSafeLoader`` when available) of the same files; target ≤ 5×.

Missing a target is reported, never an error: the exit status is 0 unless the bench
itself breaks.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._table import print_table  # noqa: E402
from ruleform.metadata.compiler import check_rulebook  # noqa: E402

CRM = ROOT / "metadata" / "crm"
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

#: name → (baseline, target, comparison, unit). The baselines are this benchmark's first
#: full run, before the loader and checker were tuned (2-core reference machine).
FIGURES = {
    "crm_ms": (277.9, 200.0, "<", "ms"),
    "generated_ms": (3659.9, 2000.0, "<", "ms"),
    "crm_vs_yaml": (6.5, 5.0, "<=", "×"),
    "generated_vs_yaml": (6.5, 5.0, "<=", "×"),
}

_TYPES = ["string", "text", "integer", "decimal", "money", "boolean", "date", "datetime",
          "email", "phone", "url", "user", "tags"]  # fmt: skip


def timed(fn: Callable[[], object], yaml_fn: Callable[[], object], runs: int) -> dict:
    """Medians over ``runs`` of: wall and CPU time of ``fn`` (ms), and its ratio to
    ``yaml_fn``, timed right after it so both see the same machine load (one warm-up)."""
    fn(), yaml_fn()
    wall, cpu, ratio = [], [], []
    for _ in range(runs):
        started, cpu_started = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu_started) * 1000)
        started = time.perf_counter()
        yaml_fn()
        ratio.append(wall[-1] / ((time.perf_counter() - started) * 1000))
    return {"ms": statistics.median(wall), "cpu_ms": statistics.median(cpu),
            "vs_yaml": statistics.median(ratio)}  # fmt: skip


def _field(i: int, j: int) -> dict:
    if j == 0:
        return {"type": "string", "label": {"zh-CN": f"名称{i}", "en": f"Name {i}"},
                "required": True, "max_length": 200}  # fmt: skip
    if j == 1 and i > 0:
        return {"type": "reference", "entity": f"thing_{i - 1:03d}", "label": "Parent"}
    if j == 2:
        return {"type": "choice", "label": {"zh-CN": "级别", "en": "Level"},
                "choices": {"a": {"zh-CN": "甲", "en": "A"}, "b": {"zh-CN": "乙", "en": "B"},
                            "c": {"zh-CN": "丙", "en": "C"}}}  # fmt: skip
    if j == 3:
        return {"type": "computed", "returns": "decimal", "label": "Score",
                "expression": "f_04 * 2 + f_05 / 3"}  # fmt: skip
    ftype = _TYPES[j % len(_TYPES)] if j > 5 else ("integer" if j in (4, 5) else "string")
    spec: dict = {"type": ftype, "label": {"zh-CN": f"字段{j}", "en": f"Field {j}"}}
    if ftype in ("integer", "decimal", "money") and j > 5:
        spec.update(min=0, max=1_000_000)
    if j % 7 == 0:
        spec["visible_when"] = "f_02 = 'a' and f_04 > 3"
    if j % 11 == 0:
        spec["required_when"] = "status = 'active' or f_00 is not empty"
    return spec


def generated_entity(i: int, fields: int) -> dict:
    """One entity of the generated rulebook (``thing_007``)."""
    names = [f"f_{j:02d}" for j in range(fields)]
    specs = {name: _field(i, j) for j, name in enumerate(names)}
    if i == 0:
        specs["f_01"] = {"type": "string", "label": "Code"}
    return {
        "label": {"zh-CN": f"事物{i}", "en": f"Thing {i}"},
        "title": "f_00",
        "fields": specs,
        "layout": {"main": {"label": "Main", "columns": 2, "fields": names[:20]},
                   "more": {"label": "More", "fields": names[20:]}},
        "views": {
            "all": {"label": "All", "columns": names[:6], "filters": ["f_02", "status"],
                    "search": ["f_00"], "sort": ["-updated_at"], "default": True},
            "active_a": {"label": "Active A", "columns": names[:4],
                         "where": "status = 'active' and f_02 = 'a'", "sort": ["-f_03"]},
        },
        "validations": {
            "positive": {"assert": "f_04 >= 0", "message": {"zh-CN": "不能为负", "en": "≥ 0"},
                         "examples": {"pass": [{"f_04": 1}], "fail": [{"f_04": -1}]}},
            "active_needs_name": {"when": "status = 'active'", "require": ["f_00"],
                                  "message": "Name needed"},
        },
        "statuses": {"initial": "draft", "states": {
            "draft": {"label": "Draft"}, "active": {"label": "Active"},
            "closed": {"label": "Closed", "final": True}}},
        "transitions": {
            "activate": {"from": "draft", "to": "active", "when": "f_00 is not empty",
                         "set": {"f_05": "f_04 + 1"}},
            "close": {"from": ["draft", "active"], "to": "closed"},
        },
        "permissions": {"user": {"actions": ["read", "create", "update"],
                                 "transitions": "all", "scope": "own"},
                        "manager": {"actions": "all", "transitions": "all",
                                    "scope": "department_tree"}},
    }  # fmt: skip


def write_generated(folder: Path, entities: int = 200, fields: int = 50) -> Path:
    """A rulebook folder: ``rulebook.yaml`` and one file per entity."""
    settings = {
        "language": "ruleform/v1", "name": "generated", "version": "1",
        "locales": ["zh-CN", "en"], "default_locale": "zh-CN", "timezone": "Asia/Shanghai",
        "roles": {"user": {"label": "User"}, "manager": {"label": "Manager", "manages": True}},
    }  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    dump = {"allow_unicode": True, "sort_keys": False}
    (folder / "rulebook.yaml").write_text(yaml.safe_dump(settings, **dump), "utf-8")
    for i in range(entities):
        doc = {"entities": {f"thing_{i:03d}": generated_entity(i, fields)}}
        (folder / f"thing_{i:03d}.yaml").write_text(yaml.safe_dump(doc, **dump), "utf-8")
    return folder


def yaml_only(folder: Path) -> None:
    for path in sorted(folder.glob("*.yaml")):
        yaml.load(path.read_text("utf-8"), Loader=LOADER)  # noqa: S506 - a safe loader


def compile_ok(folder: Path) -> None:
    result = check_rulebook(folder)
    if not result.ok:
        raise SystemExit("\n".join(p.format() for p in result.errors[:20]))


def measure(quick: bool) -> tuple[dict[str, float], dict[str, float]]:
    """The figures, and the CPU times behind the two timings (less sensitive to load)."""
    runs, big_runs = (5, 2) if quick else (15, 5)
    crm = timed(lambda: compile_ok(CRM), lambda: yaml_only(CRM), runs)
    with tempfile.TemporaryDirectory(prefix="ruleform-bench-") as tmp:
        folder = write_generated(Path(tmp) / "generated")
        big = timed(lambda: compile_ok(folder), lambda: yaml_only(folder), big_runs)
    values = {"crm_ms": crm["ms"], "crm_vs_yaml": crm["vs_yaml"],
              "generated_ms": big["ms"], "generated_vs_yaml": big["vs_yaml"]}  # fmt: skip
    return values, {"crm_cpu_ms": round(crm["cpu_ms"], 1),
                    "generated_cpu_ms": round(big["cpu_ms"], 1)}  # fmt: skip


def met(value: float, target: float, comparison: str) -> bool:
    return value < target if comparison == "<" else value <= target


def report(values: dict[str, float], quick: bool, extra: dict | None = None) -> dict:
    """The JSON result: each figure with its baseline, target and verdict, and the context."""
    figures = {}
    for name, value in values.items():
        baseline, target, comparison, unit = FIGURES[name]
        figures[name] = {"value": round(value, 2), "baseline": baseline, "target": target,
                         "comparison": comparison, "unit": unit,
                         "met": met(value, target, comparison)}  # fmt: skip
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    return {"bench": "compile", "quick": quick, "figures": figures, "cpu": extra or {},
            "load_average": load, "cpus": os.cpu_count()}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs (CI smoke)")
    args = parser.parse_args(argv)
    values, cpu = measure(args.quick)
    result = report(values, args.quick, cpu)
    print_table(result, 1)
    print(f"cpu time: {cpu}; load average {result['load_average']} on {result['cpus']} cpus"
          + (" (busy machine: wall times are inflated)"
             if (result["load_average"] or 0) > (result["cpus"] or 1) else ""))  # fmt: skip
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The compile benchmark stays runnable: its generated rulebook is valid, its JSON well-formed.

Speed itself is never asserted here (CI machines vary); ``make bench`` reports it.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from ruleform.metadata.compiler import check_rulebook

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_generated_rulebook_is_valid(tmp_path):
    bench = _load("compile")
    folder = bench.write_generated(tmp_path / "generated", entities=4, fields=14)
    result = check_rulebook(folder)
    assert result.ok, "\n".join(p.format() for p in result.problems[:10])
    assert len(result.rulebook.entities) == 4
    thing = result.rulebook.entities["thing_003"]
    assert len(thing.fields) == 14
    assert thing.fields["f_01"].target == "thing_002"
    assert thing.views and thing.validations and thing.transitions
    assert len(list(folder.glob("*.yaml"))) == 5


def test_the_report_gives_each_figure_a_baseline_a_target_and_a_verdict():
    bench = _load("compile")
    values = {"crm_ms": 150.0, "crm_vs_yaml": 6.0, "generated_ms": 1000.0,
              "generated_vs_yaml": 5.0}  # fmt: skip
    result = bench.report(values, quick=True)
    json.dumps(result)  # the last line of the output
    figures = result["figures"]
    assert set(figures) == set(bench.FIGURES)
    assert figures["crm_ms"]["met"] and not figures["crm_vs_yaml"]["met"]
    assert figures["generated_vs_yaml"]["met"]  # ≤ 5 is met at 5
    assert all({"value", "baseline", "target"} <= set(f) for f in figures.values())


def test_run_all_runs_every_benchmark_but_itself():
    run_all = _load("run_all")
    names = [p.name for p in run_all.benchmarks()]
    assert "compile.py" in names and "run_all.py" not in names
    table = run_all.summary([{"bench": "compile", "figures": {
        "crm_ms": {"value": 150.0, "baseline": 285.0, "target": 200.0, "comparison": "<",
                   "unit": "ms", "met": True}}}])  # fmt: skip
    assert "compile  crm_ms  150 ms  285 ms    < 200 ms  ok" in table

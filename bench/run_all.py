"""Run every benchmark in this folder and summarise their figures.

    python bench/run_all.py [--quick] [NAME ...]

Each ``bench/*.py`` (but this file and files starting with ``_``) is run in its own
process, with ``--quick`` when given. A benchmark prints a readable table and, as its last
line, one JSON object ``{"bench": ..., "figures": {name: {value, baseline, target,
comparison, unit, met}}}``. This script shows each benchmark's output, then one summary
table, then (its own last line) the collected JSON.

Missing a target is reported, never a failure: CI asserts nothing about speed. The exit
status is 1 only when a benchmark crashes or does not end with its JSON line.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def benchmarks() -> list[Path]:
    """The benchmark scripts, in name order."""
    return sorted(
        p for p in HERE.glob("*.py") if p.name != Path(__file__).name and not p.name.startswith("_")
    )


def run(script: Path, quick: bool) -> tuple[dict | None, str]:
    """The JSON result of ``script`` (None if it broke) and an explanation when it broke."""
    command = [sys.executable, str(script), *(["--quick"] if quick else [])]
    started = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, text=True, cwd=HERE.parent)
    elapsed = time.perf_counter() - started
    lines = completed.stdout.rstrip("\n").splitlines()
    print(f"== {script.name} ({elapsed:.1f} s)")
    print("\n".join(lines[:-1]))
    if completed.returncode != 0:
        return None, f"exit status {completed.returncode}: {completed.stderr.strip()[-2000:]}"
    try:
        result = json.loads(lines[-1]) if lines else None
    except json.JSONDecodeError:
        result = None
    if not isinstance(result, dict) or not isinstance(result.get("figures"), dict):
        return None, "the last line of its output is not the JSON result"
    return result, ""


def summary(results: list[dict]) -> str:
    """One aligned table of every figure of every benchmark."""
    rows = [("bench", "figure", "value", "baseline", "target", "")]
    for result in results:
        for name, f in result["figures"].items():
            unit = f.get("unit", "")
            rows.append((
                str(result.get("bench", "?")), name, f"{f['value']:g} {unit}",
                f"{f['baseline']:g} {unit}", f"{f['comparison']} {f['target']:g} {unit}",
                "ok" if f.get("met") else "MISSED",
            ))  # fmt: skip
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="pass --quick to every benchmark")
    parser.add_argument("names", nargs="*", help="run only these benchmarks (e.g. compile)")
    args = parser.parse_args(argv)
    results, broken = [], []
    for script in benchmarks():
        if args.names and script.stem not in args.names:
            continue
        result, problem = run(script, args.quick)
        if result is None:
            broken.append(f"{script.name}: {problem}")
        else:
            results.append(result)
    print("\n== summary")
    print(summary(results))
    missed = sum(not f.get("met") for r in results for f in r["figures"].values())
    if missed:
        print(f"{missed} target(s) missed (reported only; not a failure)")
    for line in broken:
        print(f"BROKEN {line}", file=sys.stderr)
    print(json.dumps({"quick": args.quick, "results": results, "broken": broken},
                     ensure_ascii=False))  # fmt: skip
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())

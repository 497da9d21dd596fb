"""The readable table every benchmark prints before its JSON line."""

from __future__ import annotations

from typing import Any

__all__ = ["print_table"]


def print_table(result: dict[str, Any], digits: int = 2, title: str | None = None) -> None:
    """One row per figure: value, baseline, target (or "(reported)") and ok / MISSED."""
    rows = [("figure", "value", "baseline", "target", "")]
    for name, f in result["figures"].items():
        target = f"{f['comparison']} {f['target']:g} {f['unit']}" if f["target"] else "(reported)"
        rows.append((name, f"{f['value']:.{digits}f} {f['unit']}",
                     f"{f['baseline']:.{digits}f} {f['unit']}", target,
                     "ok" if f["met"] else "MISSED"))  # fmt: skip
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    if title:
        print(title)
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())

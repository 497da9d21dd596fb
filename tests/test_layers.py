"""The house plan, kept true: imports only point down the layers (docs/architecture.md).

Every module of ``ruleform`` is read from its AST — imports at module level and inside
functions alike — and each import of a ``ruleform`` module is checked against the layers:

    errors  <  metadata  <  platform  <  workflow_engine  <  blueprints  <  admin_ui
            <  the composition root (app, cli, commands, serve, worker, wiring, demo)

A module may import its own layer and the layers below it, never one above. The
workflow engine's pure core imports no Flask, no SQLAlchemy and no platform I/O. An import
inside a function is allowed only where a module-level import cannot be (a cycle, or a
heavy dependency the command line must not pay for) and says why in a comment on its line:
``# lazy: <reason>``; fewer than ten remain.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "ruleform"

LAYERS = ["errors", "metadata", "platform", "workflow_engine", "blueprints", "admin_ui", "root"]

#: Modules of the composition root (everything else at the top is a layer of its own).
ROOT_MODULES = {"app", "cli", "commands", "serve", "gunicorn_conf", "wiring", "demo"}

#: The workflow engine's pure core: no I/O (docs/workflow.md).
PURE_CORE = {"machine", "approvals", "approval_state", "snapshot", "normalise", "diagram"}
IO_MODULES = ("flask", "sqlalchemy", "redis", "rq", "ruleform.platform.database",
              "ruleform.platform.records", "ruleform.platform.storage")  # fmt: skip

MAX_LAZY_IMPORTS = 9


@dataclass(frozen=True)
class Import:
    module: str  # the importing module
    target: str  # the imported module (resolved, absolute)
    line: int
    in_function: bool
    text: str  # the source line


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imports_of(path: Path) -> list[Import]:
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    tree = ast.parse(source)
    module = module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            inside.update(id(sub) for sub in ast.walk(node) if sub is not node)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            # ``from . import x`` imports the module ``x`` when there is one
            targets = [f"{prefix}.{a.name}" if _is_module(f"{prefix}.{a.name}") else prefix
                       for a in node.names]  # fmt: skip
        else:
            continue
        text = "\n".join(lines[node.lineno - 1 : node.end_lineno])
        for target in dict.fromkeys(targets):
            found.append(Import(module, target, node.lineno, id(node) in inside, text))
    return found


def _is_module(name: str) -> bool:
    relative = Path(*name.split("."))
    return (PACKAGE.parent / relative).with_suffix(".py").exists() or (
        PACKAGE.parent / relative / "__init__.py").exists()  # fmt: skip


def layer_of(module: str) -> str | None:
    """The layer of a ``ruleform`` module (None: not ours)."""
    parts = module.split(".")
    if parts[0] != "ruleform":
        return None
    if len(parts) == 1:
        return "errors"  # the package itself holds nothing but its version
    top = parts[1]
    if top in ROOT_MODULES:
        return "root"
    assert top in LAYERS, f"{module}: a module outside the layers ({', '.join(LAYERS)})"
    return top


def all_imports() -> list[Import]:
    return [imp for path in sorted(PACKAGE.rglob("*.py")) for imp in imports_of(path)]


def test_every_module_belongs_to_a_layer():
    for path in PACKAGE.rglob("*.py"):
        assert layer_of(module_name(path)) is not None


def test_imports_only_point_down_the_layers():
    against = []
    for imp in all_imports():
        target_layer = layer_of(imp.target)
        if target_layer is None:
            continue
        own = layer_of(imp.module)
        assert own is not None
        if LAYERS.index(target_layer) > LAYERS.index(own):
            where = "in a function" if imp.in_function else "at module level"
            against.append(f"{imp.module}:{imp.line} ({own}) imports {imp.target} "
                           f"({target_layer}) {where}")  # fmt: skip
    assert not against, "imports against the layers:\n" + "\n".join(against)


def test_the_workflow_core_is_pure():
    """The pure core, and everything it imports outside the language, does no I/O."""
    graph: dict[str, set[str]] = {}
    for imp in all_imports():
        graph.setdefault(imp.module, set()).add(imp.target)
    core = {f"ruleform.workflow_engine.{name}" for name in PURE_CORE}
    seen, todo, impure = set(), list(core), []
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        for target in graph.get(module, ()):
            if any(target == io or target.startswith(io + ".") for io in IO_MODULES):
                impure.append(f"{module} imports {target}")
            elif target.startswith("ruleform.") and not target.startswith("ruleform.metadata"):
                todo.append(target)
    assert not impure, "the pure core does I/O:\n" + "\n".join(sorted(impure))


def test_the_language_needs_no_web_framework():
    """``metadata`` compiles and explains rulebooks without Flask (SQLAlchemy Core only
    builds the SQL of conditions)."""
    web = [
        f"{imp.module}:{imp.line}"
        for imp in all_imports()
        if imp.module.startswith("ruleform.metadata") and imp.target.split(".")[0] == "flask"
    ]
    assert web == []


def test_imports_inside_functions_are_few_and_say_why():
    lazy = [imp for imp in all_imports()
            if imp.in_function and layer_of(imp.target) is not None]  # fmt: skip
    unexplained = [f"{imp.module}:{imp.line}: {imp.text.strip()}" for imp in lazy
                   if "# lazy:" not in imp.text]  # fmt: skip
    assert not unexplained, "imports inside functions without '# lazy: <reason>':\n" + \
        "\n".join(unexplained)  # fmt: skip
    assert len(lazy) <= MAX_LAZY_IMPORTS, "\n".join(f"{i.module}:{i.line}" for i in lazy)


#: Settings that name an operator's own function (``"module:function"``), not a feature.
OPERATOR_HOOKS = {"ruleform.workflow_engine.delivery.jobs": "DELIVERY_EMAIL_CONFIRM"}


@pytest.mark.parametrize("feature", ["importlib", "__import__"])
def test_nothing_is_loaded_by_a_name_in_a_string(feature):
    """The wiring list names modules; no module loads a feature from a string."""
    users = [module_name(p) for p in PACKAGE.rglob("*.py")
             if feature in p.read_text(encoding="utf-8")]  # fmt: skip
    assert [u for u in users if u not in OPERATOR_HOOKS] == []


def test_product_code_imports_no_test_helpers():
    for imp in all_imports():
        assert not imp.target.startswith(("tests", "pytest", "ruleform.testing")), imp

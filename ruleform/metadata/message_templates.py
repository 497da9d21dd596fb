"""Message templates: Jinja in a sandbox, checked when the rulebook is checked.

A template may use only the names ``record``, ``recipient``, ``rule``, ``link`` and
``entity``, plain attribute and item access, the filters of :data:`TEMPLATE_FILTERS` and
``if``/``for``. Anything that reaches for Python internals (``__class__``, ``__globals__``,
``cycler.__init__``, names like ``self``, ``config``, ``lipsum``) is refused before it is
ever stored or rendered, and so is what could make rendering slow or huge: ``**``, ``*``
and ``%`` (``9**9**9``, ``'x' * 10**9``), filters that pad or format (``center``,
``format``), and loops nested more than :data:`MAX_LOOP_DEPTH` deep.
"""

from __future__ import annotations

from typing import Any

from jinja2 import TemplateSyntaxError, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment

__all__ = ["TemplateError", "check_template", "render_template", "TEMPLATE_NAMES",
           "TEMPLATE_FILTERS"]  # fmt: skip

TEMPLATE_NAMES = frozenset({"record", "recipient", "rule", "link", "entity"})
#: Filters whose output is never much larger than their input.
TEMPLATE_FILTERS = frozenset(
    """abs capitalize count d default dictsort e escape filesizeformat first float int items
    join last length list lower max min reverse round sort string striptags sum title trim
    truncate unique upper urlencode wordcount""".split()
)
MAX_TEMPLATE = 8000
MAX_LOOP_DEPTH = 2
_OPERATORS = {nodes.Pow: "**", nodes.Mul: "*", nodes.Mod: "%"}

_env = ImmutableSandboxedEnvironment(autoescape=False)


class TemplateError(ValueError):
    """A message template is malformed or reaches for something it may not."""


def check_template(source: str) -> None:
    """Raise ``TemplateError`` if ``source`` is not a safe, well-formed template."""
    if len(source) > MAX_TEMPLATE:
        raise TemplateError(f"too long (over {MAX_TEMPLATE} characters)")
    try:
        tree = _env.parse(source)
    except TemplateSyntaxError as exc:
        raise TemplateError(f"syntax error on line {exc.lineno}: {exc.message}") from None
    local = {n.name for n in tree.find_all(nodes.Name) if n.ctx in ("store", "param")}
    for node in tree.find_all((nodes.Name, nodes.Getattr, nodes.Getitem, nodes.Extends,
                               nodes.Include, nodes.Import, nodes.FromImport, nodes.Macro,
                               nodes.CallBlock, nodes.Filter, *_OPERATORS)):  # fmt: skip
        _check_node(node, local)
    if _loop_depth(tree) > MAX_LOOP_DEPTH:
        raise TemplateError(f"loops may be nested at most {MAX_LOOP_DEPTH} deep")


def _loop_depth(node: nodes.Node) -> int:
    inner = max((_loop_depth(child) for child in node.iter_child_nodes()), default=0)
    return inner + isinstance(node, nodes.For)


def _check_node(node: Any, local: set[str]) -> None:
    if isinstance(node, nodes.Extends | nodes.Include | nodes.Import | nodes.FromImport):
        raise TemplateError("templates cannot include or import other templates")
    if isinstance(node, nodes.Filter) and node.name == "attr":
        raise TemplateError("the 'attr' filter is not allowed; write record.field")
    if isinstance(node, nodes.Filter) and node.name not in TEMPLATE_FILTERS:
        raise TemplateError(f"the filter '{node.name}' is not allowed in messages; allowed: "
                            + ", ".join(sorted(TEMPLATE_FILTERS)))  # fmt: skip
    if type(node) in _OPERATORS:
        raise TemplateError(f"'{_OPERATORS[type(node)]}' is not allowed in messages; compute "
                            "the value in a computed field")  # fmt: skip
    if isinstance(node, nodes.Macro | nodes.CallBlock):
        raise TemplateError("macros are not allowed in messages")
    if isinstance(node, nodes.Name) and node.ctx == "load" and node.name not in TEMPLATE_NAMES:
        if node.name not in local:
            raise TemplateError(f"unknown name '{node.name}'; available: "
                                + ", ".join(sorted(TEMPLATE_NAMES)))  # fmt: skip
    if isinstance(node, nodes.Getattr) and node.attr.startswith("_"):
        raise TemplateError(f"'{node.attr}' is not allowed (names starting with _ are internal)")
    if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
        if isinstance(node.arg.value, str) and node.arg.value.startswith("_"):
            raise TemplateError(f"'{node.arg.value}' is not allowed")


def render_template(source: str, context: dict[str, Any]) -> str:
    """Render a checked template with plain values only."""
    check_template(source)
    return _env.from_string(source).render(**context)

"""The one template language for the letters people write: request texts and mail templates.

A letter needs its placeholders, an ``{% if %}`` or two, an ``or`` for a missing value and a
few filters that change case; nothing else. Jinja's sandbox stops a template reaching Python's
internals but not using up the server: ``{{ 'a' * 200000000 }}`` built a 200 MB page, and
nested loops over ``range()`` held a worker until gunicorn killed it (issue 23, point 5).
Counting operations or watching the clock inside Jinja cannot stop one expression that is
already building a huge string, so the language itself is limited instead: a template is
parsed, every node of it checked against the short list below, and only then compiled. With no
loops, calls, arithmetic, ``{% set %}`` or collection literals, each ``{{ ... }}`` prints at
most one value (a bounded filter of it), so the work is proportional to the source, which is
capped. The output and the render time are capped as well, as a second line: a mail template
can print ``{{ request_text }}`` many times.

Every refusal is a domain ``Invalid`` naming the field, with the line, both when a template is
saved and when one stored before these limits is rendered.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Mapping
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateError, nodes
from jinja2.sandbox import SandboxedEnvironment

from foitrack.errors import Invalid

# A long request is 5,000 characters; the longest default mail template under 1,000.
MAX_SOURCE = 20_000
# A letter, placeholders filled in: 100,000 characters is some 15,000 words.
MAX_OUTPUT = 100_000
# Checked between the pieces of output; with the language limited, rendering takes milliseconds.
MAX_SECONDS = 1.0
# Deep enough for any letter; ((((x)))) thousands deep overflows the parser's stack instead.
MAX_NESTING = 20

# The filters a letter may use: none of them takes a size or grows its text more than a little
# (``upper`` turns "ß" into "SS"); ``center(10**9)``, ``replace``, ``format`` and ``indent`` do.
FILTERS = frozenset({"upper", "lower", "capitalize", "title", "trim", "default", "d", "string"})
TESTS = frozenset({"defined", "undefined", "none", "number", "string", "true", "false"})

_ALLOWED = (
    nodes.Template, nodes.Output, nodes.TemplateData, nodes.If, nodes.Name, nodes.Const,
    nodes.Getattr, nodes.Getitem, nodes.CondExpr, nodes.And, nodes.Or, nodes.Not,
    nodes.Compare, nodes.Operand, nodes.Filter, nodes.Test, nodes.Keyword,
)
# What to call the refused constructs, in the words of the template language.
_NAMES: dict[type[nodes.Node], str] = {
    nodes.For: "{% for %} loops",
    nodes.Call: "calls, such as range() or .format()",
    nodes.Assign: "{% set %}",
    nodes.AssignBlock: "{% set %}",
    nodes.Macro: "macros",
    nodes.CallBlock: "{% call %} blocks",
    nodes.FilterBlock: "{% filter %} blocks",
    nodes.With: "{% with %} blocks",
    nodes.Include: "{% include %}",
    nodes.Import: "{% import %}",
    nodes.FromImport: "{% import %}",
    nodes.Extends: "{% extends %}",
    nodes.Block: "{% block %}",
    nodes.Mul: "the * operator",
    nodes.Pow: "the ** operator",
    nodes.Div: "arithmetic",
    nodes.FloorDiv: "arithmetic",
    nodes.Mod: "the % operator",
    nodes.Add: "the + operator (write the text around the placeholders instead)",
    nodes.Sub: "arithmetic",
    nodes.Neg: "arithmetic",
    nodes.Pos: "arithmetic",
    nodes.Concat: "the ~ operator (write the text around the placeholders instead)",
    nodes.List: "lists",
    nodes.Tuple: "lists",
    nodes.Dict: "dictionaries",
    nodes.Slice: "slices",
}
ALLOWED_SUMMARY = (
    "a letter may use its placeholders, {% if %} / {% elif %} / {% else %}, and, or, not, "
    "comparisons, 'x if y else z' and the filters " + ", ".join(sorted(FILTERS - {"d"}))
)


class _Environment(SandboxedEnvironment):
    """The sandbox, with none of Jinja's globals (range, lipsum, namespace, cycler...), and
    without Jinja's constant folding: it works out a chain of filters again at each link, so
    compiling 35 chains of 40 filters took 3.6 s (0.17 s without; letters gain nothing by it)."""

    def __init__(self) -> None:
        super().__init__(undefined=StrictUndefined, autoescape=False, optimized=False)
        self.globals.clear()


_environment = _Environment()


def _problem(field: str, message: str, line: int | None = None) -> Invalid:
    return Invalid(f"line {line}: {message}" if line else message, field=field)


def _check(tree: nodes.Template, field: str) -> None:
    """:raises Invalid: at the first construct a letter may not use."""
    pending: list[tuple[nodes.Node, int]] = [(tree, 0)]
    while pending:  # not recursive: a template's nesting is checked, not trusted
        node, depth = pending.pop()
        line = getattr(node, "lineno", None)
        if depth > MAX_NESTING:
            raise _problem(field, f"is nested more than {MAX_NESTING} deep", line)
        if not isinstance(node, _ALLOWED):
            what = _NAMES.get(type(node), f"{type(node).__name__} expressions")
            raise _problem(field, f"{what} cannot be used in a letter; {ALLOWED_SUMMARY}", line)
        if isinstance(node, nodes.Filter) and node.name not in FILTERS:
            raise _problem(field, f"the filter {node.name!r} cannot be used in a letter; "
                                  f"{ALLOWED_SUMMARY}", line)
        if isinstance(node, nodes.Test) and node.name not in TESTS:
            raise _problem(field, f"the test {node.name!r} cannot be used in a letter; the tests "
                                  f"are {', '.join(sorted(TESTS))}", line)
        if isinstance(node, nodes.Filter | nodes.Test) and (node.dyn_args or node.dyn_kwargs):
            raise _problem(field, "*args and **kwargs cannot be used in a letter", line)
        if isinstance(node, nodes.Getitem) and not isinstance(node.arg, nodes.Const):
            raise _problem(field, "only a fixed name or number may go in [ ]", line)
        pending.extend((child, depth + 1) for child in node.iter_child_nodes())


@functools.lru_cache(maxsize=256)
def _compiled(source: str, field: str) -> Template:
    """The template, checked and compiled once (a campaign's send renders it per request).

    :raises Invalid: naming ``field``.
    """
    if len(source) > MAX_SOURCE:
        raise _problem(field, f"is {len(source):,} characters long; a letter may have at most "
                              f"{MAX_SOURCE:,}")
    try:
        tree = _environment.parse(source)
        _check(tree, field)
        return _environment.from_string(tree)
    except TemplateError as error:
        raise _problem(field, error.message or str(error), getattr(error, "lineno", None)) from None
    except RecursionError:
        raise _problem(field, f"is nested more than {MAX_NESTING} deep") from None


def check(source: str, field: str) -> None:
    """Whether ``source`` is a letter template this module will render (syntax and the
    constructs used; not the names, which need values). :raises Invalid: naming ``field``."""
    _compiled(source, field)


def render(source: str, context: Mapping[str, Any], field: str) -> str:
    """The letter ``source`` with ``context`` filled in.

    :raises Invalid: naming ``field``: a template too long, broken, using anything a letter may
        not, naming an unknown value, or whose letter would be too long or too slow to write.
    """
    template = _compiled(source, field)
    started = time.monotonic()
    pieces: list[str] = []
    size = 0
    try:
        for piece in template.generate(context):
            size += len(piece)
            if size > MAX_OUTPUT:
                raise _problem(field, f"makes a letter longer than {MAX_OUTPUT:,} characters")
            if time.monotonic() - started > MAX_SECONDS:
                raise _problem(field, f"took longer than {MAX_SECONDS:g} s to write out")
            pieces.append(piece)
    except TemplateError as error:
        raise _problem(field, error.message or str(error), getattr(error, "lineno", None)) from None
    except (TypeError, ValueError, ArithmeticError) as error:  # e.g. comparing a name with 3
        raise _problem(field, f"cannot be written out: {error}") from None
    return "".join(pieces)

"""Mutation analysis of the hidden tests: do they catch wrong code?

``mutants(source)`` makes small wrong versions of the reference, one change each:
comparisons (``<`` to ``<=`` and to ``>``, ``==`` to ``!=``, ...), arithmetic (``+`` to
``-``, ...), off-by-one integer constants, ``and``/``or``, dropped ``not``, negated or
swapped ``if`` branches, removed statements (replaced by ``pass``), and changed tie-breaks
(``min``/``max``, ``append``/``appendleft``, ``pop``/``popleft``, two neighbours of a
tuple swapped, as in a heap key ``(burst, seq, id)``). Annotations, docstrings, ``raise``
messages and f-strings are left alone, and so are the functions or classes listed in
``[mutation] skip``.

Each mutant is graded as a submission through the worker (``grade(..., fail_fast=True)``)
with few examples and a short call timeout, tests in an order learnt from earlier kills
in the same class or function, N mutants at a time. A mutant is *killed* when a test does
not pass. Survivors are printed with their diff, so the instructor can add a property or,
when the mutant cannot behave differently, list its id under ``[mutation] equivalent``.
A mutant id (``SJF.ready:tie-break:1a2b3c4d``) depends only on its function, the kind of
change and the code changed, so it survives edits elsewhere in the file.

No mutation library is used: the maintained ones (mutmut, cosmic-ray) run a project's own
test command on mutated source trees; here a mutant must become a *submission* graded by
the sandboxed worker against the unmutated reference, which a ~300-line AST mutator does.
"""

from __future__ import annotations

import ast
import concurrent.futures
import copy
import difflib
import functools
import hashlib
import shutil
import tempfile
import textwrap
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..engine.assignment import Assignment
from ..engine.grade import grade

Mutate = Callable[[ast.AST], ast.AST]

_COMPARE: dict[type[ast.cmpop], tuple[type[ast.cmpop], ...]] = {
    ast.Lt: (ast.LtE, ast.Gt),
    ast.LtE: (ast.Lt, ast.GtE),
    ast.Gt: (ast.GtE, ast.Lt),
    ast.GtE: (ast.Gt, ast.LtE),
    ast.Eq: (ast.NotEq,),
    ast.NotEq: (ast.Eq,),
    ast.Is: (ast.IsNot,),
    ast.IsNot: (ast.Is,),
    ast.In: (ast.NotIn,),
    ast.NotIn: (ast.In,),
}
_BINOP: dict[type[ast.operator], type[ast.operator]] = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.FloorDiv,
    ast.FloorDiv: ast.Mult,
    ast.Div: ast.Mult,
    ast.Mod: ast.FloorDiv,
    ast.Pow: ast.Mult,
}
_SWAP_NAMES = {"min": "max", "max": "min"}
_SWAP_METHODS = {
    "append": "appendleft",
    "appendleft": "append",
    "pop": "popleft",
    "popleft": "pop",
}
_REMOVABLE = (ast.Expr, ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Return, ast.Raise,
              ast.Continue, ast.Break)  # fmt: skip


@dataclass(frozen=True)
class Mutant:
    id: str
    file: str
    scope: str
    operator: str
    line: int
    description: str
    source: str  # the whole mutated file
    diff: str


@dataclass(frozen=True)
class _Site:
    node: ast.AST  # in the original tree
    scope: str
    operator: str
    build: Mutate  # a mutated copy of the node


def _is_docstring(node: ast.AST, parent: ast.AST | None) -> bool:
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
        and isinstance(parent, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
        and parent.body[0] is node
    )


def _copy_with(node: ast.AST, **changes: object) -> ast.AST:
    new = copy.deepcopy(node)
    for k, v in changes.items():
        setattr(new, k, v)
    return new


def _sites_of(node: ast.AST, scope: str) -> Iterator[_Site]:
    """The mutations of one node (not of its children)."""

    def site(operator: str, build: Callable[[Any], ast.AST]) -> _Site:
        return _Site(node, scope, operator, build)

    if isinstance(node, ast.Compare):
        for i, op in enumerate(node.ops):
            for cmp in _COMPARE.get(type(op), ()):
                yield site("compare", functools.partial(_with_op, index=i, op=cmp))
    elif isinstance(node, (ast.BinOp, ast.AugAssign)) and type(node.op) in _BINOP:
        arith = _BINOP[type(node.op)]
        yield site("arithmetic", lambda n: _copy_with(n, op=arith()))
    elif isinstance(node, ast.BoolOp):
        boolean: type[ast.boolop] = ast.Or if isinstance(node.op, ast.And) else ast.And
        yield site("boolean", lambda n: _copy_with(n, op=boolean()))
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.Not, ast.USub)):
        yield site("unary", lambda n: copy.deepcopy(n.operand))
    elif isinstance(node, ast.Constant) and type(node.value) is int:
        yield site("off-by-one", lambda n: ast.Constant(n.value + 1))
        yield site("off-by-one", lambda n: ast.Constant(n.value - 1))
    elif isinstance(node, ast.Constant) and type(node.value) is bool:
        yield site("constant", lambda n: ast.Constant(not n.value))
    elif isinstance(node, (ast.If, ast.While)):
        # Only the condition is replaced, so the diff shows one changed expression.
        yield _Site(node.test, scope, "negate", _negated)
        if isinstance(node, ast.If) and node.orelse:
            yield site("swap-branches", lambda n: _copy_with(n, body=n.orelse, orelse=n.body))
    elif isinstance(node, ast.IfExp):
        yield site("swap-branches", lambda n: _copy_with(n, body=n.orelse, orelse=n.body))
    elif isinstance(node, ast.Name) and node.id in _SWAP_NAMES and isinstance(node.ctx, ast.Load):
        yield site("tie-break", lambda n: ast.Name(_SWAP_NAMES[n.id], ast.Load()))
    elif isinstance(node, ast.Attribute) and node.attr in _SWAP_METHODS:
        yield site("tie-break", lambda n: _copy_with(n, attr=_SWAP_METHODS[n.attr]))
    elif (
        isinstance(node, ast.Tuple) and isinstance(node.ctx, ast.Load) and 2 <= len(node.elts) <= 4
    ):
        for i in range(len(node.elts) - 1):
            yield site("tie-break", functools.partial(_swap_items, index=i))


def _negated(n: Any) -> ast.AST:
    return ast.UnaryOp(ast.Not(), copy.deepcopy(n))


def _with_op(n: Any, *, index: int, op: type[ast.cmpop]) -> ast.AST:
    ops = list(n.ops)
    ops[index] = op()
    return _copy_with(n, ops=ops)


def _swap_items(n: Any, *, index: int) -> ast.AST:
    elts = list(n.elts)
    elts[index], elts[index + 1] = elts[index + 1], elts[index]
    return _copy_with(n, elts=elts)


def _is_guard(node: ast.AST) -> bool:
    """``if <bad argument>: raise ...``: an argument check."""
    return (
        isinstance(node, ast.If)
        and not node.orelse
        and all(isinstance(s, ast.Raise) for s in node.body)
    )


def _is_slots(node: ast.AST) -> bool:
    return isinstance(node, ast.Assign) and any(
        isinstance(t, ast.Name) and t.id == "__slots__" for t in node.targets
    )


def _walk(
    node: ast.AST, scope: str, skip: set[str], parent: ast.AST | None, guards: bool = False
) -> Iterator[_Site]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        scope = node.name if scope == "<module>" else f"{scope}.{node.name}"
        if scope in skip:
            return
        for statement in node.body:
            yield from _walk(statement, scope, skip, node, guards)
        if not isinstance(node, ast.ClassDef):
            for default in node.args.defaults + [d for d in node.args.kw_defaults if d]:
                yield from _walk(default, scope, skip, node, guards)
        return
    if isinstance(node, (ast.Import, ast.ImportFrom, ast.JoinedStr)) or _is_docstring(node, parent):
        return
    if _is_slots(node):
        return  # a declaration: removing it changes no behaviour
    if not guards and _is_guard(node):
        # Grading never sends invalid arguments, so a changed condition inside an argument
        # check cannot be told apart; making the check fire on valid input can.
        yield from (s for s in _sites_of(node, scope) if s.operator == "negate")
        return
    if isinstance(node, ast.stmt) and isinstance(node, _REMOVABLE) and scope != "<module>":
        yield _Site(node, scope, "remove", lambda n: ast.Pass())
    if isinstance(node, ast.Raise):
        return  # the exception itself is what matters, not its message
    if isinstance(node, (ast.AnnAssign, ast.arg)):
        children: list[ast.AST] = (
            [node.value] if isinstance(node, ast.AnnAssign) and node.value else []
        )
    else:
        yield from _sites_of(node, scope)
        children = list(ast.iter_child_nodes(node))
    for child in children:
        yield from _walk(child, scope, skip, node, guards)


def _offsets(source: str) -> list[int]:
    starts, pos = [0], 0
    for line in source.splitlines(keepends=True):
        pos += len(line.encode("utf-8"))
        starts.append(pos)
    return starts


def _splice(source: str, node: ast.AST, replacement: ast.AST) -> str:
    data = source.encode("utf-8")
    starts = _offsets(source)
    begin = starts[node.lineno - 1] + node.col_offset  # type: ignore[attr-defined]
    end = starts[node.end_lineno - 1] + node.end_col_offset  # type: ignore[attr-defined]
    text = ast.unparse(ast.fix_missing_locations(replacement))
    if isinstance(node, ast.stmt):
        head, *rest = text.splitlines()
        text = "\n".join([head, *(textwrap.indent(r, " " * node.col_offset) for r in rest)])
    elif "\n" not in text:
        text = (
            f"({text})" if isinstance(replacement, (ast.BoolOp, ast.IfExp, ast.UnaryOp)) else text
        )
    return (data[:begin] + text.encode("utf-8") + data[end:]).decode("utf-8")


def mutants(
    source: str, file: str, skip: list[str] | None = None, *, guards: bool = False
) -> list[Mutant]:
    """Every mutant of ``source`` (named ``file``), in source order; ids are stable.

    ``guards``: also mutate inside the conditions of argument checks (``if ...: raise``).
    """
    tree = ast.parse(source)
    seen: dict[tuple[str, str, str, str], int] = {}
    out = []
    for site in _walk(tree, "<module>", set(skip or []), None, guards):
        replacement = site.build(site.node)
        try:
            mutated = _splice(source, site.node, replacement)
            ast.parse(mutated)
        except (SyntaxError, ValueError):
            continue
        before = ast.get_source_segment(source, site.node) or ""
        after = ast.unparse(replacement)
        if before.strip() == after.strip():
            continue
        key = (site.scope, site.operator, before, after)
        n = seen.get(key, 0)
        seen[key] = n + 1
        digest = hashlib.sha1("\0".join([file, *key, str(n)]).encode()).hexdigest()[:8]
        line = site.node.lineno  # type: ignore[attr-defined]
        short = " ".join(before.split())[:70]
        diff = "".join(
            difflib.unified_diff(
                source.splitlines(keepends=True),
                mutated.splitlines(keepends=True),
                f"reference/{file}",
                f"mutant/{file}",
                n=1,
            )
        )
        out.append(
            Mutant(
                id=f"{site.scope}:{site.operator}:{digest}",
                file=file,
                scope=site.scope,
                operator=site.operator,
                line=line,
                description=f"{file}:{line} in {site.scope}: `{short}` -> `{' '.join(after.split())[:70]}`",
                source=mutated,
                diff=diff,
            )
        )
    return out


def spread(items: list[Mutant], limit: int | None) -> list[Mutant]:
    """At most ``limit`` items, evenly spread over the list (deterministic)."""
    if limit is None or limit >= len(items):
        return items
    if limit <= 0:
        return []
    return [items[i * len(items) // limit] for i in range(limit)]


@dataclass(frozen=True)
class Verdict:
    mutant: Mutant
    killed: bool
    by: str = ""  # the test that killed it
    outcome: str = ""
    seconds: float = 0.0


@dataclass
class Analysis:
    verdicts: list[Verdict]
    equivalent: list[str]  # ids marked equivalent in assignment.toml
    total: int  # mutants generated (before sampling)
    seconds: float
    unknown_equivalent: list[str] = field(default_factory=list)

    @property
    def counted(self) -> list[Verdict]:
        return [v for v in self.verdicts if v.mutant.id not in self.equivalent]

    @property
    def survivors(self) -> list[Verdict]:
        return [v for v in self.counted if not v.killed]

    @property
    def kill_rate(self) -> float:
        counted = self.counted
        return sum(v.killed for v in counted) / len(counted) if counted else 1.0


_LEARNT: dict[str, str] = {}  # scope -> the test that last killed a mutant there (per process)


def _grade_mutant(assignment: Assignment, mutant: Mutant, max_examples: int | None) -> Verdict:
    spec = assignment.spec.mutation
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="osgrade-mutant-") as tmp:
        folder = Path(tmp) / "mutant"
        shutil.copytree(
            assignment.reference_dir, folder, ignore=shutil.ignore_patterns("__pycache__")
        )
        (folder / mutant.file).write_text(mutant.source, encoding="utf-8")
        first = _LEARNT.get(mutant.scope) or _LEARNT.get(mutant.scope.split(".")[0])
        report = grade(
            assignment,
            folder,
            max_examples=max_examples or spec.max_examples,
            fail_fast=True,
            call_timeout_s=spec.call_timeout_s,
            order=[first] if first else None,
        )
    bad = next((t for t in report.tests if t.outcome != "passed"), None)
    if bad is not None:
        _LEARNT[mutant.scope] = _LEARNT[mutant.scope.split(".")[0]] = bad.id
    return Verdict(
        mutant,
        killed=bad is not None or report.grader_error is not None,
        by=bad.id if bad else "",
        outcome=bad.outcome if bad else "",
        seconds=round(time.monotonic() - started, 2),
    )


def all_mutants(assignment: Assignment) -> list[Mutant]:
    spec = assignment.spec
    files = spec.mutation.files or [f for f in spec.submission.files if f.endswith(".py")]
    out: list[Mutant] = []
    for name in files:
        path = assignment.reference_dir / name
        out += mutants(
            path.read_text(encoding="utf-8"),
            name,
            spec.mutation.skip,
            guards=spec.mutation.mutate_guards,
        )
    return out


def analyse(
    assignment: Assignment,
    *,
    limit: int | None = None,
    jobs: int = 1,
    max_examples: int | None = None,
) -> Analysis:
    """Grade the mutants of ``assignment``'s reference (at most ``limit``, spread out)."""
    started = time.monotonic()
    generated = all_mutants(assignment)
    chosen = spread(generated, limit)
    equivalent = list(assignment.spec.mutation.equivalent)
    ids = {m.id for m in generated}
    verdicts: list[Verdict] = []
    if jobs <= 1:
        verdicts = [_grade_mutant(assignment, m, max_examples) for m in chosen]
    else:
        with concurrent.futures.ProcessPoolExecutor(max_workers=jobs) as pool:
            verdicts = list(
                pool.map(
                    _grade_mutant,
                    [assignment] * len(chosen),
                    chosen,
                    [max_examples] * len(chosen),
                    chunksize=4,
                )
            )
    return Analysis(
        verdicts=verdicts,
        equivalent=equivalent,
        total=len(generated),
        seconds=round(time.monotonic() - started, 1),
        unknown_equivalent=[e for e in equivalent if e not in ids],
    )


def analysis_text(analysis: Analysis, assignment: Assignment) -> str:
    """What ``osgrade validate`` prints: the kill rate and every survivor with its diff."""
    counted = analysis.counted
    killed = sum(v.killed for v in counted)
    marked = [v for v in analysis.verdicts if v.mutant.id in analysis.equivalent]
    lines = [
        f"mutation: {len(analysis.verdicts)} of {analysis.total} mutants graded in "
        f"{analysis.seconds:g} s; {len(marked)} marked equivalent",
        f"mutation: kill rate {100 * analysis.kill_rate:.1f}% ({killed} of {len(counted)} "
        "non-equivalent mutants killed)",
    ]
    for v in marked:
        if v.killed:
            lines.append(
                f"  note: {v.mutant.id} is marked equivalent but {v.by} kills it: "
                "remove it from [mutation] equivalent"
            )
    for e in analysis.unknown_equivalent:
        lines.append(f"  note: [mutation] equivalent lists {e!r}, which no longer exists")
    if analysis.survivors:
        toml = assignment.directory / "assignment.toml"
        lines.append(
            f"surviving mutants (add a property that catches each, or list its id under "
            f"[mutation] equivalent in {toml} if it cannot behave differently):"
        )
        for v in analysis.survivors:
            lines.append(f"  SURVIVED {v.mutant.id}  {v.mutant.description}")
            lines += ["    " + d for d in v.mutant.diff.splitlines()[2:]]
    return "\n".join(lines)


def survivors_text(analysis: Analysis) -> str:
    return "".join(f"# {v.mutant.id}\n{v.mutant.diff}\n" for v in analysis.survivors)

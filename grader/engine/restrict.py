"""A static gate for assignments whose verdict is reached next to the student's code.

For most assignments the worker only *computes* (a schedule, a trace) and the parent
checks the answer, so nothing the submission does inside the worker can buy points. When
the grading logic itself must run in the worker beside the student's code (the
synchronization explorer decides which interleavings to run and what went wrong), a
submission that reaches the grader's internals could forge a pass: three lines that
replace the explorer's entry point turn the empty template into full marks.

This gate runs in the trusted parent, on the source text, before anything is imported.
With ``[submission.restrict]`` in assignment.toml a submission may import only the
modules listed there (from a ``grader`` package, only its public ``__all__`` names, by
``from ... import``); and it may not use the introspection that reaches objects it was not
handed: dunder attributes, private attributes of other objects, frame and code attributes,
``getattr``/``setattr``/``eval``/``exec``/``__import__`` and friends, or assignments to
attributes of imported modules. Every violation names the file, line and column and says
what to write instead. The rules are the subset RestrictedPython enforces for the same
reason, reduced to what a student needs for the assignment.
"""

from __future__ import annotations

import ast
import importlib
import types
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

FORBIDDEN_BUILTINS = frozenset(
    {
        "__import__",
        "breakpoint",
        "compile",
        "delattr",
        "dir",
        "eval",
        "exec",
        "exit",
        "getattr",
        "globals",
        "help",
        "input",
        "locals",
        "memoryview",
        "open",
        "quit",
        "setattr",
        "vars",
    }
)
# Attributes that lead from an object to frames, code, globals or the interpreter.
FORBIDDEN_ATTRIBUTES = frozenset(
    {
        "ag_code",
        "ag_frame",
        "cell_contents",
        "cr_await",
        "cr_code",
        "cr_frame",
        "excepthook",
        "f_back",
        "f_builtins",
        "f_code",
        "f_globals",
        "f_lasti",
        "f_locals",
        "f_trace",
        "f_trace_lines",
        "f_trace_opcodes",
        "gi_code",
        "gi_frame",
        "gi_yieldfrom",
        "setprofile",
        "setprofile_all_threads",
        "settrace",
        "settrace_all_threads",
        "tb_frame",
        "tb_next",
        "enumerate",  # threading.enumerate(): the grader's own threads
        "main_thread",
        "gettrace",
        "getprofile",
        # these evaluate strings (annotations) as code: a way around every rule here
        "get_type_hints",
        "singledispatch",
        "singledispatchmethod",
        "attrgetter",
        "methodcaller",
        "update_wrapper",  # functools: sets any attribute (even __code__) of its first argument
        "wraps",
        "mro",  # MyClass.mro()[1] is the imported class it subclasses
    }
)
_IMMUTABLE_TYPE = 1 << 8  # Py_TPFLAGS_IMMUTABLETYPE (3.10+): built-in types cannot be changed
NAME_ONLY_ATTRIBUTES = frozenset({"__name__", "__qualname__"})
ALLOWED_DUNDER_ATTRIBUTES = frozenset({"__init__", "__name__", "__doc__"})
ALLOWED_DUNDER_NAMES = frozenset({"__name__", "__doc__", "__all__", "__annotations__"})
MAX_REPORTED = 5


class RestrictSpec(BaseModel):
    """``[submission.restrict]``: what a submission may import (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    modules: list[str] = Field(
        min_length=1, description="modules a submission may import, e.g. grader.simos.sync"
    )
    reason: str = Field(
        "the grader runs next to your code in this assignment",
        description="said to the student with every violation",
    )


@dataclass(frozen=True, slots=True)
class Violation:
    file: str  # relative to the submission
    line: int
    col: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col + 1}: {self.message}"


def _public_names(module: str) -> frozenset[str] | None:
    """``__all__`` of a grader module (imported here, in the parent: it is trusted code)."""
    if module != "grader" and not module.startswith("grader."):
        return None
    mod = importlib.import_module(module)
    names = getattr(mod, "__all__", None)
    if names is None:
        return frozenset(n for n in vars(mod) if not n.startswith("_"))
    return frozenset(str(n) for n in names)


def _changeable(obj: object) -> bool:
    """A module, or a class whose attributes can be set (a Python-level class not sealed)."""
    if isinstance(obj, types.ModuleType):
        return True
    if not isinstance(obj, type):
        return False
    if obj.__flags__ & _IMMUTABLE_TYPE or issubclass(obj, BaseException):
        return False  # built-in types cannot change; an exception class carries no logic
    return not obj.__dict__.get("__sealed__", False)


def _mark(tree: ast.AST) -> None:
    """Give every node a ``_parent``; flag the nodes inside annotations (never evaluated)."""
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            child._parent = node  # type: ignore[attr-defined]
    annotations: list[ast.AST] = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.returns:
            annotations.append(node.returns)
        elif (isinstance(node, ast.arg) and node.annotation) or isinstance(node, ast.AnnAssign):
            assert node.annotation is not None
            annotations.append(node.annotation)
    for ann in annotations:
        for inner in ast.walk(ann):
            inner._annotation = True  # type: ignore[attr-defined]


def _parent(node: ast.AST) -> ast.AST | None:
    return getattr(node, "_parent", None)


def _safe_use(node: ast.expr) -> bool:
    """Whether ``node`` (a changeable class or module) is used where it cannot be kept:
    called, an attribute read, subscripted, a base class, an isinstance or except target,
    raised, compared, a match pattern, or an annotation."""
    if getattr(node, "_annotation", False):
        return True
    parent = _parent(node)
    while isinstance(parent, ast.Tuple):  # except (A, B), isinstance(x, (A, B))
        node, parent = parent, _parent(parent)
    if isinstance(parent, ast.Attribute):
        return parent.value is node and isinstance(parent.ctx, ast.Load)
    if isinstance(parent, ast.Call):
        if parent.func is node:
            return True
        fn = parent.func
        return isinstance(fn, ast.Name) and fn.id in ("isinstance", "issubclass")
    if isinstance(parent, ast.Subscript):
        return parent.value is node
    if isinstance(parent, ast.ClassDef):
        return node in parent.bases
    if isinstance(parent, ast.keyword):
        return isinstance(_parent(parent), ast.ClassDef)  # metaclass=...
    if isinstance(parent, ast.MatchClass):
        return parent.cls is node
    return isinstance(parent, (ast.ExceptHandler, ast.Raise, ast.Compare))


class _Checker(ast.NodeVisitor):
    def __init__(self, file: str, spec: RestrictSpec) -> None:
        self.file = file
        self.allowed = set(spec.modules)
        self.found: list[Violation] = []
        self.module_names: set[str] = set()  # names bound by an import (modules and objects)
        self.bound: dict[str, object] = {}  # those names -> what they are (imported here)
        self.classes: set[str] = set()  # classes defined at the top level

    def flag(self, node: ast.AST, message: str) -> None:
        line = getattr(node, "lineno", 0)
        col = getattr(node, "col_offset", 0)
        self.found.append(Violation(self.file, line, col, message))

    def _allowed_module(self, name: str) -> bool:
        return name in self.allowed

    def _modules_text(self) -> str:
        return ", ".join(sorted(self.allowed))

    # ---- imports

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            grader = alias.name == "grader" or alias.name.startswith("grader.")
            if grader and self._allowed_module(alias.name):
                self.flag(
                    node,
                    f"`import {alias.name}` is not allowed: write "
                    f"`from {alias.name} import Name` with the names the handout lists",
                )
            elif not self._allowed_module(alias.name):
                self.flag(
                    node,
                    f"`import {alias.name}` is not allowed in this assignment; "
                    f"you may import only: {self._modules_text()}",
                )
            else:
                name = alias.asname or alias.name.split(".")[0]
                self.module_names.add(name)
                target = alias.name if alias.asname else alias.name.split(".")[0]
                self.bound[name] = importlib.import_module(target)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        if node.level:
            self.flag(node, "relative imports are not allowed here; keep your code in one file")
            return
        if not self._allowed_module(module):
            self.flag(
                node,
                f"`from {module} import ...` is not allowed in this assignment; "
                f"you may import only: {self._modules_text()}",
            )
            return
        public = _public_names(module)
        for alias in node.names:
            name = alias.name
            if name == "*":
                self.flag(node, f"`from {module} import *` is not allowed; name what you use")
            elif name.startswith("_") or name in FORBIDDEN_ATTRIBUTES:
                self.flag(node, f"`{name}` of {module} is not yours to use")
            elif public is not None and name not in public:
                self.flag(
                    node,
                    f"`{name}` is not part of {module}'s public interface; "
                    f"use only: {', '.join(sorted(public))}",
                )
            else:
                self.module_names.add(alias.asname or name)
                self.bound[alias.asname or name] = getattr(
                    importlib.import_module(module), name, None
                )
        self.generic_visit(node)

    def visit_MatchClass(self, node: ast.MatchClass) -> None:
        for attr in node.kwd_attrs:  # `case C(attr=x)` reads obj.attr
            if attr.startswith("_") or attr in FORBIDDEN_ATTRIBUTES:
                self.flag(node, f"matching on `{attr}` is not allowed here (it is not public)")
        self.generic_visit(node)

    # ---- names and attributes

    def _resolve(self, node: ast.expr) -> object:
        """What ``node`` names, when it is an imported name or an attribute of a module."""
        if isinstance(node, ast.Name):
            return self.bound.get(node.id)
        if isinstance(node, ast.Attribute):
            base = self._resolve(node.value)
            if isinstance(base, types.ModuleType):
                return getattr(base, node.attr, None)
        return None

    def _check_kept(self, node: ast.Name | ast.Attribute, label: str) -> None:
        if not isinstance(node.ctx, ast.Load):
            return
        target = self._resolve(node)
        if target is not None and _changeable(target) and not _safe_use(node):
            self.flag(
                node,
                f"`{label}` may only be called, subclassed or have its attributes read "
                "here, not kept in a variable or passed around",
            )

    def visit_Call(self, node: ast.Call) -> None:
        fn = node.func
        if isinstance(fn, ast.Name) and fn.id == "type" and len(node.args) == 1:
            parent = _parent(node)
            if not (isinstance(parent, ast.Attribute) and parent.attr in NAME_ONLY_ATTRIBUTES):
                self.flag(
                    node,
                    "`type(x)` is allowed only as `type(x).__name__`; use isinstance() to "
                    "test what something is",
                )
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        self._check_kept(node, node.id)
        name = node.id
        if isinstance(node.ctx, ast.Load) and name in FORBIDDEN_BUILTINS:
            self.flag(node, f"`{name}` is not allowed here ({self.reason_for(name)})")
        elif name.startswith("__") and name.endswith("__") and name not in ALLOWED_DUNDER_NAMES:
            self.flag(node, f"`{name}` is not allowed here")

    def reason_for(self, name: str) -> str:
        if name in ("getattr", "setattr", "delattr"):
            return "write obj.name instead"
        if name in ("open", "input"):
            return "your code needs no files or input"
        return "it could reach the grader's internals"

    def _root(self, node: ast.expr) -> ast.expr:
        while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
            node = node.value if not isinstance(node, ast.Call) else node.func
        return node

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if isinstance(self._resolve(node.value), types.ModuleType):
            self._check_kept(node, f"{ast.unparse(node.value)}.{node.attr}")
        attr = node.attr
        base = node.value
        own = isinstance(base, ast.Name) and (base.id in ("self", "cls") or base.id in self.classes)
        if attr.startswith("__") and attr.endswith("__"):
            if attr not in ALLOWED_DUNDER_ATTRIBUTES:
                self.flag(node, f"`.{attr}` is not allowed here (it reaches behind the objects)")
        elif attr.startswith("_") and not own:
            self.flag(
                node,
                f"`.{attr}` is private to another object; use only your own "
                "(self.) private attributes and the public methods of the course's classes",
            )
        elif attr in FORBIDDEN_ATTRIBUTES:
            self.flag(node, f"`.{attr}` is not allowed here (it reaches the interpreter)")
        if not isinstance(node.ctx, ast.Load):
            root = self._root(base)
            if isinstance(root, ast.Name) and root.id in self.module_names:
                self.flag(
                    node,
                    f"changing `{root.id}` is not allowed: leave the modules and classes "
                    "you import alone (subclass a class instead)",
                )
        self.generic_visit(node)

    def visit_Global(self, node: ast.Global) -> None:
        for name in node.names:
            if name in self.module_names:
                self.flag(node, f"rebinding the module `{name}` is not allowed")


def check_source(source: str, file: str, spec: RestrictSpec) -> list[Violation]:
    """The violations in one file's source; [] when it does not parse (reported elsewhere)."""
    try:
        tree = ast.parse(source, filename=file)
    except (SyntaxError, ValueError):
        return []
    _mark(tree)
    checker = _Checker(file, spec)
    checker.classes = {n.name for n in tree.body if isinstance(n, ast.ClassDef)}
    checker.visit(tree)
    return sorted(checker.found, key=lambda v: (v.line, v.col))


def _python_files(directory: Path) -> Iterator[Path]:
    """The files the worker would copy: every .py below ``directory`` (no hidden folders)."""
    for path in sorted(directory.rglob("*.py")):
        rel = path.relative_to(directory)
        if any(part.startswith(".") or part == "__pycache__" for part in rel.parts):
            continue
        if path.is_file() and not path.is_symlink():
            yield path


def check_submission(directory: Path, spec: RestrictSpec) -> list[Violation]:
    """Every violation in the submission's Python files, in file and line order."""
    found: list[Violation] = []
    for path in _python_files(directory):
        try:
            source = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue  # the import will fail and say why
        found.extend(check_source(source, path.relative_to(directory).as_posix(), spec))
    return found


def describe(violations: Iterable[Violation], spec: RestrictSpec) -> str:
    """One problem text for the report: the first few violations and why they matter."""
    items = list(violations)
    shown = "; ".join(str(v) for v in items[:MAX_REPORTED])
    more = f" (and {len(items) - MAX_REPORTED} more)" if len(items) > MAX_REPORTED else ""
    return (
        f"Your code uses something this assignment does not allow ({spec.reason}, so it "
        f"may use only the course's classes and a few modules): {shown}{more}. "
        "Remove these and submit again; nothing was graded."
    )

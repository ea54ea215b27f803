"""Trace functions that turn student code into scheduling steps. STANDARD LIBRARY ONLY.

``Tracer(is_student, granularity, api)`` is called once per managed thread and returns the
function that thread installs with ``sys.settrace``. Only frames of the student's files
are traced:

- ``granularity="line"``: a step before every line;
- ``granularity="opcode"``: a step before every bytecode instruction that reads or writes
  memory other than the frame's local variables (attributes, globals, subscripts, calls),
  so that ``self.count += 1`` is three steps (read, add, write) and can lose an update,
  as on a real CPU. Instructions that touch only locals commute with every other thread,
  so a preemption before them is never needed.

Calls to the methods listed in ``api`` (code object -> ``ApiMethod``) are recorded on the
thread's ``api`` stack, which says what a blocked thread was doing ("in Mutex.acquire")
and which thread holds which lock (``Run.holders``).

With ``focus`` (a set of class names), only the methods of those classes, and the
student's code they call, are traced step by step. The other classes of ``api`` are
*opaque*: a call into them (the Mutex inside a bounded buffer, say) makes no steps of
its own, except at its atomic instructions and kernel calls, so the explorer spends its
preemptions on the class under test. Those classes are tested on their own.
"""

from __future__ import annotations

import dis
import sys
from collections.abc import Callable
from dataclasses import dataclass
from types import CodeType, FrameType
from typing import Any

from .scheduler import ManagedThread, Run, TraceFunc

VISIBLE_OPNAMES = frozenset(
    {
        "LOAD_ATTR",
        "STORE_ATTR",
        "DELETE_ATTR",
        "LOAD_GLOBAL",
        "STORE_GLOBAL",
        "DELETE_GLOBAL",
        "LOAD_NAME",
        "STORE_NAME",
        "DELETE_NAME",
        "LOAD_DEREF",
        "STORE_DEREF",
        "DELETE_DEREF",
        "LOAD_CLASSDEREF",
        "LOAD_FROM_DICT_OR_DEREF",
        "LOAD_FROM_DICT_OR_GLOBALS",
        "LOAD_SUPER_ATTR",
        "BINARY_SUBSCR",
        "STORE_SUBSCR",
        "DELETE_SUBSCR",
        "BINARY_SLICE",
        "STORE_SLICE",
        "CONTAINS_OP",
        "FOR_ITER",
        "CALL",
        "CALL_KW",
        "CALL_FUNCTION",
        "CALL_FUNCTION_KW",
        "CALL_FUNCTION_EX",
        "CALL_METHOD",
    }
)


@dataclass(frozen=True, slots=True)
class ApiMethod:
    """A method of the submission worth tracking: ``label`` "Mutex.acquire"; ``role``
    "acquire" / "release" for locks (to track holders), "" otherwise."""

    label: str
    role: str = ""

    @property
    def cls(self) -> str:
        return self.label.split(".", 1)[0]


_visible_cache: dict[CodeType, frozenset[int]] = {}


def visible_offsets(code: CodeType) -> frozenset[int]:
    """Offsets of the instructions of ``code`` that touch shared memory (cached)."""
    found = _visible_cache.get(code)
    if found is None:
        found = frozenset(
            i.offset for i in dis.get_instructions(code) if i.opname in VISIBLE_OPNAMES
        )
        _visible_cache[code] = found
    return found


_SAYS = {
    "LOAD_ATTR": "reads .{}",
    "STORE_ATTR": "writes .{}",
    "DELETE_ATTR": "deletes .{}",
    "LOAD_METHOD": "looks up .{}",
    "LOAD_SUPER_ATTR": "looks up .{}",
    "LOAD_GLOBAL": "reads {}",
    "STORE_GLOBAL": "writes {}",
    "LOAD_NAME": "reads {}",
    "STORE_NAME": "writes {}",
    "LOAD_DEREF": "reads {}",
    "STORE_DEREF": "writes {}",
    "LOAD_CLASSDEREF": "reads {}",
    "BINARY_SUBSCR": "reads an item",
    "STORE_SUBSCR": "writes an item",
    "DELETE_SUBSCR": "deletes an item",
    "BINARY_SLICE": "reads a slice",
    "STORE_SLICE": "writes a slice",
    "CONTAINS_OP": "tests `in`",
    "FOR_ITER": "takes the next item",
}


def opname_at(code: CodeType, offset: int) -> str:
    """What the instruction at ``offset`` of ``code`` does, in words: "writes .count"."""
    for i in dis.get_instructions(code):
        if i.offset == offset:
            says = _SAYS.get(i.opname)
            if says is not None:
                name = str(i.argval) if i.argval is not None else ""
                return says.format(name.split(" + ")[0] if name else "?")
            return "calls" if i.opname.startswith("CALL") else i.opname
    return "?"


class Tracer:
    """Makes the trace function of each managed thread of a run."""

    def __init__(
        self,
        is_student: Callable[[str], bool],
        granularity: str = "line",
        api: dict[CodeType, ApiMethod] | None = None,
        focus: frozenset[str] | None = None,
    ) -> None:
        if granularity not in ("line", "opcode"):
            raise ValueError(f"granularity must be 'line' or 'opcode', got {granularity!r}")
        self.is_student = is_student
        self.opcode = granularity == "opcode"
        self.api = api or {}
        self.opaque = frozenset(
            code for code, m in self.api.items() if focus is not None and m.cls not in focus
        )
        self._files: dict[str, bool] = {}
        self._instrumented: set[CodeType] = set()

    def student_file(self, filename: str) -> bool:
        known = self._files.get(filename)
        if known is None:
            known = self._files[filename] = bool(self.is_student(filename))
        return known

    def __call__(self, run: Run, t: ManagedThread) -> TraceFunc:
        step = run.trace_step
        files = self._files
        student_file = self.student_file
        api = self.api
        opaque = self.opaque
        opcode = self.opcode
        instrumented = self._instrumented

        def local_line(frame: FrameType, event: str, arg: Any) -> Any:
            if event == "line":
                step(t, frame)
            return local_line

        def local_opcode(frame: FrameType, event: str, arg: Any) -> Any:
            if event == "opcode":
                if frame.f_lasti in visible_offsets(frame.f_code):
                    step(t, frame, "opcode")
            elif event == "line":
                frame.f_trace_opcodes = True  # 3.13 honours it from a line event on
            return local_opcode

        def local_api(frame: FrameType, event: str, arg: Any) -> Any:
            top: list[Any] = t.api[-1] if t.api and t.api[-1][3] is frame else []
            if event == "line":
                if top:
                    top[4] = False  # an exception raised here was handled
                if opcode:
                    frame.f_trace_opcodes = True
                else:
                    step(t, frame)
            elif event == "opcode":
                if frame.f_lasti in visible_offsets(frame.f_code):
                    step(t, frame, "opcode")
            elif event == "exception":
                if top:
                    top[4] = True
            elif event == "return" and top:
                t.api.pop()
                _returned(run, t, top)
            return local_api

        # An exception handled inside an opaque call is taken as raised (no line events
        # there to see it handled): the lock it acquired then shows no holder. Rare.
        def local_quiet(frame: FrameType, event: str, arg: Any) -> Any:
            top = t.api[-1] if t.api else None
            if top is None or top[3] is not frame:
                return local_quiet
            if event == "exception":
                top[4] = True
            elif event == "return":
                t.api.pop()
                t.quiet -= 1
                _returned(run, t, top)
            return local_quiet

        def global_trace(frame: FrameType, event: str, arg: Any) -> Any:
            code = frame.f_code
            student = files.get(code.co_filename)
            if student is None:
                student = student_file(code.co_filename)
            if not student:
                return None
            if code in opaque:
                t.api.append([_self_of(frame), api[code].label, api[code].role, frame, False])
                t.quiet += 1
                frame.f_trace_lines = False  # only its return matters (and exceptions)
                return local_quiet
            if t.quiet:
                return None
            if opcode:
                # Opcode events, portably: 3.11 honours the flag set here; 3.12 only once the
                # code is instrumented again (settrace); 3.13 from the next line event on.
                frame.f_trace_opcodes = True
                if code not in instrumented:
                    instrumented.add(code)
                    sys.settrace(global_trace)
            method = api.get(code)
            if method is not None:
                t.api.append([_self_of(frame), method.label, method.role, frame, False])
                return local_api
            return local_opcode if opcode else local_line

        return global_trace


def _self_of(frame: FrameType) -> Any:
    code = frame.f_code
    if code.co_argcount and code.co_varnames:
        return frame.f_locals.get(code.co_varnames[0])
    return None


def _returned(run: Run, t: ManagedThread, entry: list[Any]) -> None:
    obj, _label, role, _frame, raised = entry
    if raised or obj is None:
        return
    if role == "acquire":
        run.holders[id(obj)] = (obj, t.tid)
    elif role == "release":
        run.holders.pop(id(obj), None)  # free, whoever released it

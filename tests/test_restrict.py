"""The static gate of [submission.restrict]: forging attempts are refused, honest code is not."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from grader.engine.assignment import Assignment, SubmissionSpec, find_assignment
from grader.engine.errors import ConfigError
from grader.engine.grade import grade
from grader.engine.restrict import RestrictSpec, check_source, check_submission

ROOT = Path(__file__).resolve().parents[1]
SYNC = find_assignment("sync", ROOT / "assignments")
SPEC = SYNC.spec.submission.restrict
assert SPEC is not None
TEMPLATE = ROOT / "student_template" / "sync" / "primitives.py"

# Each is a way to reach the explorer (or the interpreter under it) from a submission.
FORGERIES = {
    "import the harness": "import grader.simos.sync.harness as h\nh.explore = None\n",
    "from-import the harness": "from grader.simos.sync.harness import explore\n",
    "a submodule by name": "from grader.simos.sync import explorer\n",
    "a private name": "from grader.simos.sync import _private\n",
    "the package above": "from grader.simos import sync\n",
    "star import": "from grader.simos.sync import *\n",
    "sys": "import sys\nsys.settrace(None)\n",
    "gc": "import gc\n",
    "ctypes": "import ctypes\n",
    "os": "import os\n",
    "importlib": "import importlib\n",
    "builtins": "import builtins\n",
    "relative import": "from . import helper\n",
    "dunder import": "m = __import__('grader.simos.sync.harness')\n",
    "getattr": "from grader.simos.sync import Cell\nx = getattr(Cell, 'load')\n",
    "setattr": "from grader.simos.sync import Cell\nsetattr(Cell, 'load', None)\n",
    "exec": "exec('import sys')\n",
    "eval": "eval('1')\n",
    "compile": "c = compile('1', 'f', 'eval')\n",
    "globals": "g = globals()\n",
    "vars": "from grader.simos.sync import Cell\nv = vars(Cell)\n",
    "function globals": "from grader.simos.sync import Cell\ng = Cell.load.__globals__\n",
    "class dict": "from grader.simos.sync import Cell\nd = Cell.__dict__\n",
    "subclasses": "s = object.__subclasses__()\n",
    "mro": "from grader.simos.sync import Cell\nm = type(Cell(0)).__mro__\n",
    "builtins name": "b = __builtins__\n",
    "generator frame": "def g():\n    yield 1\nf = g().gi_frame.f_back.f_globals\n",
    "traceback frame": "try:\n    1 / 0\nexcept Exception as e:\n    t = e.__traceback__\n",
    "tb_frame": "def f(t):\n    return t.tb_frame\n",
    "another object's private state": (
        "from grader.simos.sync import Cell\nc = Cell(0)\nc._value = 5\n"
    ),
    "threading.settrace": "import threading\nthreading.settrace(None)\n",
    "threading.enumerate": "import threading\nts = threading.enumerate()\n",
    "replace a library function": "import time\ntime.sleep = print\n",
    "replace threading's hook": "import threading\nthreading.excepthook = print\n",
    "from threading import settrace": "from threading import settrace\n",
    "open a file": "data = open('/etc/passwd').read()\n",
    "patch an imported class": "from grader.simos.sync import Cell\nCell.load = print\n",
    "delete from an imported class": "from grader.simos.sync import WaitQueue\ndel WaitQueue.sleep\n",
    "augment an imported class": "from grader.simos.sync import Cell\nCell.count += 1\n",
    "match on a dunder": (
        "def f(x):\n    match x:\n        case object(__globals__=g):\n            return g\n"
    ),
    "match on a private": "def f(x):\n    match x:\n        case object(_value=v):\n            return v\n",
    "eval through annotations": (
        "import typing\nclass A:\n    x: '__import__(\"gc\")'\nh = typing.get_type_hints(A)\n"
    ),
    "eval through singledispatch": "from functools import singledispatch\n",
    "threading.gettrace": "import threading\nt = threading.gettrace()\n",
    "alias a module": "import threading\nt = threading\nt.excepthook = print\n",
    "alias a stdlib class": ("from collections import Counter\nC = Counter\nC.update = print\n"),
    "alias a class of a module": "import threading\nT = threading.Thread\nT.start = print\n",
    "a class as an argument": "from collections import Counter\nfrom dataclasses import dataclass\ndataclass(Counter)\n",
    "a class in a container": "import random\nbox = [random.Random]\n",
    "a class as a default": "from collections import Counter\ndef f(C=Counter):\n    return C\n",
    "a class returned": "from collections import Counter\ndef f():\n    return Counter\n",
    "type of an object": "from grader.simos.sync import Cell\nt = type(Cell(0))\n",
    "a base through mro": (
        "from collections import Counter\nclass M(Counter):\n    pass\nM.mro()[1].update = print\n"
    ),
    "wraps": "from functools import wraps\n",
}


@pytest.mark.parametrize("name", sorted(FORGERIES))
def test_every_forgery_is_refused_with_its_line(name: str) -> None:
    found = check_source(FORGERIES[name], "primitives.py", SPEC)
    assert found, f"{name} passed the gate"
    first = found[0]
    assert first.file == "primitives.py" and first.line >= 1
    assert str(first).startswith(f"primitives.py:{first.line}:")


HONEST = """
from __future__ import annotations

import threading
import time
from collections import deque
from typing import Any

from grader.simos.sync import Cell, OwnershipError, WaitQueue, current_thread_id


class Mutex:
    count = 0

    def __init__(self) -> None:
        self._guard = Cell(0)
        self.__waiters: deque[int] = deque()
        Mutex.count += 1
        Mutex._made = True

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._guard.load()})"

    def acquire(self) -> None:
        me = current_thread_id()
        while self._guard.test_and_set() == 1:
            time.sleep(0)
        self.__waiters.append(me)

    @classmethod
    def make(cls, factory: type[deque[int]] = deque) -> Mutex:  # an immutable built-in type
        cls._last = cls()
        return cls._last


lock = threading.Lock()
node: Any = None
worker = threading.Thread(target=print)  # calling a changeable class is fine
stamp = time.monotonic()


class Waiter(threading.Thread):
    pass


try:
    pass
except (OwnershipError, ValueError) as exc:
    raise OwnershipError("again") from exc


def kinds(x: object) -> bool:
    match x:
        case WaitQueue():
            return isinstance(x, (Cell, WaitQueue)) and x is not Waiter
if __name__ == "__main__":
    print(Mutex.make(), WaitQueue(), OwnershipError)
"""


def test_honest_code_passes_including_dunder_methods_and_own_privates() -> None:
    assert check_source(textwrap.dedent(HONEST), "primitives.py", SPEC) == []


def test_the_reference_template_and_every_sample_pass_the_gate() -> None:
    folders = [ROOT / "reference" / "sync", ROOT / "student_template" / "sync"]
    folders += sorted(
        p for p in (ROOT / "assignments" / "sync" / "samples").iterdir() if p.is_dir()
    )
    for folder in folders:
        assert check_submission(folder, SPEC) == [], folder


def test_a_syntax_error_is_left_to_the_import_which_reports_it_with_the_line() -> None:
    assert check_source("def broken(:\n", "primitives.py", SPEC) == []


def test_every_python_file_of_the_submission_is_checked(tmp_path: Path) -> None:
    (tmp_path / "primitives.py").write_text(TEMPLATE.read_text())
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "helper.py").write_text("import gc\n")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "x.py").write_text("import gc\n")  # the worker does not copy it
    found = check_submission(tmp_path, SPEC)
    assert [v.file for v in found] == ["pkg/helper.py"]


def _forged_template(folder: Path) -> Path:
    folder.mkdir()
    forge = (
        "\n\nimport grader.simos.sync.harness as _h\n\n"
        "_h.explore = lambda module, args: "
        '{"verdict": "passed", "search": None, "failure": None}\n'
        '_h.replay = lambda module, args: {"verdict": "passed", "failure": None}\n'
    )
    (folder / "primitives.py").write_text(TEMPLATE.read_text() + forge)
    return folder


def test_a_forged_pass_scores_zero_and_says_where(tmp_path: Path) -> None:
    sub = _forged_template(tmp_path / "forged")
    report = grade(SYNC, sub, max_examples=1, only=["spin-mutex", "mutex-mutex"])
    assert report.score == 0
    assert all(t.outcome == "error" for t in report.tests)
    problem = report.submission.problems[0]
    assert "primitives.py:" in problem and "import grader.simos.sync.harness" in problem
    assert "nothing was graded" in problem


def test_without_the_gate_the_same_forgery_would_buy_points(tmp_path: Path) -> None:
    """The threat is real: this is why sync's assignment.toml has [submission.restrict]."""
    sub = _forged_template(tmp_path / "forged")
    open_spec = SYNC.spec.model_copy(
        update={"submission": SYNC.spec.submission.model_copy(update={"restrict": None})}
    )
    unguarded = Assignment(spec=open_spec, directory=SYNC.directory)
    report = grade(unguarded, sub, max_examples=1, only=["spin-mutex"])
    assert report.score > 0  # the empty template "passes" when the gate is off


def test_a_bad_restrict_table_names_the_field(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        RestrictSpec.model_validate({"modules": []})
    with pytest.raises(ValueError):
        SubmissionSpec.model_validate(
            {"files": ["a.py"], "module": "a", "restrict": {"modules": ["x"], "other": 1}}
        )
    text = (SYNC.directory / "assignment.toml").read_text()
    bad = text.replace('reason = "the explorer', 'reasons = "the explorer', 1)
    (tmp_path / "assignment.toml").write_text(bad)
    (tmp_path / "properties.py").write_text("")
    from grader.engine.assignment import load_assignment_file

    with pytest.raises(ConfigError, match=r"submission\.restrict\.reasons"):
        load_assignment_file(tmp_path / "assignment.toml")


def test_every_deadlock_submission_but_the_hostile_one_passes_its_gate() -> None:
    deadlock = find_assignment("deadlock", ROOT / "assignments")
    spec = deadlock.spec.submission.restrict
    assert spec is not None
    folders = [ROOT / "reference" / "deadlock", ROOT / "student_template" / "deadlock"]
    folders += sorted(
        p for p in (ROOT / "assignments" / "deadlock" / "samples").iterdir() if p.is_dir()
    )
    refused = {f.name for f in folders if check_submission(f, spec)}
    assert refused == {"os_exit"}


def test_the_course_classes_are_sealed_at_run_time_whatever_their_name() -> None:
    from grader.simos.deadlock.dining import Fork, Table
    from grader.simos.sync import Cell, Thread, WaitQueue

    for cls in (Cell, WaitQueue, Thread, Fork, Table):
        alias = cls
        with pytest.raises(AttributeError, match="cannot be changed; subclass"):
            alias.load = print  # type: ignore[attr-defined]
        with pytest.raises(AttributeError, match="cannot be changed"):
            del alias.__repr__

    class Mine(Cell):  # a student's subclass is an ordinary class
        pass

    Mine.extra = 1  # type: ignore[attr-defined]
    assert Mine.extra == 1  # type: ignore[attr-defined]
    assert Cell(3).load() == 3  # and the sealed class still works

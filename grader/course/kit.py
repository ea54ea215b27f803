"""The student kit: ``osgrade kit ASSIGNMENT -o kit.zip``.

What a student needs to start and to self-check, and nothing hidden::

    NAME-kit/
      README.md                 how to install osgrade and run the self-check
      solution/                 the template: the stubs and the handout (README.md)
      assignments/NAME/         assignment.toml with the public tests only, and
                                public_cases.json: their recorded inputs and answers
      wheels/osgrade-*.whl      osgrade itself (the framework is public)

The public tests compare with the reference, which a kit must not contain, so they are
*recorded* (grader/engine/recorded.py): inputs drawn from each public test's strategies
with a kit-only seed, and the reference's answers to the calls the property makes.
``osgrade check`` in the kit replays them. The hidden properties' source is not needed and
not shipped. Before writing the zip the kit is verified: replayed on the reference every
public test passes, and on the template every one fails.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import zipfile
from pathlib import Path

from .. import __version__
from ..engine.assignment import Assignment, load_assignment_file
from ..engine.errors import ConfigError
from ..engine.grade import grade, load_properties, load_reference
from ..engine.recorded import RecordedSuite, kit_seed, record_test
from ..engine.worker import Worker, WorkerLimits
from .wheel import build_wheel

CASES_FILE = "public_cases.json"
WORK_FOLDER = "solution"


def _toml_string(s: str) -> str:
    return json.dumps(s, ensure_ascii=False).replace("\x7f", "\\u007f")


def _toml_list(items: list[str]) -> str:
    return "[" + ", ".join(_toml_string(i) for i in items) + "]"


def kit_toml(assignment: Assignment) -> str:
    """assignment.toml of the kit: the public tests, replayed from the recorded file."""
    spec = assignment.spec
    lines = [
        f"# Student kit of {spec.name} (made by `osgrade kit`): the public tests only, replayed",
        f"# from {CASES_FILE} (the reference's recorded answers). No hidden test, no reference.",
        f"name = {_toml_string(spec.name)}",
        f"title = {_toml_string(spec.title)}",
        f"version = {_toml_string(spec.version)}",
        f"description = {_toml_string(spec.description.strip())}",
        f"recorded = {_toml_string(CASES_FILE)}",
        "",
        "[submission]",
        f"files = {_toml_list(spec.submission.files)}",
        f"module = {_toml_string(spec.submission.module)}",
        "",
        "[limits]",
        f"call_timeout_s = {spec.limits.call_timeout_s!r}",
        f"memory_mb = {spec.limits.memory_mb}",
        f"cpu_s = {spec.limits.cpu_s}",
        "",
        "[hypothesis]",
        f"seed = {kit_seed(spec.hypothesis.seed)}",
    ]
    if spec.kit.explain:
        lines += ["", "[kit]", f"explain = {_toml_string(Path(spec.kit.explain).name)}"]
    for t in spec.tests:
        if not t.public:
            continue
        lines += [
            "",
            "[[tests]]",
            f"id = {_toml_string(t.id)}",
            f"name = {_toml_string(t.name)}",
            f"property = {_toml_string(t.property)}",
            f"points = {t.points!r}",
            f"visibility = {_toml_string(t.visibility)}",
            "public = true",
            f"tags = {_toml_list(t.tags)}",
        ]
        if t.call_timeout_s is not None:
            lines.append(f"call_timeout_s = {t.call_timeout_s!r}")
    return "\n".join(lines) + "\n"


def record_public(assignment: Assignment) -> RecordedSuite:
    """Record every public test of ``assignment`` on its reference (see the module docstring)."""
    spec = assignment.spec
    public = [t for t in spec.tests if t.public]
    if not public:
        raise ConfigError(
            f"{assignment.directory / 'assignment.toml'}: no test has public = true, so a kit "
            "would have nothing to self-check; mark the tests students may run"
        )
    properties = load_properties(assignment)
    reference = load_reference(assignment)
    limits = WorkerLimits(
        call_timeout_s=spec.limits.call_timeout_s,
        memory_mb=spec.limits.memory_mb,
        cpu_s=spec.limits.cpu_s,
    )
    seed = kit_seed(spec.hypothesis.seed)
    with Worker(assignment.reference_dir, limits) as worker:
        tests = [
            record_test(
                properties[t.property],
                t.id,
                worker,
                spec.submission.module,
                reference,
                cases=spec.kit.cases,
                seed=seed,
                call_timeout_s=t.call_timeout_s or spec.limits.call_timeout_s,
                params=assignment.params_for(t, properties[t.property].params_model),
            )
            for t in public
        ]
    return RecordedSuite(assignment=spec.name, version=spec.version, seed=seed, tests=tests)


def _readme(assignment: Assignment, wheel: str) -> str:
    spec = assignment.spec
    n = sum(t.public for t in spec.tests)
    return f"""# {spec.title}: student kit

Your handout is `{WORK_FOLDER}/README.md`. Write your code in `{WORK_FOLDER}/`.

## Install osgrade (once)

```bash
python3 -m venv .venv
.venv/bin/pip install wheels/{wheel}
```

## Check your work

From this folder (the one with `assignments/` in it):

```bash
.venv/bin/osgrade check {spec.name} {WORK_FOLDER}
```

It runs the {n} public test{"s" if n != 1 else ""} on your code in a sandboxed process and
prints a summary; add `--out report` to also get `report/report.html`, which shows, for each
failing test, the smallest input that breaks your code, a snippet to reproduce it, and
where your answer first differs from the reference's.

## What the self-check is (and is not)

The public tests here are *recorded*: a fixed set of inputs, with the answers of the
course's reference solution. Your code passes a test when it gives exactly those answers,
smallest input first. The graded run uses the same public tests on fresh inputs, plus
hidden tests you do not see, so passing here is necessary, not sufficient: test your
code on your own inputs too.

Made by osgrade {__version__}.
"""


def verify_kit(kit_assignment: Assignment, assignment: Assignment) -> None:
    """Replay the kit on the reference (must pass) and the template (must fail every test)."""
    ref = grade(kit_assignment, assignment.reference_dir, mode="check")
    bad = [t.id for t in ref.tests if t.outcome != "passed"]
    if bad or not ref.tests:
        raise ConfigError(f"the kit's recorded tests fail on the reference: {bad}")
    tpl = grade(kit_assignment, assignment.template_dir, mode="check")
    passing = [t.id for t in tpl.tests if t.outcome == "passed"]
    if passing:
        raise ConfigError(
            f"the template passes recorded public tests {passing}: the kit would not "
            "tell a student anything; check the template's stubs"
        )


def build_kit(assignment: Assignment, target: Path) -> Path:
    """Write the kit zip of ``assignment`` to ``target``; ConfigError if it cannot be made."""
    if not assignment.template_dir.is_dir():
        raise ConfigError(f"{assignment.template_dir}: no student template to put in the kit")
    suite = record_public(assignment)
    top = f"{assignment.name}-kit"
    with tempfile.TemporaryDirectory(prefix="osgrade-kit-") as tmp:
        root = Path(tmp) / top
        adir = root / "assignments" / assignment.name
        adir.mkdir(parents=True)
        (adir / "assignment.toml").write_text(kit_toml(assignment), encoding="utf-8")
        (adir / CASES_FILE).write_text(suite.model_dump_json() + "\n", encoding="utf-8")
        if assignment.explain_path is not None:
            shutil.copyfile(assignment.explain_path, adir / assignment.explain_path.name)
        shutil.copytree(
            assignment.template_dir,
            root / WORK_FOLDER,
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".*"),
        )
        wheel = build_wheel(root / "wheels")
        (root / "README.md").write_text(_readme(assignment, wheel.name), encoding="utf-8")
        verify_kit(load_assignment_file(adir / "assignment.toml"), assignment)
        target.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
            for p in sorted(root.rglob("*")):
                if p.is_file():
                    zf.write(p, f"{top}/{p.relative_to(root).as_posix()}")
    return target

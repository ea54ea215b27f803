"""Assignments on disk: ``assignments/<name>/assignment.toml`` loaded into pydantic models."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .errors import ConfigError
from .restrict import RestrictSpec

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

Visibility = Literal["visible", "hidden", "after_due_date", "after_published"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SubmissionSpec(_Strict):
    files: list[str] = Field(min_length=1, description="files a submission must contain")
    module: str = Field(description="the module (file stem) the worker imports")
    restrict: RestrictSpec | None = Field(
        None, description="a static gate on imports and introspection (grader/engine/restrict.py)"
    )

    @field_validator("files")
    @classmethod
    def _plain_names(cls, files: list[str]) -> list[str]:
        for f in files:
            if "/" in f or "\\" in f or f.startswith(".") or not f:
                raise ValueError(f"{f!r} must be a plain file name inside the submission")
        return files


class Limits(_Strict):
    call_timeout_s: float = Field(5.0, gt=0, le=600)
    memory_mb: int = Field(1024, ge=64)
    cpu_s: int = Field(600, ge=1)


class HypothesisSpec(_Strict):
    max_examples: int = Field(default=200, ge=1, le=100_000)
    seed: int = 0
    test_budget_s: float = Field(
        60.0, gt=0, description="wall time for one test, shrinking included"
    )


class TestSpec(_Strict):
    __test__ = False

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    name: str
    property: str = Field(description="a function of the assignment's properties module")
    points: float = Field(gt=0)
    visibility: Visibility = "visible"
    public: bool = False
    tags: list[str] = Field(default_factory=list)
    max_examples: int | None = Field(None, ge=1, le=100_000)
    call_timeout_s: float | None = Field(
        None,
        gt=0,
        le=600,
        description="wall-clock seconds per call for this test, in place of [limits] (and of "
        "a grading run's override): for a test whose one call does much more work",
    )
    description: str = ""
    params: dict[str, Any] = Field(
        default_factory=dict,
        description="settings for the property, over the assignment's [params]; the property "
        "checks them (see Assignment.params_for)",
    )


class MutationSpec(_Strict):
    """``[mutation]``: how ``osgrade validate`` grades mutants of the reference."""

    files: list[str] | None = Field(
        None, description="reference files to mutate (default: the submission files)"
    )
    equivalent: list[str] = Field(
        default_factory=list, description="ids of mutants that behave like the reference"
    )
    skip: list[str] = Field(
        default_factory=list,
        description="functions or classes (qualified names) left unmutated, e.g. argument checks",
    )
    mutate_guards: bool = Field(
        False, description="also mutate conditions of argument checks (`if ...: raise`)"
    )
    max_examples: int = Field(20, ge=1, le=10_000, description="examples per property per mutant")
    call_timeout_s: float = Field(2.0, gt=0, le=600, description="per call, for mutants")


class KitSpec(_Strict):
    """``[kit]``: how ``osgrade kit`` records the public tests for students."""

    cases: int = Field(60, ge=1, le=5_000, description="recorded inputs per public test")
    explain: str | None = Field(
        None,
        description=(
            "a file beside assignment.toml, copied into the kit, whose explain_reply(entry, "
            "args, expected, actual) turns a recorded reply that differs into the words and "
            "picture grading shows (returns a Failure, or None for the JSON difference)"
        ),
    )


class AssignmentFile(_Strict):
    """The on-disk shape of assignment.toml."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
    title: str
    version: str
    description: str = ""
    properties: str = "properties.py"
    reference: str | None = (
        None  # directory, relative to the assignment; default ../../reference/<name>
    )
    template: str | None = None  # default ../../student_template/<name>
    submission: SubmissionSpec
    limits: Limits = Limits()
    hypothesis: HypothesisSpec = HypothesisSpec()
    params: dict[str, Any] = Field(
        default_factory=dict, description="settings shared by every test's property"
    )
    mutation: MutationSpec = MutationSpec()
    kit: KitSpec = KitSpec()
    # Set only in a student kit: the public tests' inputs and the reference's answers,
    # replayed instead of running properties (a kit has neither properties nor reference).
    recorded: str | None = None
    tests: list[TestSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> AssignmentFile:
        seen: set[str] = set()
        for t in self.tests:
            if t.id in seen:
                raise ValueError(f"test id {t.id!r} is used twice; ids must be unique")
            seen.add(t.id)
        return self


class Assignment(BaseModel):
    """A loaded assignment: the file's data plus where it lives."""

    model_config = ConfigDict(frozen=True)

    spec: AssignmentFile
    directory: Path

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def properties_path(self) -> Path:
        return self.directory / self.spec.properties

    @property
    def reference_dir(self) -> Path:
        rel = self.spec.reference or f"../../reference/{self.spec.name}"
        return (self.directory / rel).resolve()

    @property
    def template_dir(self) -> Path:
        rel = self.spec.template or f"../../student_template/{self.spec.name}"
        return (self.directory / rel).resolve()

    @property
    def recorded_path(self) -> Path | None:
        return self.directory / self.spec.recorded if self.spec.recorded else None

    @property
    def explain_path(self) -> Path | None:
        return self.directory / self.spec.kit.explain if self.spec.kit.explain else None

    @property
    def max_score(self) -> float:
        return sum(t.points for t in self.spec.tests)

    @property
    def toml_path(self) -> Path:
        return self.directory / "assignment.toml"

    def params_for(self, test: TestSpec, model: type[BaseModel] | None) -> Any:
        """The test's params over the assignment's, validated by ``model`` (None: the dict).

        Raises ConfigError naming the file and the field (``tests.<id>.params.<key>`` for a
        key the test sets, ``params.<key>`` for one it inherits).
        """
        merged = {**self.spec.params, **test.params}
        if model is None:
            return merged
        try:
            return model.model_validate(merged)
        except ValidationError as exc:
            lines = []
            for e in exc.errors():
                key = str(e["loc"][0]) if e["loc"] else ""
                where = f"tests.{test.id}.params" if key in test.params or not key else "params"
                loc = ".".join(str(p) for p in e["loc"])
                got = e.get("input")
                shown = "" if isinstance(got, dict) else f" (got {got!r})"
                lines.append(f"  field {where}{'.' + loc if loc else ''}: {e['msg']}{shown}")
            raise ConfigError(
                f"{self.toml_path} contains params that test {test.id!r} does not accept:\n"
                + "\n".join(lines)
            ) from None


def _describe(err: ValidationError) -> str:
    lines = []
    for e in err.errors():
        loc = ".".join(str(p) for p in e["loc"]) or "(top level)"
        got = e.get("input")
        shown = "" if isinstance(got, dict) else f" (got {got!r})"
        lines.append(f"  field {loc}: {e['msg']}{shown}")
    return "\n".join(lines)


def load_assignment_file(path: Path) -> Assignment:
    """Load one assignment.toml; raises ConfigError naming the file and the field."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    try:
        spec = AssignmentFile.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(
            f"{path} contains data that does not match the assignment format:\n{_describe(exc)}"
        ) from None
    assignment = Assignment(spec=spec, directory=path.parent.resolve())
    explain = assignment.explain_path
    if explain is not None and not explain.is_file():
        raise ConfigError(
            f"{path}: field kit.explain: {explain} does not exist; name a file beside "
            "assignment.toml that defines explain_reply, or remove the field"
        )
    recorded = assignment.recorded_path
    if recorded is not None:
        if not recorded.is_file():
            raise ConfigError(f"{path}: field recorded: {recorded} does not exist")
        return assignment
    if not assignment.properties_path.is_file():
        raise ConfigError(
            f"{path}: field properties: {assignment.properties_path} does not exist; "
            "point it at the file that defines the hidden properties"
        )
    return assignment


def default_assignments_dir() -> Path:
    """$OSGRADE_ASSIGNMENTS, else the checkout's assignments/, else the nearest assignments/
    in the current folder or one of its parents (a student kit), else ./assignments."""
    env = os.environ.get("OSGRADE_ASSIGNMENTS")
    if env:
        return Path(env)
    beside = Path(__file__).resolve().parents[2] / "assignments"
    if beside.is_dir():
        return beside
    here = Path.cwd()
    for folder in (here, *here.parents):
        if any((folder / "assignments").glob("*/assignment.toml")):
            return folder / "assignments"
    return here / "assignments"


def list_assignments(root: Path | None = None) -> list[Path]:
    root = root or default_assignments_dir()
    if not root.is_dir():
        return []
    return sorted(p for p in root.glob("*/assignment.toml"))


def find_assignment(name_or_path: str, root: Path | None = None) -> Assignment:
    """Load an assignment by name (``scheduling``) or by a path to its directory or TOML file."""
    candidate = Path(name_or_path)
    if candidate.suffix == ".toml" and candidate.is_file():
        return load_assignment_file(candidate)
    if (candidate / "assignment.toml").is_file():
        return load_assignment_file(candidate / "assignment.toml")
    root = root or default_assignments_dir()
    path = root / name_or_path / "assignment.toml"
    if path.is_file():
        return load_assignment_file(path)
    known = ", ".join(p.parent.name for p in list_assignments(root)) or "none"
    raise ConfigError(
        f"no assignment {name_or_path!r} in {root} (known: {known}); "
        "give a name from `osgrade list` or a path to an assignment directory"
    )

"""The canonical, versioned record of one grading run. Every output is derived from it."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = 2  # 2: Counterexample.picture is any Picture kind

Outcome = Literal["passed", "failed", "error", "timeout", "crashed"]
Visibility = Literal["visible", "hidden", "after_due_date", "after_published"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Segment(_Model):
    """One bar of a Gantt chart: [start, end) doing ``kind`` for ``job``."""

    start: int
    end: int
    job: int
    kind: Literal["run", "switch"] = "run"


class GanttPicture(_Model):
    """Expected vs actual schedule, for the report to draw."""

    kind: Literal["gantt"] = "gantt"
    jobs: list[int]
    expected: list[Segment]
    actual: list[Segment] | None = None  # None when the submission produced no schedule
    mark: int | None = None  # the instant where the two first differ


Tone = Literal["plain", "good", "bad", "warn", "accent", "muted"]


class TableCell(_Model):
    """One cell of a TablePicture: its text and how it is coloured."""

    text: str
    tone: Tone = "plain"


class TablePicture(_Model):
    """A table for the report (a state, a list of operations with expected vs actual results).

    ``mark_row`` is the index of the row where the student's answer first departs, drawn
    highlighted; ``caption`` says how to read the table.
    """

    kind: Literal["table"] = "table"
    title: str = ""
    columns: list[str]
    rows: list[list[TableCell]]
    mark_row: int | None = None
    caption: str = ""


class LaneStep(_Model):
    """One step of an interleaving: what thread ``thread`` did, at which line of its code.

    ``switch`` says why the CPU changed hands just before this step ("" if it did not):
    preempted, slice (time slice over), yield, blocked, done. ``preempted`` marks a
    switch the explorer chose (a preemption of the schedule).
    """

    thread: int
    where: str = ""  # "primitives.py:22"; "" for a step of the test program
    code: str = ""  # the source line
    note: str = ""  # "flag.test_and_set() → 1", "enters the critical section"
    kind: str = "line"
    switch: str = ""
    preempted: bool = False


class LaneThread(_Model):
    id: int
    label: str  # "T0"
    end: str = ""  # how it ended: "finished", "sleeps on m.waiters at primitives.py:60"
    tone: Tone = "plain"


class LanesPicture(_Model):
    """A failing interleaving: one lane (column) per thread, one row per step, in order."""

    kind: Literal["lanes"] = "lanes"
    title: str = ""
    threads: list[LaneThread]
    steps: list[LaneStep]
    outcome: str  # what went wrong at the end
    culprit: int | None = None  # the thread the outcome is about
    cycle: list[int] = Field(default_factory=list)  # a wait-for cycle, when there is one
    replay: str = ""  # the schedule, as a replay string
    command: str = ""  # the command that replays it locally
    omitted: int = 0  # steps left out of a very long run
    caption: str = ""


NodeShape = Literal["process", "resource", "lock"]
EdgeTone = Literal["plain", "missing", "extra"]


class GraphNode(_Model):
    """A node of a GraphPicture: drawn as a circle (process), square (resource) or box (lock)."""

    id: str
    label: str
    shape: NodeShape = "process"


class GraphEdge(_Model):
    """A directed edge. ``missing``: expected but absent from the student's answer;
    ``extra``: in the student's answer but not in the real graph. ``label`` is a tooltip
    and shows in the text form (a code path, say)."""

    source: str
    target: str
    tone: EdgeTone = "plain"
    label: str = ""


class GraphPanel(_Model):
    """One drawing of the picture's nodes with these edges; ``cycle`` (node ids in order,
    the last one leading back to the first) is highlighted."""

    title: str
    edges: list[GraphEdge]
    cycle: list[str] | None = None
    note: str = ""  # shown in the panel, e.g. "Your code found no cycle."


class GraphPicture(_Model):
    """A directed graph (wait-for, lock order) drawn once per panel with the same layout:
    typically the reference's answer beside the student's."""

    kind: Literal["graph"] = "graph"
    title: str = ""
    nodes: list[GraphNode]
    panels: list[GraphPanel] = Field(min_length=1, max_length=2)
    caption: str = ""


FrameOutcome = Literal["hit", "tlb_hit", "tlb_miss", "fault", "segfault", "stray"]


class FrameColumn(_Model):
    """The frames just after one access, and what the access did.

    ``cells[f]`` labels the page in frame ``f`` (None: free). ``frame`` is the frame the
    access used (drawn highlighted); ``stray``: the translation reached a frame that does
    not hold the page (``frame`` is that frame, or None when it is outside memory).
    """

    cells: list[str | None]
    outcome: FrameOutcome
    frame: int | None = None
    evicted: str | None = None  # the page evicted to make room
    write_back: bool = False  # the evicted page was dirty and written to swap
    dirty: bool = False  # the page the access used is dirty after it (drawn "3d")


class FramesPicture(_Model):
    """Frames over time, one column per access: the reference's above, the student's below."""

    kind: Literal["frames"] = "frames"
    accesses: list[str]  # one heading per access, e.g. "3" or "1:3w" (process 1, page 3, write)
    expected: list[FrameColumn]
    actual: list[FrameColumn] | None = None  # None when the submission produced no run
    mark: int | None = None  # the first access where the two differ
    note: str = ""  # one sentence under the picture (what the mark means here)


class PlotSeries(_Model):
    """One line of a PlotPicture: (x, y) points joined in order."""

    label: str
    points: list[tuple[float, float]]
    colour: int = 0  # index in the palette; series of one colour belong together
    dashed: bool = False  # drawn dashed (say, the expected line next to yours)


class PlotPicture(_Model):
    """A line chart, e.g. the recorded cost of three system calls against the input size."""

    kind: Literal["plot"] = "plot"
    title: str = ""
    x_label: str
    y_label: str
    series: list[PlotSeries]
    caption: str = ""


# Every picture kind a counterexample can carry; the report draws each through the registry
# in grader/report/figures.py. A new kind: a model here (with its own ``kind`` literal), one
# entry in this union and one in that registry.
Picture = Annotated[
    Union[GanttPicture, TablePicture, LanesPicture, GraphPicture, FramesPicture, PlotPicture],
    Field(discriminator="kind"),
]


class Counterexample(_Model):
    """The minimal (shrunk) failing input, as data and as a snippet a student can run."""

    inputs: dict[str, Any]
    snippet: str  # Python code that reproduces the call locally
    expected: str | None = None  # short human text, e.g. the reference's schedule
    actual: str | None = None
    divergence: str | None = None  # the first point where expected and actual differ
    picture: Picture | None = None


class TestResult(_Model):
    """The outcome of one property (one line of Gradescope's tests[])."""

    __test__ = False  # not a pytest class

    id: str
    name: str
    number: str
    max_score: float
    score: float
    outcome: Outcome
    visibility: Visibility
    public: bool = False  # part of the student's self-check (`osgrade check`)
    tags: list[str] = Field(default_factory=list)
    message: str = ""  # one or two sentences for the student
    counterexample: Counterexample | None = None
    examples: int = 0  # how many generated inputs were tried
    duration_s: float = 0.0
    staff_note: str | None = None  # never shown to students (grader tracebacks, etc.)


class SubmissionInfo(_Model):
    path: str
    files: dict[str, str]  # file name -> sha256
    problems: list[str] = Field(default_factory=list)  # missing files, syntax errors


class AssignmentInfo(_Model):
    name: str
    title: str
    version: str


class GradeReport(_Model):
    """Everything one run of `osgrade grade` (or `check`) found."""

    schema_version: int = SCHEMA_VERSION
    osgrade_version: str
    mode: Literal["grade", "check"] = "grade"
    assignment: AssignmentInfo
    submission: SubmissionInfo
    started_at: str  # ISO 8601, UTC
    duration_s: float
    seed: int
    score: float
    max_score: float
    tests: list[TestResult]
    isolation: dict[str, Any] = Field(default_factory=dict)  # sandbox layers, probed at start
    environment: dict[str, str] = Field(default_factory=dict)
    grader_error: str | None = None  # the grader itself failed: staff only

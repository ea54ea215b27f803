"""osgrade's command line: parse arguments, call the engine, write and print. Nothing else."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Collection, Sequence
from pathlib import Path

from . import __version__
from .course.batch import BatchOptions, run_batch
from .course.gradescope import build_autograder
from .course.kit import build_kit
from .course.mutation import analyse, analysis_text, survivors_text
from .course.prairielearn import build_course_files
from .engine.assignment import Assignment, find_assignment, list_assignments, load_assignment_file
from .engine.errors import ConfigError, SubmissionError
from .engine.grade import Mode, failed_report, grade
from .engine.results import GradeReport
from .engine.schema import report_schema_text
from .report import summary, write_outputs
from .report.figures import layout_figure
from .report.junit import to_junit
from .report.write import write_atomic

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="osgrade",
        description="Grade operating-systems assignments with hidden property-based tests.",
    )
    p.add_argument("--version", action="version", version=f"osgrade {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--assignments",
        type=Path,
        default=None,
        help="folder of assignments (default: $OSGRADE_ASSIGNMENTS or the bundled ones)",
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("list", help="list the assignments", parents=[common])

    def tuning(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--seed", type=int, default=None, help="override the assignment's seed")
        sp.add_argument(
            "--max-examples", type=int, default=None, help="examples per property (faster, weaker)"
        )
        sp.add_argument(
            "--test", action="append", default=None, help="only this test id (repeatable)"
        )

    def replaying(sp: argparse.ArgumentParser) -> None:
        sp.add_argument(
            "--replay",
            action="append",
            default=None,
            metavar="TEST=CASE",
            help="reproduce the case a report gave for TEST (repeatable); runs only those tests",
        )

    g = sub.add_parser(
        "grade", help="grade a submission with every test (instructors)", parents=[common]
    )
    g.add_argument("assignment", help="assignment name (see `osgrade list`) or its folder")
    g.add_argument("submission", type=Path, help="the submission folder or a .zip of it")
    g.add_argument("--out", type=Path, default=Path("osgrade-results"), help="output folder")
    g.add_argument("--junit", type=Path, default=None, help="also write JUnit XML here (CI)")
    tuning(g)
    replaying(g)

    c = sub.add_parser(
        "check", help="run the public tests on your code (students)", parents=[common]
    )
    c.add_argument("assignment")
    c.add_argument("submission", type=Path, nargs="?", default=Path("."))
    c.add_argument("--out", type=Path, default=None, help="also write the report here")
    c.add_argument("--junit", type=Path, default=None, help="also write JUnit XML here (CI)")
    tuning(c)
    replaying(c)

    v = sub.add_parser(
        "validate",
        help="the reference must score full marks, the template zero",
        parents=[common],
    )
    v.add_argument("assignment")
    v.add_argument("--max-examples", type=int, default=None)
    v.add_argument(
        "--mutants", type=int, default=None, help="grade at most N mutants (a spread sample)"
    )
    v.add_argument("--no-mutation", action="store_true", help="skip the mutation analysis")
    v.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="mutants in parallel")
    v.add_argument("--diffs", type=Path, default=None, help="write every survivor's diff here")

    b = sub.add_parser("batch", help="grade a folder of submissions (a class)", parents=[common])
    b.add_argument("assignment")
    b.add_argument("submissions", type=Path, help="folder (or zip) of submissions")
    b.add_argument("--out", type=Path, required=True, help="output folder")
    b.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="gradings at once")
    b.add_argument("--timeout", type=float, default=900.0, help="wall-clock cap per submission (s)")
    b.add_argument("--force", action="store_true", help="regrade already graded submissions")
    b.add_argument("--no-progress", action="store_true", help="no progress bar")
    tuning(b)

    e = sub.add_parser("export", help="package an assignment for a platform", parents=[common])
    e.add_argument("platform", choices=["gradescope", "prairielearn"])
    e.add_argument("assignment")
    e.add_argument("-o", "--output", type=Path, required=True, help="the zip to write")
    e.add_argument(
        "--max-examples", type=int, default=None, help="examples per property on the platform"
    )

    k = sub.add_parser(
        "kit", help="the student kit: template, handout, public tests", parents=[common]
    )
    k.add_argument("assignment")
    k.add_argument("-o", "--output", type=Path, required=True, help="the zip to write")

    sub.add_parser("schema", help="print the JSON Schema of report.json")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "list":
            return _list(args)
        if args.command == "schema":
            print(report_schema_text(), end="")
            return EXIT_OK
        assignment = find_assignment(args.assignment, args.assignments)
        if args.command == "validate":
            return _validate(assignment, args)
        if args.command == "batch":
            return _batch(assignment, args)
        if args.command == "export":
            return _export(assignment, args)
        if args.command == "kit":
            target = build_kit(assignment, args.output)
            print(f"Wrote {target}")
            return EXIT_OK
        return _grade(assignment, args)
    except (ConfigError, SubmissionError) as exc:
        print(f"osgrade: error: {exc}", file=sys.stderr)
        return EXIT_USAGE


def _list(args: argparse.Namespace) -> int:
    paths = list_assignments(args.assignments)
    if not paths:
        print("no assignments found", file=sys.stderr)
        return EXIT_USAGE
    for path in paths:
        try:
            a = load_assignment_file(path)
            print(
                f"{a.name:<14} {a.spec.title}  ({len(a.spec.tests)} tests, {a.max_score:g} points)"
            )
        except ConfigError as exc:
            print(f"{path.parent.name:<14} BROKEN: {exc}")
    return EXIT_OK


def _grade(assignment: Assignment, args: argparse.Namespace) -> int:
    mode: Mode = "check" if args.command == "check" else "grade"
    if not args.submission.exists():
        raise SubmissionError(f"submission {args.submission} does not exist; check the path")
    replays = _replays(args.replay)
    try:
        report = grade(
            assignment,
            args.submission,
            mode=mode,
            seed=args.seed,
            max_examples=args.max_examples,
            only=args.test,
            replays=replays,
        )
        status = EXIT_OK
    except (ConfigError, SubmissionError):
        raise
    except Exception as exc:  # the grader itself failed: still write valid results
        report = failed_report(assignment, args.submission, exc, mode)
        print(f"osgrade: internal error while grading:\n{report.grader_error}", file=sys.stderr)
        status = EXIT_FAILED
    _emit(report, args.out, shown=set(replays))
    if args.junit is not None:
        write_atomic(args.junit, to_junit(report))
        print(f"Wrote {args.junit}")
    return status


def _batch(assignment: Assignment, args: argparse.Namespace) -> int:
    if not args.submissions.exists():
        raise ConfigError(f"{args.submissions} does not exist; give the folder of submissions")
    options = BatchOptions(
        jobs=args.jobs,
        timeout_s=args.timeout,
        force=args.force,
        seed=args.seed,
        max_examples=args.max_examples,
        only=args.test,
        progress=not args.no_progress,
    )
    record = run_batch(assignment, args.submissions, args.out, options)
    counts: dict[str, int] = {}
    for entry in record.entries:
        counts[entry.status] = counts.get(entry.status, 0) + 1
    done = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    print(f"{len(record.entries)} submissions in {record.duration_s:.1f} s: {done}")
    print(
        f"Wrote {args.out / 'summary.html'}, {args.out / 'gradebook.csv'}, {args.out / 'batch.json'}"
    )
    return EXIT_OK


def _export(assignment: Assignment, args: argparse.Namespace) -> int:
    if args.platform == "gradescope":
        target = build_autograder(assignment, args.output, max_examples=args.max_examples)
    else:
        target = build_course_files(assignment, args.output, max_examples=args.max_examples)
    print(f"Wrote {target}")
    return EXIT_OK


def _replays(items: list[str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items or []:
        test, eq, case = item.partition("=")
        if not eq or not test or not case:
            raise ConfigError(f"--replay takes TEST=CASE (the text the report gives), got {item!r}")
        out[test] = case
    return out


def _emit(report: GradeReport, out: Path | None, shown: Collection[str] = ()) -> None:
    print(summary(report))
    for t in report.tests:  # a replayed case is printed in full: that is what it is for
        cx = t.counterexample
        if t.id in shown and cx is not None and cx.picture is not None:
            figure = layout_figure(cx.picture, f"replay-{t.number}")
            print(f"\nTest {t.number} ({t.name}): {figure.text_intro}")
            print("\n".join(figure.text))
    warning = report.isolation.get("warning")
    if warning and report.mode == "grade":  # staff-facing: students self-checking need not care
        print(f"osgrade: warning: {warning}", file=sys.stderr)
    if out is not None:
        written = write_outputs(report, out)
        print("\nWrote " + ", ".join(str(p) for p in written.values()))


def _validate(assignment: Assignment, args: argparse.Namespace) -> int:
    ref, tpl = assignment.reference_dir, assignment.template_dir
    ok = True
    layout = (
        {p.name for p in ref.iterdir()} ^ {p.name for p in tpl.iterdir()} if tpl.is_dir() else {"?"}
    )
    layout.discard("__pycache__")
    if layout:
        print(f"FAIL reference/ and student_template/ differ in files: {sorted(layout)}")
        ok = False
    for label, path, want_full in (("reference", ref, True), ("template", tpl, False)):
        report = grade(assignment, path, max_examples=args.max_examples)
        good = report.score == report.max_score if want_full else report.score == 0
        verdict = "ok  " if good else "FAIL"
        print(f"{verdict} {label:<9} {path}: {report.score:g}/{report.max_score:g}")
        if not good:
            ok = False
            for t in report.tests:
                if (t.outcome == "passed") != want_full:
                    print(f"       {t.id}: {t.outcome} {t.message}")
    if ok and not args.no_mutation:
        analysis = analyse(
            assignment, limit=args.mutants, jobs=args.jobs, max_examples=args.max_examples
        )
        print(analysis_text(analysis, assignment))
        if args.diffs is not None:
            write_atomic(args.diffs, survivors_text(analysis))
            print(f"Wrote {args.diffs}")
    return EXIT_OK if ok else EXIT_FAILED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

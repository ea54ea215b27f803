"""Hostile submission (template + one twist): The empty template writes a full-marks results.json and fake reports into the output folder, its working directory and every parent of it it can reach."""

from __future__ import annotations

from grader.simos.scheduling import JobInfo, Reason, Scheduler, StopReason

OUT = "@@OUT@@"
BASE = "@@BASE@@"
FAKE = '{"score": 100.0, "output": "HOSTILE-MARKER all tests passed", "tests": []}\n'
NAMES = ("results.json", "report.json", "report.html", "report.md", "staff.html")


def _hostile(value: object) -> object:
    import os

    targets = [OUT, "/autograder/results"]
    here = os.getcwd()
    while here.startswith(BASE):  # only inside the test's own temporary folder
        targets.append(here)
        here = os.path.dirname(here)
    for folder in targets:
        try:
            if folder == OUT:
                os.makedirs(folder, exist_ok=True)
            if not os.path.isdir(folder):
                continue
            for name in NAMES:
                with open(os.path.join(folder, name), "w") as f:
                    f.write(FAKE)
        except OSError:
            pass
    return value


class FCFS(Scheduler):
    """First come, first served (non-preemptive).

    Rule: dispatch the job that became ready first and let it run until its CPU burst
    ends (return just the id). A job coming back from I/O is "new" again: it goes to the
    end of the queue, behind every job that became ready before it.

    Example: A arrives at 0 needing 5 ticks, B at 0 needing 3, C at 2 needing 1.
    A and B arrive together, so ``ready(A)`` comes first (smaller id)::

        0      5    8 9
        |AAAAA|BBB|C|
    """

    def __init__(self) -> None:
        pass  # set up your ready queue here

    def ready(self, job: JobInfo, now: int, reason: Reason) -> None:
        raise NotImplementedError("FCFS.ready")

    def dispatch(self, now: int) -> int | None:
        raise NotImplementedError("FCFS.dispatch")


class SJF(Scheduler):
    """Shortest job first, using the shortest *next CPU burst* (non-preemptive).

    Rule: dispatch the ready job with the smallest ``job.burst`` (the length of its
    current CPU burst, not its total work) and run it until that burst ends.
    Ties: ready order.

    Example: A (0, needs 5), B (0, needs 3), C (arrives 2, needs 1). At 0 B is shorter;
    at 3 C (1) beats A (5)::

        0   3 4     9
        |BBB|C|AAAAA|
    """

    def __init__(self) -> None:
        pass

    def ready(self, job: JobInfo, now: int, reason: Reason) -> None:
        raise NotImplementedError("SJF.ready")

    def dispatch(self, now: int) -> int | None:
        raise NotImplementedError("SJF.dispatch")


class STCF(Scheduler):
    """Shortest time-to-completion first (preemptive SJF, also called SRT).

    Rules:

    * dispatch the ready job with the smallest ``job.remaining``; ties: ready order.
    * ``preempt(running, now)`` is True iff some ready job has ``remaining`` strictly
      less than ``running.remaining`` (equal is not enough: no preemption on a tie).
    * a preempted job comes back through ``ready(job, now, Reason.PREEMPTED)`` like any
      other job, so it goes behind jobs with equal ``remaining`` that became ready
      before it.

    Example: A (0, needs 8), B (arrives 1, needs 4), C (arrives 2, needs 9). At 1 B has
    4 < 7 left, so A is preempted; at 5 A (7 left) beats C (9)::

        0 1    5       12        21
        |A|BBBB|AAAAAAA|CCCCCCCCC|
    """

    def __init__(self) -> None:
        pass

    def ready(self, job: JobInfo, now: int, reason: Reason) -> None:
        raise NotImplementedError("STCF.ready")

    def dispatch(self, now: int) -> int | None:
        raise NotImplementedError("STCF.dispatch")

    def preempt(self, running: JobInfo, now: int) -> bool:
        raise NotImplementedError("STCF.preempt")


class RoundRobin(Scheduler):
    """Round Robin with a fixed quantum.

    Rules:

    * one FIFO queue; dispatch the head with ``(job_id, self.quantum)``.
    * a job whose quantum ran out (``Reason.EXPIRED``) goes to the tail; so does every
      arriving job and every job back from I/O.
    * never preempts (the quantum does the job).

    Tie at one instant: the simulator calls ``ready(..., EXPIRED)`` for the job whose
    quantum just ended *before* the ``ready`` calls of jobs arriving at that instant, so
    the expired job queues in front of them (OSTEP's convention).

    Example (quantum 2): A (0, needs 5), B (0, needs 3), C (arrives 2, needs 1).
    At 2 the queue becomes [B, A, C]: A expired first, C arrived after::

        0  2  4  6 7 8 9
        |AA|BB|AA|C|B|A|
    """

    def __init__(self, quantum: int) -> None:
        self.quantum = quantum

    def ready(self, job: JobInfo, now: int, reason: Reason) -> None:
        raise NotImplementedError("RoundRobin.ready")

    def dispatch(self, now: int) -> tuple[int, int] | None:
        raise NotImplementedError("RoundRobin.dispatch")


class PriorityScheduler(Scheduler):
    """Priority scheduling, optionally preemptive, optionally with aging.

    Rules (a lower number is more important):

    * effective priority of a *waiting* job at instant ``t``:
      ``job.priority - (t - ready_since) // aging``, where ``ready_since`` is the instant
      of its latest ``ready()`` call. With ``aging=None`` it is just ``job.priority``.
      No clamping: it may go below 0.
    * dispatch the waiting job with the smallest effective priority; ties: ready order.
    * ``preemptive=False``: the job runs until its CPU burst ends (return just the id).
    * ``preemptive=True``: the running job keeps the effective priority it had when you
      dispatched it (it stops aging while it runs; remember that number in
      ``dispatch``). ``preempt(running, now)`` is True iff some waiting job's effective
      priority at ``now`` is strictly smaller than that. Without aging this is simply
      ``running.priority``. (A preempted job is ready again from ``now``: its aging
      starts over.)
    * ``preemptive=True`` and aging: ``next_timer(now)`` returns the next instant
      (> now) at which some waiting job's effective priority drops, or None if no job
      waits, so the simulator asks ``preempt`` at that instant; ``timer`` does nothing.
      Otherwise ``next_timer`` returns None.

    Example (non-preemptive, no aging): A (0, needs 5, priority 2), B (0, needs 3,
    priority 1), C (arrives 2, needs 1, priority 0)::

        0   3 4     9
        |BBB|C|AAAAA|

    Same jobs, ``preemptive=True``: C preempts B at 2::

        0  2 3 4     9
        |BB|C|B|AAAAA|

    Example with aging (``aging=2``, non-preemptive): A (0, needs 6, priority 0),
    B (0, needs 1, priority 3), C (arrives 5, needs 1, priority 1). At 6, B has waited
    6 ticks: 3 - 6 // 2 = 0; C has waited 1: 1 - 1 // 2 = 1, so B goes first (without
    aging C would)::

        0      6 7 8
        |AAAAAA|B|C|
    """

    def __init__(self, preemptive: bool = False, aging: int | None = None) -> None:
        self.preemptive = preemptive
        self.aging = aging

    def ready(self, job: JobInfo, now: int, reason: Reason) -> None:
        raise NotImplementedError("PriorityScheduler.ready")

    def dispatch(self, now: int) -> int | None:
        raise NotImplementedError("PriorityScheduler.dispatch")

    def preempt(self, running: JobInfo, now: int) -> bool:
        raise NotImplementedError("PriorityScheduler.preempt")

    def next_timer(self, now: int) -> int | None:
        raise NotImplementedError("PriorityScheduler.next_timer")


class MLFQ(Scheduler):
    """Multi-level feedback queue (OSTEP chapter 8, with the rules below).

    Levels ``0 .. len(quanta) - 1``; level 0 is the highest. ``quanta[i]`` is the
    quantum at level i; ``allotments[i]`` is how many quanta a job may use at level i
    before it moves down one level. Every job has a level, a ``quantum_left`` and an
    ``allot_left``.

    * new job (``ARRIVED``): level 0, tail; ``quantum_left = quanta[0]``,
      ``allot_left = allotments[0]``.
    * ``dispatch``: the head of the highest non-empty level, as
      ``(job_id, quantum_left)``.
    * ``stopped(job, now, ran, reason)``, whatever the reason:
      ``quantum_left -= ran``; if ``quantum_left == 0``: ``allot_left -= 1``; if now
      ``allot_left == 0`` the job moves down one level (at the lowest level it stays)
      with a fresh quantum and allotment of that level, otherwise it gets a fresh
      quantum at the same level. Time used at a level therefore counts across I/O and
      preemptions: no gaming the scheduler by blocking just before the quantum ends.
    * ``ready`` with ``EXPIRED`` or ``IO_DONE``: tail of the job's (possibly new) level,
      keeping ``quantum_left`` and ``allot_left``. ``ARRIVED``: tail of level 0.
      ``PREEMPTED``: the FRONT of its level (it resumes first there, keeping its
      ``quantum_left``).
    * ``preempt(running, now)`` is True iff some waiting job is at a strictly higher
      level (smaller number) than the running job, or a boost happened while it ran.
    * boost (if ``boost`` is not None): ``next_timer(now)`` returns the next multiple of
      ``boost`` that is > now. ``timer(now)`` moves every job in the system (waiting,
      running, and blocked in I/O) to level 0 with a fresh quantum and allotment. The
      waiting jobs keep their order: level 0's queue first, then level 1's, and so on,
      each front to back. The CPU time the running job used before the boost is
      forgotten: the ``ran`` of its next ``stopped`` call includes ticks from before
      the boost, which must not be charged. The running job is then preempted (your
      ``preempt`` says True) and comes back with ``PREEMPTED`` at the front of level 0,
      so it simply continues, with a fresh quantum.

    Raise ``ValueError`` naming the argument, the bad value and the fix when
    ``quanta``/``allotments`` are not non-empty lists of positive ints of equal length,
    or ``boost`` is neither None nor a positive int.

    Example: ``MLFQ(quanta=[2, 4], allotments=[1, 1], boost=10)``; A (0, needs 8),
    B (0, needs 8), C (arrives 2: 1 CPU, 2 I/O, 1 CPU)::

        0  2  4 5  7 8  10  12  14   18
        |AA|BB|C|AA|C|AA|BB|AA|BBBB|

    At 2 A has used its level-0 allotment and moves to level 1; C (level 0) runs at 4,
    blocks with 1 tick of its quantum left, and preempts A at 7 (A goes back to the
    front of level 1 with 2 ticks of quantum left). The boost at 10 puts B, A in
    level 0; each uses a quantum of 2 there, A finishes at 14, B drops to level 1.
    """

    def __init__(self, quanta: list[int], allotments: list[int], boost: int | None = None) -> None:
        self.quanta = quanta
        self.allotments = allotments
        self.boost = boost

    def ready(self, job: JobInfo, now: int, reason: Reason) -> None:
        raise NotImplementedError("MLFQ.ready")

    def dispatch(self, now: int) -> tuple[int, int] | None:
        raise NotImplementedError("MLFQ.dispatch")

    def stopped(self, job: JobInfo, now: int, ran: int, reason: StopReason) -> None:
        raise NotImplementedError("MLFQ.stopped")

    def preempt(self, running: JobInfo, now: int) -> bool:
        raise NotImplementedError("MLFQ.preempt")

    def next_timer(self, now: int) -> int | None:
        raise NotImplementedError("MLFQ.next_timer")

    def timer(self, now: int) -> None:
        raise NotImplementedError("MLFQ.timer")


_hostile(None)

"""The interface every scheduling policy implements (the student-facing contract).

The simulator owns time, the CPU and the jobs; a policy only decides *who runs
next and for how long*. The simulator calls the methods below; you keep your
own ready queue(s) in whatever data structure suits the policy.

Order of calls at one instant ``t`` (this order *is* the tie-breaking rule for
anything that happens at the same time):

1. The running job's slice ends at ``t``: ``stopped(job, t, ran, reason)`` with
   FINISHED, BLOCKED (its CPU burst ended; I/O starts) or EXPIRED (slice used
   up, burst not done). EXPIRED is followed by ``ready(job, t, EXPIRED)``. When the
   burst ends exactly as the slice does, the reason is FINISHED or BLOCKED.
2. Your timer, if you asked for one at ``t`` (see ``next_timer``): ``timer(t)``.
3. Jobs arriving at ``t``, smallest id first: ``ready(job, t, ARRIVED)``.
4. Jobs whose I/O ends at ``t``, the I/O that started first first:
   ``ready(job, t, IO_DONE)``.
5. If a job is on the CPU and 2-4 happened: ``preempt(running, t)``. ``True`` stops
   it: ``stopped(job, t, ran, PREEMPTED)`` then ``ready(job, t, PREEMPTED)``.
6. If the CPU is free: ``dispatch(t)``. You must return a ready job whenever one is
   ready; ``None`` only when none is.
7. ``next_timer(t)``.

Context switches: dispatching a job other than the one that ran last costs the
simulator's ``switch_cost`` ticks before the job starts; the first dispatch is
free. A switch is never interrupted: events during it are delivered at their
times, and the ``preempt`` question is asked when the switch ends.
"""

from __future__ import annotations

from .model import JobId, JobInfo, Reason, StopReason, Ticks

Decision = JobId | tuple[JobId, Ticks] | None


class Scheduler:
    """Base class of all policies. Override ``ready`` and ``dispatch``; the rest are optional."""

    def ready(self, job: JobInfo, now: Ticks, reason: Reason) -> None:
        """``job`` is ready to run from ``now`` on: put it in your ready queue.

        Example (FCFS): ``self.queue.append(job.id)``.
        """
        raise NotImplementedError(self)

    def dispatch(self, now: Ticks) -> Decision:
        """The CPU is free: take a job out of your ready queue and return it.

        Return ``job_id`` to run it until its CPU burst ends, or
        ``(job_id, slice)`` to run it at most ``slice`` ticks (``slice >= 1``).
        Return ``None`` only when no job is ready.
        """
        raise NotImplementedError(self)

    def stopped(self, job: JobInfo, now: Ticks, ran: Ticks, reason: StopReason) -> None:
        """The running ``job`` left the CPU at ``now`` after running ``ran`` ticks of its slice.

        ``job.remaining`` is what is left of the current CPU burst (0 for FINISHED
        and BLOCKED). Default: nothing.
        """

    def preempt(self, running: JobInfo, now: Ticks) -> bool:
        """Something became ready while ``running`` computes: stop it now? Default: never."""
        return False

    def next_timer(self, now: Ticks) -> Ticks | None:
        """The next instant (> now) at which ``timer`` must be called, or None. Default: None.

        Use it for anything that depends on time alone: a priority boost, aging.
        Asked again after every instant, so the answer may change.
        """
        return None

    def timer(self, now: Ticks) -> None:
        """Called at the instant ``next_timer`` asked for. Default: nothing."""

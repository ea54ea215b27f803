"""Sample submission: all six policies correct, written the way a student might.

Plain lists and linear scans instead of heaps, an eager MLFQ boost that touches every
job, dictionaries of per-job state. Slower than the reference, same schedules.
"""

from __future__ import annotations

from grader.simos.scheduling import JobInfo, Reason, Scheduler, StopReason


class FCFS(Scheduler):
    def __init__(self) -> None:
        self.waiting: list[int] = []

    def ready(self, job: JobInfo, now: int, reason: Reason) -> None:
        self.waiting.append(job.id)

    def dispatch(self, now: int) -> int | None:
        if len(self.waiting) == 0:
            return None
        return self.waiting.pop(0)


class SJF(Scheduler):
    def __init__(self) -> None:
        self.waiting: list[JobInfo] = []  # in ready order

    def ready(self, job: JobInfo, now: int, reason: Reason) -> None:
        self.waiting.append(job)

    def dispatch(self, now: int) -> int | None:
        best = None
        for i, job in enumerate(self.waiting):
            if best is None or job.burst < self.waiting[best].burst:
                best = i
        if best is None:
            return None
        return self.waiting.pop(best).id


class STCF(Scheduler):
    def __init__(self) -> None:
        self.remaining: dict[int, int] = {}  # dicts keep insertion (= ready) order

    def ready(self, job: JobInfo, now: int, reason: Reason) -> None:
        self.remaining[job.id] = job.remaining

    def dispatch(self, now: int) -> int | None:
        if not self.remaining:
            return None
        shortest = min(self.remaining.values())
        for jid, left in self.remaining.items():
            if left == shortest:
                del self.remaining[jid]
                return jid
        raise AssertionError("unreachable")

    def preempt(self, running: JobInfo, now: int) -> bool:
        return any(left < running.remaining for left in self.remaining.values())


class RoundRobin(Scheduler):
    def __init__(self, quantum: int) -> None:
        self.quantum = quantum
        self.line: list[int] = []

    def ready(self, job: JobInfo, now: int, reason: Reason) -> None:
        self.line.append(job.id)

    def dispatch(self, now: int) -> tuple[int, int] | None:
        if not self.line:
            return None
        first = self.line[0]
        self.line = self.line[1:]
        return (first, self.quantum)


class PriorityScheduler(Scheduler):
    def __init__(self, preemptive: bool = False, aging: int | None = None) -> None:
        self.preemptive = preemptive
        self.aging = aging
        self.waiting: list[tuple[int, int, int]] = []  # (id, priority, ready_since), ready order
        self.running_prio = 0

    def effective(self, priority: int, since: int, now: int) -> int:
        if self.aging is None:
            return priority
        return priority - (now - since) // self.aging

    def ready(self, job: JobInfo, now: int, reason: Reason) -> None:
        self.waiting.append((job.id, job.priority, now))

    def best_index(self, now: int) -> int | None:
        best = None
        best_value = 0
        for i, (_, prio, since) in enumerate(self.waiting):
            value = self.effective(prio, since, now)
            if best is None or value < best_value:
                best, best_value = i, value
        return best

    def dispatch(self, now: int) -> int | None:
        i = self.best_index(now)
        if i is None:
            return None
        jid, prio, since = self.waiting.pop(i)
        self.running_prio = self.effective(prio, since, now)
        return jid

    def preempt(self, running: JobInfo, now: int) -> bool:
        if not self.preemptive:
            return False
        for _, prio, since in self.waiting:
            if self.effective(prio, since, now) < self.running_prio:
                return True
        return False

    def next_timer(self, now: int) -> int | None:
        if not self.preemptive or self.aging is None or not self.waiting:
            return None
        times = []
        for _, _, since in self.waiting:
            steps = (now - since) // self.aging + 1
            times.append(since + steps * self.aging)
        return min(times)


class MLFQ(Scheduler):
    def __init__(self, quanta: list[int], allotments: list[int], boost: int | None = None) -> None:
        if not quanta or not all(isinstance(q, int) and q > 0 for q in quanta):
            raise ValueError(f"quanta must be a non-empty list of positive ints, got {quanta}")
        if len(allotments) != len(quanta) or not all(
            isinstance(a, int) and a > 0 for a in allotments
        ):
            raise ValueError(
                f"allotments must have {len(quanta)} positive ints (one per level), got {allotments}"
            )
        if boost is not None and (not isinstance(boost, int) or boost <= 0):
            raise ValueError(f"boost must be None or a positive int, got {boost}")
        self.quanta = quanta
        self.allotments = allotments
        self.boost = boost
        self.queues: dict[int, list[int]] = {i: [] for i in range(len(quanta))}
        self.level: dict[int, int] = {}
        self.quantum_left: dict[int, int] = {}
        self.allot_left: dict[int, int] = {}
        self.running: int | None = None
        self.ran_before_boost = 0  # ticks of the running job's current run to forget
        self.run_started = 0
        self.boosted = False

    def reset(self, jid: int, level: int) -> None:
        self.level[jid] = level
        self.quantum_left[jid] = self.quanta[level]
        self.allot_left[jid] = self.allotments[level]

    def ready(self, job: JobInfo, now: int, reason: Reason) -> None:
        if reason == Reason.ARRIVED:
            self.reset(job.id, 0)
        lvl = self.level[job.id]
        if reason == Reason.PREEMPTED:
            self.queues[lvl].insert(0, job.id)
        else:
            self.queues[lvl].append(job.id)

    def dispatch(self, now: int) -> tuple[int, int] | None:
        for lvl in range(len(self.quanta)):
            if self.queues[lvl]:
                jid = self.queues[lvl].pop(0)
                self.running = jid
                self.run_started = now
                self.ran_before_boost = 0
                return (jid, self.quantum_left[jid])
        return None

    def stopped(self, job: JobInfo, now: int, ran: int, reason: StopReason) -> None:
        jid = job.id
        self.running = None
        self.boosted = False
        used = max(0, ran - self.ran_before_boost)
        self.ran_before_boost = 0
        if reason == StopReason.FINISHED:
            for d in (self.level, self.quantum_left, self.allot_left):
                del d[jid]
            return
        self.quantum_left[jid] -= used
        if self.quantum_left[jid] == 0:
            self.allot_left[jid] -= 1
            if self.allot_left[jid] == 0:
                self.reset(jid, min(self.level[jid] + 1, len(self.quanta) - 1))
            else:
                self.quantum_left[jid] = self.quanta[self.level[jid]]

    def preempt(self, running: JobInfo, now: int) -> bool:
        if self.boosted:
            return True
        mine = self.level[running.id]
        return any(self.queues[lvl] for lvl in range(mine))

    def next_timer(self, now: int) -> int | None:
        if self.boost is None:
            return None
        return (now // self.boost + 1) * self.boost

    def timer(self, now: int) -> None:
        if self.boost is None:
            return
        merged: list[int] = []
        for lvl in range(len(self.quanta)):
            merged += self.queues[lvl]
            self.queues[lvl] = []
        self.queues[0] = merged
        for jid in self.level:  # waiting, running and blocked jobs alike
            self.reset(jid, 0)
        if self.running is not None:
            self.boosted = True
            # Forget what it ran before the boost: ``stopped`` still counts it in ``ran``.
            # (now - run_started also counts a context switch, hence the max(0, ...) there.)
            self.ran_before_boost = now - self.run_started

"""Rebuild the buggy and broken samples from the reference: one targeted edit each.

Run ``python assignments/scheduling/samples/make_samples.py`` after changing
reference/scheduling/policies.py; every edit asserts that the text it replaces is
still there, so a sample never silently stops differing from the reference.
correct_alt/ is written by hand and not touched.
"""

import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[3]
REF = (ROOT / "reference/scheduling/policies.py").read_text()
OUT = ROOT / "assignments/scheduling/samples"
HEAD_END = REF.index("from __future__ import annotations")


def make(name, doc, notes, edits, drop_class=()):
    body = REF[HEAD_END:]
    for old, new in edits:
        assert body.count(old) == 1, (name, old)
        body = body.replace(old, new)
    for cls in drop_class:
        start = body.index(f"\n\nclass {cls}")
        nxt = body.find("\n\nclass ", start + 2)
        body = body[:start] + ("\n" if nxt == -1 else body[nxt:])
        body = body.rstrip("\n") + "\n"
    text = f'"""{doc}"""\n\n' + body
    d = OUT / name
    d.mkdir(parents=True, exist_ok=True)
    (d / "policies.py").write_text(text)
    assert len(notes) == 2
    (d / "NOTES.md").write_text("\n".join(notes) + "\n")
    return text


make(
    "rr_new_before_expired",
    "Sample: the reference, except RoundRobin holds the expired job back until the next dispatch.",
    [
        "Buggy sample: RoundRobin queues jobs arriving (or back from I/O) at the instant a quantum expires *before* the expired job (it buffers the expired job until the next dispatch); OSTEP's order is the opposite.",
        "Must lose points: RoundRobin (rr-reference, rr-rule). All other classes are the reference's.",
    ],
    [
        (
            "        self.quantum = quantum\n        self.queue: deque[int] = deque()\n",
            "        self.quantum = quantum\n        self.queue: deque[int] = deque()\n"
            "        self.expired: int | None = None  # goes back in line at the next dispatch\n",
        ),
        (
            "    def dispatch(self, now: int) -> tuple[int, int] | None:\n"
            "        return (self.queue.popleft(), self.quantum) if self.queue else None\n",
            "    def dispatch(self, now: int) -> tuple[int, int] | None:\n"
            "        if self.expired is not None:\n"
            "            self.queue.append(self.expired)\n"
            "            self.expired = None\n"
            "        return (self.queue.popleft(), self.quantum) if self.queue else None\n",
        ),
        (
            "    def ready(self, job: JobInfo, now: int, reason: Reason) -> None:\n"
            "        self.queue.append(job.id)\n\n"
            "    def dispatch(self, now: int) -> tuple[int, int] | None:\n        if self.expired",
            "    def ready(self, job: JobInfo, now: int, reason: Reason) -> None:\n"
            "        if reason is Reason.EXPIRED:\n"
            "            self.expired = job.id\n"
            "        else:\n"
            "            self.queue.append(job.id)\n\n"
            "    def dispatch(self, now: int) -> tuple[int, int] | None:\n        if self.expired",
        ),
    ],
)

make(
    "sjf_total_cpu",
    "Sample: the reference, except SJF breaks ties between equal bursts by job id.",
    [
        "Buggy sample: SJF picks the shortest next CPU burst correctly but breaks ties by the smallest job id instead of ready order (the job that became ready first).",
        "Must lose points: SJF (sjf-reference); the SJF rule/optimality properties may still pass. All other classes are the reference's.",
    ],
    [
        (
            "        heapq.heappush(self.heap, (job.burst, next(self.seq), job.id))",
            "        heapq.heappush(self.heap, (job.burst, job.id, job.id))",
        ),
    ],
)

make(
    "stcf_never_preempts",
    "Sample: the reference, except STCF never preempts (so it is just SJF by remaining time).",
    [
        "Buggy sample: STCF picks the least remaining time at each dispatch but preempt() always returns False, so a shorter job arriving waits for the running one.",
        "Must lose points: STCF (stcf-reference, stcf-rule, stcf-optimal). All other classes are the reference's.",
    ],
    [
        (
            "        return bool(self.heap) and self.heap[0][0] < running.remaining",
            "        return False",
        ),
    ],
)

make(
    "stcf_preempts_on_tie",
    "Sample: the reference, except STCF also preempts when the remaining times are equal.",
    [
        "Buggy sample: STCF preempts when a ready job's remaining time is <= the running job's (should be strictly less), causing needless switches on ties.",
        "Must lose points: STCF (stcf-reference). The rule and optimality properties may still pass. All other classes are the reference's.",
    ],
    [
        (
            "        return bool(self.heap) and self.heap[0][0] < running.remaining",
            "        return bool(self.heap) and self.heap[0][0] <= running.remaining",
        ),
    ],
)

make(
    "priority_inverted",
    "Sample: the reference, except PriorityScheduler thinks a bigger number is more important.",
    [
        "Buggy sample: PriorityScheduler treats higher priority numbers as more important (and aging as raising the number), the opposite of the Unix convention the handout states.",
        "Must lose points: PriorityScheduler (priority-reference, priority-preemptive-reference, priority-aging-reference, priority-rule). All other classes are the reference's.",
    ],
    [
        (
            "        if self.aging is None:\n            m, key = 0, job.priority\n"
            "        else:\n            m, key = now % self.aging, job.priority + now // self.aging\n",
            "        prio = -job.priority  # higher number = more important\n"
            "        if self.aging is None:\n            m, key = 0, prio\n"
            "        else:\n            m, key = now % self.aging, prio + now // self.aging\n",
        ),
    ],
)

make(
    "priority_aging_ignored",
    "Sample: the reference, except PriorityScheduler ignores its aging parameter.",
    [
        "Buggy sample: PriorityScheduler accepts aging= but never uses it (plain priorities, no timer), so low-priority jobs can starve.",
        "Must lose points: PriorityScheduler with aging (priority-aging-reference, priority-rule with aging). Without aging it is correct; all other classes are the reference's.",
    ],
    [
        ("        self.aging = aging\n", "        self.aging = None  # TODO: aging\n"),
    ],
)

make(
    "mlfq_resets_on_io",
    "Sample: the reference, except MLFQ gives a job a fresh quantum and allotment when it blocks.",
    [
        "Buggy sample: MLFQ resets a job's quantum and allotment when it blocks for I/O, so a job that does I/O just before its quantum ends stays at the top level forever (the gaming bug OSTEP warns about).",
        "Must lose points: MLFQ (mlfq-reference, mlfq-levels). All other classes are the reference's.",
    ],
    [
        (
            "        if reason is StopReason.BLOCKED:\n            st.blocked_at = now\n",
            "        if reason is StopReason.BLOCKED:\n            st.blocked_at = now\n"
            "            self._fresh(st, st.level)  # I/O-bound jobs keep their level\n",
        ),
    ],
)

make(
    "mlfq_no_boost",
    "Sample: the reference, except MLFQ never boosts.",
    [
        "Buggy sample: MLFQ ignores the boost parameter (no timer, no boost), so long jobs at low levels can starve.",
        "Must lose points: MLFQ with a boost (mlfq-reference, mlfq-boost). Without a boost it is correct; all other classes are the reference's.",
    ],
    [
        ("        self.boost = boost\n", "        self.boost = None  # boost: not done yet\n"),
    ],
)

make(
    "mlfq_preempted_to_tail",
    "Sample: the reference, except MLFQ puts a preempted job at the tail of its level.",
    [
        "Buggy sample: MLFQ requeues a preempted job at the tail of its level instead of the front (also the running job at a boost, which then waits instead of continuing).",
        "Must lose points: MLFQ (mlfq-reference). All other classes are the reference's.",
    ],
    [
        (
            "        if reason is Reason.PREEMPTED:\n"
            "            self.queues[st.level].appendleft(job.id)\n"
            "        else:\n"
            "            self.queues[st.level].append(job.id)\n",
            "        self.queues[st.level].append(job.id)\n",
        ),
    ],
)

make(
    "fcfs_by_arrival",
    "Sample: the reference, except FCFS orders jobs by their original arrival time.",
    [
        "Buggy sample: FCFS orders the ready queue by each job's original arrival time (ties by id) instead of when it became ready, so a job back from I/O jumps ahead of jobs that arrived after it but waited longer.",
        "Must lose points: FCFS (fcfs-reference, fcfs-rule) on workloads with I/O. All other classes are the reference's.",
    ],
    [
        (
            "    def __init__(self) -> None:\n        self.queue: deque[int] = deque()\n\n"
            "    def ready(self, job: JobInfo, now: int, reason: Reason) -> None:\n"
            "        self.queue.append(job.id)\n\n"
            "    def dispatch(self, now: int) -> int | None:\n"
            "        return self.queue.popleft() if self.queue else None\n",
            "    def __init__(self) -> None:\n        self.queue: list[tuple[int, int]] = []\n\n"
            "    def ready(self, job: JobInfo, now: int, reason: Reason) -> None:\n"
            "        heapq.heappush(self.queue, (job.arrival, job.id))\n\n"
            "    def dispatch(self, now: int) -> int | None:\n"
            "        return heapq.heappop(self.queue)[1] if self.queue else None\n",
        ),
    ],
)

# ---------------------------------------------------------------- hostile / broken

text = make(
    "syntax_error",
    "Sample: the reference with a missing colon (a real SyntaxError).",
    [
        "Broken sample: a `def` line without its colon (FCFS.dispatch, line LINE), so importing policies.py raises SyntaxError.",
        "Must lose points: everything (score 0); the report must show the SyntaxError with the file and line.",
    ],
    [
        (
            "    def dispatch(self, now: int) -> int | None:\n        return self.queue.popleft() if self.queue else None\n",
            "    def dispatch(self, now: int) -> int | None\n        return self.queue.popleft() if self.queue else None\n",
        ),
    ],
)
line = text.splitlines().index("    def dispatch(self, now: int) -> int | None") + 1
notes = OUT / "syntax_error/NOTES.md"
notes.write_text(notes.read_text().replace("line LINE", f"line {line}"))

make(
    "raises",
    "Sample: the reference, except RoundRobin.dispatch pops without checking for an empty queue.",
    [
        "Broken sample: RoundRobin.dispatch calls popleft() without checking the queue, so it raises IndexError whenever the CPU would idle (a gap between arrivals, everyone in I/O).",
        "Must lose points: RoundRobin (the tests whose workloads idle the CPU, shown as an exception in the student's code). All other classes are the reference's.",
    ],
    [
        (
            "        return (self.queue.popleft(), self.quantum) if self.queue else None\n",
            "        return (self.queue.popleft(), self.quantum)\n",
        ),
    ],
)

make(
    "infinite_loop",
    "Sample: the reference, except STCF.dispatch scans a list and loops forever on a tie.",
    [
        "Broken sample: STCF.dispatch scans a list for the least remaining time and forgets to advance its index when two jobs tie, so it spins forever (must hit the call timeout).",
        "Must lose points: STCF (timeouts on workloads with ties). All other classes are the reference's.",
    ],
    [
        (
            "    def __init__(self) -> None:\n        self.heap: list[tuple[int, int, int]] = []\n"
            "        self.seq = itertools.count()\n\n"
            "    def ready(self, job: JobInfo, now: int, reason: Reason) -> None:\n"
            "        heapq.heappush(self.heap, (job.remaining, next(self.seq), job.id))\n\n"
            "    def dispatch(self, now: int) -> int | None:\n"
            "        return heapq.heappop(self.heap)[2] if self.heap else None\n\n"
            "    def preempt(self, running: JobInfo, now: int) -> bool:\n"
            "        return bool(self.heap) and self.heap[0][0] < running.remaining\n",
            "    def __init__(self) -> None:\n"
            "        self.waiting: list[tuple[int, int]] = []  # (remaining, id), ready order\n\n"
            "    def ready(self, job: JobInfo, now: int, reason: Reason) -> None:\n"
            "        self.waiting.append((job.remaining, job.id))\n\n"
            "    def dispatch(self, now: int) -> int | None:\n"
            "        if not self.waiting:\n            return None\n"
            "        best = 0\n        i = 1\n"
            "        while i < len(self.waiting):\n"
            "            if self.waiting[i][0] < self.waiting[best][0]:\n"
            "                best = i\n                i += 1\n"
            "            elif self.waiting[i][0] > self.waiting[best][0]:\n"
            "                i += 1\n"
            "        return self.waiting.pop(best)[1]\n\n"
            "    def preempt(self, running: JobInfo, now: int) -> bool:\n"
            "        return any(left < running.remaining for left, _ in self.waiting)\n",
        ),
    ],
)

make(
    "eq_always_true",
    "Sample: the reference, except FCFS.dispatch returns an int subclass that equals everything.",
    [
        "Hostile sample: FCFS.dispatch returns an int subclass whose __eq__ is always True (hash = the real id), trying to fool comparisons; the simulator accepts only exact ints.",
        "Must lose points: FCFS (a SchedulingError naming the type). All other classes are the reference's.",
    ],
    [
        (
            "def _positive_int(value: object) -> bool:\n",
            "class _Id(int):\n"
            "    def __eq__(self, other: object) -> bool:\n        return True\n\n"
            "    def __ne__(self, other: object) -> bool:\n        return False\n\n"
            "    __hash__ = int.__hash__\n\n\n"
            "def _positive_int(value: object) -> bool:\n",
        ),
        (
            "        return self.queue.popleft() if self.queue else None\n",
            "        return _Id(self.queue.popleft()) if self.queue else None\n",
        ),
    ],
)

make(
    "os_exit",
    "Sample: the reference, except MLFQ.__init__ kills the process.",
    [
        "Hostile sample: MLFQ.__init__ calls os._exit(0), killing the worker with a success status and no output.",
        "Must lose points: MLFQ (the worker dies); the other classes are the reference's and must keep their points.",
    ],
    [
        ("import heapq\nimport itertools\n", "import heapq\nimport itertools\nimport os\n"),
        (
            " -> None:\n        if not isinstance(quanta, (list, tuple)) or not quanta:\n",
            " -> None:\n        os._exit(0)\n        if not isinstance(quanta, (list, tuple)) or not quanta:\n",
        ),
    ],
)

make(
    "missing_class",
    "Sample: the reference without the MLFQ class.",
    [
        "Broken sample: policies.py has no MLFQ class (the student did not get to it).",
        "Must lose points: MLFQ (a clear 'has no class MLFQ' message); the other classes are the reference's and must keep their points.",
    ],
    [
        (
            "import JobInfo, Reason, Scheduler, StopReason\n",
            "import JobInfo, Reason, Scheduler\n",
        )
    ],
    drop_class=("_Level", "MLFQ"),
)

make(
    "wrong_signature",
    "Sample: the reference, except RoundRobin.__init__ takes no quantum.",
    [
        "Broken sample: RoundRobin.__init__(self) takes no quantum argument (hard-coded 4), so RoundRobin(quantum=...) raises TypeError.",
        "Must lose points: RoundRobin (a message to keep the template's constructor signature); all other classes are the reference's.",
    ],
    [
        (
            "    def __init__(self, quantum: int) -> None:\n",
            "    def __init__(self) -> None:\n        quantum = 4\n",
        ),
    ],
)
print("ok")

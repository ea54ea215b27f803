"""Rebuild the buggy and broken samples from the reference: one targeted edit each.

Run ``python assignments/deadlock/samples/make_samples.py`` after changing
reference/deadlock/deadlock.py; every edit asserts that the text it replaces is still
there, so a sample never silently stops differing from the reference. correct_alt/ is
written by hand and not touched.

Each sample's NOTES.md is one line ending in "Must lose: <test ids>." (or "Must lose: all
tests."); tests/test_deadlock_grading.py grades every sample and checks that it loses
points in exactly those tests. The samples of parts 1 to 4 have no primitives.py, so
they cannot run part 5 and are graded on parts 1 to 4 only; the part 5 samples
(``dining_*``) carry primitives.py (the reference's, one of them with a bug of its own)
and are graded on part 5.
"""

import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[3]
REF = (ROOT / "reference/deadlock/deadlock.py").read_text()
PRIMITIVES = (ROOT / "reference/deadlock/primitives.py").read_text()
OUT = ROOT / "assignments/deadlock/samples"
HEAD_END = REF.index("from __future__ import annotations")


def make(name, doc, note, lose, edits, drop=(), primitives=None):
    body = REF[HEAD_END:]
    for old, new in edits:
        assert body.count(old) == 1, (name, old)
        body = body.replace(old, new)
    for fn in drop:
        start = body.index(f"\n\ndef {fn}(")
        nxt = body.find("\n\ndef ", start + 2)
        body = body[:start] + ("\n" if nxt == -1 else body[nxt:])
        body = body.rstrip("\n") + "\n"
    d = OUT / name
    d.mkdir(parents=True, exist_ok=True)
    (d / "deadlock.py").write_text(f'"""{doc}"""\n\n' + body)
    if primitives is not None:
        (d / "primitives.py").write_text(primitives)
    (d / "NOTES.md").write_text(f"{note} Must lose: {', '.join(lose) if lose else 'all tests'}.\n")


BANKER = [
    "banker-safety-reference",
    "banker-safety-valid",
    "banker-request-reference",
    "banker-request-justified",
]

make(
    "detect_stops_early",
    "Sample: the reference, except detect stops at the first process that cannot finish.",
    "Buggy sample: detect scans the processes once in index order and stops at the first whose "
    "request does not fit, calling it and every later process deadlocked (one of them may "
    "finish once an earlier-numbered one releases its units).",
    ["detect-reference", "detect-deadlocked"],
    [
        (
            "    order, stuck = _reduce(state.available, state.allocation, request)\n"
            "    return Detection(deadlocked=stuck, order=order)\n",
            "    work = list(state.available)\n"
            "    order: list[int] = []\n"
            "    for i in range(state.processes):\n"
            "        if any(request[i][j] > work[j] for j in range(state.resources)):\n"
            "            break\n"
            "        order.append(i)\n"
            "        work = [w + a for w, a in zip(work, state.allocation[i], strict=True)]\n"
            "    stuck = [i for i in range(state.processes) if i not in order]\n"
            "    return Detection(deadlocked=stuck, order=order)\n",
        )
    ],
)

make(
    "banker_uses_maximum",
    "Sample: the reference, except the Banker's safety check compares the maximum claim, "
    "not the remaining need, with the free units.",
    "Buggy sample: safe_sequence (and so request_decision) asks whether a process's whole "
    "maximum claim fits in the free units instead of its remaining need (maximum minus "
    "allocation), so it calls safe states unsafe and refuses safe requests.",
    BANKER,
    [
        (
            "    order, stuck = _reduce(state.available, state.allocation, state.need)\n",
            "    assert state.maximum is not None\n"
            "    order, stuck = _reduce(state.available, state.allocation, state.maximum)\n",
        )
    ],
)

make(
    "banker_no_safety_check",
    "Sample: the reference, except request_decision grants whatever is within the claim and free.",
    "Buggy sample: request_decision checks the claim and the free units but never whether the "
    "state after the grant is safe, so it grants requests that make the state unsafe.",
    ["banker-request-reference", "banker-request-safe", "banker-request-justified"],
    [
        (
            "    return Decision.GRANT if safe_sequence(after) is not None else Decision.UNSAFE\n",
            "    return Decision.GRANT\n",
        ),
        ("    after = SystemState(available, tuple(allocation), maximum=state.maximum)\n", ""),
        (
            "    available = tuple(state.available[j] - request[j] for j in range(m))\n"
            "    allocation = list(state.allocation)\n"
            "    allocation[process] = tuple(allocation[process][j] + request[j] for j in range(m))\n",
            "",
        ),
    ],
)

make(
    "cycle_misses_self_loops",
    "Sample: the reference, except find_cycle ignores an edge from a process to itself.",
    "Buggy sample: find_cycle skips self-loops (a process waiting for a resource it holds "
    "itself), so a graph whose only cycle is a self-loop is reported deadlock-free.",
    ["cycle-reference", "cycle-exists"],
    [("            if state[v] == 1:\n", "            if state[v] == 1 and v != u:\n")],
)

make(
    "cycle_not_a_cycle",
    "Sample: the reference, except find_cycle returns the whole search path.",
    "Buggy sample: find_cycle returns the depth-first search path from its root to the back "
    "edge, so when the root is not on the cycle the answer is a path, not a cycle.",
    ["cycle-reference", "cycle-real"],
    [("                return path[where[v] :]\n", "                return list(path)\n")],
)

make(
    "lockdep_most_recent_only",
    "Sample: the reference, except a dependency is recorded only from the most recent held lock.",
    "Buggy sample: lock_dependencies records held -> acquired only for the lock the thread took "
    "last, not for every lock it holds, so nested holds (A, then B, then C gives A -> C) are "
    "missed and so are the cycles through them.",
    [
        "lockdep-graph-reference",
        "lockdep-graph-valid",
        "lockdep-cycles-reference",
        "lockdep-cycles-every",
    ],
    [("            for lock, site in mine:\n", "            for lock, site in mine[-1:]:\n")],
)

make(
    "lockdep_release_pops_top",
    "Sample: the reference, except a release removes the most recently taken lock.",
    "Buggy sample: lock_dependencies treats a thread's held locks as a stack and pops the top "
    "on every release, whichever lock is released, so releasing out of order leaves the wrong "
    "lock held and creates dependencies that never happened.",
    [
        "lockdep-graph-reference",
        "lockdep-graph-valid",
        "lockdep-cycles-reference",
        "lockdep-cycles-every",
    ],
    [
        (
            "            for k in range(len(mine) - 1, -1, -1):\n"
            "                if mine[k][0] == e.lock:\n"
            "                    del mine[k]\n"
            "                    break\n",
            "            mine.pop()\n",
        )
    ],
)

make(
    "lockdep_pairs_only",
    "Sample: the reference, except potential_deadlocks finds only two-lock inversions.",
    "Buggy sample: potential_deadlocks reports A -> B -> A for every pair of locks taken in both "
    "orders, but no longer cycle (A -> B -> C -> A).",
    ["lockdep-cycles-reference", "lockdep-cycles-every"],
    [
        (
            "    nodes = sorted({x for d in deps for x in (d.held, d.acquired)})\n"
            "    found = []\n    for cycle in _simple_cycles(nodes, succ):\n",
            "    found = []\n"
            "    pairs = [[a, b] for (a, b) in edge if a < b and (b, a) in edge]\n"
            "    for cycle in pairs:\n",
        )
    ],
)

make(
    "valid_other_choices",
    "Sample: right answers everywhere, with other tie-breaks than the handout's.",
    "Realistic sample: every answer is valid but breaks ties its own way (highest index first, "
    "successors searched in decreasing order, free units checked before the claim, the last "
    "code path of each dependency instead of the first), so only the tests against the "
    "reference fail.",
    [
        "detect-reference",
        "cycle-reference",
        "banker-safety-reference",
        "banker-request-reference",
        "lockdep-graph-reference",
        "lockdep-cycles-reference",
    ],
    [
        (
            "                heapq.heappush(ready, i)\n",
            "                heapq.heappush(ready, -i)\n",
        ),
        ("        i = heapq.heappop(ready)\n", "        i = -heapq.heappop(ready)\n"),
        ("    for root in range(n):\n", "    for root in reversed(range(n)):\n"),
        ("            v = row[k]\n", "            v = row[len(row) - 1 - k]\n"),
        (
            "    if any(request[j] > need[j] for j in range(m)):\n"
            "        return Decision.EXCEEDS_CLAIM\n"
            "    if any(request[j] > state.available[j] for j in range(m)):\n"
            "        return Decision.WAIT\n",
            "    if any(request[j] > state.available[j] for j in range(m)):\n"
            "        return Decision.WAIT\n"
            "    if any(request[j] > need[j] for j in range(m)):\n"
            "        return Decision.EXCEEDS_CLAIM\n",
        ),
        (
            "                if key not in seen:\n"
            "                    seen[key] = Dependency(lock, e.lock, e.thread, site, e.site)\n",
            "                seen[key] = Dependency(lock, e.lock, e.thread, site, e.site)\n",
        ),
    ],
)

# ----------------------------------------------------------------------------- broken ones

make(
    "raises",
    "Sample: the reference, except potential_deadlocks looks up successors with [] (KeyError).",
    "Broken sample: potential_deadlocks indexes its successor dict with succ[v], which raises "
    "KeyError for a lock that is never held while another is taken (almost every trace has one).",
    ["lockdep-cycles-reference", "lockdep-cycles-every"],
    [
        (
            "    graph = {v: [w for w in succ.get(v, ()) if w != v] for v in nodes}\n",
            "    graph = {v: [w for w in succ[v] if w != v] for v in nodes}\n",
        )
    ],
)

make(
    "infinite_loop",
    "Sample: the reference, except detect loops until every process has finished.",
    "Broken sample: detect repeats its scan 'while some process is unfinished' without checking "
    "that the last scan made progress, so it spins forever on a deadlocked state (must hit the "
    "call timeout).",
    ["detect-reference", "detect-witness", "detect-deadlocked"],
    [
        (
            "    order, stuck = _reduce(state.available, state.allocation, request)\n"
            "    return Detection(deadlocked=stuck, order=order)\n",
            "    work = list(state.available)\n"
            "    order: list[int] = []\n"
            "    while len(order) < state.processes:\n"
            "        for i in range(state.processes):\n"
            "            if i not in order and all(request[i][j] <= work[j] for j in range(state.resources)):\n"
            "                order.append(i)\n"
            "                work = [w + a for w, a in zip(work, state.allocation[i], strict=True)]\n"
            "                break\n"
            "    return Detection(deadlocked=[], order=order)\n",
        )
    ],
)

make(
    "eq_always_true",
    "Sample: the reference, except request_decision returns an object equal to everything.",
    "Hostile sample: request_decision returns an object whose __eq__ is always True, hoping "
    "that `answer == expected` holds; the worker accepts only the Decision members themselves.",
    ["banker-request-reference", "banker-request-safe", "banker-request-justified"],
    [
        (
            "def request_decision(state: SystemState, process: int, request: Sequence[int]) -> Decision:\n",
            "class _Anything:\n"
            "    def __eq__(self, other: object) -> bool:\n"
            "        return True\n\n"
            "    def __hash__(self) -> int:\n"
            "        return 0\n\n\n"
            "def request_decision(state: SystemState, process: int, request: Sequence[int]) -> Decision:\n"
            "    return _Anything()  # type: ignore[return-value]\n",
        )
    ],
)

make(
    "os_exit",
    "Sample: the reference, except find_cycle calls os._exit(0).",
    "Hostile sample: find_cycle imports os to call os._exit(0) and kill the worker; the "
    "submission gate refuses `import os` and `._exit` before anything runs, naming the lines.",
    [],
    [
        (
            "    n = graph.n\n    succ = graph.successors\n",
            "    import os\n\n    os._exit(0)\n    n = graph.n\n    succ = graph.successors\n",
        )
    ],
)

make(
    "missing_function",
    "Sample: the reference without potential_deadlocks (the student did not get to it).",
    "Broken sample: deadlock.py has no potential_deadlocks function; every other function is "
    "the reference's and keeps its points.",
    ["lockdep-cycles-reference", "lockdep-cycles-every"],
    [],
    drop=("potential_deadlocks",),
)

syntax = OUT / "syntax_error"
syntax.mkdir(exist_ok=True)
text = REF[HEAD_END:].replace(
    "def find_cycle(graph: WaitForGraph) -> list[int] | None:\n",
    "def find_cycle(graph: WaitForGraph) -> list[int] | None\n",
)
assert text != REF[HEAD_END:]
(syntax / "deadlock.py").write_text('"""Sample: a def line without its colon."""\n\n' + text)
(syntax / "NOTES.md").write_text(
    "Broken sample: the `def find_cycle` line has no colon, so importing deadlock.py raises "
    "SyntaxError (the report names the file and line). Must lose: all tests.\n"
)

# ----------------------------------------------------------------------------- part 5

PART5 = [
    "philosophers-naive",
    "philosophers-all-at-once",
    "philosophers-release-retry",
    "philosophers-ordered",
    "philosophers-lock-order",
]

make(
    "dining_naive_no_deadlock",
    "Sample: the reference, except the naive philosophers take both forks under the table lock.",
    "Buggy sample: philosopher_naive holds table.lock while it takes its two forks, which "
    "(without meaning to) is Dijkstra's waiter: the naive version can no longer deadlock, so "
    "the explorer cannot show the deadlock it must show.",
    ["philosophers-naive"],
    [
        (
            "    left, right = table.left(i), table.right(i)\n"
            "    left.acquire()\n"
            "    right.acquire()\n"
            "    table.eat(i)\n"
            "    right.release()\n"
            "    left.release()\n\n\n"
            "def philosopher_all_at_once(",
            "    left, right = table.left(i), table.right(i)\n"
            "    table.lock.acquire()\n"
            "    left.acquire()\n"
            "    right.acquire()\n"
            "    table.lock.release()\n"
            "    table.eat(i)\n"
            "    right.release()\n"
            "    left.release()\n\n\n"
            "def philosopher_all_at_once(",
        )
    ],
    primitives=PRIMITIVES,
)

make(
    "dining_all_at_once_one_by_one",
    "Sample: the reference, except 'all at once' takes the forks one by one under the table lock.",
    "Buggy sample: philosopher_all_at_once holds table.lock and takes the left fork, then waits "
    "for the right one (Dijkstra's waiter): it never deadlocks, but it holds a fork while "
    "waiting for one in use, which is the hold and wait this version must break.",
    ["philosophers-all-at-once"],
    [
        (
            "    table.lock.acquire()\n"
            "    while left.in_use() or right.in_use():\n"
            "        table.changed.wait()\n"
            "    left.acquire()\n"
            "    right.acquire()\n"
            "    table.lock.release()\n"
            "    table.eat(i)\n"
            "    table.lock.acquire()\n"
            "    right.release()\n"
            "    left.release()\n"
            "    table.changed.broadcast()\n"
            "    table.lock.release()\n",
            "    table.lock.acquire()\n"
            "    left.acquire()\n"
            "    right.acquire()\n"
            "    table.lock.release()\n"
            "    table.eat(i)\n"
            "    right.release()\n"
            "    left.release()\n",
        )
    ],
    primitives=PRIMITIVES,
)

make(
    "dining_all_at_once_lost_wakeup",
    "Sample: the reference, except 'all at once' puts its forks down without the table lock.",
    "Buggy sample: philosopher_all_at_once puts its forks down and broadcasts without holding "
    "table.lock, so a neighbour that has just seen a fork in use can miss the broadcast and "
    "sleep forever in table.changed.wait() with both forks free (a lost wake-up).",
    ["philosophers-all-at-once"],
    [
        (
            "    table.lock.acquire()\n"
            "    right.release()\n"
            "    left.release()\n"
            "    table.changed.broadcast()\n"
            "    table.lock.release()\n",
            "    right.release()\n    left.release()\n    table.changed.broadcast()\n",
        )
    ],
    primitives=PRIMITIVES,
)

make(
    "dining_all_at_once_no_wait",
    "Sample: the reference, except 'all at once' takes its forks under the table lock without "
    "waiting until both are free.",
    "Buggy sample: philosopher_all_at_once takes table.lock and then its forks, without waiting "
    "on table.changed until both are free, and puts them down under table.lock: a philosopher "
    "waits for a fork while holding table.lock, and the fork's holder waits for table.lock to "
    "put it down (a deadlock through the table lock).",
    ["philosophers-all-at-once"],
    [
        (
            "    table.lock.acquire()\n"
            "    while left.in_use() or right.in_use():\n"
            "        table.changed.wait()\n"
            "    left.acquire()\n",
            "    table.lock.acquire()\n    left.acquire()\n",
        )
    ],
    primitives=PRIMITIVES,
)

make(
    "dining_release_never_releases",
    "Sample: the reference, except 'release and retry' keeps its left fork while it retries.",
    "Buggy sample: philosopher_release_retry keeps trying the right fork while holding the left "
    "one instead of putting it down first, so nothing is ever given back (five philosophers "
    "doing this spin forever, each holding one fork).",
    ["philosophers-release-retry"],
    [
        (
            "    while True:\n"
            "        left.acquire()\n"
            "        if right.try_acquire():\n"
            "            break\n"
            "        left.release()\n"
            "        yield_cpu()\n",
            "    left.acquire()\n    while not right.try_acquire():\n        yield_cpu()\n",
        )
    ],
    primitives=PRIMITIVES,
)

make(
    "dining_ordered_wrong_key",
    "Sample: the reference, except 'ordered' sorts the forks by their distance from the philosopher.",
    "Buggy sample: philosopher_ordered sorts its two forks by (number - i) % n, the distance "
    "from the philosopher, which is the same for everyone, so every philosopher takes its left "
    "fork first and the waits can go round the table.",
    ["philosophers-ordered"],
    [
        (
            "    first, second = (left, right) if left.number < right.number else (right, left)\n",
            "    first, second = sorted((left, right), key=lambda f: (f.number - i) % table.n)\n",
        )
    ],
    primitives=PRIMITIVES,
)

make(
    "dining_release_no_backoff",
    "Sample: the reference, except 'release and retry' starts again at once, without yielding.",
    "Buggy sample: philosopher_release_retry puts its left fork down and `continue`s at once, "
    "with no yield_cpu(): two neighbours can take and put down their forks in step, time "
    "slice after time slice, and never eat (a livelock the explorer's step budget stops).",
    ["philosophers-release-retry"],
    [
        (
            "        left.release()\n        yield_cpu()\n",
            "        left.release()\n        continue\n",
        ),
        ("from grader.simos.sync import yield_cpu\n", ""),
    ],
    primitives=PRIMITIVES,
)

RACE = "        else:\n            self.waiters.sleep(self.guard)  # woken as the new owner\n"
assert PRIMITIVES.count(RACE) == 1
make(
    "dining_mutex_sleep_race",
    "Sample: the reference philosophers on a Mutex with the sleep race of the sync samples.",
    "Buggy sample: the philosophers are right, but primitives.py's Mutex.acquire lets go of its "
    "guard and only then sleeps, so a release in between is lost and a philosopher sleeps "
    "forever on a free fork, or its neighbours retry forever (the naive version still shows "
    "its deadlock first): part 5 runs on the student's own Mutex.",
    ["philosophers-all-at-once", "philosophers-release-retry", "philosophers-ordered"],
    [],
    primitives=PRIMITIVES.replace(
        RACE,
        "        else:\n"
        "            self.guard.store(0)\n"
        "            self.waiters.sleep()  # a release between these two lines is lost\n",
    ),
)

make(
    "dining_no_primitives",
    "Sample: the reference deadlock.py alone, without primitives.py.",
    "Broken sample: the submission has deadlock.py but not primitives.py, so part 5 cannot "
    "build its forks and every part 5 test says that primitives.py is missing (parts 1 to 4 "
    "keep their points).",
    PART5,
    [],
)

"""Rebuild the buggy and hostile samples from the reference: one targeted edit each.

Run ``python assignments/sync/samples/make_samples.py`` after changing
reference/sync/primitives.py; every edit asserts that the text it replaces is still
there, so a sample never silently stops differing from the reference. Each NOTES.md has
one line saying what is wrong and one naming the tests it must lose (tests/test_sync_grading.py
reads the ids in brackets).
"""

import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[3]
REF = (ROOT / "reference/sync/primitives.py").read_text()
OUT = ROOT / "assignments/sync/samples"
HEAD_END = REF.index("from __future__ import annotations")


def make(name, doc, what, must, edits, raw=None):
    body = REF[HEAD_END:]
    for old, new in edits:
        assert body.count(old) == 1, (name, old)
        body = body.replace(old, new)
    text = raw if raw is not None else f'"""{doc}"""\n\n' + body
    d = OUT / name
    d.mkdir(parents=True, exist_ok=True)
    (d / "primitives.py").write_text(text)
    (d / "NOTES.md").write_text(
        f"{what}\nMust lose points in exactly: [{', '.join(must)}]; every other test passes.\n"
    )


SPIN_ACQUIRE = """    def acquire(self) -> None:
        while self.flag.test_and_set() == 1:
            pass
"""
MUTEX_SLEEP = """        else:
            self.waiters.sleep(self.guard)  # woken as the new owner
"""
SEM_WAIT = """        while self.value == 0:
            self.positive.wait()
"""

make(
    "spin_check_then_act",
    "Sample: the reference, except SpinLock checks the flag, then sets it (two steps).",
    "Buggy sample: SpinLock.acquire waits while flag.load() == 1, then stores 1: another "
    "thread can pass the check in between, so two threads get the lock (check-then-act).",
    ["spin-mutex"],
    [
        (
            SPIN_ACQUIRE,
            "    def acquire(self) -> None:\n"
            "        while self.flag.load() == 1:\n"
            "            pass\n"
            "        self.flag.store(1)\n",
        )
    ],
)

make(
    "ticket_nonatomic",
    "Sample: the reference, except TicketLock reads and bumps the ticket in two steps.",
    "Buggy sample: TicketLock.acquire takes its ticket with load() then store(my + 1) instead "
    "of one fetch_and_add, so two threads can draw the same ticket and both get in.",
    ["ticket-mutex", "ticket-fifo"],
    [
        (
            "        my = self.next_ticket.fetch_and_add(1)\n",
            "        my = self.next_ticket.load()\n        self.next_ticket.store(my + 1)\n",
        )
    ],
)

make(
    "mutex_no_owner_check",
    "Sample: the reference, except Mutex.release never checks who holds it.",
    "Buggy sample: Mutex.release does not check the owner, so any thread can release a "
    "mutex another thread holds (and a mutex nobody holds) without an error.",
    ["mutex-owner"],
    [
        (
            "    def release(self) -> None:\n"
            "        me = current_thread_id()\n"
            "        while self.guard.test_and_set() == 1:\n"
            "            pass\n"
            "        if not self.locked or self.owner != me:\n"
            "            self.guard.store(0)\n"
            '            raise OwnershipError(f"T{me} releases a mutex it does not hold (owner: {self.owner})")\n',
            "    def release(self) -> None:\n"
            "        while self.guard.test_and_set() == 1:\n"
            "            pass\n",
        ),
        (
            "from grader.simos.sync import Cell, OwnershipError, WaitQueue, current_thread_id\n",
            "from grader.simos.sync import Cell, WaitQueue, current_thread_id\n",
        ),
    ],
)

make(
    "mutex_sleep_race",
    "Sample: the reference, except Mutex.acquire lets go of the guard before sleeping.",
    "Buggy sample: Mutex.acquire releases its guard and only then sleeps (two steps): a "
    "release in between finds nobody asleep, and the waiter sleeps forever (lost wake-up).",
    [
        "mutex-mutex",
        "mutex-owner",
        "cv-signal",
        "cv-broadcast",
        "sem-count",
        "sem-signal",
        "bb-delivery",
        "rw-exclusion",
        "rw-share",
        "rw-writers-first",
        "barrier-rounds",
    ],
    [
        (
            MUTEX_SLEEP,
            "        else:\n"
            "            self.guard.store(0)\n"
            "            self.waiters.sleep()  # woken as the new owner\n",
        )
    ],
)

make(
    "mutex_spins",
    "Sample: the reference, except Mutex waits by spinning instead of sleeping.",
    "Buggy sample: Mutex.acquire busy-waits (retries in a loop with yield_cpu) while the "
    "mutex is held, instead of sleeping on its WaitQueue.",
    ["mutex-sleeps"],
    [
        (
            "        while self.guard.test_and_set() == 1:\n"
            "            pass\n"
            "        if not self.locked:\n"
            "            self.locked = True\n"
            "            self.owner = me\n"
            "            self.guard.store(0)\n" + MUTEX_SLEEP,
            "        while True:\n"
            "            while self.guard.test_and_set() == 1:\n"
            "                pass\n"
            "            if not self.locked:\n"
            "                self.locked = True\n"
            "                self.owner = me\n"
            "                self.guard.store(0)\n"
            "                return\n"
            "            self.guard.store(0)\n"
            "            yield_cpu()\n",
        ),
        (
            "        woken = self.waiters.wake_one()\n"
            "        if woken is None:\n"
            "            self.locked = False\n"
            "            self.owner = None\n"
            "        else:\n"
            "            self.owner = woken\n",
            "        self.locked = False\n        self.owner = None\n",
        ),
        (
            "from grader.simos.sync import Cell, OwnershipError, WaitQueue, current_thread_id\n",
            "from grader.simos.sync import (\n    Cell,\n    OwnershipError,\n    WaitQueue,\n"
            "    current_thread_id,\n    yield_cpu,\n)\n",
        ),
    ],
)

make(
    "cv_wait_not_atomic",
    "Sample: the reference, except Condition.wait releases the mutex outside its guard.",
    "Buggy sample: Condition.wait releases the mutex and then sleeps without holding its "
    "guard, so a signal sent in between is lost and the waiter sleeps forever.",
    [
        "cv-signal",
        "cv-broadcast",
        "sem-count",
        "sem-signal",
        "bb-delivery",
        "rw-exclusion",
        "barrier-rounds",
    ],
    [
        (
            "        while self.guard.test_and_set() == 1:\n"
            "            pass\n"
            "        self.mutex.release()\n"
            "        self.waiters.sleep(self.guard)\n",
            "        self.mutex.release()\n        self.waiters.sleep()\n",
        )
    ],
)

make(
    "sem_if_not_while",
    "Sample: the reference, except Semaphore.acquire tests the count with `if`.",
    "Buggy sample: Semaphore.acquire waits with `if self.value == 0` instead of `while`: "
    "under Mesa semantics another thread can take the permit between the signal and the "
    "wake-up, and the count goes below zero.",
    ["sem-count", "bb-delivery"],
    [(SEM_WAIT, "        if self.value == 0:\n            self.positive.wait()\n")],
)

make(
    "sem_nonatomic_count",
    "Sample: the reference, except Semaphore.release bumps the count outside the mutex.",
    "Buggy sample: Semaphore.release does `self.value += 1` before taking the mutex: the "
    "read-add-write races with acquire's `self.value -= 1` and a release can be lost.",
    ["sem-count", "sem-signal"],
    [
        (
            "    def release(self) -> None:\n"
            "        self.mutex.acquire()\n"
            "        self.value += 1\n",
            "    def release(self) -> None:\n"
            "        self.value += 1\n"
            "        self.mutex.acquire()\n",
        )
    ],
)

make(
    "bb_mutex_before_slot",
    "Sample: the reference, except BoundedBuffer.put takes the mutex before a free slot.",
    "Buggy sample: BoundedBuffer.put takes the mutex and then waits for a free slot: with a "
    "full buffer the producer sleeps holding the mutex, and the consumer that would free a "
    "slot waits for that mutex (deadlock).",
    ["bb-delivery"],
    [
        (
            "        self.slots.acquire()\n        self.mutex.acquire()\n",
            "        self.mutex.acquire()\n        self.slots.acquire()\n",
        )
    ],
)

make(
    "rw_readers_first",
    "Sample: the reference, except readers ignore waiting writers.",
    "Buggy sample: ReadWriteLock.acquire_read lets a reader in whenever no writer is "
    "inside, even when a writer is waiting, so a stream of readers starves writers (the "
    "handout's rule forbids it).",
    ["rw-writers-first"],
    [
        (
            "        while self.writing or self.waiting_writers > 0:\n",
            "        while self.writing:\n",
        )
    ],
)

make(
    "barrier_signal_not_broadcast",
    "Sample: the reference, except the last thread to arrive signals instead of broadcasting.",
    "Buggy sample: Barrier.wait wakes only one waiting thread (signal) when the last one "
    "arrives, so with three threads one stays asleep forever (lost wake-up).",
    ["barrier-rounds"],
    [("            self.all_here.broadcast()\n", "            self.all_here.signal()\n")],
)

# --------------------------------------------------------------------- broken and hostile

make(
    "bare_except_spin",
    "Sample: a SpinLock that never releases, whose acquire swallows every exception.",
    "Hostile sample: SpinLock.release stores 1 (never frees the lock) and acquire retries "
    "inside a bare `except:`, so it also swallows the explorer's stop signal and escapes "
    "control; the worker must be restarted.",
    ["spin-mutex"],
    [
        (
            SPIN_ACQUIRE,
            "    def acquire(self) -> None:\n"
            "        while True:\n"
            "            try:\n"
            "                if self.flag.test_and_set() == 0:\n"
            "                    return\n"
            "            except:  # noqa: E722 - on purpose: swallows the explorer's stop signal\n"
            "                pass\n",
        ),
        (
            "    def release(self) -> None:\n        self.flag.store(0)\n",
            "    def release(self) -> None:\n        self.flag.store(1)\n",
        ),
    ],
)

make(
    "real_threading_lock",
    "Sample: a Mutex built on threading.Lock instead of the course's primitives.",
    "Hostile sample: Mutex uses a real threading.Lock, which blocks where the explorer "
    "cannot see it; every test that uses Mutex must report the blocked line.",
    [
        "mutex-mutex",
        "mutex-owner",
        "mutex-sleeps",
        "cv-signal",
        "cv-broadcast",
        "sem-count",
        "sem-signal",
        "bb-delivery",
        "rw-exclusion",
        "rw-share",
        "rw-writers-first",
        "barrier-rounds",
    ],
    [
        (
            "    def __init__(self) -> None:\n"
            "        self.guard = Cell(0)\n"
            "        self.locked = False\n",
            "    def __init__(self) -> None:\n"
            "        self.real = threading.Lock()\n"
            "        self.guard = Cell(0)\n"
            "        self.locked = False\n",
        ),
        (
            "    def acquire(self) -> None:\n        me = current_thread_id()\n",
            "    def acquire(self) -> None:\n"
            "        self.real.acquire()\n"
            "        self.owner = current_thread_id()\n"
            "        return\n"
            "        me = current_thread_id()\n",
        ),
        (
            "    def release(self) -> None:\n        me = current_thread_id()\n",
            "    def release(self) -> None:\n"
            "        self.real.release()\n"
            "        return\n"
            "        me = current_thread_id()\n",
        ),
        ("from collections import deque\n", "import threading\nfrom collections import deque\n"),
    ],
)

make(
    "time_sleep",
    "Sample: a SpinLock that backs off with time.sleep.",
    "Hostile sample: SpinLock.acquire calls time.sleep(0.001) between attempts; time.sleep "
    "is not under the explorer's control and must be reported with its line.",
    ["spin-mutex"],
    [
        (
            SPIN_ACQUIRE,
            SPIN_ACQUIRE.replace("            pass\n", "            time.sleep(0.001)\n"),
        ),
        ("from collections import deque\n", "import time\nfrom collections import deque\n"),
    ],
)

make(
    "infinite_loop",
    "Sample: a TicketLock whose release never serves the next ticket.",
    "Broken sample: TicketLock.release adds 0 instead of 1 to now_serving, so the second "
    "thread spins forever (the step budget must stop it).",
    ["ticket-mutex", "ticket-fifo"],
    [
        (
            "        self.now_serving.fetch_and_add(1)\n",
            "        self.now_serving.fetch_and_add(0)\n",
        )
    ],
)

make(
    "mutex_one_line_check",
    "Sample: the reference, except Mutex tests and takes a plain flag on one line.",
    "Buggy sample: Mutex.acquire does `if not self.locked: self.locked = True` on one line, "
    "with no atomic instruction: the test and the set are separate steps on a CPU, so two "
    "threads can both see the mutex free (check-then-act hidden in one line).",
    ["mutex-mutex", "mutex-owner", "mutex-sleeps"],
    [
        (
            "        while self.guard.test_and_set() == 1:\n"
            "            pass\n"
            "        if not self.locked:\n"
            "            self.locked = True\n"
            "            self.owner = me\n"
            "            self.guard.store(0)\n"
            "        else:\n"
            "            self.waiters.sleep(self.guard)  # woken as the new owner\n",
            "        while True:\n"
            "            if not self.locked: self.locked = True; self.owner = me; return  # noqa\n"
            "            yield_cpu()\n",
        ),
        (
            "from grader.simos.sync import Cell, OwnershipError, WaitQueue, current_thread_id\n",
            "from grader.simos.sync import (\n"
            "    Cell,\n    OwnershipError,\n    WaitQueue,\n    current_thread_id,\n"
            "    yield_cpu,\n)\n",
        ),
    ],
)

make(
    "rw_release_unlocked",
    "Sample: the reference, except ReadWriteLock.release_read skips the mutex.",
    "Buggy sample: ReadWriteLock.release_read does `self.readers -= 1` without the mutex: "
    "the read-subtract-write of two readers can interleave and lose one, and a writer then "
    "waits for a reader that has left (or gets in while one reads).",
    ["rw-exclusion"],
    [
        (
            "    def release_read(self) -> None:\n"
            "        self.mutex.acquire()\n"
            "        self.readers -= 1\n"
            "        if self.readers == 0:\n"
            "            self.writers_ok.signal()\n"
            "        self.mutex.release()\n",
            "    def release_read(self) -> None:\n"
            "        self.readers -= 1  # 'one statement, so it is atomic' (it is not)\n"
            "        if self.readers == 0:\n"
            "            self.mutex.acquire()\n"
            "            self.writers_ok.signal()\n"
            "            self.mutex.release()\n",
        )
    ],
)

make(
    "raises",
    "Sample: a BoundedBuffer.get that pops from the wrong end of an empty list.",
    "Broken sample: BoundedBuffer.get calls popleft() before waiting for an item, so it "
    "raises IndexError on an empty buffer.",
    ["bb-delivery"],
    [
        (
            "        self.filled.acquire()\n        self.mutex.acquire()\n"
            "        item = self.items.popleft()\n",
            "        item = self.items.popleft()\n"
            "        self.filled.acquire()\n        self.mutex.acquire()\n",
        )
    ],
)

make(
    "syntax_error",
    "",
    "Broken sample: a `def` line without its colon, so importing primitives.py fails.",
    ["every test"],
    [],
    raw=REF.replace(
        "    def release(self) -> None:\n        self.flag.store(0)",
        "    def release(self) -> None\n        self.flag.store(0)",
        1,
    ),
)

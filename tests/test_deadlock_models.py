"""The deadlock core: states, graphs and traces build, validate with clear errors, round-trip,
and the worker entry type-checks answers (a hostile object never becomes an answer)."""

from __future__ import annotations

import types

import pytest

from grader.simos.deadlock import (
    AllocationGraph,
    Decision,
    Dependency,
    Detection,
    GraphError,
    LockEvent,
    LockTrace,
    StateError,
    SystemState,
    TraceError,
    WaitForGraph,
    harness,
)

# ----------------------------------------------------------------------------- states


def test_state_stores_tuples_and_derives_total_and_need() -> None:
    s = SystemState(available=[1, 0], allocation=[[1, 2], [0, 1]], maximum=[[2, 2], [1, 3]])
    assert s.available == (1, 0) and s.allocation == ((1, 2), (0, 1))
    assert (s.processes, s.resources) == (2, 2)
    assert s.total == (2, 3)
    assert s.need == ((1, 0), (1, 2))
    assert SystemState.from_data(s.to_data()) == s


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"available": (1, -1), "allocation": ((0, 0),)}, "available[R1] is -1"),
        ({"available": (1, 1), "allocation": ((0, -2),)}, "allocation[P0][R1] is -2"),
        (
            {"available": (1, 1), "allocation": ((0,),)},
            "allocation[P0] has 1 entries but there are 2",
        ),
        (
            {"available": (1,), "allocation": ((0,), (0,)), "request": ((0,),)},
            "request has 1 rows but allocation has 2",
        ),
        (
            {"available": (1,), "allocation": ((2,),), "request": ((2,),)},
            "P0 holds 2 unit(s) of R0 and requests 2 more, but the system has only 3",
        ),
        (
            {"available": (1,), "allocation": ((2,),), "maximum": ((1,),)},
            "P0 holds 2 unit(s) of R0 but its maximum claim is 1",
        ),
        (
            {"available": (1,), "allocation": ((0,),), "maximum": ((5,),)},
            "P0 claims up to 5 unit(s) of R0 but the system has only 1",
        ),
        ({"available": (1.5,), "allocation": ((0,),)}, "available[R0] must be a whole number"),
        ({"available": (True,), "allocation": ((0,),)}, "must be a whole number"),
        ({"available": (), "allocation": ()}, "at least one resource type"),
        ({"available": (1,), "allocation": ()}, "at least one process"),
    ],
)
def test_bad_states_name_process_resource_and_values(kwargs: dict, words: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(StateError) as err:
        SystemState(**kwargs)
    assert words in str(err.value)


def test_from_total_rejects_allocations_above_the_total() -> None:
    assert SystemState.from_total((3, 2), ((1, 1), (1, 0))).available == (1, 1)
    with pytest.raises(
        StateError,
        match=r"R0: the processes hold 5 unit\(s\) \(P0 holds 3, P2 holds 2\) but the system has only 4",
    ):
        SystemState.from_total((4,), ((3,), (0,), (2,)))


def test_need_without_claims_is_a_clear_error() -> None:
    with pytest.raises(StateError, match="no maximum claims"):
        _ = SystemState(available=(1,), allocation=((0,),)).need


# ----------------------------------------------------------------------------- graphs


def test_wait_for_graph_sorts_merges_and_round_trips() -> None:
    g = WaitForGraph.from_edges(3, [(0, 2), (0, 1), (0, 2), (2, 2)])
    assert g.successors == ((1, 2), (), (2,))
    assert list(g.edges()) == [(0, 1), (0, 2), (2, 2)]
    assert g.has_edge(2, 2) and not g.has_edge(1, 0) and not g.has_edge(7, 0)
    assert WaitForGraph.from_data(g.to_data()) == g


@pytest.mark.parametrize(
    ("build", "words"),
    [
        (
            lambda: WaitForGraph.from_edges(2, [(0, 5)]),
            "the target of edge #0 is 5, but the processes are P0..P1",
        ),
        (lambda: WaitForGraph.from_edges(2, [(0, 1, 2)]), "an edge is a pair"),
        (lambda: WaitForGraph(((1, 1), ())), "must be increasing without repeats"),
        (lambda: WaitForGraph.from_edges(-1, []), "int >= 0"),
        (lambda: AllocationGraph((0, None), ((1,), ())), "P0 waits for R1, which is free"),
        (lambda: AllocationGraph((3,), ((),)), "holder[R0] is 3, but the processes are P0..P0"),
        (lambda: AllocationGraph((0,), ((0, 0),)), "names a resource twice"),
    ],
)
def test_bad_graphs_are_clear_errors(build, words: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(GraphError) as err:
        build()
    assert words in str(err.value)


def test_allocation_graph_collapses_to_the_wait_for_graph() -> None:
    # P0 holds R0 and waits for R1 (P1's); P1 waits for R0; P2 waits for R2, which it holds.
    rag = AllocationGraph(holder=(0, 1, 2), waiting=((1,), (0,), (2,)))
    assert rag.wait_for().successors == ((1,), (0,), (2,))
    assert (rag.processes, rag.resources) == (3, 3)


# ----------------------------------------------------------------------------- traces


def test_trace_allows_out_of_order_release_and_round_trips() -> None:
    rows = [
        ("T1", "acquire", "A", "a.c:1"),
        ("T1", "acquire", "B", "a.c:2"),
        ("T1", "release", "A", "a.c:3"),
        ("T2", "acquire", "A", "b.c:1"),
        ("T1", "release", "B", "a.c:4"),
    ]
    t = LockTrace.from_tuples(rows)
    assert t.threads() == ("T1", "T2") and t.locks() == ("A", "B")
    assert LockTrace.from_data(t.to_data()) == t


@pytest.mark.parametrize(
    ("rows", "words"),
    [
        (
            [("T1", "release", "A", "x:1")],
            "event 0 (T1 release 'A' at x:1): T1 does not hold 'A' (nobody holds it)",
        ),
        (
            [("T1", "acquire", "A", "x:1"), ("T2", "acquire", "A", "y:1")],
            "event 1 (T2 acquire 'A' at y:1): T1 holds 'A' since event 0",
        ),
        (
            [("T1", "acquire", "A", "x:1"), ("T1", "acquire", "A", "x:2")],
            "T1 already holds 'A' (since event 0)",
        ),
        (
            [("T1", "acquire", "A", "x:1"), ("T2", "release", "A", "y:1")],
            "T2 does not hold 'A' (T1 holds it)",
        ),
        ([("T1", "lock", "A", "x:1")], "op must be 'acquire' or 'release'"),
        ([("T1", "acquire", "", "x:1")], "the lock must be a non-empty string"),
        ([("T1", "acquire")], "give (thread, op, lock, site)"),
    ],
)
def test_impossible_traces_name_the_event(rows: list, words: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(TraceError) as err:
        LockTrace.from_tuples(rows)
    assert words in str(err.value)


def test_trace_rejects_a_non_event() -> None:
    with pytest.raises(TraceError, match="event 0 must be a LockEvent"):
        LockTrace((("T1", "acquire", "A", "x"),))  # type: ignore[arg-type]
    assert LockTrace((LockEvent("T", "acquire", "A", "s"),)).events[0].lock == "A"


# ----------------------------------------------------------------------------- the worker entry


def module(**fns: object) -> types.ModuleType:
    m = types.ModuleType("deadlock")
    m.__file__ = "/sub/deadlock.py"
    for k, v in fns.items():
        setattr(m, k, v)
    return m


STATE = {"available": [1], "allocation": [[0]], "request": [[0]], "maximum": [[1]]}


def test_harness_returns_plain_answers() -> None:
    m = module(
        detect=lambda s: Detection(deadlocked={2, 1}, order=(0,)),
        find_cycle=lambda g: None,
        safe_sequence=lambda s: [0],
        request_decision=lambda s, p, r: Decision.WAIT,
        lock_dependencies=lambda t: [Dependency("A", "B", "T", "x", "y")],
        potential_deadlocks=lambda t: [[Dependency("A", "B", "T", "x", "y")]],
    )
    trace = {"events": [["T", "acquire", "A", "x"]]}
    call = lambda f, inp: harness.run(m, {"function": f, "input": inp})  # noqa: E731
    assert call("detect", {"state": STATE}) == {"deadlocked": [1, 2], "order": [0]}
    assert call("find_cycle", {"graph": {"n": 1, "edges": []}}) == {"cycle": None}
    assert call("safe_sequence", {"state": STATE}) == {"sequence": [0]}
    assert call("request_decision", {"state": STATE, "process": 0, "request": [1]}) == {
        "decision": "wait"
    }
    assert call("lock_dependencies", {"trace": trace}) == {
        "dependencies": [["A", "B", "T", "x", "y"]]
    }
    assert call("potential_deadlocks", {"trace": trace}) == {
        "cycles": [[["A", "B", "T", "x", "y"]]]
    }


class AlwaysEqual:
    def __eq__(self, other: object) -> bool:
        return True

    __hash__ = object.__hash__


class SneakyInt(int):
    def __eq__(self, other: object) -> bool:
        return True

    __hash__ = int.__hash__


@pytest.mark.parametrize(
    ("function", "answer", "words"),
    [
        ("request_decision", AlwaysEqual(), "must return one of Decision.GRANT"),
        ("request_decision", "grant", "must return one of Decision.GRANT"),
        ("find_cycle", [SneakyInt(0)], "only int process numbers, but one item is a SneakyInt"),
        ("find_cycle", (x for x in [0]), "must be a list of process numbers, got generator"),
        ("detect", ([], [0]), "detect must return a Detection"),
        ("safe_sequence", {0: 1}, "must be a list of process numbers, got dict"),
        ("lock_dependencies", [("A", "B", "T", "x", "y")], "must be a Dependency"),
        (
            "potential_deadlocks",
            [Dependency("A", "B", "T", "x", "y")],
            "must be a list of Dependency",
        ),
    ],
)
def test_harness_rejects_answers_of_the_wrong_type(
    function: str, answer: object, words: str
) -> None:
    m = module(**{function: lambda *a: answer})
    inputs = {
        "detect": {"state": STATE},
        "find_cycle": {"graph": {"n": 1, "edges": []}},
        "safe_sequence": {"state": STATE},
        "request_decision": {"state": STATE, "process": 0, "request": [0]},
        "lock_dependencies": {"trace": {"events": []}},
        "potential_deadlocks": {"trace": {"events": []}},
    }
    with pytest.raises(harness.AnswerError) as err:
        harness.run(m, {"function": function, "input": inputs[function]})
    assert words in str(err.value)


def test_harness_names_a_missing_function() -> None:
    with pytest.raises(harness.SubmissionShapeError, match=r"deadlock\.py has no function detect"):
        harness.run(module(), {"function": "detect", "input": {"state": STATE}})
    with pytest.raises(ValueError, match="unknown function"):
        harness.run(module(), {"function": "__import__", "input": {}})


def test_answer_error_is_a_contract_error_of_the_worker() -> None:
    from grader.sandbox.worker_main import CONTRACT_ERRORS

    assert "AnswerError" in CONTRACT_ERRORS

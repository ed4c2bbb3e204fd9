"""What a client saw while the StatefulSet was operated: the client's output read back as timed
answers, and the checkers over them (the budget of replicas unanswering at once, no replica
Ready while it refuses, no stale reads), fed answers that keep each rule and answers that break
it."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import pytest

from stsconf.checks.availability import (
    BLIP,
    PROPAGATION,
    Gap,
    budget_violations,
    counted,
    gaps,
    left_alone_violations,
    ready_spans,
    ready_while_refusing,
    stale_read_violations,
    target_rows,
    unaccepted_evictions,
    unasked,
)
from stsconf.model.availability import (
    ANSWERED,
    MISSING,
    REFUSED,
    SERVICE,
    Answer,
    Budget,
    ClientPlan,
    Eviction,
    Written,
    disruption_budget,
    http_request,
    parse_client_output,
    update_budget,
)
from stsconf.model.policies import DeclaredPolicies
from stsconf.model.timeline import ADDED, DELETED, EXISTING, MODIFIED, PodEvent, PodState, Timeline

END = 120  # the client's last request
ONE = Budget(1, "maxUnavailable 1")
NOT_FOUND = "wget: server returned error: HTTP/1.1 404 Not Found"


def answer(target: str, started: float, outcome: str = ANSWERED, value: str = "v") -> Answer:
    return Answer(target, started, started, outcome, value)


def down(target: str, start: int, end: int) -> list[Answer]:
    """A request a second from 0 to END, refused from `start` to `end` (both included)."""
    return [answer(target, t, REFUSED if start <= t <= end else ANSWERED) for t in range(END + 1)]


def pod(name: str, ready: bool = True, terminating: bool = False) -> PodState:
    return PodState(name, name, "Running" if ready else "Pending", ready, terminating)


Step = tuple[float, str, PodState]


def replaced(name: str, gone: float, ready: float) -> list[Step]:
    """The pod Ready from the start, deleted at `gone`, back and Ready at `ready`."""
    return [
        (0, EXISTING, pod(name)),
        (gone, MODIFIED, pod(name, terminating=True)),
        (gone, DELETED, pod(name, terminating=True)),
        (gone, ADDED, pod(name, ready=False)),
        (ready, MODIFIED, pod(name)),
    ]


def timeline(*steps: Step) -> Timeline:
    ordered = sorted(steps, key=lambda step: step[0])
    return Timeline([PodEvent(i, t, kind, state) for i, (t, kind, state) in enumerate(ordered)])


# gaps, ready spans, the parts that count


def test_a_gap_runs_from_the_first_refused_request_to_the_last() -> None:
    answers = [*down("web-0", 10, 14), answer("web-1", 12, REFUSED)]
    assert gaps(answers, "web-0") == [Gap("web-0", 10, 14, refused=5)]


def test_an_answer_without_the_value_is_no_gap_and_a_trailing_gap_stays_open() -> None:
    answers = [
        answer("web-0", 1, REFUSED),
        answer("web-0", 2, MISSING, NOT_FOUND),  # the server answered
        answer("web-0", 3, REFUSED),
        answer("web-0", 4, REFUSED),
    ]
    assert gaps(answers, "web-0") == [Gap("web-0", 1, 1, 1), Gap("web-0", 3, 4, 2)]


def test_ready_spans_end_when_the_pod_goes_and_the_last_one_stays_open() -> None:
    events = timeline(*replaced("web-0", gone=10, ready=20))
    assert ready_spans(events, "web-0", end=END) == [(-math.inf, 10), (20, END)]
    assert ready_spans(events, "web-1", end=END) == []


def test_only_the_first_seconds_after_becoming_ready_are_excused_from_a_gap() -> None:
    gap = Gap("web-0", 10, 30 + PROPAGATION, refused=31)
    ready = [(-math.inf, 10), (20, END)]
    assert counted(gap, ready) == [(10, 20), (20 + PROPAGATION, 30 + PROPAGATION)]
    assert counted(gap, [(END, END)]) == [(10, 30 + PROPAGATION)]
    assert ready_while_refusing(gap, ready) == [(20 + PROPAGATION, 30 + PROPAGATION)]


def test_a_refusal_shorter_than_a_blip_is_not_ready_while_refusing() -> None:
    gap = Gap("web-0", 10, 10 + BLIP - 1, refused=2)
    assert ready_while_refusing(gap, [(-math.inf, END)]) == []
    assert ready_while_refusing(Gap("web-0", 10, 10 + BLIP, 5), [(-math.inf, END)]) != []


def test_replicas_unanswering_together_for_less_than_the_overlap_are_a_blip() -> None:
    events = timeline((0, EXISTING, pod("web-0")), (0, EXISTING, pod("web-1")))
    answers = [*down("web-0", 40, 41), *down("web-1", 40, 41)]  # both time out once together
    assert budget_violations(answers, events, ["web-0", "web-1"], ONE) == []


# the budget


def test_replicas_replaced_one_at_a_time_keep_a_budget_of_one() -> None:
    events = timeline(*replaced("web-2", gone=10, ready=20), *replaced("web-1", gone=22, ready=32))
    answers = [*down("web-2", 10, 21), *down("web-1", 22, 33)]  # web-0 not asked
    assert budget_violations(answers, events, ["web-2", "web-1", "web-0"], ONE) == []


def test_two_replicas_refusing_at_once_break_a_budget_of_one_and_are_named() -> None:
    events = timeline(*replaced("web-2", gone=10, ready=20), *replaced("web-1", gone=15, ready=25))
    answers = [*down("web-2", 10, 21), *down("web-1", 15, 26)]
    [problem] = budget_violations(answers, events, ["web-2", "web-1"], ONE)
    assert str(problem) == (
        "replicas unanswering at once: expected at most 1 (maxUnavailable 1); "
        "saw 2 (web-1, web-2) from 15.0s to 20.0s"
    )
    assert budget_violations(answers, events, ["web-2", "web-1"], Budget(2, "2")) == []


def test_a_pod_left_alone_may_blip_but_not_go() -> None:
    events = timeline((0, EXISTING, pod("web-0")))
    assert left_alone_violations(down("web-0", 10, 12), events, ["web-0"], "below") == []
    [problem] = left_alone_violations(down("web-0", 10, 16), events, ["web-0"], "below")
    assert str(problem) == (
        "web-0 (below): expected answering throughout; saw unanswering from 10.0s to 16.0s"
    )


def test_a_pod_left_alone_that_was_replaced_after_all_is_caught_however_short_the_gap() -> None:
    events = timeline(*replaced("web-0", gone=10, ready=12))
    [problem] = left_alone_violations(down("web-0", 10, 12), events, ["web-0"], "below")
    assert str(problem) == (
        "web-0 (below): expected answering throughout; saw unanswering from 10.0s to 12.0s, "
        "not Ready from 10.0s"
    )


def test_a_gap_overlapping_another_only_while_its_pod_was_just_ready_keeps_the_budget() -> None:
    # web-2 is Ready at 20 and answers from 25; web-1 goes at 21: a Service's delay, not two down
    events = timeline(*replaced("web-2", gone=10, ready=20), *replaced("web-1", gone=21, ready=30))
    answers = [*down("web-2", 10, 24), *down("web-1", 21, 31)]
    assert budget_violations(answers, events, ["web-2", "web-1"], ONE) == []


def test_a_pod_ready_for_longer_than_propagation_while_refusing_is_a_violation() -> None:
    late = 15 + PROPAGATION + 10  # it answers 10 s after the allowance ran out
    events = timeline(*replaced("web-2", gone=10, ready=15))
    [problem] = budget_violations(down("web-2", 10, int(late)), events, ["web-2"], ONE)
    assert str(problem) == (
        f"web-2: expected to answer within {PROPAGATION:g}s of becoming Ready; "
        f"saw Ready for {late - 15:.1f}s while it refused requests (from 15.0s to {late:.1f}s)"
    )


def test_a_pod_long_ready_that_stops_answering_is_reported_for_the_time_it_refused() -> None:
    events = timeline((0, EXISTING, pod("web-0")))
    [problem] = budget_violations(down("web-0", 40, 50), events, ["web-0"], ONE)
    assert problem.seen == "Ready for 10.0s while it refused requests (from 40.0s to 50.0s)"


@pytest.mark.parametrize(
    ("declared", "replicas", "unavailable"),
    [(None, 5, 1), (2, 5, 2), ("25%", 5, 2), ("50%", 4, 2), ("10%", 3, 1), ("0%", 3, 1)],
)
def test_the_update_budget_rounds_a_percentage_up_and_is_at_least_one(
    declared: int | str | None, replicas: int, unavailable: int
) -> None:
    budget = update_budget(DeclaredPolicies(max_unavailable=declared), replicas)
    assert budget.unavailable == unavailable



def pdb(spec: dict[str, object], labels: dict[str, str] | None = None) -> dict[str, Any]:
    selector = {"matchLabels": labels if labels is not None else {"app": "nginx"}}
    return {"kind": "PodDisruptionBudget", "metadata": {"name": "web"},
            "spec": {"selector": selector, **spec}}  # fmt: skip


@pytest.mark.parametrize(
    ("spec", "replicas", "unavailable"),
    [({"maxUnavailable": 1}, 3, 1), ({"maxUnavailable": "50%"}, 3, 2),
     ({"minAvailable": 2}, 3, 1), ({"minAvailable": "50%"}, 3, 1)],
)  # fmt: skip
def test_the_disruption_budget_is_the_matching_pdbs(
    spec: dict[str, object], replicas: int, unavailable: int
) -> None:
    documents: list[dict[str, Any]] = [{"kind": "Service"}, pdb(spec)]
    budget = disruption_budget(documents, {"app": "nginx", "tier": "web"}, replicas)
    assert budget is not None
    assert budget.unavailable == unavailable
    assert budget.source.startswith("PodDisruptionBudget web")


def test_a_pdb_selecting_other_pods_is_no_budget() -> None:
    other = pdb({"maxUnavailable": 1}, {"app": "db"})
    assert disruption_budget([other], {"app": "nginx"}, 3) is None
    assert disruption_budget([], {"app": "nginx"}, 3) is None


def test_an_eviction_never_accepted_is_a_problem() -> None:
    evictions = [Eviction("web-0", 0, 0.1, True), Eviction("web-1", 40, 180.0, False)]
    [problem] = unaccepted_evictions(evictions, waits_for_node=set())
    assert str(problem) == (
        "eviction of web-1: expected accepted once the PodDisruptionBudget allowed it; "
        "saw refused 40 times in 180s"
    )


def test_an_eviction_refused_after_one_whose_pod_waits_for_the_node_is_no_problem() -> None:
    evictions = [Eviction("web-2", 0, 0.1, True), Eviction("web-1", 40, 180.0, False)]
    assert unaccepted_evictions(evictions, waits_for_node={"web-2"}) == []
    assert unaccepted_evictions(evictions[::-1], waits_for_node={"web-2"}) != []


# stale reads

WRITTEN = [
    Written("web-0", "a0", 5),
    Written("web-1", "b0", 6),
    Written("web-0", "a1", 20),
    Written("web-1", "b1", 21),
]


def stale(*answers: Answer) -> list[str]:
    return [problem.seen for problem in stale_read_violations(answers, WRITTEN)]


def test_answers_with_each_replicas_latest_value_are_not_stale() -> None:
    assert stale(answer("web-0", 10, value="a0"), answer("web-0", 25, value="a1")) == []


def test_another_replicas_value_is_a_stale_read() -> None:
    [problem] = stale_read_violations([answer("web-0", 10, value="b0")], WRITTEN)
    assert str(problem) == (
        "web-0's answer at 10.0s: expected 'a0', written at 5.0s; saw 'b0', the value of web-1"
    )


def test_an_older_value_a_missing_one_and_an_unknown_one_are_stale_reads() -> None:
    assert stale(
        answer("web-0", 25, value="a0"),
        answer("web-1", 25, MISSING, NOT_FOUND),
        answer("web-1", 26, value="zz"),
        answer("web-1", 27, REFUSED, "exit code 143"),  # no answer: not a read
    ) == [
        "'a0', an older value of its own",
        f"no value: {NOT_FOUND} (the data is gone)",
        "'zz', a value the suite never wrote",
    ]


def test_a_long_answer_that_is_no_value_is_quoted_shortened() -> None:
    page = "DENIED Redis is running in protected mode " + "x" * 500
    [seen] = stale(answer("web-0", 10, value=page))
    assert seen == f"{page[:120]!r}... ({len(page)} characters), a value the suite never wrote"


def test_an_answer_without_the_value_is_stale_even_when_the_value_comes_back() -> None:
    # web-1 holds b1 from 21: a 404 at 30, b1 again at 31 (once explained away as a Service
    # routing elsewhere; the answer came from outside the cluster: kind_config.py)
    assert stale(answer("web-1", 30, MISSING, NOT_FOUND), answer("web-1", 31, value="b1")) == [
        f"no value: {NOT_FOUND} (the data is gone)"
    ]


def test_answers_to_requests_started_before_the_write_are_not_judged() -> None:
    problems = stale(
        answer("web-0", 1, MISSING, NOT_FOUND),  # before the first write
        answer("web-0", 19, value="a0"),  # before the second
        replace(answer("web-0", 19, value="a1"), ended=20.5),  # landed while it was asked
    )
    assert problems == []


def test_service_answers_may_carry_any_replicas_latest_value() -> None:
    problems = stale(
        answer(SERVICE, 5.5, value="old"),  # web-1 had no value from the suite yet
        answer(SERVICE, 10, value="a0"),
        answer(SERVICE, 11, value="b0"),
        answer(SERVICE, 25, value="b1"),
    )
    assert problems == []
    assert stale(answer(SERVICE, 25, value="a0"), answer(SERVICE, 26, MISSING, NOT_FOUND)) == [
        "'a0', the value of web-0",
        f"no value: {NOT_FOUND} (the data is gone)",
    ]


def test_target_rows_count_the_outcomes_and_the_longest_gap() -> None:
    answers = [*down("web-0", 10, 14), answer("web-0", 61, MISSING, NOT_FOUND)]
    assert target_rows(answers, ["web-0", SERVICE], Timeline()) == [
        {
            "target": "web-0",
            "requests": "122",
            "answered": "116",
            "without the value": "1",
            "refused": "5",
            "longest gap (s)": "4.0",
            "Ready to answering, at most (s)": "-",
        },
        {
            "target": SERVICE,
            "requests": "0",
            "answered": "0",
            "without the value": "0",
            "refused": "0",
            "longest gap (s)": "0.0",
            "Ready to answering, at most (s)": "-",
        },
    ]


# the client's output


def test_the_client_output_is_timed_through_its_clock_line() -> None:
    output = (
        "answer web-0 40.00 40.10 0 too early\n"  # before the clock line: no time for it
        "clock 1000 50.00\n"
        "answer web-0 52.50 52.75 0 hello   world\n"
        "Terminated\n"
        "answer web-0 53.00 53.10 0 cut sho"  # the log ended within the line
    )
    [read] = parse_client_output(output, time_zero=990)
    assert read == Answer("web-0", 12.5, 12.75, ANSWERED, "hello   world")


@pytest.mark.parametrize(
    ("code", "output", "outcome"),
    [
        (0, "the value", ANSWERED),
        (0, "404", ANSWERED),  # a page that says 404 is still the page
        (1, NOT_FOUND, MISSING),
        (1, "wget: server returned error: HTTP/1.0 404 File not found", MISSING),
        (1, "wget: can't connect to remote host (10.96.0.10): Connection refused", REFUSED),
        (1, "wget: bad address 'stsconf-web-0'", REFUSED),
        (1, "wget: server returned error: HTTP/1.1 503 Service Unavailable", REFUSED),
        (143, "", REFUSED),  # busybox timeout's kill
        (124, "", REFUSED),  # coreutils timeout's
    ],
)
def test_exit_codes_and_wget_messages_are_classified(code: int, output: str, outcome: str) -> None:
    [read] = parse_client_output(f"clock 100 10.00\nanswer web-0 11 12 {code} {output}\n", 0)
    assert read.outcome == outcome
    assert read.value == (output or f"exit code {code}")


def test_the_client_script_asks_each_target_from_a_loop_of_its_own() -> None:
    requests = {"web-0": http_request("http://a/x?y=1&z"), SERVICE: http_request("http://b/x")}
    script = ClientPlan(requests).script()
    assert script.count("done &") == 2
    assert "wget -q -O - 'http://a/x?y=1&z'" in script


def test_target_rows_give_the_longest_a_pod_refused_after_becoming_ready() -> None:
    events = timeline(*replaced("web-2", gone=10, ready=15))
    [row] = target_rows(down("web-2", 10, 17), ["web-2"], events)
    assert row["Ready to answering, at most (s)"] == "2.0"
    assert row["longest gap (s)"] == "7.0"


def test_a_ready_span_ends_when_the_api_asked_for_the_deletion_not_when_the_watch_heard() -> None:
    # the watch heard of the deletion 6 s after the API server's deletionTimestamp said
    zero = 1_000_000.0
    deleting = replace(pod("web-0", terminating=True), deletion_requested=zero + 14)
    events = Timeline([PodEvent(0, 0.1, EXISTING, pod("web-0")),
                       PodEvent(1, 20.0, MODIFIED, deleting)], zero)  # fmt: skip
    assert ready_spans(events, "web-0", end=END) == [(-math.inf, 14.0)]
    # refusing from 14.5: not Ready then, so not "Ready while refusing"
    assert budget_violations(down("web-0", 15, 30), events, ["web-0"], ONE) == []


def test_a_replica_not_asked_after_the_operation_leaves_nothing_to_judge() -> None:
    answers = [answer("web-0", 30), answer("web-1", 10)]
    [problem] = unasked(answers, ["web-0", "web-1"], after=20)
    assert problem.what == "the client's requests to web-1"
    assert unasked([], ["web-0"], after=0) != []  # no answers at all: never a pass

"""Judging what a client saw while the StatefulSet was operated (model/availability.py): no
more replicas unanswering at once than the declared budget, no replica Ready while it refuses,
and no answer with another replica's value, an older one, or none.

A replica is unanswering during a gap: from the start of a request it refused to the end of
the last one it refused before it answered again (every request in between failed). Between a
pod becoming Ready and clients reaching it there is the time a Service takes to route to it;
up to PROPAGATION seconds of a gap after the pod became Ready are that, not the controller's
doing, and are not counted.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from itertools import pairwise

from stsconf.model.availability import (
    ANSWERED,
    MISSING,
    SERVICE,
    Answer,
    Budget,
    Eviction,
    Written,
    budget_held_by_node,
)
from stsconf.model.expectations import Problem
from stsconf.model.timeline import DELETED, EXISTING, PodEvent, Timeline

# Seconds a Service may take to route to a pod that became Ready: kube-proxy programs its
# endpoints, slower on a loaded machine (up to 1 s in CI; over 10 s at load 35 in a soak beside
# CI). The slowest seen is in each report's per-target table.
PROPAGATION = 30.0
# Shorter than these, a refusal is a blip of a loaded machine (one or two requests timing out),
# not a pod down: a Ready pod refusing, and more replicas than allowed unanswering at once.
BLIP = 5.0
OVERLAP = 3.0
SHOWN = 120  # characters of an answer a failure quotes (an error page can be long)


@dataclass(frozen=True)
class Gap:
    target: str
    start: float
    end: float
    refused: int  # requests refused in it

    @property
    def seconds(self) -> float:
        return self.end - self.start


Span = tuple[float, float]


def gaps(answers: Iterable[Answer], target: str) -> list[Gap]:
    """The target's gaps, in order."""
    found: list[Gap] = []
    current: list[Answer] = []
    for answer in sorted((a for a in answers if a.target == target), key=lambda a: a.started):
        if answer.served:
            if current:
                found.append(Gap(target, current[0].started, current[-1].ended, len(current)))
            current = []
        else:
            current.append(answer)
    if current:
        found.append(Gap(target, current[0].started, current[-1].ended, len(current)))
    return found


def ready_spans(timeline: Timeline, pod: str, end: float) -> list[Span]:
    """When the pod was Running and Ready, by the watch (open spans end at `end`; a pod Ready
    when the watch began has been Ready since -inf: no Service is still catching up on it)."""
    spans: list[Span] = []
    since: float | None = None
    for event in timeline.of(pod):
        ready = event.kind != DELETED and event.pod.running_and_ready
        if ready and since is None:
            since = -math.inf if event.kind == EXISTING else event.seconds
        elif not ready and since is not None:
            spans.append((since, _ended(event, timeline.time_zero)))
            since = None
    if since is not None:
        spans.append((since, end))
    return spans


def _ended(event: PodEvent, time_zero: float) -> float:
    """When the pod stopped being Ready: when its deletion was asked for, by the API server's
    clock, where that came first (a loaded machine's watch hears of it seconds late)."""
    asked = event.pod.deletion_requested
    if asked is None or not time_zero:
        return event.seconds
    return min(event.seconds, asked - time_zero)


def counted(gap: Gap, ready: Sequence[Span]) -> list[Span]:
    """The parts of the gap that count against the budget: all of it but the first
    PROPAGATION seconds after each moment the pod became Ready within it."""
    parts = [(gap.start, gap.end)]
    for since, _ in ready:
        excused = (since, since + PROPAGATION)
        parts = [piece for part in parts for piece in _minus(part, excused)]
    return parts


def ready_while_refusing(gap: Gap, ready: Sequence[Span]) -> list[Span]:
    """The parts of the gap, BLIP seconds or longer, in which the pod had been Ready for longer
    than PROPAGATION."""
    found = []
    for since, until in ready:
        start, end = max(gap.start, since + PROPAGATION), min(gap.end, until)
        if end - start >= BLIP:
            found.append((start, end))
    return found


def _minus(part: Span, cut: Span) -> list[Span]:
    (start, end), (cut_start, cut_end) = part, cut
    if cut_end <= start or cut_start >= end:
        return [part]
    return [(s, e) for s, e in ((start, cut_start), (cut_end, end)) if e > s]


def unasked(answers: Sequence[Answer], replicas: Sequence[str], after: float) -> list[Problem]:
    """Each replica was asked after `after` (when the operation ended): without that the
    answers say nothing about the operation, and no other check may pass on them."""
    asked = {answer.target for answer in answers if answer.started >= after}
    return [
        Problem(
            f"the client's requests to {replica}",
            f"some started after {after:.1f}s, when the operation had ended",
            "none: nothing to judge the operation by",
        )
        for replica in replicas
        if replica not in asked
    ]


def budget_violations(
    answers: Sequence[Answer], timeline: Timeline, replicas: Sequence[str], budget: Budget
) -> list[Problem]:
    """At no moment more of `replicas` unanswering than the budget allows; and none unanswering
    while it had been Ready for longer than PROPAGATION (its readiness probe says Ready before
    it serves)."""
    end = max((a.ended for a in answers), default=0.0)
    problems: list[Problem] = []
    periods: list[tuple[str, Span]] = []
    for replica in replicas:
        ready = ready_spans(timeline, replica, end)
        for gap in gaps(answers, replica):
            periods += [(replica, span) for span in counted(gap, ready)]
            problems += [_ready_refusing(gap, span) for span in ready_while_refusing(gap, ready)]
    worst = _longest_over(periods, budget.unavailable)
    if worst:
        names, (start, stop) = worst
        problems.insert(
            0,
            Problem(
                "replicas unanswering at once",
                f"at most {budget.unavailable} ({budget.source})",
                f"{len(names)} ({', '.join(sorted(names))}) from {start:.1f}s to {stop:.1f}s",
            ),
        )
    return problems


def left_alone_violations(
    answers: Sequence[Answer], timeline: Timeline, replicas: Sequence[str], why: str
) -> list[Problem]:
    """Replicas an operation must leave alone (those below a partition) answer throughout: no
    gap while one was not Ready (replaced or restarted after all), nor one of BLIP seconds or
    more while it was."""
    end = max((a.ended for a in answers), default=0.0)
    problems = []
    for replica in replicas:
        ready = ready_spans(timeline, replica, end)
        for gap in gaps(answers, replica):
            unready = _not_within((gap.start, gap.end), ready)
            if unready or gap.seconds >= BLIP:
                problems.append(
                    Problem(
                        f"{replica} ({why})",
                        "answering throughout",
                        f"unanswering from {gap.start:.1f}s to {gap.end:.1f}s"
                        + (f", not Ready from {unready[0][0]:.1f}s" if unready else ""),
                    )
                )
    return problems


def _not_within(part: Span, spans: Sequence[Span]) -> list[Span]:
    """The pieces of `part` outside every span."""
    pieces = [part]
    for span in spans:
        pieces = [piece for whole in pieces for piece in _minus(whole, span)]
    return pieces


def _ready_refusing(gap: Gap, span: Span) -> Problem:
    start, end = span
    # the span starts PROPAGATION after the pod became Ready, or with the gap when it came later
    ready = max(gap.start, start - PROPAGATION) if start > gap.start else start
    return Problem(
        gap.target,
        f"to answer within {PROPAGATION:g}s of becoming Ready",
        f"Ready for {end - ready:.1f}s while it refused requests (from {ready:.1f}s to {end:.1f}s)",
    )


def _longest_over(
    periods: Sequence[tuple[str, Span]], most: int
) -> tuple[frozenset[str], Span] | None:
    """The longest stretch, OVERLAP or longer, in which more than `most` targets were
    unanswering together: those targets and the stretch."""
    edges = sorted({t for _, (start, end) in periods for t in (start, end)})
    best: tuple[frozenset[str], Span] | None = None
    stretch: tuple[frozenset[str], Span] | None = None
    for start, end in pairwise(edges):
        middle = (start + end) / 2
        down = frozenset(name for name, (s, e) in periods if s <= middle < e)
        if len(down) <= most:
            stretch = None
            continue
        stretch = (stretch[0] | down, (stretch[1][0], end)) if stretch else (down, (start, end))
        length = stretch[1][1] - stretch[1][0]
        if length >= OVERLAP and (best is None or length > best[1][1] - best[1][0]):
            best = stretch
    return best


def stale_read_violations(answers: Sequence[Answer], written: Sequence[Written]) -> list[Problem]:
    """Each answer of a request started after a value was written to a replica carries the
    replica's latest value (or one written since the request started); through the Service,
    once every replica was written, the latest value of one of the replicas. An answer
    without the value (HTTP 404) is one too: the value was not there when asked."""
    found = []
    for answer in sorted(answers, key=lambda a: a.started):
        if answer.outcome not in (ANSWERED, MISSING):
            continue
        latest = _latest(written, answer.started)
        expected = _expected_values(answer.target, latest, written)
        newer = _written_after(written, answer)  # may have landed before the read: not stale
        if not expected or (answer.outcome == ANSWERED and answer.value in expected | newer):
            continue
        found.append((answer, _stale(answer, latest, written)))
    return _one_per_run(found)


def _one_per_run(found: Sequence[tuple[Answer, Problem]]) -> list[Problem]:
    """One problem for each run of a target's answers that were wrong the same way."""
    runs: list[list[tuple[Answer, Problem]]] = []
    for answer, problem in found:
        same = [r for r in runs if r[-1][0].target == answer.target]
        if same and (same[-1][-1][1].expected, same[-1][-1][1].seen) == (
            problem.expected, problem.seen
        ):
            same[-1].append((answer, problem))
        else:
            runs.append([(answer, problem)])
    return [_run_problem(run) for run in runs]


def _run_problem(run: Sequence[tuple[Answer, Problem]]) -> Problem:
    (first, problem), (last, _) = run[0], run[-1]
    if len(run) == 1:
        return problem
    what = (
        f"{first.target}'s {len(run)} answers from {first.started:.1f}s to {last.started:.1f}s"
    )
    return replace(problem, what=what)


def _latest(written: Sequence[Written], moment: float) -> dict[str, Written]:
    latest: dict[str, Written] = {}
    for write in sorted(written, key=lambda w: w.at):
        if write.at <= moment:
            latest[write.replica] = write
    return latest


def _written_after(written: Sequence[Written], answer: Answer) -> set[str]:
    return {
        write.value
        for write in written
        if write.at > answer.started and answer.target in (SERVICE, write.replica)
    }


def _expected_values(
    target: str, latest: Mapping[str, Written], written: Sequence[Written]
) -> set[str]:
    if target == SERVICE:  # judged once every replica has a value the suite wrote
        everyone = {write.replica for write in written}
        return {write.value for write in latest.values()} if latest.keys() >= everyone else set()
    return {latest[target].value} if target in latest else set()


def _stale(answer: Answer, latest: Mapping[str, Written], written: Sequence[Written]) -> Problem:
    wanted = (
        "the latest value of one of the replicas"
        if answer.target == SERVICE
        else f"{latest[answer.target].value!r}, written at {latest[answer.target].at:.1f}s"
    )
    return Problem(
        f"{answer.target}'s answer at {answer.started:.1f}s",
        wanted,
        _what_it_was(answer, written),
    )


def _what_it_was(answer: Answer, written: Sequence[Written]) -> str:
    if answer.outcome == MISSING:
        return f"no value: {answer.value} (the data is gone)"
    owners = sorted({w.replica for w in written if w.value == answer.value})
    if not owners:
        return f"{_quoted(answer.value)}, a value the suite never wrote"
    if answer.target in owners:
        return f"{answer.value!r}, an older value of its own"
    return f"{answer.value!r}, the value of {', '.join(owners)}"


def _quoted(text: str, most: int = SHOWN) -> str:
    return repr(text) if len(text) <= most else f"{text[:most]!r}... ({len(text)} characters)"


def target_rows(
    answers: Sequence[Answer], targets: Sequence[str], timeline: Timeline
) -> list[dict[str, str]]:
    """Per target: requests, how they went, its longest gap, and the longest a pod of it took
    from becoming Ready to answering (what PROPAGATION must cover), for the report."""
    end = max((a.ended for a in answers), default=0.0)
    rows = []
    for target in targets:
        mine = [a for a in answers if a.target == target]
        found = gaps(mine, target)
        ready = ready_spans(timeline, target, end)
        lags = [lag for gap in found for lag in _ready_to_answering(gap, ready)]
        rows.append({
            "target": target,
            "requests": str(len(mine)),
            "answered": str(sum(a.outcome == ANSWERED for a in mine)),
            "without the value": str(sum(a.outcome == MISSING for a in mine)),
            "refused": str(sum(not a.served for a in mine)),
            "longest gap (s)": f"{max((g.seconds for g in found), default=0.0):.1f}",
            "Ready to answering, at most (s)": f"{max(lags):.1f}" if lags else "-",
        })  # fmt: skip
    return rows


def _ready_to_answering(gap: Gap, ready: Sequence[Span]) -> list[float]:
    """For each time the pod became Ready within the gap: how long it refused after that."""
    return [gap.end - since for since, _ in ready if gap.start <= since < gap.end]


def unaccepted_evictions(
    evictions: Sequence[Eviction], waits_for_node: Collection[str]
) -> list[Problem]:
    """A drain's evictions are each accepted once the budget allows (retried while refused);
    except after a pod whose replacement waits for the drained node (its volume is bound
    there): the budget cannot allow more until the node is back, a drain that cannot finish
    with such storage, not a broken promise."""
    problems = []
    for index, eviction in enumerate(evictions):
        if not eviction.accepted and not budget_held_by_node(evictions[:index], waits_for_node):
            problems.append(
                Problem(
                    f"eviction of {eviction.pod}",
                    "accepted once the PodDisruptionBudget allowed it",
                    f"refused {eviction.refused} times in {eviction.seconds:.0f}s",
                )
            )
    return problems

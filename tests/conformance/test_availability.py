"""Clients keep being answered while the StatefulSet is operated, within the budget its manifest
declares, and never with data from the wrong replica or from the past.

A client pod (stsconf/observe/client.py) reads the data (over HTTP, or with the app's own read
command) from every replica and through the Service a few times a second while the set is
updated, rolled back, scaled or has a pod deleted; the report draws each answer under the pod
timeline. The module's tests share its StatefulSet (its own namespace) where they run on one
worker; each starts from whatever revision and replicas it finds.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from stsconf.access.watching import Recorder
from stsconf.checks.availability import (
    PROPAGATION,
    budget_violations,
    left_alone_violations,
    stale_read_violations,
    target_rows,
    unasked,
)
from stsconf.checks.data import stored_problems
from stsconf.model.availability import (
    NO_CLIENT_READ,
    SERVICE,
    Answer,
    Budget,
    ClientRead,
    Written,
    client_read,
    update_budget,
)
from stsconf.model.expectations import expect_none
from stsconf.model.policies import ON_DELETE
from stsconf.model.timeline import Timeline
from stsconf.observe.client import Client
from stsconf.report.observations import Observations
from stsconf.settings import Settings
from stsconf.workload import updates
from stsconf.workload.statefulset import StatefulSetUnderTest, pod_timeline

# each test starts from whatever the set is at: workers may split the module, each deploying
# the set for the tests it runs
pytestmark = [pytest.mark.conformance, pytest.mark.spread]


@pytest.fixture
def client(web: StatefulSetUnderTest, settings: Settings) -> Client:
    return Client(web.kube, web.namespace, settings.probe_image, web.manifest)


def test_available_during_update(
    web: StatefulSetUnderTest,
    client: Client,
    observe: Observations,
    record_form: Callable[[str], None],
) -> None:
    """Through a rolling update as the manifest declares it, a client reading every replica
    finds no more of them unanswering at once than the update strategy allows (one at a time,
    or maxUnavailable), and no replica Ready while it refuses requests."""
    read = _client_read(web)
    _declared_rolling_update(web)
    pods = _pod_names(web)
    budget = update_budget(web.manifest.policies, len(pods))
    record_form(budget.source)
    seen = _client_through(
        web, client, pods, read, lambda _: updates.roll(web, _changed_template(web))
    )
    seen.show(observe, "clients during the rolling update", pods)
    expect_none(
        unasked(seen.answers, pods, seen.ended)
        + budget_violations(seen.answers, seen.timeline, pods, budget),
        "clients during the update",
    )


def test_no_stale_reads(web: StatefulSetUnderTest, client: Client, observe: Observations) -> None:
    """Through a rolling update, every answer from a replica carries the value last written to
    its data, never another replica's, an older one or none; through the Service, the latest
    value of one of the replicas."""
    read = _client_read(web)
    _declared_rolling_update(web)
    _keeps_data(web)
    pods = _pod_names(web)
    written: list[Written] = []

    def write_update_write(recorder: Recorder) -> None:
        written.extend(_write_each(web, recorder, pods))
        updates.roll(web, _changed_template(web))
        written.extend(_write_each(web, recorder, pods))

    seen = _client_through(web, client, pods, read, write_update_write)
    seen.show(observe, "clients through the rolling update", pods)
    _show_written(observe, written)
    expect_none(
        unasked(seen.answers, pods, seen.ended) + stale_read_violations(seen.answers, written),
        "answers through the update",
    )


def test_available_during_partitioned_update(
    web: StatefulSetUnderTest,
    client: Client,
    observe: Observations,
    record_form: Callable[[str], None],
) -> None:
    """Through a canary update (rollingUpdate.partition P: only ordinals >= P move), a client
    finds every pod below P answering throughout, and no more of those above it unanswering at
    once than the strategy allows."""
    read = _client_read(web)
    _not_on_delete(web)
    pods = _pod_names(web)
    if len(pods) < 2:
        pytest.skip("needs 2 or more replicas: a pod below the partition and one above it")
    declared = web.manifest.policies
    partition = declared.partition or len(pods) - 1  # the manifest's, else a canary of one
    below, above = pods[:partition], pods[partition:]
    budget = update_budget(declared, len(pods))
    record_form(f"partition {partition}; {budget.source}")
    try:
        old = updates.settle(web, updates.rolling_update(partition, declared.max_unavailable))
        seen = _client_through(
            web, client, pods, read, lambda r: _canary(web, r, pods, above, old.update_revision)
        )
    finally:  # the module's later tests start from a set at rest, every pod on one revision
        updates.settle(web, updates.rolling_update(0, declared.max_unavailable))
    seen.show(observe, f"clients through an update with partition {partition}", pods)
    expect_none(
        unasked(seen.answers, pods, seen.ended)
        + left_alone_violations(seen.answers, seen.timeline, below, f"below partition {partition}")
        + budget_violations(seen.answers, seen.timeline, above, budget),
        f"clients during the update with partition {partition}",
    )


def test_available_during_rollback(
    web: StatefulSetUnderTest,
    client: Client,
    observe: Observations,
    record_form: Callable[[str], None],
) -> None:
    """Rolling back to the previous revision, as `kubectl rollout undo` does, a client finds no
    more replicas unanswering at once than the update strategy allows, and none Ready while it
    refuses requests."""
    read = _client_read(web)
    _declared_rolling_update(web)
    pods = _pod_names(web)
    budget = update_budget(web.manifest.policies, len(pods))
    record_form(budget.source)
    previous = updates.previous_revision(web)
    if previous is None:  # run on its own: make a revision to leave
        updates.roll(web, _changed_template(web))
        previous = updates.previous_revision(web)
    assert previous is not None, "expected a revision to return to after an update"
    seen = _client_through(
        web, client, pods, read, lambda recorder: updates.undo(web, recorder, previous)
    )
    seen.show(observe, "clients during the rollback", pods)
    expect_none(
        unasked(seen.answers, pods, seen.ended)
        + budget_violations(seen.answers, seen.timeline, pods, budget),
        "clients during the rollback",
    )


def test_available_during_scaling(
    web: StatefulSetUnderTest, client: Client, observe: Observations
) -> None:
    """Scaling up by one pod and back down, a client finds every replica that stays answering
    throughout: the controller touches only the pod it adds and removes."""
    read = _client_read(web)
    pods = _pod_names(web)
    if not pods:
        pytest.skip("needs 1 or more replicas: a pod that stays while the set scales")
    grown = web.manifest.pod_names(len(pods) + 1)

    def up_and_down(recorder: Recorder) -> None:
        web.scale(len(grown))
        web.wait_for_pods(recorder, grown)
        web.scale(len(pods))
        web.wait_for_pods(recorder, pods)

    seen = _client_through(web, client, pods, read, up_and_down)
    seen.show(observe, f"clients while scaling to {len(grown)} and back", pods)
    expect_none(
        unasked(seen.answers, pods, seen.ended)
        + left_alone_violations(seen.answers, seen.timeline, pods, "staying through the scaling"),
        "clients during the scaling",
    )


def test_available_during_pod_deletion(
    web: StatefulSetUnderTest,
    client: Client,
    observe: Observations,
    record_form: Callable[[str], None],
) -> None:
    """Deleting one pod, a client finds every other replica answering throughout, and the
    deleted one answering again once its replacement is Ready, with the value last written to
    its data."""
    read = _client_read(web)
    pods = _pod_names(web)
    if not pods:
        pytest.skip("needs 1 or more replicas: a pod to delete")
    deleted, others = pods[0], pods[1:]
    keeps_data = web.manifest.policies.keeps_data
    record_form("its value read back" if keeps_data else "no data kept: answering again only")
    written: list[Written] = []

    def delete_one(recorder: Recorder) -> None:
        if keeps_data:
            written.extend(_write_each(web, recorder, pods))
        web.replace_pods([deleted])

    seen = _client_through(web, client, pods, read, delete_one)
    seen.show(observe, f"clients while {deleted} was deleted", pods)
    _show_written(observe, written)
    expect_none(
        unasked(seen.answers, pods, seen.ended)
        + left_alone_violations(seen.answers, seen.timeline, others, f"{deleted} was deleted")
        + budget_violations(seen.answers, seen.timeline, [deleted], Budget(1, "the pod deleted"))
        + stale_read_violations(seen.answers, written),
        f"clients while {deleted} was deleted",
    )


def _canary(
    web: StatefulSetUnderTest, recorder: Recorder, pods: list[str], above: list[str], old: str
) -> None:
    """A new template; the pods `above` the partition move to it, the others stay on `old`."""
    new = updates.set_template(web, _changed_template(web)).update_revision
    updates.wait_for_revisions(web, recorder, {p: new if p in above else old for p in pods})


@dataclass(frozen=True)
class Seen:
    """What a client saw through an operation, and the pods' timeline."""

    answers: list[Answer]
    timeline: Timeline
    ended: float  # when the operation ended, on the timeline's axis

    def show(self, observe: Observations, title: str, pods: list[str]) -> None:
        observe.timeline(f"{title}: pods, then each target's answers", self.timeline, self.answers)
        asked = [*pods, *([SERVICE] if any(a.target == SERVICE for a in self.answers) else [])]
        observe.table(
            f"{title}: answers per target", target_rows(self.answers, asked, self.timeline)
        )


def _client_through(
    web: StatefulSetUnderTest,
    client: Client,
    pods: list[str],
    read: ClientRead,
    operation: Callable[[Recorder], object],
) -> Seen:
    """The client reading `pods` (and the Service) while `operation` runs, until each of them
    has answered after it."""
    with web.record_pods() as recorder, client.running(pods, read, web.timeouts.pods):
        operation(recorder)
        ended = _now(recorder)
        answers = _answers_after(client, recorder, pods)
        return Seen(answers, pod_timeline(recorder), ended)


def _changed_template(web: StatefulSetUnderTest) -> dict[str, object]:
    return updates.changed(updates.template(web.read()))


def _keeps_data(web: StatefulSetUnderTest) -> None:
    if not web.manifest.policies.keeps_data:
        pytest.skip(web.manifest.storage_not_applicable or "its pods keep no data")


def _show_written(observe: Observations, written: list[Written]) -> None:
    if written:
        observe.table(
            "values written (seconds on the picture's axis)",
            [
                {"replica": w.replica, "value": w.value, "written by": f"{w.at:.2f}"}
                for w in written
            ],
        )


def _not_on_delete(web: StatefulSetUnderTest) -> None:
    if web.manifest.policies.strategy == ON_DELETE:
        pytest.skip(
            "the manifest declares updateStrategy OnDelete: an update replaces no pod until "
            "someone deletes it, so there is no rolling update to stay available through"
        )


def _client_read(web: StatefulSetUnderTest) -> ClientRead:
    read = client_read(web.manifest.probe)
    if read is None:
        pytest.skip(NO_CLIENT_READ)
    return read


def _declared_rolling_update(web: StatefulSetUnderTest) -> None:
    _not_on_delete(web)
    partition = web.manifest.policies.partition or 0
    if partition > 0:
        pytest.skip(
            f"the manifest declares rollingUpdate.partition {partition}: a template change "
            f"replaces only ordinals >= {partition}, and the update never completes "
            "(partitioned_update tests that form)"
        )


def _pod_names(web: StatefulSetUnderTest) -> list[str]:
    return web.manifest.pod_names(web.spec_replicas())


def _now(recorder: Recorder) -> float:
    """Seconds on the recorder's axis."""
    return time.time() - recorder.time_zero


def _write_each(web: StatefulSetUnderTest, recorder: Recorder, pods: list[str]) -> list[Written]:
    written = []
    for pod in pods:
        stored = web.write_data(pod)
        expect_none(stored_problems([stored]), "writing the values the client reads")
        written.append(Written(pod, stored.value, _now(recorder)))
    return written


def _answers_after(client: Client, recorder: Recorder, pods: list[str]) -> list[Answer]:
    """The client's answers once each replica has answered after the operation (or, for one
    that does not, PROPAGATION seconds and as long again: its open gap is then judged)."""
    return client.answers_once_served(
        pods, _now(recorder), recorder.time_zero, timeout=2 * PROPAGATION
    )

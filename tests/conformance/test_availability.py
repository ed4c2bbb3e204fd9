"""Clients keep being answered while the StatefulSet is operated, within the budget its manifest
declares, and never with data from the wrong replica or from the past.

A client pod (stsconf/observe/client.py) reads the data probe's HTTP path from every replica and
through the Service a few times a second while the set is updated the way its manifest declares;
the report draws each answer under the pod timeline. The module's tests share its StatefulSet
(its own namespace); each starts from whatever revision it finds.
"""

from __future__ import annotations

import time
from collections.abc import Callable

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
from stsconf.model.availability import NO_HTTP_PATH, SERVICE, Answer, Written, update_budget
from stsconf.model.expectations import expect_none
from stsconf.model.policies import ON_DELETE
from stsconf.model.timeline import Timeline
from stsconf.observe.client import Client
from stsconf.report.observations import Observations
from stsconf.settings import Settings
from stsconf.workload import updates
from stsconf.workload.statefulset import StatefulSetUnderTest, pod_timeline

pytestmark = [pytest.mark.conformance]


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
    path = _http_path(web)
    _declared_rolling_update(web)
    pods = _pod_names(web)
    budget = update_budget(web.manifest.policies, len(pods))
    record_form(budget.source)
    with web.record_pods() as recorder, client.running(pods, path, web.timeouts.pods):
        updates.roll(web, updates.changed(updates.template(web.read())))
        ended = _now(recorder)
        answers = _answers_after(client, recorder, pods)
        timeline = pod_timeline(recorder)
    _show(observe, "clients during the rolling update", timeline, answers, pods)
    expect_none(
        unasked(answers, pods, ended) + budget_violations(answers, timeline, pods, budget),
        "clients during the update",
    )


def test_no_stale_reads(web: StatefulSetUnderTest, client: Client, observe: Observations) -> None:
    """Through a rolling update, every answer from a replica carries the value last written to
    its data, never another replica's, an older one or none; through the Service, the latest
    value of one of the replicas."""
    path = _http_path(web)
    _declared_rolling_update(web)
    if not web.manifest.policies.keeps_data:
        pytest.skip(web.manifest.storage_not_applicable or "its pods keep no data")
    pods = _pod_names(web)
    with web.record_pods() as recorder, client.running(pods, path, web.timeouts.pods):
        written = _write_each(web, recorder, pods)
        updates.roll(web, updates.changed(updates.template(web.read())))
        written += _write_each(web, recorder, pods)
        ended = _now(recorder)
        answers = _answers_after(client, recorder, pods)
        timeline = pod_timeline(recorder)
    _show(observe, "clients through the rolling update", timeline, answers, pods)
    observe.table(
        "values written (seconds on the picture's axis)",
        [{"replica": w.replica, "value": w.value, "written by": f"{w.at:.2f}"} for w in written],
    )
    expect_none(
        unasked(answers, pods, ended) + stale_read_violations(answers, written),
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
    path = _http_path(web)
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
        strategy = updates.rolling_update(partition, declared.max_unavailable)
        old = updates.settle(web, strategy).update_revision
        with web.record_pods() as recorder, client.running(pods, path, web.timeouts.pods):
            new = updates.set_template(
                web, updates.changed(updates.template(web.read()))
            ).update_revision
            revisions = {pod: new if pod in above else old for pod in pods}
            updates.wait_for_revisions(web, recorder, revisions)
            ended = _now(recorder)
            answers = _answers_after(client, recorder, pods)
            timeline = pod_timeline(recorder)
    finally:  # the module's later tests start from a set at rest, every pod on one revision
        updates.settle(web, updates.rolling_update(0, declared.max_unavailable))
    _show(observe, f"clients through an update with partition {partition}", timeline, answers, pods)
    expect_none(
        unasked(answers, pods, ended)
        + left_alone_violations(answers, timeline, below, f"below partition {partition}")
        + budget_violations(answers, timeline, above, budget),
        f"clients during the update with partition {partition}",
    )


def _not_on_delete(web: StatefulSetUnderTest) -> None:
    if web.manifest.policies.strategy == ON_DELETE:
        pytest.skip(
            "the manifest declares updateStrategy OnDelete: an update replaces no pod until "
            "someone deletes it, so there is no rolling update to stay available through"
        )


def _http_path(web: StatefulSetUnderTest) -> str:
    path = web.data_probe.http_path
    if not path:
        pytest.skip(NO_HTTP_PATH)
    return path


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


def _write_each(
    web: StatefulSetUnderTest, recorder: Recorder, pods: list[str]
) -> list[Written]:
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


def _show(
    observe: Observations, title: str, timeline: Timeline, answers: list[Answer], pods: list[str]
) -> None:
    observe.timeline(f"{title}: pods, then each target's answers", timeline, answers)
    targets = [*pods, *([SERVICE] if any(a.target == SERVICE for a in answers) else [])]
    observe.table(f"{title}: answers per target", target_rows(answers, targets, timeline))

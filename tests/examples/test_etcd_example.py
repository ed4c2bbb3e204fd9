"""The etcd example (manifests/examples/etcd.yaml), a 3-member cluster whose availability is
its quorum: it keeps the suite's promises with its data written and read through etcd, and a
client reads every member through updates, a rollback, a scaling and a pod deletion; an update
that takes two members at once loses the quorum, and the client properties say so.

Each test runs the suite in a subprocess against this run's cluster, in its own namespace (see
tests/examples/runs.py). The drain, which needs several nodes, is in
tests/selftest/test_detects_disruption.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from concurrent.futures import Future

import pytest

from stsconf.cluster_fixture import Cluster
from stsconf.model.manifest import NOT_APPLICABLE
from stsconf.report.observations import Observations
from stsconf.selftest import (
    CLIENT_PROPERTIES,
    CORE_PROPERTIES,
    only,
    report_tables,
)
from stsconf.settings import Settings
from tests.examples.runs import (
    EXAMPLES,
    Obj,
    Runs,
    TimedRun,
    Variant,
    example_image,
    finished,
    members_slow_to_stop,
    outcome_names,
    table_with,
    unchanged,
)

EXAMPLE = EXAMPLES / "etcd.yaml"
MEMBERS = ["etcd-0", "etcd-1", "etcd-2"]
# The article's nine and the rolling update; and one the manifest declares not applicable,
# skipped with its reason. The client properties in a run of their own beside it (the two
# take about as long). (Every property on it, measured: the README.)
DECLARED_NOT_APPLICABLE = "start_ordinal"
RUNS = CORE_PROPERTIES | {"rolling_update_order"}
QUORUM = frozenset({"available_during_update", "available_during_rollback"})
GATE = "MaxUnavailableStatefulSet"  # on by default from Kubernetes 1.37


def two_members_at_once(statefulset: Obj) -> None:
    """maxUnavailable 2, and members that take their grace period to stop: the loss of
    quorum lasts long enough for a reader to see it (members that stop at once were back too
    soon for it, in a run on a quiet machine)."""
    statefulset["spec"]["updateStrategy"] = {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxUnavailable": 2},
    }
    members_slow_to_stop(statefulset)


VARIANTS = {
    "test_etcd_example_keeps_its_promises": Variant(
        unchanged, tuple(only(RUNS | {DECLARED_NOT_APPLICABLE})), EXAMPLE
    ),
    "test_etcd_example_keeps_its_clients_answered": Variant(
        unchanged, tuple(only(CLIENT_PROPERTIES)), EXAMPLE
    ),
    "test_etcd_update_taking_two_members_at_once_loses_the_quorum": Variant(
        two_members_at_once, tuple(only(QUORUM)), EXAMPLE
    ),
}


@pytest.fixture(scope="module")
def etcd_runs(runs: Runs, settings: Settings) -> Iterator[dict[str, Future[TimedRun]]]:
    """The suite on the example and each selected variant, all on this cluster."""
    yield from runs.start(VARIANTS, example_image(EXAMPLE, settings))


def test_etcd_example_keeps_its_promises(
    etcd_runs: dict[str, Future[TimedRun]],
    request: pytest.FixtureRequest,
    observe: Observations,
) -> None:
    timed = finished(etcd_runs, request, observe)
    passed = outcome_names(timed.run, "passed")
    assert passed == RUNS, (
        f"expected {sorted(RUNS)} to pass; saw {sorted(RUNS - passed)} not pass{timed.context()}"
    )
    skipped = timed.run.outcomes[f"test_{DECLARED_NOT_APPLICABLE}"]
    assert skipped.result == "skipped", skipped
    for shown in (NOT_APPLICABLE, "other ordinals give other names"):
        assert shown in skipped.message, f"expected {shown!r} in the skip; saw {skipped.message}"

    report = timed.run.report.read_text()
    stored = table_with(report_tables(report, "test_data_survives_pod_deletion"), "written with")
    assert [row["pod"] for row in stored] == MEMBERS, stored
    for row in stored:
        assert '/scripts/kv put "$(hostname)"' in row["written with"], row
        assert row["read back"] == row["value stored"], row


def test_etcd_example_keeps_its_clients_answered(
    etcd_runs: dict[str, Future[TimedRun]],
    request: pytest.FixtureRequest,
    observe: Observations,
) -> None:
    """Through an update, a canary update, a rollback, a scaling and a pod deletion, a client
    reading every member keeps being answered within the declared budget, with the latest
    values."""
    timed = finished(etcd_runs, request, observe)
    passed = outcome_names(timed.run, "passed")
    assert passed == CLIENT_PROPERTIES, (
        f"expected {sorted(CLIENT_PROPERTIES)} to pass; saw {sorted(CLIENT_PROPERTIES - passed)} "
        f"not pass{timed.context()}"
    )
    report = timed.run.report.read_text()
    answers = table_with(report_tables(report, "test_available_during_update"), "requests")
    answered = {row["target"] for row in answers if int(row.get("answered", 0) or 0) > 0}
    assert answered >= set(MEMBERS), answers


def test_etcd_update_taking_two_members_at_once_loses_the_quorum(
    etcd_runs: dict[str, Future[TimedRun]],
    request: pytest.FixtureRequest,
    observe: Observations,
    cluster: Cluster,
    settings: Settings,
) -> None:
    """maxUnavailable 2 on 3 members: the update (and the rollback after it) may take two down
    at once, and then the third has no quorum either; three members unanswering is more than
    the 2 declared."""
    if not keeps_max_unavailable(cluster, settings):
        pytest.skip(f"the cluster drops maxUnavailable: {GATE} is off (on by default from 1.37)")
    timed = finished(etcd_runs, request, observe)
    failed = outcome_names(timed.run, "failed")
    assert failed == QUORUM, (
        f"expected exactly {sorted(QUORUM)} to fail; saw {sorted(failed)} fail{timed.context()}"
    )
    for name in sorted(QUORUM):
        text = timed.run.outcomes[f"test_{name}"].text
        for shown in ("replicas unanswering at once", "at most 2", "3 (etcd-0, etcd-1, etcd-2)"):
            assert shown in text, f"expected {shown!r} in {name}'s failure; saw:\n{text}"


def keeps_max_unavailable(cluster: Cluster, settings: Settings) -> bool:
    if GATE in settings.feature_gates:
        return settings.feature_gates[GATE]
    found = re.match(r"v1\.(\d+)", cluster.kube.server_version())
    return found is not None and int(found.group(1)) >= 37

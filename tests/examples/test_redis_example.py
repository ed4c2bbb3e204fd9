"""The Redis example (manifests/examples/redis.yaml) keeps every promise, with its data written
and read through redis-cli; broken variants of it fail as they should, saying why.

Each test runs the conformance suite in a subprocess against the same cluster (through its
kubeconfig), in its own namespace, on the example or a variant of it; the runs go on in
parallel.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from concurrent.futures import Future

import pytest
import yaml

from stsconf.model.manifest import PROBE_WRITE
from stsconf.report.observations import Observations
from stsconf.selftest import (
    CORE_PROPERTIES,
    DATA_LOSS_PROPERTIES,
    PROPERTIES,
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
    outcome_names,
    table_with,
    unchanged,
)

EXAMPLE = EXAMPLES / "redis.yaml"
WITH_SIDECAR = EXAMPLES / "redis-with-sidecar.yaml"  # init container and sidecar: busybox
# --pod-timeout for the variant whose pods never become Ready. It must outlast the pod's start,
# so that the report can show the probe failing: in CI at load 40-70 a claim took 25 s to
# provision and the pod was still ContainerCreating at 30 s.
NEVER_READY_TIMEOUT = 120
DATA_ONLY = ("-k", "test_data_survives_pod_deletion")


def claims_replaced_by_emptydir(statefulset: Obj) -> None:
    spec = statefulset["spec"]
    templates = spec.pop("volumeClaimTemplates")
    spec["template"]["spec"]["volumes"] = [
        {"name": t["metadata"]["name"], "emptyDir": {}} for t in templates
    ]


def probe_writes_with(command: str) -> Callable[[Obj], None]:
    def edit(statefulset: Obj) -> None:
        statefulset["metadata"]["annotations"][PROBE_WRITE] = command

    return edit


def readiness_never_passes(statefulset: Obj) -> None:
    [container] = statefulset["spec"]["template"]["spec"]["containers"]
    container["readinessProbe"]["exec"]["command"] = ["redis-cli", "-p", "6380", "ping"]


# the emptyDir variant runs the nine and what losing data breaks (not all thirty)
EMPTYDIR_RUNS = CORE_PROPERTIES | DATA_LOSS_PROPERTIES
# the variant with an init container and a sidecar: the nine and the updates, where the pod's
# other containers must keep their images (every property runs on redis.yaml itself)
SIDECAR_RUNS = CORE_PROPERTIES | {"rolling_update_order", "rollback", "on_delete_update"}

# keyed by the test that asserts on the run
VARIANTS = {
    "test_redis_example_keeps_every_promise": Variant(unchanged, (), EXAMPLE),
    "test_redis_with_sidecar_and_init_container_keeps_its_promises": Variant(
        unchanged, ("--statefulset=cache", *only(SIDECAR_RUNS)), EXAMPLES
    ),
    "test_redis_with_claims_replaced_by_emptydir_fails_storage": Variant(
        claims_replaced_by_emptydir, tuple(only(EMPTYDIR_RUNS)), EXAMPLE
    ),
    "test_redis_probe_that_cannot_write_is_reported": Variant(
        probe_writes_with('redis-cli -p 1 SET stsconf-marker "$STSCONF_VALUE"'), DATA_ONLY, EXAMPLE
    ),
    "test_redis_probe_command_missing_from_image_is_reported": Variant(
        probe_writes_with('valkey-cli SET stsconf-marker "$STSCONF_VALUE"'), DATA_ONLY, EXAMPLE
    ),
    "test_redis_pods_never_ready_are_reported_in_bounded_time": Variant(
        readiness_never_passes, (*DATA_ONLY, f"--pod-timeout={NEVER_READY_TIMEOUT}"), EXAMPLE
    ),
}


def redis_image(settings: Settings) -> str:
    return example_image(EXAMPLE, settings)


@pytest.fixture(scope="module")
def redis_runs(runs: Runs, settings: Settings) -> Iterator[dict[str, Future[TimedRun]]]:
    """The suite on the example and each selected variant, all on this cluster."""
    yield from runs.start(VARIANTS, redis_image(settings))




def test_redis_example_keeps_every_promise(
    redis_runs: dict[str, Future[TimedRun]],
    request: pytest.FixtureRequest,
    observe: Observations,
) -> None:
    timed = finished(redis_runs, request, observe)
    passed = outcome_names(timed.run, "passed")
    not_applicable = timed.run.skipped_for_gates() | timed.run.skipped_without_client_read()
    assert passed == PROPERTIES - not_applicable, (
        f"expected every property to pass; saw {sorted(PROPERTIES - passed)} not pass"
        f"{timed.context()}"
    )
    report = timed.run.report.read_text()

    stored = table_with(report_tables(report, "test_data_survives_pod_deletion"), "written with")
    assert [row["pod"] for row in stored] == ["redis-0", "redis-1"], stored
    for row in stored:
        assert 'redis-cli SET stsconf-marker "$STSCONF_VALUE"' in row["written with"], row
        assert "redis-cli GET stsconf-marker" in row["read back with"], row
        assert row["read back"] == row["value stored"], row
        assert row["value stored"].startswith(f"{row['pod']}:"), row
    assert len({row["value stored"] for row in stored}) == len(stored), stored

    after = table_with(
        report_tables(report, "test_data_survives_pod_deletion"), "read after deletion"
    )
    assert after, "expected a table of values read back after deletion in the report"
    assert all(row["read after deletion"] == row["value stored"] for row in after), after

    kept = table_with(report_tables(report, "test_pvcs_kept_after_scale_down"), "read now")
    assert [row["pod"] for row in kept] == ["redis-2", "redis-3", "redis-4"], kept
    assert all(row["read now"] == row["value stored before scale down"] for row in kept), kept


def test_redis_with_sidecar_and_init_container_keeps_its_promises(
    redis_runs: dict[str, Future[TimedRun]],
    request: pytest.FixtureRequest,
    observe: Observations,
    settings: Settings,
) -> None:
    """A StatefulSet picked out of a directory of manifests, with an init container and a
    sidecar from another image than the one under test, a ConfigMap, a Secret, a
    ServiceAccount and a PodDisruptionBudget, keeps the article's promises and its updates;
    only the container under test runs the image under test."""
    timed = finished(redis_runs, request, observe)
    passed = outcome_names(timed.run, "passed")
    assert passed == SIDECAR_RUNS, (
        f"expected {sorted(SIDECAR_RUNS)} to pass; saw {sorted(SIDECAR_RUNS - passed)} not pass"
        f"{timed.context()}"
    )
    applied = manifest_applied(timed.run.report.read_text())
    kinds = [document["kind"] for document in applied]
    assert kinds.index("ConfigMap") < kinds.index("StatefulSet"), kinds
    assert kinds.index("ServiceAccount") < kinds.index("StatefulSet"), kinds
    assert "PodDisruptionBudget" in kinds, kinds
    [statefulset] = [d for d in applied if d["kind"] == "StatefulSet"]
    assert statefulset["metadata"]["name"] == "cache", statefulset["metadata"]
    pod_spec = statefulset["spec"]["template"]["spec"]
    images = {c["name"]: c["image"] for c in pod_spec["initContainers"] + pod_spec["containers"]}
    observe.table("images the pods ran", [{"container": c, "image": i} for c, i in images.items()])
    under_test = images.pop("redis")
    assert under_test == redis_image(settings), images
    assert all(image != under_test for image in images.values()), images


def manifest_applied(report: str) -> list[Obj]:
    """The objects the run applied, as its report shows them."""
    match = re.search(r'<details id="stsconf-manifest".*?<pre>(.*?)</pre>', report, re.DOTALL)
    assert match, "expected the applied manifest in the report"
    return [d for d in yaml.safe_load_all(html.unescape(match.group(1))) if d]


def test_redis_with_claims_replaced_by_emptydir_fails_storage(
    redis_runs: dict[str, Future[TimedRun]],
    request: pytest.FixtureRequest,
    observe: Observations,
) -> None:
    timed = finished(redis_runs, request, observe)
    failed = outcome_names(timed.run, "failed")
    assert failed == DATA_LOSS_PROPERTIES, (
        f"expected exactly {sorted(DATA_LOSS_PROPERTIES)} to fail; saw {sorted(failed)} fail"
        f"{timed.context()}"
    )
    assert outcome_names(timed.run, "passed") == EMPTYDIR_RUNS - DATA_LOSS_PROPERTIES
    lost = timed.run.outcomes["test_data_survives_pod_deletion"].text
    assert "redis-0 after deletion: expected its own value 'redis-0:" in lost, lost


def test_redis_probe_that_cannot_write_is_reported(
    redis_runs: dict[str, Future[TimedRun]],
    request: pytest.FixtureRequest,
    observe: Observations,
) -> None:
    text = data_failure(finished(redis_runs, request, observe))
    for shown in (
        "redis-cli -p 1 SET stsconf-marker",  # what was run
        "exit code 1",
        "Could not connect to Redis at 127.0.0.1:1",  # its output
        "== events of pod redis-0 ==",
        "== log of redis-0/redis ==",
    ):
        assert shown in text, f"expected {shown!r} in the failure; saw:\n{text}"


def test_redis_probe_command_missing_from_image_is_reported(
    redis_runs: dict[str, Future[TimedRun]],
    request: pytest.FixtureRequest,
    observe: Observations,
) -> None:
    text = data_failure(finished(redis_runs, request, observe))
    for shown in (
        "valkey-cli SET stsconf-marker",
        "exit code 127",
        "valkey-cli: not found",
        "== events of pod redis-0 ==",
        "== log of redis-0/redis ==",
    ):
        assert shown in text, f"expected {shown!r} in the failure; saw:\n{text}"


def data_failure(timed: TimedRun) -> str:
    """The failure of test_data_survives_pod_deletion, which must say expected and saw."""
    outcome = timed.run.outcomes.get("test_data_survives_pod_deletion")
    assert outcome is not None, f"expected test_data_survives_pod_deletion to run{timed.context()}"
    assert outcome.result == "failed", f"expected it to fail; saw {outcome.result}{timed.context()}"
    assert "data probe in redis-0: expected to store 'redis-0:" in outcome.text, outcome.text
    return outcome.text


def test_redis_pods_never_ready_are_reported_in_bounded_time(
    redis_runs: dict[str, Future[TimedRun]],
    request: pytest.FixtureRequest,
    observe: Observations,
) -> None:
    timed = finished(redis_runs, request, observe)
    outcome = timed.run.outcomes.get("test_data_survives_pod_deletion")
    assert outcome is not None, f"expected test_data_survives_pod_deletion to run{timed.context()}"
    assert outcome.result in ("failed", "error"), outcome
    for shown in (
        f"timed out after {NEVER_READY_TIMEOUT}s",
        "redis-0 Running/NotReady",
        "Readiness probe failed",
        "Could not connect to Redis at 127.0.0.1:6380",
        "log of redis-0/redis",
    ):
        assert shown in outcome.text, f"expected {shown!r} in the failure; saw:\n{outcome.text}"

"""Every guarantee a StatefulSet documents, asserted on one deployed StatefulSet.

The tests share the module's StatefulSet and run in file order, each bringing the set to the
state it needs first (cheap when the previous test left it there), so any one of them can
run, and fail, on its own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from stsconf.access import wait
from stsconf.checks import retention, storage
from stsconf.checks.data import Served, own_data_problems, served_problems
from stsconf.checks.declared import Form
from stsconf.checks.identity import hostname_problems
from stsconf.checks.ordering import ordered_creation_violations, ordered_deletion_violations
from stsconf.checks.pod_management import all_gone_violations, all_ready_violations
from stsconf.model.dataprobe import ProbeRun, Stored
from stsconf.model.expectations import expect, expect_none
from stsconf.model.manifest import ClaimTemplate
from stsconf.model.timeline import pod_state_from_object
from stsconf.observe.probe import Probe
from stsconf.report.observations import Observations
from stsconf.settings import Settings
from stsconf.workload.statefulset import StatefulSetUnderTest

pytestmark = pytest.mark.conformance

EXTRA_REPLICAS = 3  # scaling 2 -> 5 -> 2 in the manifest's shape
KEPT_WINDOW = 5.0  # seconds claims must stay after their StatefulSet is deleted


def scaled_up(web: StatefulSetUnderTest) -> int:
    return web.manifest.replicas + EXTRA_REPLICAS


@pytest.fixture(scope="module")
def condemned_values() -> dict[str, str]:
    """The value stored in each pod a scale-down to the manifest's replicas removes, by pod:
    test_scale_down_order stores them before it scales down, test_pvcs_kept_after_scale_down
    reads them back after scaling up again (and stores its own when the first did not)."""
    return {}


@pytest.fixture(scope="session")
def promised_storage(settings: Settings) -> None:
    """Skip the storage properties, as not applicable, for a StatefulSet that promises no
    storage (no claim templates, no declared data probe), before anything is deployed."""
    reason = settings.manifest.storage_not_applicable
    if reason:
        pytest.skip(reason)


def test_ordered_startup(
    web: StatefulSetUnderTest, declared_form: Callable[[], Form], observe: Observations
) -> None:
    """Pods are created one at a time, each only once its predecessor is Running and Ready."""
    form = declared_form()
    observe.timeline("pod events from apply until all replicas were ready", web.startup)
    pods = web.manifest.pod_names(web.manifest.replicas)
    if form.opt_out:  # Parallel: launched together, no order promised; all must come up
        expect_none(all_ready_violations(web.startup, pods), "start-up under Parallel")
        return
    violations = ordered_creation_violations(web.startup, pods)
    expect_none(violations, "ordered startup")


def test_stable_hostnames(web: StatefulSetUnderTest, observe: Observations) -> None:
    """Each pod's hostname is its name, its fully qualified name is under the headless
    Service's domain, and a replacement pod keeps both."""
    pods = web.manifest.pod_names(web.manifest.replicas)
    web.ensure_replicas(web.manifest.replicas)
    seen = {pod: _hostnames(web, pod) for pod in pods}
    observe.table(
        "hostname and hostname -f inside each pod",
        [{"pod": p, "hostname": h, "hostname -f": f} for p, (h, f) in seen.items()],
    )
    expect_none(hostname_problems(seen, _domain(web)), "stable hostnames")

    target = pods[0]
    before = web.pod(target)
    web.replace_pods([target])
    after = web.pod(target)
    again = _hostnames(web, target)
    observe.table(
        f"{target} before and after deletion",
        [
            {"": "before", "uid": before["metadata"]["uid"], "hostname -f": seen[target][1]},
            {"": "after", "uid": after["metadata"]["uid"], "hostname -f": again[1]},
        ],
    )
    expect(
        after["metadata"]["uid"] != before["metadata"]["uid"],
        f"replacement of {target}",
        "a new pod (new uid)",
        f"the same uid {before['metadata']['uid']}",
    )
    expect_none(hostname_problems({target: again}, _domain(web)), f"replacement of {target}")


def _hostnames(web: StatefulSetUnderTest, pod: str) -> tuple[str, str]:
    """What `hostname` and `hostname -f` print inside the pod."""
    return (
        web.exec(pod, ["hostname"]).stdout.strip(),
        web.exec(pod, ["hostname", "-f"]).stdout.strip(),
    )


def _domain(web: StatefulSetUnderTest) -> str:
    """The governing Service's DNS domain, under which each pod's name is its FQDN."""
    return f"{web.service}.{web.namespace}.svc.cluster.local"


def test_dns_records(web: StatefulSetUnderTest, probe: Probe, observe: Observations) -> None:
    """Each pod has a DNS name that follows its current IP; the service name lists ready pods."""
    pods = web.manifest.pod_names(web.manifest.replicas)
    web.ensure_replicas(web.manifest.replicas)
    answers = []
    for pod in pods:
        answers.append(_resolves_to_pod_ip(web, probe, pod))

    service = f"{web.service}.{web.namespace}.svc.cluster.local"
    ready_ips = sorted(
        str(p["status"]["podIP"])
        for p in web.pods().values()
        if pod_state_from_object(p).running_and_ready
    )
    service_answer = wait.retry_until(
        lambda: probe.resolve(service),
        lambda answer: sorted(answer.addresses) == ready_ips,
        expected=f"{service} to resolve to the ready pods' IPs {ready_ips}",
        seen=lambda answer: f"{answer.describe()}\n{answer.output}",
        timeout=web.timeouts.dns,
    )
    answers.append(
        {"name": service, "expected": ", ".join(ready_ips), "answer": service_answer.describe()}
    )

    target = pods[0]
    old_ip = web.pod(target)["status"]["podIP"]
    web.replace_pods([target])
    row = _resolves_to_pod_ip(web, probe, target)
    answers.append({**row, "name": f"{row['name']} (after deleting {target}, IP was {old_ip})"})
    observe.table("DNS answers seen from the probe pod", answers)


def _resolves_to_pod_ip(web: StatefulSetUnderTest, probe: Probe, pod: str) -> dict[str, str]:
    name = f"{pod}.{web.service}.{web.namespace}.svc.cluster.local"
    ip = str(web.pod(pod)["status"]["podIP"])
    answer = wait.retry_until(
        lambda: probe.resolve(name),
        lambda answer: answer.addresses == (ip,),
        expected=f"{name} to resolve to {pod}'s pod IP {ip}",
        seen=lambda answer: f"{answer.describe()}\n{answer.output}",
        timeout=web.timeouts.dns,
    )
    return {"name": name, "expected": ip, "answer": answer.describe()}


@pytest.mark.usefixtures("promised_storage")
def test_pvc_per_pod(web: StatefulSetUnderTest, observe: Observations) -> None:
    """Each pod gets its own Bound claim per claim template, and mounts exactly that claim."""
    templates = web.manifest.claim_templates
    expect(bool(templates), f"StatefulSet {web.name}", "volumeClaimTemplates", "none declared")
    pods = web.manifest.pod_names(web.manifest.replicas)
    web.ensure_replicas(web.manifest.replicas)
    problems, rows = [], []
    for pod_name in pods:
        pod = web.pod(pod_name)
        for template in templates:
            claim_name = web.manifest.claim_name(template, pod_name)
            claim = web.claim(claim_name)
            problems += storage.claim_problems(claim, template, claim_name, pod)
            rows.append(
                {
                    "pod": pod_name,
                    "claim": storage.describe_claim(claim_name, claim),
                    "mounted": storage.mounted_claim(pod, template.name) or "-",
                }
            )
    observe.table("claims per pod", rows)
    expect_none(problems, "one claim per pod and template")


@pytest.mark.usefixtures("promised_storage")
def test_data_survives_pod_deletion(
    web: StatefulSetUnderTest, probe: Probe, observe: Observations
) -> None:
    """Each pod's own data (stored through the data probe) is there again after all pods are
    deleted and recreated."""
    pods = web.manifest.pod_names(web.manifest.replicas)
    web.ensure_replicas(web.manifest.replicas)
    observe.text("data probe", web.data_probe.describe())
    stored = _store_values(web, pods)
    observe.table("values stored, each read straight back", [_stored_row(s) for s in stored])
    written = {s.pod: s.value for s in stored}
    before = {pod: web.read_data(pod) for pod in pods}
    expect_none(
        own_data_problems(web.data_probe, written, before, "before deletion"),
        "each replica holds its own data",
    )
    if web.data_probe.http_path:  # a wrong port is the manifest's to fix, not lost data
        expect_none(
            served_problems(written, _served_over_http(web, probe, pods)),
            f"served over HTTP on port {web.manifest.http_port} before any pod was deleted "
            "(stsconf.io/probe-http-port names the port that serves it)",
        )

    timeline = web.replace_pods(pods)
    observe.timeline("pod events while all pods were deleted and recreated", timeline)
    after = {pod: web.read_data(pod) for pod in pods}
    problems = own_data_problems(web.data_probe, written, after, "after deletion")
    rows = [
        {"pod": pod, "value stored": written[pod], "read after deletion": after[pod].printed()}
        for pod in pods
    ]
    if web.data_probe.http_path:
        served = _served_over_http(web, probe, pods)
        for row in rows:
            row["served over HTTP"] = served[row["pod"]].text
        problems += served_problems(written, served)
    observe.table("data stored before deletion and read back after", rows)
    expect_none(problems, "data survives pod deletion")


def _store_values(web: StatefulSetUnderTest, pods: list[str]) -> list[Stored]:
    """Store a value unique to each pod through the data probe; fail at the first that fails."""
    stored = []
    for pod in pods:
        result = web.write_data(pod)
        expect(
            result.problem is None,
            f"data probe in {pod}",
            f"to store {result.value!r} and read it back",
            result.problem or "",
        )
        stored.append(result)
    return stored


def _stored_row(stored: Stored) -> dict[str, str]:
    return {
        "pod": stored.pod,
        "value stored": stored.value,
        "written with": stored.write.shown if stored.write else "-",
        "read back with": stored.read.shown if stored.read else "-",
        "read back": stored.read.output if stored.read else "-",
    }


def _served_over_http(
    web: StatefulSetUnderTest, probe: Probe, pods: list[str]
) -> dict[str, Served]:
    """Each pod's value read over HTTP from the probe pod (stsconf.io/probe-http-path)."""
    served = {}
    for pod in pods:
        ip = str(web.pod(pod)["status"]["podIP"])
        http = probe.http_get(ip, web.manifest.http_port, web.data_probe.http_path or "/")
        served[pod] = Served(http.url, http.body.strip() if http.ok else f"error: {http.error}")
    return served


def test_scale_up_order(
    web: StatefulSetUnderTest, declared_form: Callable[[], Form], observe: Observations
) -> None:
    """Scaling up creates the new pods in ordinal order, each after its predecessor is Ready."""
    form = declared_form()
    replicas, target = web.manifest.replicas, scaled_up(web)
    web.ensure_replicas(replicas)
    timeline = web.scale_to(target)
    observe.timeline(f"pod events while scaling {replicas} -> {target}", timeline)
    if form.opt_out:  # Parallel: no order promised; every new pod must come up
        added = web.manifest.pod_names(target)[replicas:]
        expect_none(all_ready_violations(timeline, added), "scale up under Parallel")
        return
    pods = web.manifest.pod_names(target)[replicas - 1 :]
    expect_none(ordered_creation_violations(timeline, pods), "ordered scale up")


def test_scale_down_order(
    web: StatefulSetUnderTest,
    declared_form: Callable[[], Form],
    observe: Observations,
    condemned_values: dict[str, str],
) -> None:
    """Scaling down removes pods from the highest ordinal, each after the higher one is gone."""
    form = declared_form()
    replicas, target = scaled_up(web), web.manifest.replicas
    web.ensure_replicas(replicas)
    _write_into_condemned_pods(web, condemned_values)
    timeline = web.scale_to(target)
    observe.timeline(f"pod events while scaling {replicas} -> {target}", timeline)
    condemned = list(reversed(web.manifest.pod_names(replicas)[target:]))
    if form.opt_out:  # Parallel: no order promised; every condemned pod must go
        expect_none(all_gone_violations(timeline, condemned), "scale down under Parallel")
        return
    expect_none(ordered_deletion_violations(timeline, condemned), "ordered scale down")


def _write_into_condemned_pods(web: StatefulSetUnderTest, values: dict[str, str]) -> None:
    """Leave data in the pods a scale-down removes, and note it in `values`, for
    test_pvcs_kept_after_scale_down (which checks, and stores again, whatever did not work
    here)."""
    if web.manifest.storage_not_applicable:
        return
    for pod in web.manifest.pod_names(scaled_up(web))[web.manifest.replicas :]:
        stored = web.write_data(pod)
        if not stored.problem:
            values[pod] = stored.value


@pytest.mark.usefixtures("promised_storage")
def test_pvcs_kept_after_scale_down(
    web: StatefulSetUnderTest,
    declared_form: Callable[[], Form],
    observe: Observations,
    condemned_values: dict[str, str],
) -> None:
    """Scaling down keeps removed pods' claims; scaling up reattaches them with their data."""
    form = declared_form()
    templates = web.manifest.claim_templates
    expect(bool(templates), f"StatefulSet {web.name}", "volumeClaimTemplates", "none declared")
    condemned = _scaled_down_with_data(web, condemned_values)
    settled = web.settled_claims(web.claim_names(condemned))
    observe.table(
        "claims of removed pods after scale down",
        [{"claim": storage.describe_claim(n, c)} for n, c in settled.items()],
    )
    if form.opt_out:  # whenScaled: Delete: the removed pods' claims go with them
        expect_none(retention.deleted_problems(settled, form.name), "claims deleted on scale down")
        return
    expect_none(storage.kept_and_bound_problems(settled), "claims kept after scale down")

    web.scale_to(scaled_up(web))
    reattached = [
        _reattachment(web, pod, template, settled) for pod in condemned for template in templates
    ]
    written = {pod: condemned_values[pod] for pod in condemned}
    reads = {pod: web.read_data(pod) for pod in condemned}
    observe.table(
        "claims mounted after scaling up again",
        [{"pod": r.pod, "claim": r.claim, "kept uid": r.kept_uid, "uid now": r.uid_now,
          "mounted": r.mounted} for r in reattached],
    )  # fmt: skip
    observe.table("data after scaling up again", _data_rows(written, reads))
    expect_none(
        storage.reattachment_problems(reattached)
        + own_data_problems(web.data_probe, written, reads, "after scaling up again"),
        "reattached claims keep their data",
    )


def _reattachment(
    web: StatefulSetUnderTest, pod: str, template: ClaimTemplate, kept: dict[str, Any]
) -> storage.Reattachment:
    """The claim `pod` mounts now from `template`, beside the one kept for it."""
    claim = web.manifest.claim_name(template, pod)
    return storage.Reattachment(
        pod=pod,
        claim=claim,
        kept_uid=(kept[claim] or {})["metadata"]["uid"],
        uid_now=(web.claim(claim) or {}).get("metadata", {}).get("uid"),
        mounted=storage.mounted_claim(web.pod(pod), template.name),
    )


def _data_rows(written: dict[str, str], reads: dict[str, ProbeRun]) -> list[dict[str, str]]:
    return [
        {"pod": pod, "value stored before scale down": value, "read now": reads[pod].printed()}
        for pod, value in written.items()
    ]


def _scaled_down_with_data(web: StatefulSetUnderTest, values: dict[str, str]) -> list[str]:
    """The pods removed by scaling down, after data was stored into them and noted in `values`
    (by test_scale_down_order, or here if that did not happen)."""
    condemned = web.manifest.pod_names(scaled_up(web))[web.manifest.replicas :]
    written = all(pod in values for pod in condemned)
    if not written or web.spec_replicas() != web.manifest.replicas:
        web.ensure_replicas(scaled_up(web))
        values.update({stored.pod: stored.value for stored in _store_values(web, condemned)})
        web.scale_to(web.manifest.replicas)
    return condemned


@pytest.mark.usefixtures("promised_storage")
def test_cleanup_keeps_pvcs(
    web: StatefulSetUnderTest, declared_form: Callable[[], Form], observe: Observations
) -> None:
    """Deleting the StatefulSet and its Service leaves the claims; deleting those frees volumes."""
    form = declared_form()
    expect(
        bool(web.manifest.claim_templates),
        f"StatefulSet {web.name}",
        "volumeClaimTemplates",
        "none declared",
    )
    in_range = web.claim_names(web.manifest.pod_names(web.spec_replicas()))
    every = web.claims_of_the_set()  # those of pods scaled away earlier too
    expect_none(
        storage.missing_claim_problems(in_range, every) + storage.unbound_problems(every),
        "claims before deleting the StatefulSet",
    )
    # whenDeleted: Delete promises the claims of the set's pods; Retain keeps every claim
    claims = in_range if form.opt_out else sorted(every)
    volumes = [every[name]["spec"]["volumeName"] for name in claims]

    web.delete_statefulset_and_service()
    settled = web.settled_claims(claims)
    observe.table(
        "claims after deleting the StatefulSet and Service",
        [{"claim": storage.describe_claim(n, c)} for n, c in settled.items()],
    )
    if form.opt_out:  # whenDeleted: Delete: the claims go with the StatefulSet
        expect_none(retention.deleted_problems(settled, form.name), "claims deleted with it")
    else:
        expect_none(retention.kept_problems(settled, form.name), "claims kept after deletion")
        deleted = web.claims_deleted_within(claims, KEPT_WINDOW)
        expect(
            not deleted,
            "claims after deleting the StatefulSet",
            f"every claim kept for {KEPT_WINDOW:.0f}s",
            f"{', '.join(deleted)} deleted",
        )

    web.delete_claims(claims)
    released = web.wait_volumes_released(volumes)
    observe.table(
        "volumes after deleting the claims",
        [
            {"volume": v, "state": (obj or {}).get("status", {}).get("phase", "deleted")}
            for v, obj in released.items()
        ],
    )

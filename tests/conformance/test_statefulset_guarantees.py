"""Every guarantee a StatefulSet documents, asserted on one deployed StatefulSet.

The tests share the module's StatefulSet and run in file order, each bringing the set to the
state it needs first (cheap when the previous test left it there), so any one of them can
run, and fail, on its own.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from stsconf.checks import retention, storage
from stsconf.checks.declared import Form
from stsconf.checks.pod_management import all_gone_violations, all_ready_violations
from stsconf.model.expectations import expect, expect_none, mismatch
from stsconf.model.timeline import (
    ordered_creation_violations,
    ordered_deletion_violations,
    pod_state_from_object,
)
from stsconf.observe import wait
from stsconf.observe.dataprobe import ProbeRun, Stored, own_data_problems, printed
from stsconf.observe.probe import Probe
from stsconf.plugin import Settings
from stsconf.report.observations import Observations
from stsconf.workload.statefulset import StatefulSetUnderTest

pytestmark = pytest.mark.conformance

EXTRA_REPLICAS = 3  # scaling 2 -> 5 -> 2 in the manifest's shape


def scaled_up(web: StatefulSetUnderTest) -> int:
    return web.manifest.replicas + EXTRA_REPLICAS


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
    expect_none(
        [problem for pod, names in seen.items() for problem in _hostname_problems(web, pod, names)],
        "stable hostnames",
    )

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
    expect_none(_hostname_problems(web, target, again), f"replacement of {target}")


def _hostnames(web: StatefulSetUnderTest, pod: str) -> tuple[str, str]:
    """What `hostname` and `hostname -f` print inside the pod."""
    return (
        web.exec(pod, ["hostname"]).stdout.strip(),
        web.exec(pod, ["hostname", "-f"]).stdout.strip(),
    )


def _hostname_problems(web: StatefulSetUnderTest, pod: str, names: tuple[str, str]) -> list[str]:
    """The hostname is the pod's name; the fully qualified one, the name under the governing
    Service's domain (as the kubelet sets it from the hostname and subdomain the StatefulSet
    gives the pod; without them it is the bare name)."""
    hostname, fqdn = names
    domain = f"{pod}.{web.service}.{web.namespace}.svc.cluster.local"
    problems = []
    if hostname != pod:
        problems.append(mismatch(pod, f"hostname {pod}", f"hostname {hostname!r}"))
    if fqdn != domain:
        problems.append(mismatch(pod, f"hostname -f {domain}", f"hostname -f {fqdn!r}"))
    return problems


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

    timeline = web.replace_pods(pods)
    observe.timeline("pod events while all pods were deleted and recreated", timeline)
    after = {pod: web.read_data(pod) for pod in pods}
    problems = own_data_problems(web.data_probe, written, after, "after deletion")
    rows = [
        {"pod": pod, "value stored": written[pod], "read after deletion": printed(after[pod])}
        for pod in pods
    ]
    if web.data_probe.http_path:
        problems += _served_over_http(web, probe, written, rows)
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
    web: StatefulSetUnderTest, probe: Probe, written: dict[str, str], rows: list[dict[str, str]]
) -> list[str]:
    """Read each pod's value over HTTP from the probe pod (stsconf.io/probe-http-path)."""
    problems = []
    for row in rows:
        pod, value = row["pod"], written[row["pod"]]
        ip = str(web.pod(pod)["status"]["podIP"])
        http = probe.http_get(ip, web.manifest.http_port, web.data_probe.http_path or "/")
        served = http.body.strip() if http.ok else f"error: {http.error}"
        row["served over HTTP"] = served
        if served != value:
            problems.append(mismatch(f"{http.url} ({pod})", repr(value), repr(served)))
    return problems


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
    web: StatefulSetUnderTest, declared_form: Callable[[], Form], observe: Observations
) -> None:
    """Scaling down removes pods from the highest ordinal, each after the higher one is gone."""
    form = declared_form()
    replicas, target = scaled_up(web), web.manifest.replicas
    web.ensure_replicas(replicas)
    _write_into_condemned_pods(web)
    timeline = web.scale_to(target)
    observe.timeline(f"pod events while scaling {replicas} -> {target}", timeline)
    condemned = list(reversed(web.manifest.pod_names(replicas)[target:]))
    if form.opt_out:  # Parallel: no order promised; every condemned pod must go
        expect_none(all_gone_violations(timeline, condemned), "scale down under Parallel")
        return
    expect_none(ordered_deletion_violations(timeline, condemned), "ordered scale down")


def _write_into_condemned_pods(web: StatefulSetUnderTest) -> None:
    """Leave data in the pods a scale-down removes, for test_pvcs_kept_after_scale_down
    (which checks, and stores again, whatever did not work here)."""
    if web.manifest.storage_not_applicable:
        return
    for pod in web.manifest.pod_names(scaled_up(web))[web.manifest.replicas :]:
        web.write_data(pod)


@pytest.mark.usefixtures("promised_storage")
def test_pvcs_kept_after_scale_down(
    web: StatefulSetUnderTest, declared_form: Callable[[], Form], observe: Observations
) -> None:
    """Scaling down keeps removed pods' claims; scaling up reattaches them with their data."""
    form = declared_form()
    templates = web.manifest.claim_templates
    expect(bool(templates), f"StatefulSet {web.name}", "volumeClaimTemplates", "none declared")
    condemned = _scaled_down_with_data(web)
    settled = web.settled_claims(web.claim_names(condemned))
    observe.table(
        "claims of removed pods after scale down",
        [{"claim": storage.describe_claim(n, c)} for n, c in settled.items()],
    )
    if form.opt_out:  # whenScaled: Delete: the removed pods' claims go with them
        expect_none(retention.deleted_problems(settled, form.name), "claims deleted on scale down")
        return
    expect_none(
        [
            mismatch(n, "claim kept and Bound", storage.describe_claim(n, c))
            for n, c in settled.items()
            if not storage.claim_kept(c) or (c or {}).get("status", {}).get("phase") != "Bound"
        ],
        "claims kept after scale down",
    )

    web.scale_to(scaled_up(web))
    claim_rows, problems = [], []
    for pod_name in condemned:
        pod = web.pod(pod_name)
        for template in templates:
            claim = web.manifest.claim_name(template, pod_name)
            kept_uid = (settled[claim] or {})["metadata"]["uid"]
            uid_now = (web.claim(claim) or {}).get("metadata", {}).get("uid")
            mounted = storage.mounted_claim(pod, template.name)
            claim_rows.append({"pod": pod_name, "claim": claim, "kept uid": kept_uid,
                         "uid now": uid_now, "mounted": mounted})  # fmt: skip
            if (mounted, uid_now) != (claim, kept_uid):
                problems.append(mismatch(pod_name, f"to mount the kept claim {claim} ({kept_uid})",
                                         f"claim {mounted} ({uid_now})"))  # fmt: skip
    written = {pod: web.written[pod] for pod in condemned}
    reads = {pod: web.read_data(pod) for pod in condemned}
    problems += own_data_problems(web.data_probe, written, reads, "after scaling up again")
    observe.table("claims mounted after scaling up again", claim_rows)
    observe.table("data after scaling up again", _data_rows(written, reads))
    expect_none(problems, "reattached claims keep their data")


def _data_rows(written: dict[str, str], reads: dict[str, ProbeRun]) -> list[dict[str, str]]:
    return [
        {"pod": pod, "value stored before scale down": value, "read now": printed(reads[pod])}
        for pod, value in written.items()
    ]


def _scaled_down_with_data(web: StatefulSetUnderTest) -> list[str]:
    """The pods removed by scaling down, after data was stored into them (by
    test_scale_down_order, or here if that did not happen)."""
    condemned = web.manifest.pod_names(scaled_up(web))[web.manifest.replicas :]
    written = all(pod in web.written for pod in condemned)
    if not written or web.spec_replicas() != web.manifest.replicas:
        web.ensure_replicas(scaled_up(web))
        _store_values(web, condemned)
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
    claims = web.claim_names(web.manifest.pod_names(web.spec_replicas()))
    volumes = [str((web.claim(c) or {}).get("spec", {}).get("volumeName")) for c in claims]

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

    web.delete_claims(claims)
    released = web.wait_volumes_released(volumes)
    observe.table(
        "volumes after deleting the claims",
        [
            {"volume": v, "state": (obj or {}).get("status", {}).get("phase", "deleted")}
            for v, obj in released.items()
        ],
    )

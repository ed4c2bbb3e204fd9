"""Every guarantee a StatefulSet documents, asserted on one deployed StatefulSet.

The tests share the module's StatefulSet and run in file order, each bringing the set to the
state it needs first (cheap when the previous test left it there), so any one of them can
run, and fail, on its own.
"""

from __future__ import annotations

import pytest

from stsconf import storage, wait
from stsconf.expectations import expect, expect_none, mismatch
from stsconf.probe import Probe
from stsconf.report import Observations
from stsconf.statefulset import StatefulSetUnderTest
from stsconf.timeline import (
    ordered_creation_violations,
    ordered_deletion_violations,
    pod_state_from_object,
)

pytestmark = pytest.mark.conformance

EXTRA_REPLICAS = 3  # scaling 2 -> 5 -> 2 in the manifest's shape


def scaled_up(web: StatefulSetUnderTest) -> int:
    return web.manifest.replicas + EXTRA_REPLICAS


def test_ordered_startup(web: StatefulSetUnderTest, observe: Observations) -> None:
    """Pods are created one at a time, each only once its predecessor is Running and Ready."""
    observe.timeline("pod events from apply until all replicas were ready", web.startup)
    pods = web.manifest.pod_names(web.manifest.replicas)
    violations = ordered_creation_violations(web.startup, pods)
    expect_none(violations, "ordered startup")


def test_stable_hostnames(web: StatefulSetUnderTest, observe: Observations) -> None:
    """Each pod's hostname is its name, and a replacement pod keeps name and hostname."""
    pods = web.manifest.pod_names(web.manifest.replicas)
    web.ensure_replicas(web.manifest.replicas)
    hostnames = {pod: web.exec(pod, ["hostname"]).stdout.strip() for pod in pods}
    observe.table(
        "hostname inside each pod", [{"pod": p, "hostname": h} for p, h in hostnames.items()]
    )
    expect_none(
        [mismatch(p, f"hostname {p}", f"hostname {h!r}") for p, h in hostnames.items() if h != p],
        "stable hostnames",
    )

    target = pods[0]
    before = web.pod(target)
    web.replace_pods([target])
    after = web.pod(target)
    hostname = web.exec(target, ["hostname"]).stdout.strip()
    observe.table(
        f"{target} before and after deletion",
        [
            {"": "before", "uid": before["metadata"]["uid"], "hostname": hostnames[target]},
            {"": "after", "uid": after["metadata"]["uid"], "hostname": hostname},
        ],
    )
    expect(
        after["metadata"]["uid"] != before["metadata"]["uid"],
        f"replacement of {target}",
        "a new pod (new uid)",
        f"the same uid {before['metadata']['uid']}",
    )
    expect(hostname == target, f"replacement of {target}", f"hostname {target}", repr(hostname))


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


def test_data_survives_pod_deletion(
    web: StatefulSetUnderTest, probe: Probe, observe: Observations
) -> None:
    """What a pod wrote to its volume is there again after all pods are deleted and recreated."""
    directory = web.manifest.data_mount_path
    expect(directory is not None, "web container", "a volume mount for data", "no volume mounts")
    assert directory is not None
    pods = web.manifest.pod_names(web.manifest.replicas)
    web.ensure_replicas(web.manifest.replicas)
    for pod in pods:
        result = web.write_identity(pod, directory)
        expect(result.ok, pod, f"to write into {directory}", result.stderr or result.stdout)

    timeline = web.replace_pods(pods)
    observe.timeline("pod events while all pods were deleted and recreated", timeline)
    rows, problems = [], []
    for pod in pods:
        written = web.written[pod]
        on_disk = web.read_identity(pod, directory)
        http = probe.http_get(str(web.pod(pod)["status"]["podIP"]), web.manifest.http_port)
        served = http.body.strip() if http.ok else f"error: {http.error}"
        rows.append(
            {
                "pod": pod,
                "written": written,
                "file now": on_disk.stdout.strip(),
                "served over HTTP": served,
            }
        )
        if on_disk.stdout.strip() != written:
            problems.append(
                mismatch(
                    f"{pod} index.html",
                    repr(written),
                    repr(on_disk.stdout.strip() or on_disk.stderr.strip()),
                )
            )
        if served != written:
            problems.append(mismatch(f"{http.url} ({pod})", repr(written), repr(served)))
    observe.table("data written before deletion and read back after", rows)
    expect_none(problems, "data survives pod deletion")


def test_scale_up_order(web: StatefulSetUnderTest, observe: Observations) -> None:
    """Scaling up creates the new pods in ordinal order, each after its predecessor is Ready."""
    replicas, target = web.manifest.replicas, scaled_up(web)
    web.ensure_replicas(replicas)
    timeline = web.scale_to(target)
    observe.timeline(f"pod events while scaling {replicas} -> {target}", timeline)
    pods = web.manifest.pod_names(target)[replicas - 1 :]
    expect_none(ordered_creation_violations(timeline, pods), "ordered scale up")


def test_scale_down_order(web: StatefulSetUnderTest, observe: Observations) -> None:
    """Scaling down removes pods from the highest ordinal, each after the higher one is gone."""
    replicas, target = scaled_up(web), web.manifest.replicas
    web.ensure_replicas(replicas)
    _write_into_condemned_pods(web)
    timeline = web.scale_to(target)
    observe.timeline(f"pod events while scaling {replicas} -> {target}", timeline)
    condemned = list(reversed(web.manifest.pod_names(replicas)[target:]))
    expect_none(ordered_deletion_violations(timeline, condemned), "ordered scale down")


def _write_into_condemned_pods(web: StatefulSetUnderTest) -> None:
    """Leave data in the pods a scale-down removes, for test_pvcs_kept_after_scale_down."""
    directory = web.manifest.data_mount_path
    if directory is None:
        return
    for pod in web.manifest.pod_names(scaled_up(web))[web.manifest.replicas :]:
        web.write_identity(pod, directory)


def test_pvcs_kept_after_scale_down(web: StatefulSetUnderTest, observe: Observations) -> None:
    """Scaling down keeps removed pods' claims; scaling up reattaches them with their data."""
    templates = web.manifest.claim_templates
    expect(bool(templates), f"StatefulSet {web.name}", "volumeClaimTemplates", "none declared")
    condemned = _scaled_down_with_data(web)
    settled = web.settled_claims(web.claim_names(condemned))
    observe.table(
        "claims of removed pods after scale down",
        [{"claim": storage.describe_claim(n, c)} for n, c in settled.items()],
    )
    expect_none(
        [
            mismatch(n, "claim kept and Bound", storage.describe_claim(n, c))
            for n, c in settled.items()
            if not storage.claim_kept(c) or (c or {}).get("status", {}).get("phase") != "Bound"
        ],
        "claims kept after scale down",
    )

    web.scale_to(scaled_up(web))
    directory = web.manifest.data_mount_path or ""
    claim_rows, data_rows, problems = [], [], []
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
        read = web.read_identity(pod_name, directory).stdout.strip()
        data_rows.append({"pod": pod_name, "written before scale down": web.written[pod_name],
                     "read now": read})  # fmt: skip
        if read != web.written[pod_name]:
            problems.append(
                mismatch(f"{pod_name} index.html", repr(web.written[pod_name]), repr(read))
            )
    observe.table("claims mounted after scaling up again", claim_rows)
    observe.table("data after scaling up again", data_rows)
    expect_none(problems, "reattached claims keep their data")


def _scaled_down_with_data(web: StatefulSetUnderTest) -> list[str]:
    """The pods removed by scaling down, after data was written into them (by
    test_scale_down_order, or here if that did not happen)."""
    condemned = web.manifest.pod_names(scaled_up(web))[web.manifest.replicas :]
    written = all(pod in web.written for pod in condemned)
    if not written or web.spec_replicas() != web.manifest.replicas:
        web.ensure_replicas(scaled_up(web))
        _write_into_condemned_pods(web)
        web.scale_to(web.manifest.replicas)
    return condemned


def test_cleanup_keeps_pvcs(web: StatefulSetUnderTest, observe: Observations) -> None:
    """Deleting the StatefulSet and its Service leaves the claims; deleting those frees volumes."""
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
    expect_none(
        [
            mismatch(n, "claim kept", storage.describe_claim(n, c))
            for n, c in settled.items()
            if not storage.claim_kept(c)
        ],
        "claims kept after the StatefulSet is deleted",
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

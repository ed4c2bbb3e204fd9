"""Identity labels, start ordinals and one-pod Services, checked on violating data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stsconf.checks.identity import (
    POD_INDEX_LABEL,
    POD_NAME_LABEL,
    hostname_problems,
    identity_label_problems,
    single_endpoint_problems,
)
from stsconf.checks.ordinals import ordinal_range_problems
from stsconf.model.manifest import load_manifest
from stsconf.workload.identity import one_pod_service
from stsconf.workload.ordinals import pod_names_from
from tests.unit.problems import texts

WEB = Path(__file__).resolve().parents[2] / "manifests" / "web.yaml"


def pod(name: str, uid: str = "", labels: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "uid": uid or f"uid-{name}", "labels": labels or {}},
        "status": {
            "phase": "Running",
            "podIP": f"10.0.0.{name[-1]}",
            "conditions": [{"type": "Ready", "status": "True"}],
        },
    }


def labelled(name: str, index: str) -> dict[str, Any]:
    return pod(name, labels={POD_NAME_LABEL: name, POD_INDEX_LABEL: index})


def test_correct_identity_labels_pass() -> None:
    pods = {"web-0": labelled("web-0", "0"), "web-1": labelled("web-1", "1")}
    assert identity_label_problems(pods, {"web-0": 0, "web-1": 1}) == []


def test_missing_or_wrong_identity_labels_are_reported() -> None:
    pods = {
        "web-0": pod("web-0", labels={POD_NAME_LABEL: "web-0"}),
        "web-1": labelled("web-0", "0"),
    }
    problems = identity_label_problems(pods, {"web-0": 0, "web-1": 1, "web-2": 2})
    assert texts(problems) == [
        f"web-0: expected label {POD_INDEX_LABEL}=0; saw no label {POD_INDEX_LABEL}",
        f"web-1: expected label {POD_NAME_LABEL}=web-1; saw {POD_NAME_LABEL}=web-0",
        f"web-1: expected label {POD_INDEX_LABEL}=1; saw {POD_INDEX_LABEL}=0",
        "web-2: expected a pod; saw no such pod",
    ]


def endpoint(name: str, ip: str, ready: bool = True, uid: str = "") -> dict[str, Any]:
    return {
        "addresses": [ip],
        "conditions": {"ready": ready},
        "targetRef": {"kind": "Pod", "name": name, "uid": uid or f"uid-{name}"},
    }


def test_a_single_endpoint_on_the_pod_passes() -> None:
    slices = {"s": {"endpoints": [endpoint("web-1", "10.0.0.1")]}}
    assert single_endpoint_problems(slices, pod("web-1")) == []


def test_other_pods_behind_the_service_are_reported() -> None:
    slices = {
        "a": {"endpoints": [endpoint("web-1", "10.0.0.1")]},
        "b": {"endpoints": [endpoint("web-0", "10.0.0.0")]},
    }
    [problem] = single_endpoint_problems(slices, pod("web-1"))
    assert str(problem) == (
        "endpoints: expected exactly one ready endpoint: pod web-1 at 10.0.0.1; "
        "saw web-1 10.0.0.1, web-0 10.0.0.0"
    )


def test_a_wrong_or_unready_endpoint_is_reported() -> None:
    for wrong in (
        endpoint("web-0", "10.0.0.1"),
        endpoint("web-1", "10.0.0.7"),
        endpoint("web-1", "10.0.0.1", ready=False),
        endpoint("web-1", "10.0.0.1", uid="an-older-pod"),
    ):
        assert single_endpoint_problems({"s": {"endpoints": [wrong]}}, pod("web-1")), wrong
    assert single_endpoint_problems({}, pod("web-1"))


def test_one_pod_service_selects_by_pod_name_label_on_the_manifest_ports() -> None:
    service = one_pod_service(load_manifest(WEB), "web-1")
    assert service["metadata"]["name"] == "stsconf-only-web-1"
    assert service["spec"]["selector"] == {POD_NAME_LABEL: "web-1"}
    assert service["spec"]["clusterIP"] == "None"
    assert service["spec"]["ports"] == [{"port": 80, "name": "web"}]


def test_pods_of_an_ordinal_range() -> None:
    manifest = load_manifest(WEB)
    assert pod_names_from(manifest, 3, 2) == ["web-3", "web-4"]
    assert manifest.policies.start_ordinal is None


def test_exact_range_with_kept_pods_passes() -> None:
    pods = {"web-2": pod("web-2", "kept"), "web-3": pod("web-3")}
    assert ordinal_range_problems(pods, ["web-2", "web-3"], {"web-2": "kept"}) == []


def test_pods_outside_the_range_or_replaced_are_reported() -> None:
    pods = {"web-0": pod("web-0"), "web-2": pod("web-2", "new"), "web-3": pod("web-3")}
    problems = ordinal_range_problems(pods, ["web-2", "web-3"], {"web-2": "kept"})
    assert texts(problems) == [
        "pods: expected exactly web-2, web-3; saw web-0, web-2, web-3",
        "web-2: expected kept (uid=kept): its ordinal stayed in range; saw replaced (uid=new)",
    ]


def test_a_pod_of_the_range_not_ready_is_reported() -> None:
    unready = pod("web-2")
    unready["status"]["conditions"] = []
    [problem] = ordinal_range_problems({"web-2": unready}, ["web-2"], {})
    assert str(problem) == "web-2: expected Running and Ready; saw Running/NotReady"


DOMAIN = "nginx.ns.svc.cluster.local"


def test_a_hostname_other_than_the_pod_name_is_reported() -> None:
    good = {"web-0": ("web-0", f"web-0.{DOMAIN}"), "web-1": ("web-1", f"web-1.{DOMAIN}")}
    assert hostname_problems(good, DOMAIN) == []
    fqdn_as_hostname = {**good, "web-1": (f"web-1.{DOMAIN}", f"web-1.{DOMAIN}")}
    [problem] = hostname_problems(fqdn_as_hostname, DOMAIN)
    assert str(problem) == f"web-1: expected hostname web-1; saw hostname 'web-1.{DOMAIN}'"


def test_a_pod_without_the_services_subdomain_is_reported() -> None:
    [problem] = hostname_problems({"web-0": ("web-0", "web-0")}, DOMAIN)
    assert str(problem) == f"web-0: expected hostname -f web-0.{DOMAIN}; saw hostname -f 'web-0'"

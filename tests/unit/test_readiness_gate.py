"""The readiness gate and manifest variants: what the suite deploys and how it reads pods."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stsconf.model.manifest import load_manifest
from stsconf.workload.readiness_gate import HEALTHY_CONDITION, gate_status, gated, pods_to_release
from stsconf.workload.variants import with_spec, without_claims

WEB = Path(__file__).resolve().parents[2] / "manifests" / "web.yaml"


def pod(name: str, gate: str | None = None, terminating: bool = False) -> dict[str, Any]:
    conditions = [{"type": "Ready", "status": "False"}]
    if gate is not None:
        conditions.append({"type": HEALTHY_CONDITION, "status": gate})
    metadata: dict[str, Any] = {"name": name, "uid": f"uid-{name}"}
    if terminating:
        metadata["deletionTimestamp"] = "2026-12-01T00:00:00Z"
    return {"metadata": metadata, "status": {"phase": "Running", "conditions": conditions}}


def test_gated_manifest_adds_the_gate_and_leaves_the_original_alone() -> None:
    manifest = load_manifest(WEB)
    variant = gated(gated(manifest))  # twice: still one gate of ours
    gates = variant.statefulset["spec"]["template"]["spec"]["readinessGates"]
    assert gates == [{"conditionType": HEALTHY_CONDITION}]
    assert "readinessGates" not in manifest.statefulset["spec"]["template"]["spec"]
    assert variant.statefulset in variant.documents
    assert variant.service == manifest.service


def test_with_spec_replaces_fields_of_a_copy() -> None:
    manifest = load_manifest(WEB)
    variant = with_spec(manifest, {"replicas": 1, "podManagementPolicy": "Parallel"})
    assert (variant.replicas, variant.statefulset["spec"]["podManagementPolicy"]) == (
        1,
        "Parallel",
    )
    assert manifest.replicas == 2
    assert "podManagementPolicy" not in manifest.statefulset["spec"]
    assert variant.pod_names(2) == ["web-0", "web-1"]


def test_gate_status_reads_the_condition() -> None:
    assert gate_status(pod("web-0")) is None
    assert gate_status(pod("web-0", "False")) == "False"
    assert gate_status(pod("web-0", "True")) == "True"


def test_pods_to_release_are_those_that_exist_with_the_gate_not_true() -> None:
    pods = {
        "web-0": pod("web-0", "True"),
        "web-1": pod("web-1"),
        "web-2": pod("web-2", "False"),
        "web-3": pod("web-3", terminating=True),
    }
    names = ["web-0", "web-1", "web-2", "web-3", "web-4"]
    assert pods_to_release(pods, names) == ["web-1", "web-2"]


def test_without_claims_mounts_an_empty_dir_in_place_of_each_claim_template() -> None:
    manifest = load_manifest(WEB)
    variant = without_claims(manifest)
    assert variant.claim_templates == ()
    volumes = variant.statefulset["spec"]["template"]["spec"]["volumes"]
    assert volumes == [{"name": "www", "emptyDir": {}}]
    assert [t.name for t in manifest.claim_templates] == ["www"]

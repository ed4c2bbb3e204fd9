"""Manifests as users have them: several objects and StatefulSets, directories, `helm template`
output, sidecars and init containers from other images."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from stsconf.model.manifest import (
    ContainerImage,
    ManifestError,
    airgap_images_of_others,
    default_image,
    load_manifest,
)
from stsconf.selftest import REPO

EXAMPLES = REPO / "manifests" / "examples"
WITH_SIDECAR = EXAMPLES / "redis-with-sidecar.yaml"
BUILT = {"redis": "stsconf/redis:7", "probe": "stsconf/probe:1", "nginx": "stsconf/nginx:1"}


def statefulset(name: str, service: str = "svc") -> dict[str, object]:
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": name},
        "spec": {
            "serviceName": service,
            "selector": {"matchLabels": {"app": name}},
            "template": {"spec": {"containers": [{"name": "main", "image": f"{name}:1"}]}},
        },
    }


def obj(kind: str, name: str) -> dict[str, object]:
    return {"apiVersion": "v1", "kind": kind, "metadata": {"name": name}}


def write(path: Path, *documents: dict[str, object]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump_all(documents))
    return path


def kinds_and_names(documents: tuple[dict[str, object], ...]) -> list[str]:
    return [f"{d['kind']}/{d['metadata']['name']}" for d in documents]  # type: ignore[index]


def test_objects_are_applied_in_dependency_order_whatever_the_file_order() -> None:
    manifest = load_manifest(WITH_SIDECAR)
    assert kinds_and_names(manifest.documents) == [
        "ServiceAccount/cache",
        "Secret/cache-auth",
        "ConfigMap/cache-config",
        "Service/cache",
        "PodDisruptionBudget/cache",
        "StatefulSet/cache",
    ]
    assert manifest.left_out == ()


def test_several_statefulsets_need_statefulset_to_pick_one() -> None:
    with pytest.raises(ManifestError, match=r"holds 2 StatefulSets \(redis, cache\)|cache, redis"):
        load_manifest(EXAMPLES)
    manifest = load_manifest(EXAMPLES, statefulset="cache")
    assert manifest.statefulset_name == "cache"
    assert any(
        "StatefulSet redis is not applied" in line and "--statefulset redis" in line
        for line in manifest.left_out
    ), manifest.left_out


def test_statefulset_that_is_not_there_names_those_that_are() -> None:
    with pytest.raises(ManifestError, match=r"--statefulset db: no such StatefulSet .*cache"):
        load_manifest(WITH_SIDECAR, statefulset="db")


def test_a_directory_as_helm_template_writes_it(tmp_path: Path) -> None:
    chart = tmp_path / "out" / "db" / "templates"
    write(chart / "statefulset.yaml", statefulset("db"))
    (chart / "service.yaml").write_text(
        "---\n# Source: db/templates/service.yaml\n"
        + yaml.safe_dump({**obj("Service", "svc"), "spec": {"clusterIP": "None"}})
    )
    write(chart / "role.yaml", obj("ClusterRole", "db-reader"), obj("Role", "db"))
    write(
        chart / "hpa.yaml", {**obj("HorizontalPodAutoscaler", "db"), "apiVersion": "autoscaling/v2"}
    )
    write(chart / "monitor.yaml", {**obj("ServiceMonitor", "db"), "apiVersion": "monitoring/v1"})
    (chart / "NOTES.txt").write_text("not a manifest")
    manifest = load_manifest(tmp_path / "out")
    assert kinds_and_names(manifest.documents) == ["Role/db", "Service/svc", "StatefulSet/db"]
    left_out = "\n".join(manifest.left_out)
    assert "role.yaml: ClusterRole db-reader is not applied: it is cluster-scoped" in left_out
    assert "HorizontalPodAutoscaler db is not applied: it would change the replicas" in left_out
    assert "kind ServiceMonitor is not one the suite applies" in left_out


def test_a_list_stands_for_its_items(tmp_path: Path) -> None:
    path = write(
        tmp_path / "list.yaml",
        {"kind": "List", "items": [statefulset("db"), obj("Service", "svc")]},
    )
    assert kinds_and_names(load_manifest(path).documents) == ["Service/svc", "StatefulSet/db"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("kind: Service\nmetadata: {name: x}\n", "must hold a StatefulSet; found no StatefulSet"),
        ("- just\n- a list\n", "document 1 is not a Kubernetes object (no kind)"),
        ("a: [", "is not valid YAML"),
    ],
)
def test_unusable_files_get_one_clear_line(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(content)
    with pytest.raises(ManifestError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_manifest(path)


def test_an_empty_directory_says_what_it_looks_for(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match=r"holds no \.yaml, \.yml, \.json files"):
        load_manifest(tmp_path)


def test_only_the_container_under_test_gets_the_image_under_test() -> None:
    manifest = load_manifest(WITH_SIDECAR).with_image("local/redis:dev")
    assert manifest.pod_images == (
        ContainerImage("render-config", "busybox:1.36", init=True),
        ContainerImage("redis", "local/redis:dev", init=False),
        ContainerImage("log-shipper", "busybox:1.36", init=False),
    )
    containers = manifest.pod_spec["containers"]
    assert containers[0]["imagePullPolicy"] == "IfNotPresent"
    assert "imagePullPolicy" not in containers[1]  # as written


def test_container_names_the_one_under_test() -> None:
    manifest = load_manifest(WITH_SIDECAR, container="log-shipper")
    assert (manifest.container, manifest.image) == ("log-shipper", "busybox:1.36")
    with pytest.raises(ManifestError, match=r"--container nope: .* \(it has redis, log-shipper\)"):
        load_manifest(WITH_SIDECAR, container="nope")


def test_airgap_build_images_stand_in_for_the_other_containers() -> None:
    manifest = load_manifest(WITH_SIDECAR)
    assert default_image(manifest, BUILT) == "stsconf/redis:7"
    assert airgap_images_of_others(manifest, BUILT) == {
        "render-config": "stsconf/probe:1",
        "log-shipper": "stsconf/probe:1",
    }
    assert airgap_images_of_others(manifest, {"redis": "stsconf/redis:7"}) == {
        "render-config": "busybox:1.36",  # kept: it must be in Docker
        "log-shipper": "busybox:1.36",
    }

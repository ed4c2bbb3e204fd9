"""Reading the StatefulSet under test from a manifest."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from stsconf.model.manifest import ClaimTemplate, ManifestError, label_selector, load_manifest
from stsconf.settings import DEFAULT_MANIFEST

SELFTEST_MANIFESTS = Path(__file__).resolve().parent.parent / "selftest" / "manifests"


def write(tmp_path: Path, *documents: dict[str, object]) -> Path:
    path = tmp_path / "m.yaml"
    path.write_text(yaml.safe_dump_all(documents))
    return path


def statefulset(**spec: object) -> dict[str, object]:
    base = {
        "serviceName": "svc",
        "selector": {"matchLabels": {"app": "x"}},
        "template": {"spec": {"containers": [{"name": "c", "image": "i"}]}},
    }
    return {"kind": "StatefulSet", "metadata": {"name": "db"}, "spec": {**base, **spec}}


SERVICE: dict[str, object] = {
    "kind": "Service",
    "metadata": {"name": "svc"},
    "spec": {"ports": [{"port": 8080}]},
}


def test_default_manifest_describes_web_and_nginx() -> None:
    manifest = load_manifest(DEFAULT_MANIFEST)
    assert (manifest.statefulset_name, manifest.service_name) == ("web", "nginx")
    assert manifest.replicas == 2
    assert manifest.selector == "app=nginx"
    assert manifest.claim_templates == (
        ClaimTemplate("www", "1Gi", ("ReadWriteOnce",), "/usr/share/nginx/html"),
    )
    assert manifest.data_directories("nginx") == ("/usr/share/nginx/html",)
    assert manifest.http_port == 80
    assert manifest.pod_names(3) == ["web-0", "web-1", "web-2"]


def test_names_come_from_the_manifest(tmp_path: Path) -> None:
    manifest = load_manifest(
        write(tmp_path, SERVICE, statefulset(replicas=3, ordinals={"start": 5}))
    )
    assert manifest.pod_names(2) == ["db-5", "db-6"]
    assert manifest.claim_templates == ()
    assert manifest.data_directories("c") == ()
    assert manifest.http_port == 8080


def test_image_is_substituted_and_never_pulled() -> None:
    manifest = load_manifest(DEFAULT_MANIFEST).with_image("local/nginx:test")
    [container] = manifest.pod_spec["containers"]
    assert (container["image"], container["imagePullPolicy"]) == (
        "local/nginx:test",
        "IfNotPresent",
    )
    assert load_manifest(DEFAULT_MANIFEST).pod_spec["containers"][0]["image"] == "nginx:1.27"


def test_manifest_without_statefulset_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="must hold a StatefulSet; found no StatefulSet"):
        load_manifest(write(tmp_path, SERVICE))


def test_statefulset_without_its_service_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match=r"service 'svc' .* is not in the manifest"):
        load_manifest(write(tmp_path, statefulset()))


def test_unreadable_and_invalid_manifests_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="cannot read manifest"):
        load_manifest(tmp_path / "absent.yaml")
    (tmp_path / "bad.yaml").write_text("kind: [")
    with pytest.raises(ManifestError, match="not valid YAML"):
        load_manifest(tmp_path / "bad.yaml")


def test_label_selector_rendering() -> None:
    selector = {
        "matchLabels": {"b": "2", "a": "1"},
        "matchExpressions": [
            {"key": "t", "operator": "In", "values": ["x", "y"]},
            {"key": "u", "operator": "DoesNotExist"},
        ],
    }
    assert label_selector(selector) == "a=1,b=2,t in (x,y),!u"


@pytest.mark.parametrize("path", sorted(SELFTEST_MANIFESTS.glob("*.yaml")), ids=lambda p: p.stem)
def test_selftest_manifests_are_valid(path: Path) -> None:
    assert load_manifest(path).statefulset_name == "web"

"""Reading the StatefulSet under test from a manifest."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from stsconf.model.availability import ClientRead, client_read
from stsconf.model.manifest import (
    NOT_APPLICABLE,
    ClaimTemplate,
    ManifestError,
    label_selector,
    load_manifest,
)
from stsconf.settings import DEFAULT_MANIFEST, check_not_applicable

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


def serving(**annotations: str) -> dict[str, object]:
    """A StatefulSet whose container serves http on 8080 and metrics on 9113."""
    ports = [{"name": "http", "containerPort": 8080}, {"name": "metrics", "containerPort": 9113}]
    result = statefulset(
        template={"spec": {"containers": [{"name": "c", "image": "i", "ports": ports}]}}
    )
    result["metadata"] = {
        "name": "db",
        "annotations": {"stsconf.io/probe-http-path": "/x", **annotations},
    }
    return result


def with_ports(*ports: dict[str, object]) -> dict[str, object]:
    return {**SERVICE, "spec": {"ports": list(ports)}}


METRICS_FIRST = (
    {"name": "metrics", "port": 9113, "targetPort": "metrics"},
    {"name": "web", "port": 80, "targetPort": "http"},
)


def test_the_http_probe_uses_the_port_that_serves_http_not_the_first(tmp_path: Path) -> None:
    manifest = load_manifest(write(tmp_path, with_ports(*METRICS_FIRST), serving()))
    assert manifest.http_port == 8080


def test_the_http_probe_port_can_be_declared(tmp_path: Path) -> None:
    declared = serving(**{"stsconf.io/probe-http-port": "metrics"})
    assert load_manifest(write(tmp_path, with_ports(*METRICS_FIRST), declared)).http_port == 9113
    declared = serving(**{"stsconf.io/probe-http-port": "7000"})
    assert load_manifest(write(tmp_path, with_ports(*METRICS_FIRST), declared)).http_port == 7000


def test_a_declared_http_port_that_matches_nothing_is_refused_on_load(tmp_path: Path) -> None:
    declared = serving(**{"stsconf.io/probe-http-port": "admin"})
    with pytest.raises(ManifestError, match="'admin' matches no container port"):
        load_manifest(write(tmp_path, with_ports(*METRICS_FIRST), declared))


def test_an_http_port_without_a_path_is_refused(tmp_path: Path) -> None:
    declared = serving(**{"stsconf.io/probe-http-port": "http"})
    declared["metadata"]["annotations"].pop("stsconf.io/probe-http-path")  # type: ignore[index]
    with pytest.raises(ManifestError, match=r"probe-http-port needs stsconf\.io/probe-http-path"):
        load_manifest(write(tmp_path, with_ports(*METRICS_FIRST), declared))


def test_a_client_read_must_ask_the_replica_at_stsconf_host(tmp_path: Path) -> None:
    declared = serving(**{"stsconf.io/probe-client-read": "redis-cli GET k"})
    with pytest.raises(ManifestError, match=r"must read from \$STSCONF_HOST"):
        load_manifest(write(tmp_path, with_ports(*METRICS_FIRST), declared))


def test_the_client_reads_over_http_where_the_manifest_offers_both(tmp_path: Path) -> None:
    command = 'cli -h "$STSCONF_HOST" get k'
    declared = serving(**{"stsconf.io/probe-client-read": command})
    probe = load_manifest(write(tmp_path, with_ports(*METRICS_FIRST), declared)).probe
    assert client_read(probe) == ClientRead(http_path="/x")
    declared["metadata"]["annotations"].pop("stsconf.io/probe-http-path")  # type: ignore[index]
    probe = load_manifest(write(tmp_path, with_ports(*METRICS_FIRST), declared)).probe
    assert client_read(probe) == ClientRead(command=command)


def with_not_applicable(tmp_path: Path, text: str) -> Path:
    declared = statefulset()
    declared["metadata"] = {"name": "db", "annotations": {NOT_APPLICABLE: text}}
    return write(tmp_path, declared, SERVICE)


def test_properties_the_app_cannot_take_are_read_with_their_reasons(tmp_path: Path) -> None:
    text = "start_ordinal: names are etcd's own\n\ntest_lifecycle: no quorum below 2: none Ready\n"
    manifest = load_manifest(with_not_applicable(tmp_path, text))
    assert manifest.not_applicable == {
        "start_ordinal": "names are etcd's own",
        "lifecycle": "no quorum below 2: none Ready",
    }
    check_not_applicable(manifest)


def test_a_property_declared_not_applicable_needs_a_reason(tmp_path: Path) -> None:
    manifest = load_manifest(with_not_applicable(tmp_path, "start_ordinal\n"))
    with pytest.raises(ManifestError, match=r"expected `property: reason`.*'start_ordinal'"):
        _ = manifest.not_applicable


def test_an_unknown_property_declared_not_applicable_is_named(tmp_path: Path) -> None:
    manifest = load_manifest(with_not_applicable(tmp_path, "start_ordinals: a typo\n"))
    with pytest.raises(ManifestError, match="no property start_ordinals; the properties: "):
        check_not_applicable(manifest)

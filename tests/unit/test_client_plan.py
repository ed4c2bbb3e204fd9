"""Whom the availability client asks, and how: a Service per replica, the manifest's Service
where a port of it leads to the HTTP port, and a pod kept off a node about to be drained."""

from __future__ import annotations

import copy

from stsconf.model.availability import SERVICE, ClientRead, command_request, http_request
from stsconf.model.manifest import Manifest, load_manifest
from stsconf.observe.client import (
    client_plan,
    not_on,
    replica_ports,
    replica_service,
    service_url,
)
from stsconf.selftest import REPO

WEB = load_manifest(REPO / "manifests" / "web.yaml")
REDIS = load_manifest(REPO / "manifests" / "examples" / "redis.yaml")
MARKER = ClientRead(http_path="/stsconf-marker")


def with_service_spec(manifest: Manifest, spec: dict[str, object]) -> Manifest:
    service = copy.deepcopy(manifest.service)
    service["spec"] = spec
    documents = tuple(service if d is manifest.service else d for d in manifest.documents)
    return Manifest(manifest.path, documents, manifest.statefulset, service, manifest.container)


def test_each_replica_is_asked_through_a_service_of_its_own_and_the_headless_one_by_name() -> None:
    plan = client_plan(WEB, ["web-0", "web-1"], MARKER)
    assert plan.requests == {
        "web-0": http_request("http://stsconf-web-0:80/stsconf-marker"),
        "web-1": http_request("http://stsconf-web-1:80/stsconf-marker"),
        SERVICE: http_request("http://nginx:80/stsconf-marker"),
    }
    service = replica_service("web-1", replica_ports(WEB, MARKER))
    assert service["spec"]["selector"] == {"statefulset.kubernetes.io/pod-name": "web-1"}
    assert service["spec"]["ports"] == [{"name": "p80", "port": 80, "targetPort": 80}]


def test_the_apps_own_command_asks_each_replica_by_its_service_on_the_ports_it_declares() -> None:
    read = ClientRead(command='redis-cli -h "$STSCONF_HOST" GET stsconf-marker')
    plan = client_plan(REDIS, ["redis-0"], read)
    assert plan.requests == {
        "redis-0": command_request(str(read.command), "stsconf-redis-0"),
        SERVICE: command_request(str(read.command), "redis"),
    }
    assert replica_ports(REDIS, read) == [(6379, 6379)]


def test_a_cluster_ip_service_is_asked_on_the_port_that_leads_to_the_http_port() -> None:
    manifest = with_service_spec(
        WEB, {"selector": {"app": "nginx"}, "ports": [{"port": 8080, "targetPort": 80}]}
    )
    assert service_url(manifest, "/x") == "http://nginx:8080/x"


def test_the_client_is_kept_off_the_drained_node() -> None:
    [term] = not_on("worker2")["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][
        "nodeSelectorTerms"
    ]
    assert term["matchExpressions"] == [
        {"key": "kubernetes.io/hostname", "operator": "NotIn", "values": ["worker2"]}
    ]

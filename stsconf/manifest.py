"""Read the StatefulSet under test, its Service and its claim templates from a YAML manifest."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

Obj = dict[str, Any]


class ManifestError(ValueError):
    """The manifest cannot describe a StatefulSet under test."""


@dataclass(frozen=True)
class ClaimTemplate:
    name: str
    storage: str
    access_modes: tuple[str, ...]
    mount_path: str | None  # where the first container mounts it


@dataclass(frozen=True)
class Manifest:
    path: Path
    documents: tuple[Obj, ...]
    statefulset: Obj
    service: Obj

    @property
    def statefulset_name(self) -> str:
        return str(self.statefulset["metadata"]["name"])

    @property
    def service_name(self) -> str:
        return str(self.service["metadata"]["name"])

    @property
    def replicas(self) -> int:
        return int(self.statefulset["spec"].get("replicas", 1))

    @property
    def start_ordinal(self) -> int:
        ordinals = self.statefulset["spec"].get("ordinals") or {}
        return int(ordinals.get("start", 0))

    @property
    def selector(self) -> str:
        return label_selector(self.statefulset["spec"].get("selector") or {})

    @property
    def pod_spec(self) -> Obj:
        return dict(self.statefulset["spec"]["template"]["spec"])

    @property
    def claim_templates(self) -> tuple[ClaimTemplate, ...]:
        templates = self.statefulset["spec"].get("volumeClaimTemplates") or []
        return tuple(self._claim_template(t) for t in templates)

    @property
    def data_mount_path(self) -> str | None:
        """The directory meant to hold the pod's persistent data.

        The first claim template's mount path; without claim templates, the first mount of the
        first container (that is where a claim would have been expected).
        """
        for template in self.claim_templates:
            if template.mount_path:
                return template.mount_path
        mounts = self._first_container().get("volumeMounts") or []
        return str(mounts[0]["mountPath"]) if mounts else None

    @property
    def http_port(self) -> int:
        """The container port behind the service's first port."""
        ports = (self.service.get("spec") or {}).get("ports") or [{}]
        target = ports[0].get("targetPort", ports[0].get("port"))
        container_ports = self._first_container().get("ports") or []
        if isinstance(target, str):
            for port in container_ports:
                if port.get("name") == target:
                    return int(port["containerPort"])
            raise ManifestError(f"service port {target!r} matches no container port")
        if target is None:
            if not container_ports:
                raise ManifestError("neither the service nor the container declares a port")
            return int(container_ports[0]["containerPort"])
        return int(target)

    def pod_name(self, ordinal: int) -> str:
        return f"{self.statefulset_name}-{ordinal}"

    def pod_names(self, replicas: int) -> list[str]:
        return [self.pod_name(self.start_ordinal + i) for i in range(replicas)]

    def claim_name(self, template: ClaimTemplate, pod_name: str) -> str:
        return f"{template.name}-{pod_name}"

    def with_image(self, image: str) -> Manifest:
        """A copy whose StatefulSet runs `image` in every container, never pulling it."""
        documents = copy.deepcopy(list(self.documents))
        index = self.documents.index(self.statefulset)
        statefulset = documents[index]
        pod_spec = statefulset["spec"]["template"]["spec"]
        for container in [*pod_spec.get("initContainers", []), *pod_spec["containers"]]:
            container["image"] = image
            container["imagePullPolicy"] = "IfNotPresent"
        service = documents[self.documents.index(self.service)]
        return Manifest(self.path, tuple(documents), statefulset, service)

    def _first_container(self) -> Obj:
        containers = self.pod_spec.get("containers") or [{}]
        return dict(containers[0])

    def _claim_template(self, template: Mapping[str, Any]) -> ClaimTemplate:
        name = str(template["metadata"]["name"])
        spec = template.get("spec") or {}
        storage = str(((spec.get("resources") or {}).get("requests") or {}).get("storage", ""))
        mounts = self._first_container().get("volumeMounts") or []
        mount_path = next((str(m["mountPath"]) for m in mounts if m.get("name") == name), None)
        return ClaimTemplate(name, storage, tuple(spec.get("accessModes") or ()), mount_path)


def label_selector(selector: Mapping[str, Any]) -> str:
    """Render a LabelSelector as the string form the API accepts."""
    terms = [f"{key}={value}" for key, value in sorted((selector.get("matchLabels") or {}).items())]
    for expression in selector.get("matchExpressions") or []:
        key, operator = expression["key"], expression["operator"]
        values = ",".join(expression.get("values") or [])
        terms.append(
            {
                "In": f"{key} in ({values})",
                "NotIn": f"{key} notin ({values})",
                "Exists": key,
                "DoesNotExist": f"!{key}",
            }[operator]
        )
    return ",".join(terms)


def load_manifest(path: Path) -> Manifest:
    try:
        documents = tuple(doc for doc in yaml.safe_load_all(path.read_text()) if doc)
    except OSError as error:
        raise ManifestError(f"cannot read manifest {path}: {error.strerror}") from error
    except yaml.YAMLError as error:
        raise ManifestError(f"manifest {path} is not valid YAML: {error}") from error
    return parse_manifest(path, documents)


def parse_manifest(path: Path, documents: tuple[Obj, ...]) -> Manifest:
    for doc in documents:
        if not isinstance(doc, dict) or "kind" not in doc:
            raise ManifestError(f"manifest {path} has a document that is not a Kubernetes object")
    statefulsets = [d for d in documents if d["kind"] == "StatefulSet"]
    if len(statefulsets) != 1:
        found = f"{len(statefulsets)} StatefulSets" if statefulsets else "no StatefulSet"
        raise ManifestError(f"manifest {path} must hold exactly one StatefulSet; found {found}")
    statefulset = statefulsets[0]
    spec = statefulset.get("spec") or {}
    service_name = spec.get("serviceName")
    if not service_name:
        raise ManifestError(f"StatefulSet in {path} has no spec.serviceName")
    services = [
        d for d in documents if d["kind"] == "Service" and d["metadata"]["name"] == service_name
    ]
    if not services:
        raise ManifestError(
            f"manifest {path}: the StatefulSet's service {service_name!r} "
            "(spec.serviceName) is not in the manifest"
        )
    if not (spec.get("template") or {}).get("spec", {}).get("containers"):
        raise ManifestError(f"StatefulSet in {path} has no containers")
    return Manifest(path, documents, statefulset, services[0])

"""Read the StatefulSet under test, its Service, its claim templates and its declared data probe
from a YAML manifest."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from stsconf.model.apply_plan import apply_plan
from stsconf.model.manifest_files import ManifestFileError, SourcedObject, read_objects
from stsconf.model.policies import DeclaredPolicies

Obj = dict[str, Any]

# The data probe a StatefulSet may declare through annotations on its own metadata.
ANNOTATION_PREFIX = "stsconf.io/"
PROBE_WRITE = "stsconf.io/probe-write"  # shell commands that store $STSCONF_VALUE
PROBE_READ = "stsconf.io/probe-read"  # shell commands that print the stored value
PROBE_CONTAINER = "stsconf.io/probe-container"  # where they run (default: the first container)
PROBE_HTTP_PATH = "stsconf.io/probe-http-path"  # also read the value back over HTTP at this path
PROBE_HTTP_PORT = "stsconf.io/probe-http-port"  # the container port (number or name) serving it
# shell commands a client pod (the probe container's image) runs to print the value of the
# replica at $STSCONF_HOST: the availability client's read, where there is no HTTP path
PROBE_CLIENT_READ = "stsconf.io/probe-client-read"
CLIENT_HOST_VARIABLE = "STSCONF_HOST"
PROBE_ANNOTATIONS = (
    PROBE_WRITE, PROBE_READ, PROBE_CONTAINER, PROBE_HTTP_PATH, PROBE_HTTP_PORT, PROBE_CLIENT_READ,
)  # fmt: skip
# Properties the app cannot take, one `property: reason` a line (a quorum that a copy of one
# replica cannot form, say): skipped with that reason
NOT_APPLICABLE = "stsconf.io/not-applicable"
KNOWN_ANNOTATIONS = (*PROBE_ANNOTATIONS, NOT_APPLICABLE)
HTTP_PORT_NAME = "http"  # the port name that says "this one serves HTTP"


class ManifestError(ValueError):
    """The manifest cannot describe a StatefulSet under test."""


@dataclass(frozen=True)
class ClaimTemplate:
    name: str
    storage: str
    access_modes: tuple[str, ...]
    mount_path: str | None  # where the container under test mounts it


@dataclass(frozen=True)
class ProbeDeclaration:
    """How the suite puts a value into a pod's data and reads it back, as the manifest says."""

    container: str  # the container the probe runs in
    write: str | None = None  # the app's own shell commands; None: the marker-file probe
    read: str | None = None
    http_path: str | None = None  # read the value back over HTTP too, from another pod
    http_port: str | None = None  # where: a container port's number or name
    declared: bool = False  # any stsconf.io/probe-* annotation: the pods keep data
    client_read: str | None = None  # a client's read from another pod, of $STSCONF_HOST


@dataclass(frozen=True)
class ContainerImage:
    container: str
    image: str
    init: bool  # an init container


@dataclass(frozen=True)
class Manifest:
    path: Path  # the file or directory it was read from
    documents: tuple[Obj, ...]  # the objects applied, in the order they are created
    statefulset: Obj
    service: Obj
    container: str  # the container under test: its image is the image under test
    left_out: tuple[str, ...] = ()  # objects of the files not applied, each with why

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
    def policies(self) -> DeclaredPolicies:
        """What its StatefulSet declares: pod management, updates, retention, ordinals, data."""
        return DeclaredPolicies.of(self.statefulset, declares_data_probe=self.probe.declared)

    @property
    def start_ordinal(self) -> int:
        """The ordinal of its first pod."""
        return self.policies.start_ordinal or 0

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
    def annotations(self) -> dict[str, str]:
        """The StatefulSet's own annotations (not its pod template's)."""
        metadata = self.statefulset.get("metadata") or {}
        return {str(k): str(v) for k, v in (metadata.get("annotations") or {}).items()}

    @property
    def probe(self) -> ProbeDeclaration:
        return probe_declaration(self.annotations, self.container_names)

    @property
    def not_applicable(self) -> dict[str, str]:
        """The properties the manifest says its app cannot take, each with its reason."""
        return not_applicable(self.annotations.get(NOT_APPLICABLE, ""))

    @property
    def storage_not_applicable(self) -> str | None:
        """Why the storage properties do not apply to this StatefulSet, or None when they do.

        They apply when it has claim templates, or declares a data probe (its pods keep data
        that must persist, so missing claim templates are a failure, not a choice).
        """
        if self.policies.keeps_data:
            return None
        return (
            f"not applicable: StatefulSet {self.statefulset_name} has no volumeClaimTemplates "
            f"and declares no data probe ({ANNOTATION_PREFIX}probe-* annotations), "
            "so it promises no per-pod storage"
        )

    @property
    def container_names(self) -> tuple[str, ...]:
        return tuple(str(c.get("name", "")) for c in self.pod_spec.get("containers") or [])

    @property
    def image(self) -> str:
        """The image of the container under test, unless --image says otherwise."""
        return str(self._container_under_test().get("image", ""))

    @property
    def pod_images(self) -> tuple[ContainerImage, ...]:
        """The image of every container and init container of the pod template."""
        spec = self.pod_spec
        groups = ((True, spec.get("initContainers")), (False, spec.get("containers")))
        return tuple(
            ContainerImage(str(c.get("name", "")), str(c.get("image", "")), init)
            for init, containers in groups
            for c in containers or []
        )

    @property
    def container_ports(self) -> tuple[int, ...]:
        """The port numbers the pod's containers declare, each once, in order."""
        numbers = [
            int(port["containerPort"])
            for container in self.pod_spec.get("containers") or []
            for port in container.get("ports") or []
        ]
        return tuple(dict.fromkeys(numbers))

    def image_of(self, container: str) -> str:
        return next((c.image for c in self.pod_images if c.container == container), "")

    def volume_mounts(self, container: str) -> list[Obj]:
        for candidate in self.pod_spec.get("containers") or []:
            if candidate.get("name") == container:
                return [dict(m) for m in candidate.get("volumeMounts") or []]
        return []

    def data_directories(self, container: str) -> tuple[str, ...]:
        """Where `container` keeps data: the mount paths of the claim templates it mounts;
        without claim templates, its writable mounts (where claims were to be expected)."""
        mounts = self.volume_mounts(container)
        if self.claim_templates:
            names = {template.name for template in self.claim_templates}
            chosen = [m for m in mounts if m.get("name") in names]
        else:
            chosen = [m for m in mounts if not m.get("readOnly")]
        return tuple(str(m["mountPath"]) for m in chosen)

    @property
    def http_port(self) -> int:
        """The container port the data probe reads over HTTP from: stsconf.io/probe-http-port,
        else the Service's port named `http` (or targeting a container port of that name),
        else the Service's first port (a first port that serves metrics is common)."""
        if self.probe.http_port:
            return self._container_port(self.probe.http_port)
        ports = (self.service.get("spec") or {}).get("ports") or [{}]
        named = [
            port for port in ports if HTTP_PORT_NAME in (port.get("name"), port.get("targetPort"))
        ]
        return self._target_port((named or ports)[0])

    def _target_port(self, service_port: Obj) -> int:
        target = service_port.get("targetPort", service_port.get("port"))
        if target is None:
            container_ports = self._container_under_test().get("ports") or []
            if not container_ports:
                raise ManifestError("neither the service nor the container declares a port")
            return int(container_ports[0]["containerPort"])
        return self._container_port(str(target))

    def _container_port(self, number_or_name: str) -> int:
        if number_or_name.isdigit():
            return int(number_or_name)
        for container in self.pod_spec.get("containers") or []:
            for port in container.get("ports") or []:
                if port.get("name") == number_or_name:
                    return int(port["containerPort"])
        raise ManifestError(f"port {number_or_name!r} matches no container port")

    def pod_name(self, ordinal: int) -> str:
        return f"{self.statefulset_name}-{ordinal}"

    def pod_names(self, replicas: int) -> list[str]:
        return [self.pod_name(self.start_ordinal + i) for i in range(replicas)]

    def claim_name(self, template: ClaimTemplate, pod_name: str) -> str:
        return f"{template.name}-{pod_name}"

    def with_image(self, image: str) -> Manifest:
        """A copy whose container under test runs `image`, never pulling it; the other
        containers keep the images the manifest gives them."""
        return self.with_container_images({self.container: image})

    def with_container_images(self, images: Mapping[str, str]) -> Manifest:
        """A copy whose named containers (init containers too) run the given images from the
        node's store (kind loads them), never pulling them."""

        def substitute(pod_spec: Obj) -> None:
            for container in [*pod_spec.get("initContainers", []), *pod_spec["containers"]]:
                if container.get("name") in images:
                    container["image"] = images[container["name"]]
                    container["imagePullPolicy"] = "IfNotPresent"

        return self.with_pod_spec(substitute)

    def with_pod_spec(self, edit: Callable[[Obj], None]) -> Manifest:
        """A copy with `edit` applied to its StatefulSet's pod spec."""
        return self.with_statefulset(
            lambda statefulset: edit(statefulset["spec"]["template"]["spec"])
        )

    def with_statefulset(self, change: Callable[[Obj], None]) -> Manifest:
        """A copy whose StatefulSet (a deep copy) went through `change`; never modifies this
        manifest."""
        documents = copy.deepcopy(list(self.documents))
        statefulset = documents[self.documents.index(self.statefulset)]
        service = documents[self.documents.index(self.service)]
        change(statefulset)
        return replace(self, documents=tuple(documents), statefulset=statefulset, service=service)

    def _container_under_test(self) -> Obj:
        for container in self.pod_spec.get("containers") or []:
            if container.get("name") == self.container:
                return dict(container)
        return {}

    def _claim_template(self, template: Mapping[str, Any]) -> ClaimTemplate:
        name = str(template["metadata"]["name"])
        spec = template.get("spec") or {}
        storage = str(((spec.get("resources") or {}).get("requests") or {}).get("storage", ""))
        mounts = self._container_under_test().get("volumeMounts") or []
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


def probe_declaration(
    annotations: Mapping[str, str], containers: Sequence[str]
) -> ProbeDeclaration:
    """Read the stsconf.io/probe-* annotations; raise ManifestError when they do not make sense."""
    unknown = sorted(
        key
        for key in annotations
        if key.startswith(ANNOTATION_PREFIX) and key not in KNOWN_ANNOTATIONS
    )
    if unknown:
        raise ManifestError(
            f"unknown annotation {', '.join(unknown)}; known: {', '.join(KNOWN_ANNOTATIONS)}"
        )
    values = {key: annotations[key].strip() for key in PROBE_ANNOTATIONS if key in annotations}
    empty = [key for key, value in values.items() if not value]
    if empty:
        raise ManifestError(f"annotation {', '.join(empty)} is empty")
    write, read = values.get(PROBE_WRITE), values.get(PROBE_READ)
    if (write is None) != (read is None):
        given, missing = (PROBE_WRITE, PROBE_READ) if write else (PROBE_READ, PROBE_WRITE)
        raise ManifestError(f"annotation {given} needs {missing} too: the probe writes and reads")
    container = values.get(PROBE_CONTAINER, containers[0] if containers else "")
    if container not in containers:
        raise ManifestError(
            f"annotation {PROBE_CONTAINER}: no container {container!r} "
            f"(the pods have {', '.join(containers)})"
        )
    http_path = values.get(PROBE_HTTP_PATH)
    if http_path is not None and not http_path.startswith("/"):
        raise ManifestError(f"annotation {PROBE_HTTP_PATH} must start with '/'; got {http_path!r}")
    http_port = values.get(PROBE_HTTP_PORT)
    if http_port is not None and http_path is None:
        raise ManifestError(f"annotation {PROBE_HTTP_PORT} needs {PROBE_HTTP_PATH}: what to fetch")
    client_read = values.get(PROBE_CLIENT_READ)
    if client_read is not None and CLIENT_HOST_VARIABLE not in client_read:
        raise ManifestError(
            f"annotation {PROBE_CLIENT_READ} must read from ${CLIENT_HOST_VARIABLE}, the "
            f'replica the client asks (e.g. redis-cli -h "${CLIENT_HOST_VARIABLE}" GET key); '
            f"got {client_read!r}"
        )
    return ProbeDeclaration(
        container,
        write,
        read,
        http_path,
        http_port=http_port,
        declared=bool(values),
        client_read=client_read,
    )


def not_applicable(text: str) -> dict[str, str]:
    """Annotation stsconf.io/not-applicable read: `property: reason`, one a line."""
    found = {}
    for line in text.splitlines():
        name, colon, reason = (part.strip() for part in line.partition(":"))
        if not line.strip():
            continue
        if not (colon and name and reason):
            raise ManifestError(
                f"annotation {NOT_APPLICABLE}: expected `property: reason` on each line (the "
                f"reason is shown where the property is skipped); got {line.strip()!r}"
            )
        found[name.removeprefix("test_")] = reason
    return found


def image_name(image: str) -> str:
    """The name of an image without registry, path, tag or digest: redis:7.2 -> redis."""
    return image.split("@")[0].rsplit("/", 1)[-1].split(":")[0]


# Public image names the air-gapped build's images stand in for, where the two differ.
AIRGAP_ALIASES = {"busybox": "probe"}


def airgap_stand_in(image: str, airgap_images: Mapping[str, str]) -> str | None:
    """The air-gapped build's image for `image` (same name: redis:7.2 -> images.redis), if any."""
    name = image_name(image)
    return airgap_images.get(AIRGAP_ALIASES.get(name, name))


def default_image(manifest: Manifest, airgap_images: Mapping[str, str] | None) -> str:
    """The image under test when --image is not given: the manifest's own; in air-gapped mode
    the build's image of the same name (images.<name> in airgap.json)."""
    if not manifest.image:
        raise ManifestError(
            f"manifest {manifest.path}: container {manifest.container} has no image"
        )
    if airgap_images is None:
        return manifest.image
    stand_in = airgap_stand_in(manifest.image, airgap_images)
    if stand_in is None:
        raise ManifestError(
            f"--airgap: the manifest's image {manifest.image} has no air-gapped build "
            f"(no images.{image_name(manifest.image)} in airgap.json; built: "
            f"{', '.join(sorted(airgap_images))}); build or tag your own image and pass "
            "--image (see the README, 'Your own image without a registry')"
        )
    return stand_in


def airgap_images_of_others(manifest: Manifest, airgap_images: Mapping[str, str]) -> dict[str, str]:
    """In air-gapped mode, the image each container other than the one under test runs: the
    build's stand-in where there is one, else the manifest's own (it must be in Docker)."""
    return {
        entry.container: airgap_stand_in(entry.image, airgap_images) or entry.image
        for entry in manifest.pod_images
        if entry.container != manifest.container
    }


def load_manifest(
    path: Path, statefulset: str | None = None, container: str | None = None
) -> Manifest:
    """The StatefulSet under test (the only one, or the one named) from a file or directory,
    with the objects applied beside it; `container` names the container under test (default:
    the first)."""
    try:
        objects = read_objects(path)
    except ManifestFileError as error:
        raise ManifestError(str(error)) from None
    return parse_manifest(path, objects, statefulset, container)


def parse_manifest(
    path: Path,
    objects: Sequence[SourcedObject],
    statefulset_name: str | None = None,
    container: str | None = None,
) -> Manifest:
    under_test = _statefulset_under_test(path, objects, statefulset_name)
    where = f"StatefulSet {under_test.name} in {under_test.source}"
    spec = under_test.object.get("spec") or {}
    service_name = spec.get("serviceName")
    if not service_name:
        raise ManifestError(f"{where} has no spec.serviceName")
    plan = apply_plan(objects, under_test)
    services = [s.object for s in plan.applied if s.kind == "Service" and s.name == service_name]
    if not services:
        raise ManifestError(
            f"manifest {path}: the StatefulSet's service {service_name!r} "
            "(spec.serviceName) is not in the manifest"
        )
    containers = (spec.get("template") or {}).get("spec", {}).get("containers")
    if not containers:
        raise ManifestError(f"{where} has no containers")
    names = [str(c.get("name", "")) for c in containers]
    chosen = container or names[0]
    if chosen not in names:
        raise ManifestError(
            f"--container {chosen}: {where} has no such container (it has {', '.join(names)})"
        )
    manifest = Manifest(
        path=path,
        documents=tuple(item.object for item in plan.applied),
        statefulset=under_test.object,
        service=services[0],
        container=chosen,
        left_out=plan.left_out,
    )
    try:
        if probe_declaration(manifest.annotations, manifest.container_names).http_path:
            manifest.http_port  # noqa: B018 - a port that matches nothing fails here, not mid-test
    except ManifestError as error:
        raise ManifestError(f"{where}: {error}") from None
    return manifest


def _statefulset_under_test(
    path: Path, objects: Sequence[SourcedObject], name: str | None
) -> SourcedObject:
    statefulsets = [item for item in objects if item.kind == "StatefulSet"]
    names = ", ".join(item.name for item in statefulsets)
    if name is not None:
        chosen = [item for item in statefulsets if item.name == name]
        if not chosen:
            found = f"it has {names}" if statefulsets else "it has no StatefulSet"
            raise ManifestError(f"--statefulset {name}: no such StatefulSet in {path} ({found})")
        return chosen[0]
    if not statefulsets:
        raise ManifestError(f"manifest {path} must hold a StatefulSet; found no StatefulSet")
    if len(statefulsets) > 1:
        raise ManifestError(
            f"manifest {path} holds {len(statefulsets)} StatefulSets ({names}): "
            "pass --statefulset NAME to pick the one under test"
        )
    return statefulsets[0]

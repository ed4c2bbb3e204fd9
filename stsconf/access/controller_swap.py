"""Running another kube-controller-manager image on a kind cluster, and the real one again.

The controller-manager is a static pod: its manifest is a file in the control-plane node's
container, and the kubelet restarts the pod when the file changes. So a swap loads the image
into the node (`kind load docker-image`), writes the manifest with the new image (first to a
file beside it, then renamed over it: the kubelet never reads half a file), and waits, on
watches, until
  - the mirror pod kube-system/kube-controller-manager-NODE names the new image and is Ready,
  - and the Lease kube-system/kube-controller-manager is held by another holder than before,
    acquired after the new container started:
until then the old controller may still act. The real manifest is kept beside the live one
until it is back in place, so a run interrupted with a mutant in place is set right by the
next restore on that cluster.
"""

from __future__ import annotations

import re
import subprocess
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client

from stsconf.access import wait
from stsconf.access.cluster import ClusterUnavailable, load_image, run_tool
from stsconf.access.rest import Kube
from stsconf.access.watching import Recorder
from stsconf.model.timeline import api_datetime

Obj = dict[str, Any]

COMPONENT = "kube-controller-manager"
MANIFEST = f"/etc/kubernetes/manifests/{COMPONENT}.yaml"
# Outside the manifests directory, so the kubelet reads neither as a static pod.
STAGED = f"/etc/kubernetes/{COMPONENT}.yaml.stsconf-next"
REAL_COPY = f"/etc/kubernetes/{COMPONENT}.yaml.stsconf-real"
NAMESPACE = "kube-system"
SWAP_TIMEOUT = 240.0  # seconds: the kubelet restarts the pod, the lease (15 s) changes hands


class SwapFailed(RuntimeError):
    """The controller-manager did not come up as asked; the message says what was seen."""


# The manifest, as text


def manifest_image(text: str) -> str:
    """The image of the controller-manager container in its static pod manifest."""
    pod = yaml.safe_load(text)
    for container in pod["spec"]["containers"]:
        if container["name"] == COMPONENT:
            return str(container["image"])
    raise SwapFailed(f"no container {COMPONENT} in {MANIFEST}")


def with_image(text: str, image: str) -> str:
    """The manifest with the controller-manager's image replaced, the rest as it was."""
    current = manifest_image(text)
    pattern = re.compile(rf"^(\s*(?:-\s+)?image:\s*){re.escape(current)}\s*$", re.M)
    changed, count = pattern.subn(lambda match: match.group(1) + image, text)
    if count != 1:
        raise SwapFailed(f"{MANIFEST}: expected one `image: {current}` line, found {count}")
    return changed


# What the API shows


def started_with_image(pod: Obj, image: str) -> datetime | None:
    """When the mirror pod's controller-manager container started, if the pod names `image`
    and is Ready; None otherwise."""
    spec_images = [c.get("image") for c in pod.get("spec", {}).get("containers") or []]
    ready = any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in (pod.get("status") or {}).get("conditions") or []
    )
    if spec_images != [image] or not ready:
        return None
    for status in (pod.get("status") or {}).get("containerStatuses") or []:
        if status.get("name") == COMPONENT and status.get("ready"):
            return api_datetime(((status.get("state") or {}).get("running") or {}).get("startedAt"))
    return None


def holder(lease: Obj | None) -> str:
    return str(((lease or {}).get("spec") or {}).get("holderIdentity") or "")


def held_by_new_process(lease: Obj | None, previous_holder: str, started: datetime) -> bool:
    """The lease changed hands since `previous_holder`, to a process that acquired it after
    the new container started."""
    acquired = api_datetime(((lease or {}).get("spec") or {}).get("acquireTime"))
    return (
        holder(lease) not in ("", previous_holder) and acquired is not None and acquired >= started
    )


def describe_pods(pods: wait.Objects) -> str:
    rows = []
    for name, pod in sorted(pods.items()):
        images = [str(c.get("image")) for c in pod["spec"]["containers"]]
        ready = bool(images) and started_with_image(pod, images[0]) is not None
        rows.append(f"{name}: image {', '.join(images)}, {'Ready' if ready else 'not Ready'}")
    return "; ".join(rows) or "no controller-manager pod"


def describe_lease(lease: Obj | None) -> str:
    spec = (lease or {}).get("spec") or {}
    return f"holder {holder(lease) or '-'}, acquired {spec.get('acquireTime') or '-'}"


# The node


@dataclass(frozen=True)
class ControlPlane:
    """The controller-manager of a kind cluster this machine's Docker runs."""

    kube: Kube
    kind_bin: Path
    cluster: str

    @property
    def node(self) -> str:
        return f"{self.cluster}-control-plane"

    @property
    def mirror_pod(self) -> str:
        return f"{COMPONENT}-{self.node}"

    def image(self) -> str:
        return manifest_image(self.read(MANIFEST))

    def real_manifest(self) -> str:
        """The real controller-manager's manifest: the copy kept during a swap, else the
        live one."""
        return self.read(REAL_COPY) if self.exists(REAL_COPY) else self.read(MANIFEST)

    def run_image(self, image: str, timeout: float = SWAP_TIMEOUT) -> float:
        """Run `image` as the controller-manager; return how many seconds that took (loading
        the image into the node included)."""
        started = time.monotonic()
        live = self.read(MANIFEST)
        if manifest_image(live) == image:
            return 0.0
        if not self.exists(REAL_COPY):
            self.write(REAL_COPY, live)
        self.load([image])
        self.apply(with_image(live, image), image, timeout)
        return time.monotonic() - started

    def load(self, images: list[str]) -> None:
        """Load images into the node (those it has already are skipped)."""
        for image in images:
            load_image(self.kind_bin, self.cluster, image)

    def restore(self, timeout: float = SWAP_TIMEOUT) -> float:
        """Put the real controller-manager back (if it is not there already)."""
        real = self.real_manifest()
        seconds = 0.0
        if self.read(MANIFEST) != real:
            seconds = self.apply(real, manifest_image(real), timeout)
        self.remove(REAL_COPY)
        return seconds

    def apply(self, manifest: str, image: str, timeout: float) -> float:
        """Write `manifest` and wait until its image runs and holds the lease."""
        started = time.monotonic()
        pods = Recorder(
            self.kube.core.list_namespaced_pod,
            namespace=NAMESPACE,
            field_selector=f"metadata.name={self.mirror_pod}",
        )
        leases = Recorder(
            client.CoordinationV1Api(self.kube.api_client).list_namespaced_lease,
            namespace=NAMESPACE,
            field_selector=f"metadata.name={COMPONENT}",
        )
        with pods, leases:
            previous = holder(leases.snapshot()[0].get(COMPONENT))
            self.write(STAGED, manifest)
            self.docker_exec(["mv", STAGED, MANIFEST])
            wait.wait_on_watch(
                pods,
                lambda objects: (
                    self.mirror_pod in objects
                    and started_with_image(objects[self.mirror_pod], image) is not None
                ),
                expected=f"{self.mirror_pod} Ready with image {image}",
                seen=describe_pods,
                timeout=timeout,
            )
            container_started = started_with_image(pods.snapshot()[0][self.mirror_pod], image)
            assert container_started is not None
            wait.wait_on_watch(
                leases,
                lambda objects: held_by_new_process(
                    objects.get(COMPONENT), previous, container_started
                ),
                expected=f"Lease {NAMESPACE}/{COMPONENT} held by a new holder (before: "
                f"{previous or 'none'}) that acquired it after {container_started:%H:%M:%S}",
                seen=lambda objects: describe_lease(objects.get(COMPONENT)),
                timeout=max(1.0, timeout - (time.monotonic() - started)),
            )
        return time.monotonic() - started

    # Files in the node's container

    def docker_exec(self, command: list[str], stdin: str | None = None) -> str:
        done = subprocess.run(
            ["docker", "exec", "-i", self.node, *command],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if done.returncode != 0:
            raise ClusterUnavailable(
                f"`docker exec {self.node} {' '.join(command)}` failed: "
                f"{done.stderr.strip() or done.stdout.strip()}; is kind cluster {self.cluster!r} "
                f"running (`docker ps`, `{self.kind_bin} get clusters`)?"
            )
        return done.stdout

    def read(self, path: str) -> str:
        return self.docker_exec(["cat", path])

    def exists(self, path: str) -> bool:
        return self.docker_exec(["sh", "-c", f"test -e {path} && echo yes || true"]) == "yes\n"

    def write(self, path: str, text: str) -> None:
        self.docker_exec(["sh", "-c", f"cat > {path}"], stdin=text)

    def remove(self, path: str) -> None:
        self.docker_exec(["rm", "-f", path])


def kind_clusters(kind_bin: Path) -> list[str]:
    return run_tool([str(kind_bin), "get", "clusters"]).split()

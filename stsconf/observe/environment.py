"""What the report says about where the suite ran, beyond what the cluster's API tells."""

from __future__ import annotations

import subprocess

from kubernetes.client.exceptions import ApiException

from stsconf.access.rest import Kube, list_items

DOCKER_TIMEOUT = 30  # seconds for one `docker inspect`


def node_container_images(kube: Kube) -> str:
    """The image of each kind node container, as Docker reports it; "" when Docker knows none
    of the nodes (a cluster elsewhere, or no Docker)."""
    try:
        nodes = list_items(lambda _, **kw: kube.core.list_node(**kw), "")
    except ApiException:
        return ""
    names = [str(node["metadata"]["name"]) for node in nodes]
    return "; ".join(f"{name}: {image}" for name in names if (image := container_image(name)))


def container_image(container: str) -> str:
    """The image a Docker container was created from, or "" if there is no such container."""
    try:
        result = subprocess.run(
            [
                "docker",
                "inspect",
                "--type",
                "container",
                "--format",
                "{{.Config.Image}}",
                container,
            ],
            capture_output=True,
            text=True,
            timeout=DOCKER_TIMEOUT,
            check=False,
        )
    except (FileNotFoundError, subprocess.TimeoutExpired):
        return ""
    return result.stdout.strip() if result.returncode == 0 else ""

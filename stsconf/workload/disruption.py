"""Disruptions of a kind node, done from this machine with `docker`: kind's node containers
are named after their nodes. Each disruption is a context manager that undoes it on the way
out, whatever happened inside (the node restarted, its kubelet started again, unpaused).

The tolerations here let the pods a disruption test deploys be evicted from an unreachable
or not-ready node within seconds rather than Kubernetes' default five minutes.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from stsconf.model.expectations import expect

DOCKER_TIMEOUT = 120  # seconds for one docker command (a restart waits for systemd to stop)
KIND_CLUSTER_LABEL = "io.x-k8s.kind.cluster"
EVICTION_TAINTS = ("node.kubernetes.io/unreachable", "node.kubernetes.io/not-ready")


def short_tolerations(seconds: int) -> list[dict[str, Any]]:
    """Tolerations that keep a pod on an unreachable or not-ready node only `seconds`."""
    return [
        {"key": key, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": seconds}
        for key in EVICTION_TAINTS
    ]


def docker(*argv: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            ["docker", *argv], capture_output=True, text=True, timeout=DOCKER_TIMEOUT, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return subprocess.CompletedProcess(["docker", *argv], -1, "", str(error))


def nodes_not_kind_containers(nodes: Sequence[str]) -> list[str]:
    """The nodes that are not a kind node container this machine's Docker runs."""
    label = f'{{{{ index .Config.Labels "{KIND_CLUSTER_LABEL}" }}}}'
    return [node for node in nodes if not docker("inspect", "--format", label, node).stdout.strip()]


def run_docker(what: str, *argv: str) -> None:
    done = docker(*argv)
    expect(
        done.returncode == 0,
        what,
        f"`docker {' '.join(argv)}` to succeed",
        f"exit {done.returncode}: {done.stderr.strip()}",
    )


def restart_node(node: str) -> None:
    """Restart the node's container: every process on it stops, and systemd starts again."""
    run_docker(f"restart node {node}", "restart", node)


def stop_kubelet(node: str) -> None:
    run_docker(f"stop the kubelet on {node}", "exec", node, "systemctl", "stop", "kubelet")


def start_kubelet(node: str) -> None:
    run_docker(f"start the kubelet on {node}", "exec", node, "systemctl", "start", "kubelet")


@contextmanager
def kubelet_stopped(node: str) -> Iterator[None]:
    """The node's kubelet stopped (its containers keep running, nothing reports on them);
    started again on the way out."""
    stop_kubelet(node)
    try:
        yield
    except BaseException as failure:
        # the test's own failure is the one to report; a kubelet that won't start is a note
        try:
            start_kubelet(node)
        except Exception as also:  # noqa: BLE001 - any error here is secondary
            failure.add_note(f"also, starting the kubelet on {node} again failed: {also}")
        raise
    start_kubelet(node)


@contextmanager
def node_running_again(node: str) -> Iterator[None]:
    """Around a restart or pause of the node: on the way out the container is unpaused and
    running, whatever happened inside."""
    try:
        yield
    finally:
        docker("unpause", node)  # fails harmlessly when it is not paused
        if docker("inspect", "--format", "{{.State.Running}}", node).stdout.strip() != "true":
            docker("start", node)

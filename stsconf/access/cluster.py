"""Getting a cluster to test: Docker and kind checks, kubeconfig repair, image loading."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from kubernetes.client.exceptions import ApiException

from stsconf.access.rest import Kube, list_items

COMMAND_TIMEOUT = 600  # seconds, for kind load and friends


class ClusterUnavailable(RuntimeError):
    """No usable cluster; the message is one line meant for the user."""


@dataclass(frozen=True)
class ClusterInfo:
    kubeconfig: Path
    server: str
    server_version: str
    kind_version: str
    node_image: str
    created_by: str  # "kind (pytest-kind)" or "existing kubeconfig"


def last_line(text: str) -> str:
    """The last line of `text` that is not blank (where tools put their error), stripped."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""


def docker_problem() -> str | None:
    """Why Docker cannot run kind nodes, or None when it can."""
    try:
        result = subprocess.run(
            ["docker", "info", "--format", "{{.ServerVersion}}"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except FileNotFoundError:
        return "Docker is not installed (no `docker` command); kind needs a running Docker engine"
    except subprocess.TimeoutExpired:
        return "Docker did not answer `docker info` within 60s; is the engine running?"
    if result.returncode != 0:
        return f"Docker is not running: {last_line(result.stderr) or 'docker info failed'}"
    return None


def run_tool(command: list[str]) -> str:
    """Run a command line tool; on failure raise ClusterUnavailable with its last error line."""
    try:
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=COMMAND_TIMEOUT, check=False
        )
    except FileNotFoundError as error:
        raise ClusterUnavailable(f"{command[0]} not found") from error
    except subprocess.TimeoutExpired as error:
        raise ClusterUnavailable(f"`{' '.join(command)}` took over {COMMAND_TIMEOUT}s") from error
    if result.returncode != 0:
        reason = last_line(result.stderr) or last_line(result.stdout)
        raise ClusterUnavailable(f"`{' '.join(command[:3])} ...` failed: {reason}")
    return result.stdout


def kind_version(kind_bin: Path) -> str:
    try:
        return run_tool([str(kind_bin), "version"]).split()[1]
    except (ClusterUnavailable, IndexError):
        return "unknown"


def repair_kubeconfig(kind_bin: Path, cluster_name: str, kubeconfig: Path) -> None:
    """pytest-kind fills the kubeconfig only when it creates the cluster, and fails on an
    empty one when it reuses a cluster: write kind's kubeconfig for an existing cluster."""
    if kubeconfig.exists() and kubeconfig.stat().st_size > 0:
        return
    if cluster_name not in run_tool([str(kind_bin), "get", "clusters"]).split():
        return  # pytest-kind will create it and write the kubeconfig
    text = run_tool([str(kind_bin), "get", "kubeconfig", "--name", cluster_name])
    kubeconfig.parent.mkdir(parents=True, exist_ok=True)
    kubeconfig.write_text(text)
    kubeconfig.chmod(0o600)


def docker_has_image(image: str) -> bool:
    result = subprocess.run(
        ["docker", "image", "inspect", image], capture_output=True, timeout=60, check=False
    )
    return result.returncode == 0


def load_image(kind_bin: Path, cluster_name: str, image: str) -> None:
    run_tool([str(kind_bin), "load", "docker-image", "--name", cluster_name, image])


def connect(kubeconfig: Path) -> Kube:
    """A client for the cluster in `kubeconfig`, proven reachable by reading its version."""
    try:
        kube = Kube(kubeconfig)
    except Exception as error:
        raise ClusterUnavailable(f"cannot use kubeconfig {kubeconfig}: {error}") from error
    kube.api_client.configuration.retries = 1
    try:
        kube.server_version()
    except ApiException as error:
        raise ClusterUnavailable(
            f"cluster at {kube.server_address()} refused the version request: "
            f"{error.status} {error.reason}"
        ) from error
    except Exception as error:
        raise ClusterUnavailable(
            f"cannot reach the cluster at {kube.server_address()} (from {kubeconfig}): "
            f"{connection_problem(error)}; check that the cluster is running (for kind: "
            "`kind get clusters`, `docker ps`) and that the kubeconfig's server address and "
            "credentials are current"
        ) from error
    return kube


def connection_problem(error: BaseException) -> str:
    """What went wrong on the way to the API server, in words: the innermost cause of a
    urllib3 retry error (refused, timed out, name not resolved, TLS) rather than its class."""
    reason: BaseException | None = error
    while reason is not None and getattr(reason, "reason", None) is not None:
        inner = reason.reason  # type: ignore[attr-defined]
        if not isinstance(inner, BaseException):
            break
        reason = inner
    text = str(reason or error)
    for needle, words in CONNECTION_PROBLEMS:
        if needle in text:
            return words
    return f"{type(reason).__name__}: {text}" if text else type(error).__name__


CONNECTION_PROBLEMS = (
    ("Connection refused", "connection refused (nothing listens at that address)"),
    ("timed out", "the connection timed out"),
    ("Name or service not known", "the server's host name does not resolve"),
    ("No route to host", "no route to the server's host"),
    ("CERTIFICATE_VERIFY_FAILED", "its TLS certificate is not the one the kubeconfig trusts"),
)


def describe_nodes(kube: Kube) -> str:
    """One line per node: name, kubelet, container runtime and OS, as the nodes report them."""
    try:
        nodes = list_items(lambda _, **kw: kube.core.list_node(**kw), "")
    except ApiException as error:
        return f"(cannot list nodes: {error.reason})"
    lines = []
    for node in nodes:
        info = (node.get("status") or {}).get("nodeInfo") or {}
        lines.append(
            f"{node['metadata']['name']}: kubelet {info.get('kubeletVersion')}, "
            f"{info.get('containerRuntimeVersion')}, {info.get('osImage')}"
        )
    return "; ".join(lines)

"""The cluster under test, a session fixture: an existing one (--existing-kubeconfig), or a kind
cluster created with the images the pods need loaded into it. Without a usable cluster the
first test errors saying why, and the run stops."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import NoReturn

import pytest

from stsconf.access import cluster as clusters
from stsconf.access.cluster import ClusterInfo, ClusterUnavailable
from stsconf.access.rest import Kube
from stsconf.access.setup_progress import setup_step
from stsconf.observe.environment import node_container_images
from stsconf.settings import Settings, describe_environment


@dataclass
class Cluster:
    kube: Kube
    info: ClusterInfo
    # module node id -> namespace, to find where to look when a test fails
    namespaces: dict[str, str] = field(default_factory=dict)


CLUSTER = pytest.StashKey[Cluster]()
STOPPED = pytest.StashKey[str]()  # why the run stopped before testing anything
NO_CLUSTER_EXIT = 3


@pytest.fixture(scope="session")
def cluster(request: pytest.FixtureRequest, settings: Settings) -> Iterator[Cluster]:
    """The cluster under test: an existing one, or kind's (created unless it exists)."""
    try:
        if settings.existing_kubeconfig:
            info = _existing_cluster(settings.existing_kubeconfig)
        else:
            info = _kind_cluster(request, settings)
        kube = clusters.connect(info.kubeconfig)
        info = _with_server_version(info, kube)
    except ClusterUnavailable as error:
        unavailable = f"stsconf: {error}"
    else:
        unavailable = ""
    if unavailable:
        stop_before_testing(request, unavailable)
    describe_environment(
        request.config,
        {
            "Cluster": info.created_by,
            "Kubernetes server": f"{info.server_version} at {info.server}",
            "kind": info.kind_version,
            "Node image": node_container_images(kube) or info.node_image,
            "Nodes": clusters.describe_nodes(kube),
        },
    )
    record_server = request.getfixturevalue("record_testsuite_property")
    record_server("kubernetes_server_version", info.server_version)
    handle = Cluster(kube, info)
    request.config.stash[CLUSTER] = handle
    yield handle
    del request.config.stash[CLUSTER]


def stop_before_testing(request: pytest.FixtureRequest, reason: str) -> NoReturn:
    """No cluster to test: the first test errors with the reason (so the JUnit file and the
    report say why), the run stops after it, and pytest exits with NO_CLUSTER_EXIT."""
    request.config.stash[STOPPED] = reason
    request.session.shouldstop = reason
    pytest.fail(reason, pytrace=False)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    if STOPPED in session.config.stash:
        session.exitstatus = NO_CLUSTER_EXIT


def _existing_cluster(kubeconfig: Path) -> ClusterInfo:
    return ClusterInfo(
        kubeconfig=kubeconfig,
        server="",  # filled in once connected
        server_version="",
        kind_version="n/a (existing cluster)",
        node_image="n/a (existing cluster)",
        created_by=f"existing kubeconfig {kubeconfig}",
    )


def _kind_cluster(request: pytest.FixtureRequest, settings: Settings) -> ClusterInfo:
    problem = clusters.docker_problem()
    if problem:
        raise ClusterUnavailable(problem)
    option = request.config.option
    kind_bin = Path(option.kind_bin) if option.kind_bin else None
    if kind_bin is None or not kind_bin.is_file():
        raise ClusterUnavailable("no kind binary: put kind on PATH, or pass --kind-bin or --airgap")
    images = images_to_load(settings)
    missing = [image for image in images if not clusters.docker_has_image(image)]
    if settings.airgap and missing:
        raise ClusterUnavailable(missing_images_message(settings, missing))
    # where pytest-kind keeps the kubeconfig (its own default unless --kubeconfig)
    kubeconfig = Path(
        option.kubeconfig or Path(".pytest-kind") / option.cluster_name / "kubeconfig"
    )
    clusters.repair_kubeconfig(kind_bin, option.cluster_name, kubeconfig.resolve())
    try:
        kind = request.getfixturevalue("kind_cluster")
    except subprocess.CalledProcessError as error:
        reason = _last_captured_error_line(request.config) or f"exit {error.returncode}"
        raise ClusterUnavailable(
            f"kind could not create cluster {option.cluster_name!r}: {reason}"
        ) from None
    for image in images:
        if image not in missing:
            with setup_step(request.config, f"loading image {image} into {kind.name!r}"):
                clusters.load_image(kind_bin, kind.name, image)
    return ClusterInfo(
        kubeconfig=Path(kind.kubeconfig_path).resolve(),
        server="",
        server_version="",
        kind_version=clusters.kind_version(kind_bin),
        node_image=option.kind_image or "kind's default",
        created_by=f"kind cluster {kind.name!r} (pytest-kind)",
    )


def images_to_load(settings: Settings) -> list[str]:
    """Every image the pods and the suite's probe pod run, in that order, once each: kind
    loads those Docker has. With --registry-*, the nodes pull the image under test instead."""
    under_test = [] if settings.pull_credentials else [settings.image]
    others = [entry.image for entry in settings.manifest.pod_images]
    return list(dict.fromkeys([*under_test, *others, settings.probe_image]))


def missing_images_message(settings: Settings, missing: list[str]) -> str:
    """Which images are not in Docker, whose they are, and how to provide each."""
    lines = []
    users = {entry.image: entry for entry in settings.manifest.pod_images}
    for image in missing:
        if image == settings.probe_image and image not in users:
            whose, how = "the probe pod's", "run `python -m airgap build`, or pass --probe-image"
        else:
            entry = users[image]
            kind = "init container" if entry.init else "container"
            role = "the image under test" if image == settings.image else "as the manifest names it"
            whose = f"{kind} {entry.container}, {role}"
            how = (
                f"build it (`docker build -t {image} DIR`) or tag one you have (`docker tag "
                f"SOURCE {image}`); see the README, 'Your own image without a registry'"
            )
        lines.append(f"{image} ({whose}): {how}")
    return (
        "images missing in Docker (nothing can be pulled in air-gapped mode; `docker images` "
        "lists what Docker has): " + "; ".join(lines)
    )


def _last_captured_error_line(config: pytest.Config) -> str:
    """pytest-kind lets kind write to our stderr; pick kind's own ERROR line out of it."""
    capture = config.pluginmanager.getplugin("capturemanager")
    if capture is None:
        return ""
    _, err = capture.read_global_capture()
    errors = [line for line in err.splitlines() if line.startswith("ERROR:")]
    return errors[-1] if errors else clusters.last_line(err)


def _with_server_version(info: ClusterInfo, kube: Kube) -> ClusterInfo:
    return replace(info, server=kube.server_address(), server_version=kube.server_version())


@pytest.fixture(scope="session")
def load_image(
    request: pytest.FixtureRequest, cluster: Cluster, settings: Settings
) -> Callable[[str], None]:
    """Load a Docker image into the kind cluster this session created, as the images under
    test are (e.g. an example's); on an existing cluster, images are its owner's business."""
    option = request.config.option

    def load(image: str) -> None:
        if settings.existing_kubeconfig is None and clusters.docker_has_image(image):
            clusters.load_image(Path(option.kind_bin), option.cluster_name, image)

    return load

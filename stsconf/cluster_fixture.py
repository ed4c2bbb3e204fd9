"""The cluster under test, a session fixture: an existing one (--existing-kubeconfig), or a kind
cluster created with the images the pods need loaded into it. Without a usable cluster the
first test errors saying why, and the run stops."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, NoReturn

import pytest
from _pytest import junitxml

from stsconf.access import cluster as clusters
from stsconf.access.cluster import ClusterInfo, ClusterUnavailable
from stsconf.access.kind_config import create_cluster, kind_cluster_of
from stsconf.access.rest import Kube
from stsconf.access.run_cluster import (
    RunCluster,
    SetupStep,
    refusal,
    shared_cluster,
)
from stsconf.access.setup_progress import setup_step
from stsconf.observe.environment import node_container_images
from stsconf.run_plugin import charge_run_setup, is_controller, run_cluster, run_context
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
CLUSTER_TIMEOUT = 900.0  # seconds a worker waits while another gets the run's cluster


@pytest.fixture(scope="session")
def cluster(request: pytest.FixtureRequest, settings: Settings) -> Iterator[Cluster]:
    """The cluster under test: an existing one, or kind's, got once for all of the run's
    workers (see stsconf.run_plugin)."""
    config = request.config
    started = time.monotonic()
    tried: list[bool] = []  # whether this worker was the one that tried to get it

    def get() -> RunCluster:
        tried.append(True)
        return _get_cluster(config, settings)

    got = shared_cluster(run_context(config).path, get, CLUSTER_TIMEOUT)
    charge_run_setup(config, time.monotonic() - started)
    if got.unavailable or got.info is None:
        reason = got.unavailable or "stsconf: no cluster"
        if not tried:  # the worker that tried has said why, once for the run
            request.session.shouldstop = reason
            pytest.skip(f"not run: there is no cluster ({reason})")
        stop_before_testing(request, reason)
    info = got.info
    try:
        kube = clusters.connect(info.kubeconfig)
    except ClusterUnavailable as error:
        stop_before_testing(request, f"stsconf: {error}")
    describe_environment(
        config,
        {
            "Cluster": info.created_by,
            "Kubernetes server": f"{info.server_version} at {info.server}",
            "kind": info.kind_version,
            "Node image": node_container_images(kube) or info.node_image,
            "Nodes": clusters.describe_nodes(kube),
        },
    )
    handle = Cluster(kube, info)
    config.stash[CLUSTER] = handle
    yield handle
    del config.stash[CLUSTER]


def _get_cluster(config: pytest.Config, settings: Settings) -> RunCluster:
    """The first worker's errand: the cluster, or why there is none (said once, for all)."""
    steps: list[SetupStep] = []
    created: list[bool] = []  # set once this run has created the cluster: then it deletes it
    info = None
    try:
        if settings.existing_kubeconfig:
            info = _existing_cluster(settings.existing_kubeconfig)
        else:
            info = _kind_cluster(config, settings, steps, created)
        info = _with_server_version(info, clusters.connect(info.kubeconfig))
    except ClusterUnavailable as error:
        return RunCluster(info, bool(created), tuple(steps), unavailable=f"stsconf: {error}")
    return RunCluster(info, bool(created), tuple(steps))


def stop_before_testing(request: pytest.FixtureRequest, reason: str) -> NoReturn:
    """No cluster to test: the first test errors with the reason (so the JUnit file and the
    report say why), the run stops after it, and pytest exits with NO_CLUSTER_EXIT."""
    request.config.stash[STOPPED] = reason
    request.session.shouldstop = reason
    pytest.fail(reason, pytrace=False)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """On the controller, from what the run's first worker got: the server version into the
    JUnit file, and a run without a cluster exits with NO_CLUSTER_EXIT."""
    config = session.config
    got = run_cluster(config) if is_controller(config) else None
    if got is not None and got.info is not None and got.info.server_version:
        xml = config.stash.get(junitxml.xml_key, None)
        if xml is not None:
            xml.add_global_property("kubernetes_server_version", got.info.server_version)
    if got is not None and got.unavailable:
        config.stash[STOPPED] = got.unavailable
    if STOPPED in config.stash:
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


def _kind_cluster(
    config: pytest.Config, settings: Settings, steps: list[SetupStep], created: list[bool]
) -> ClusterInfo:
    """kind's cluster of --cluster-name: created by this run (then `created` says so, also
    when a later step fails), or one it found and was allowed to reuse (--reuse-cluster,
    --keep-cluster)."""
    problem = clusters.docker_problem()
    if problem:
        raise ClusterUnavailable(problem)
    option = config.option
    kind_bin = Path(option.kind_bin) if option.kind_bin else None
    if kind_bin is None or not kind_bin.is_file():
        raise ClusterUnavailable("no kind binary: put kind on PATH, or pass --kind-bin or --airgap")
    images = images_to_load(settings)
    missing = [image for image in images if not clusters.docker_has_image(image)]
    if settings.airgap and missing:
        raise ClusterUnavailable(missing_images_message(settings, missing))
    name = option.cluster_name
    found = name in clusters.run_tool([str(kind_bin), "get", "clusters"]).split()
    reuse = option.reuse_cluster or option.keep_cluster
    problem = refusal(name, kind_bin, busy=run_context(config).name_busy, found=found, reuse=reuse)
    if problem:
        raise ClusterUnavailable(problem)
    kind = kind_cluster_of(option)
    if found:
        clusters.repair_kubeconfig(kind_bin, name, kind.kubeconfig_path.resolve())
    else:
        image = f" from {option.kind_image}" if option.kind_image else ""
        with timed_step(config, f"creating kind cluster {name!r}{image}", steps):
            _create(config, option)
        created.append(True)
    for image in images:
        if image not in missing:
            with timed_step(config, f"loading image {image} into {name!r}", steps):
                clusters.load_image(kind_bin, name, image)
    made = "created by this run" if not found else "found, reused as asked, kept"
    info = ClusterInfo(
        kubeconfig=kind.kubeconfig_path.resolve(),
        server="",
        server_version="",
        kind_version=clusters.kind_version(kind_bin),
        node_image=option.kind_image or "kind's default",
        created_by=f"kind cluster {name!r} ({made})",
    )
    return info


def _create(config: pytest.Config, option: Any) -> None:
    try:
        create_cluster(option)
    except subprocess.CalledProcessError as error:
        reason = _last_captured_error_line(config) or f"exit {error.returncode}"
        raise ClusterUnavailable(
            f"kind could not create cluster {option.cluster_name!r}: {reason}"
        ) from None


@contextmanager
def timed_step(config: pytest.Config, what: str, steps: list[SetupStep]) -> Iterator[None]:
    """A step of the run's set-up: said on the terminal, and its seconds kept for the report."""
    started = time.monotonic()
    with setup_step(config, what):
        yield
    steps.append(SetupStep(what, round(time.monotonic() - started, 1)))


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

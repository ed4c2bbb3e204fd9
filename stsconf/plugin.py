"""pytest plugin: options, the cluster, one namespace per module, and report extras."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import pytest

from stsconf.access import cluster as clusters
from stsconf.access import kind_fixture, resources
from stsconf.access.airgap import DEFAULT_AIRGAP_FILE, Airgap, AirgapError, load_airgap
from stsconf.access.cluster import ClusterInfo, ClusterUnavailable
from stsconf.access.kind_config import merged_gates
from stsconf.access.namespaces import create_fresh_namespace, delete_namespace, wait_until_gone
from stsconf.access.pull_secret import (
    PullSecretError,
    RegistryCredentials,
    create_pull_secret,
    credentials_from_options,
    with_pull_secret,
)
from stsconf.access.rest import Kube
from stsconf.access.setup_progress import setup_step
from stsconf.checks.declared import RequireError, parse_required
from stsconf.model.manifest import (
    Manifest,
    ManifestError,
    airgap_images_of_others,
    default_image,
    load_manifest,
)
from stsconf.observe.diagnostics import namespace_sections
from stsconf.observe.environment import node_container_images
from stsconf.observe.probe import Probe
from stsconf.report.matrix import GUARANTEES, RunResults, matrix_html, record_report
from stsconf.report.observations import (
    Observations,
    diagnostics_extra,
    failure_extra,
    manifest_html,
    report_style,
    stopped_html,
    to_extras,
)
from stsconf.workload.statefulset import StatefulSetUnderTest, Timeouts

DEFAULT_MANIFEST = resources.DEFAULT_MANIFEST  # in the checkout or the installed package
DEFAULT_PROBE_IMAGE = "busybox:1.36"
REPORT_TITLE = "StatefulSet guarantees on a kind cluster"

pytest_plugins = [
    "stsconf.registry_plugin",  # --registry-* options, password leak check
    "stsconf.lifecycle_plugin",
    "stsconf.nodes_plugin",  # --nodes
]


@dataclass(frozen=True)
class Settings:
    manifest: Manifest  # with the image under test substituted
    image: str
    probe_image: str
    airgap: Airgap | None
    existing_kubeconfig: Path | None
    keep_namespaces: bool
    timeouts: Timeouts
    # --registry-*: a pull secret in each namespace, listed in the StatefulSet
    pull_credentials: RegistryCredentials | None = None
    # --require: properties that fail when the manifest opts out of them (see checks/declared.py)
    required: frozenset[str] = frozenset()


@dataclass
class Cluster:
    kube: Kube
    info: ClusterInfo
    # module node id -> namespace, to find where to look when a test fails
    namespaces: dict[str, str] = field(default_factory=dict)


SETTINGS = pytest.StashKey[Settings]()
CLUSTER = pytest.StashKey[Cluster]()
OBSERVATIONS = pytest.StashKey[Observations]()
RESULTS = pytest.StashKey[RunResults]()
STOPPED = pytest.StashKey[str]()  # why the run stopped before testing anything
NO_CLUSTER_EXIT = 3


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("stsconf", "StatefulSet conformance")
    group.addoption(
        "--manifest",
        type=Path,
        default=DEFAULT_MANIFEST,
        help="YAML file or directory (e.g. `helm template --output-dir`) with the StatefulSet "
        "under test, its Service and the objects its pods need",
    )
    group.addoption(
        "--statefulset",
        default=None,
        metavar="NAME",
        help="the StatefulSet under test, when the manifest holds several",
    )
    group.addoption(
        "--container",
        default=None,
        metavar="NAME",
        help="the container under test, whose image --image replaces (default: the first)",
    )
    group.addoption(
        "--image",
        default=None,
        help="image for the container under test (default: the manifest's own image; "
        "with --airgap, the build's image of that name); other containers keep theirs",
    )
    group.addoption(
        "--probe-image",
        default=None,
        help=f"image with sh, nslookup and wget (default {DEFAULT_PROBE_IMAGE})",
    )
    group.addoption(
        "--airgap",
        action="store_true",
        help="use the air-gapped kind build: its kind, node image and images",
    )
    group.addoption(
        "--airgap-file",
        type=Path,
        default=DEFAULT_AIRGAP_FILE,
        help="description of the air-gapped build (default %(default)s)",
    )
    group.addoption(
        "--existing-kubeconfig",
        type=Path,
        default=None,
        help="test the cluster in this kubeconfig instead of creating one with kind",
    )
    group.addoption(
        "--keep-namespaces",
        action="store_true",
        help="leave the test namespaces (and their claims) behind for inspection",
    )
    group.addoption(
        "--pod-timeout",
        type=positive(float),
        default=Timeouts.pods,
        help="seconds to wait for pods to start, stop or be replaced",
    )
    group.addoption(
        "--selftest-workers",
        type=positive(int),
        default=6,
        help="self-tests: how many broken-manifest runs go on at once (default %(default)s)",
    )
    group.addoption(
        "--dns-timeout",
        type=positive(float),
        default=Timeouts.dns,
        help="seconds to wait for DNS to agree with the API",
    )
    group.addoption(
        "--require",
        action="append",
        default=[],
        metavar="ID[,ID...]",
        help="fail these properties when the manifest opts out of them (e.g. ordered_startup "
        "under podManagementPolicy Parallel) instead of asserting the form it declares",
    )


def positive(number: Callable[[str], float]) -> Callable[[str], float]:
    """An option type that accepts only numbers above zero (anything else is a usage error)."""

    def parse(text: str) -> float:
        try:
            value = number(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be above zero; got {text}")
        return value

    parse.__name__ = number.__name__
    return parse


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "conformance: asserts a StatefulSet guarantee on a cluster")
    config.addinivalue_line("markers", "selftest: runs the suite against broken manifests")
    try:
        settings = _settings(config)
    except (ManifestError, AirgapError, PullSecretError, RequireError) as error:
        raise pytest.UsageError(str(error)) from None
    config.stash[SETTINGS] = settings
    kind_fixture.register(config)  # overrides pytest-kind's kind_cluster, whatever the order
    _describe_environment(
        config,
        {
            "Manifest": str(settings.manifest.path),
            "StatefulSet under test": settings.manifest.statefulset_name,
            "Image under test": f"{settings.image} (container {settings.manifest.container})",
            **_other_images_entry(settings.manifest),
            "Probe image": settings.probe_image,
            **_airgap_entries(settings.airgap),
            **_feature_gate_entries(merged_gates(config.option.feature_gates)),
            **_pull_secret_entries(settings.pull_credentials),
        },
    )


def _settings(config: pytest.Config) -> Settings:
    option = config.option
    if option.kubernetes and not option.airgap:
        raise AirgapError(
            "--kubernetes picks a node image of the air-gapped build: add --airgap, or pass "
            "--kind-image with kind's own node image of that minor"
        )
    airgap = load_airgap(option.airgap_file, option.kubernetes) if option.airgap else None
    if airgap:
        option.kind_bin = option.kind_bin or str(airgap.kind_bin)
        option.kind_image = option.kind_image or airgap.node_image
        option.kind_kubectl_bin = option.kind_kubectl_bin or str(airgap.kubectl_bin)
    option.kind_bin = option.kind_bin or shutil.which("kind")
    option.kind_kubectl_bin = option.kind_kubectl_bin or shutil.which("kubectl")
    manifest = load_manifest(option.manifest, option.statefulset, option.container)
    image = option.image or default_image(manifest, airgap.images if airgap else None)
    probe_image = option.probe_image or (airgap.probe_image if airgap else DEFAULT_PROBE_IMAGE)
    existing = option.existing_kubeconfig
    if existing is not None and not existing.is_file():
        raise ManifestError(f"--existing-kubeconfig: {existing} does not exist")
    credentials = credentials_from_options(
        option.registry_server, option.registry_user, option.registry_password_env, os.environ
    )
    if airgap:  # nothing is pulled: every container runs an image kind loads
        manifest = manifest.with_container_images(airgap_images_of_others(manifest, airgap.images))
    manifest = manifest.with_image(image)
    return Settings(
        manifest=with_pull_secret(manifest) if credentials else manifest,
        image=image,
        probe_image=probe_image,
        airgap=airgap,
        existing_kubeconfig=existing,
        keep_namespaces=option.keep_namespaces,
        timeouts=Timeouts(pods=option.pod_timeout, dns=option.dns_timeout),
        pull_credentials=credentials,
        required=parse_required(option.require, [g.property_id for g in GUARANTEES]),
    )


def _other_images_entry(manifest: Manifest) -> dict[str, str]:
    others = [
        f"{'init container' if entry.init else 'container'} {entry.container}: {entry.image}"
        for entry in manifest.pod_images
        if entry.container != manifest.container
    ]
    return {"Other containers' images": "; ".join(others)} if others else {}


def pytest_report_header(config: pytest.Config) -> list[str]:
    """What of the manifest's files is not applied, and why, before anything runs."""
    settings = config.stash.get(SETTINGS, None)
    if settings is None or not settings.manifest.left_out:
        return []
    return ["stsconf: not applied from the manifest:", *settings.manifest.left_out]


def _airgap_entries(airgap: Airgap | None) -> dict[str, str]:
    if airgap is None:
        return {}
    summary = (
        f"kind {airgap.kind_version}, Kubernetes {airgap.kubernetes_version}, "
        f"node image {airgap.node_image} (minors built: {', '.join(airgap.built_minors)})"
    )
    return {"Air-gapped build": summary}


def _feature_gate_entries(gates: dict[str, bool]) -> dict[str, str]:
    """The gates the suite gives the clusters it creates (kind's own defaults otherwise)."""
    listed = ", ".join(f"{name}={str(on).lower()}" for name, on in sorted(gates.items()))
    return {"Feature gates": listed} if listed else {}


def _pull_secret_entries(credentials: RegistryCredentials | None) -> dict[str, str]:
    return {"Pull secret": credentials.describe()} if credentials else {}


def _describe_environment(config: pytest.Config, entries: dict[str, str]) -> None:
    try:
        from pytest_metadata.plugin import metadata_key
    except ImportError:
        return
    if metadata_key in config.stash:
        config.stash[metadata_key].update(entries)


@pytest.hookimpl(optionalhook=True)
def pytest_html_report_title(report: Any) -> None:
    report.title = REPORT_TITLE


@pytest.hookimpl(optionalhook=True)
def pytest_html_results_summary(prefix: list[str], session: pytest.Session) -> None:
    """The property matrix (from this run's outcomes) and the manifest, above all else."""
    config = session.config
    results = config.stash.get(RESULTS, RunResults())
    stopped = config.stash.get(STOPPED, None)
    prefix[:0] = [
        report_style(),
        stopped_html(stopped) if stopped else "",
        matrix_html(results),
        manifest_html(config.stash[SETTINGS].manifest),
    ]


@pytest.hookimpl(optionalhook=True)
def pytest_html_results_table_html(report: pytest.TestReport, data: list[str]) -> None:
    """No empty log box under tests that printed nothing."""
    if data == ["No log output captured."]:
        data.clear()


# Fixtures


@pytest.fixture(scope="session")
def settings(pytestconfig: pytest.Config) -> Settings:
    return pytestconfig.stash[SETTINGS]


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
    _describe_environment(
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
        kubeconfig,
        "",
        "",
        "n/a (existing cluster)",
        "n/a (existing cluster)",
        f"existing kubeconfig {kubeconfig}",
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
    return errors[-1] if errors else clusters.first_line(err)


def _with_server_version(info: ClusterInfo, kube: Kube) -> ClusterInfo:
    return ClusterInfo(
        info.kubeconfig,
        kube.server_address(),
        kube.server_version(),
        info.kind_version,
        info.node_image,
        info.created_by,
    )


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


@pytest.fixture(scope="session")
def namespace_sweeper(cluster: Cluster, settings: Settings) -> Iterator[set[str]]:
    """Namespaces deleted during the session; at its end, wait until they are really gone."""
    deleted: set[str] = set()
    yield deleted
    wait_until_gone(cluster.kube, deleted, settings.timeouts.cleanup)


@pytest.fixture(scope="module")
def namespace(
    request: pytest.FixtureRequest,
    cluster: Cluster,
    settings: Settings,
    namespace_sweeper: set[str],
) -> Iterator[str]:
    """A fresh namespace for this test module, deleted with its claims afterwards."""
    with fresh_test_namespace(cluster, settings, namespace_sweeper, request.node) as name:
        if settings.pull_credentials:
            create_pull_secret(cluster.kube, name, settings.pull_credentials)
        yield name


@pytest.fixture
def own_namespace(
    request: pytest.FixtureRequest,
    cluster: Cluster,
    settings: Settings,
    namespace_sweeper: set[str],
) -> Iterator[str]:
    """A fresh namespace for this one test, for tests that deploy a form of the StatefulSet
    of their own; deleted with its claims afterwards."""
    with fresh_test_namespace(cluster, settings, namespace_sweeper, request.node) as name:
        if settings.pull_credentials:
            create_pull_secret(cluster.kube, name, settings.pull_credentials)
        yield name


@contextmanager
def fresh_test_namespace(
    cluster: Cluster, settings: Settings, sweeper: set[str], node: pytest.Item | pytest.Module
) -> Iterator[str]:
    """A namespace named after `node`, where failure diagnostics of its tests look; deleted
    afterwards (with its claims) unless --keep-namespaces."""
    name = create_fresh_namespace(cluster.kube, node.nodeid)
    cluster.namespaces[node.nodeid] = name
    yield name
    if not settings.keep_namespaces:
        delete_namespace(cluster.kube, name)
        sweeper.add(name)


@pytest.fixture(scope="module")
def web(cluster: Cluster, namespace: str, settings: Settings) -> StatefulSetUnderTest:
    """The manifest's StatefulSet, deployed and fully ready (startup timeline recorded)."""
    statefulset = StatefulSetUnderTest(
        cluster.kube, namespace, settings.manifest, settings.timeouts
    )
    statefulset.deploy()
    return statefulset


@pytest.fixture(scope="module")
def probe(cluster: Cluster, namespace: str, settings: Settings) -> Iterator[Probe]:
    """A separate pod that looks at the StatefulSet from inside the cluster network."""
    pod = Probe(cluster.kube, namespace, settings.probe_image)
    pod.start(settings.timeouts.pods)
    yield pod
    pod.stop()


@pytest.fixture
def observe(request: pytest.FixtureRequest) -> Observations:
    """Record what the test saw; it goes into the HTML report."""
    observations = Observations()
    request.node.stash[OBSERVATIONS] = observations
    return observations


# Report extras


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    error = call.excinfo.value if call.excinfo else None
    record_report(item.config.stash.setdefault(RESULTS, RunResults()), item, report, error)
    extras = []
    if report.failed and error is not None:
        extras.append(failure_extra(error))  # what was expected and seen, first
    if report.when == "call" and OBSERVATIONS in item.stash:
        extras += to_extras(item.stash[OBSERVATIONS])
    if report.failed:
        diagnostics = _namespace_diagnostics(item)
        if diagnostics:
            extras.append(diagnostics_extra(diagnostics))
    if extras:
        report.extras = [*getattr(report, "extras", []), *extras]
    return report


def _namespace_diagnostics(item: pytest.Item) -> list[tuple[str, str]] | None:
    """The sections of the test's own namespace, else of its module's."""
    handle = item.config.stash.get(CLUSTER, None)
    module = item.getparent(pytest.Module)
    keys = [item.nodeid, module.nodeid if module else ""]
    found = next((handle.namespaces[k] for k in keys if handle and k in handle.namespaces), None)
    if handle is None or found is None:
        return None
    return namespace_sections(handle.kube, found)

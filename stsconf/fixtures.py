"""The fixtures tests build on: a fresh namespace per module or per test (deleted afterwards,
and waited for at the end of the session), the StatefulSet under test, and the probe pod."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext

import pytest

from stsconf.access.namespaces import (
    create_namespace_for_pods,
    delete_namespace,
    wait_until_gone,
)
from stsconf.access.pull_secret import create_pull_secret
from stsconf.cluster_fixture import Cluster
from stsconf.observe.probe import Probe
from stsconf.run_plugin import charge_run_setup, cluster_share
from stsconf.settings import Settings
from stsconf.workload.statefulset import StatefulSetUnderTest


@pytest.fixture(scope="session")
def namespace_sweeper(
    request: pytest.FixtureRequest, cluster: Cluster, settings: Settings
) -> Iterator[set[str]]:
    """Namespaces deleted during the session; at its end, wait until they are really gone."""
    deleted: set[str] = set()
    yield deleted
    started = time.monotonic()
    wait_until_gone(cluster.kube, deleted, settings.timeouts.cleanup)
    charge_run_setup(request.config, time.monotonic() - started)


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


@pytest.fixture
def cluster_to_itself(request: pytest.FixtureRequest) -> Iterator[None]:
    """With workers, the test has the cluster to itself while it runs (it restarts nodes):
    it waits until no other test holds a namespace, and none starts until it ends. Ask for it
    after the fixtures that may skip the test, and mark the module `alone` so that its tests
    share one worker."""
    share = cluster_share(request.config)
    if share is None:
        yield
        return
    with share.alone():
        yield


@contextmanager
def fresh_test_namespace(
    cluster: Cluster, settings: Settings, sweeper: set[str], node: pytest.Item | pytest.Module
) -> Iterator[str]:
    """A namespace named after `node`, where failure diagnostics of its tests look; deleted
    afterwards (with its claims) unless --keep-namespaces."""
    share = cluster_share(node.config)
    with share.shared() if share else nullcontext():  # no test has it alone meanwhile
        name = create_namespace_for_pods(cluster.kube, node.nodeid, settings.timeouts.pods)
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

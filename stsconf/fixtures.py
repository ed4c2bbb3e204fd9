"""The fixtures tests build on: a fresh namespace per module or per test (deleted afterwards,
and waited for at the end of the session), the StatefulSet under test, and the probe pod."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from stsconf.access.namespaces import create_fresh_namespace, delete_namespace, wait_until_gone
from stsconf.access.pull_secret import create_pull_secret
from stsconf.cluster_fixture import Cluster
from stsconf.observe.probe import Probe
from stsconf.settings import Settings
from stsconf.workload.statefulset import StatefulSetUnderTest


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

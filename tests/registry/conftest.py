"""A real registry that demands a login, filled with the image under test, for this session;
and a fresh namespace per test."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from stsconf.access import registry
from stsconf.access.kind_config import nodes_without_registry_hosts
from stsconf.access.pull_secret import RegistryCredentials
from stsconf.access.registry import PrivateRegistry
from stsconf.access.secrecy import LeakGuard
from stsconf.cluster_fixture import Cluster
from stsconf.fixtures import fresh_test_namespace
from stsconf.settings import Settings

USER = "stsconf"


@pytest.fixture(scope="session")
def private_registry(
    request: pytest.FixtureRequest, cluster: Cluster, settings: Settings, leak_guard: LeakGuard
) -> Iterator[PrivateRegistry]:
    """The registry container on kind's network, holding the image under test under a tag no
    node has seen; removed at the end unless the cluster is kept."""
    option = request.config.option
    skip_unless_nodes_know_the_registry(settings, Path(option.kind_bin), option.cluster_name)
    credentials = RegistryCredentials(registry.HOST_IN_CLUSTER, USER, secrets.token_urlsafe(24))
    leak_guard.add(credentials.secrets)
    try:
        yield start_and_fill(settings, credentials)
    except registry.RegistryError as error:
        pytest.fail(f"the test registry: {error}", pytrace=False)
    finally:
        if not option.keep_cluster:
            registry.remove_registry()


def skip_unless_nodes_know_the_registry(
    settings: Settings, kind_bin: Path, cluster_name: str
) -> None:
    if settings.existing_kubeconfig is not None:
        pytest.skip(
            "the registry tests need a kind cluster created by the suite (its kind config "
            "lets containerd reach the test registry), not --existing-kubeconfig"
        )
    missing = nodes_without_registry_hosts(kind_bin, cluster_name)
    if missing:
        pytest.skip(
            f"kind cluster {cluster_name} was created without the suite's kind config: "
            f"containerd on {', '.join(missing)} has no settings for "
            f"{registry.HOST_IN_CLUSTER}; delete the cluster or pick another --cluster-name"
        )


def start_and_fill(settings: Settings, credentials: RegistryCredentials) -> PrivateRegistry:
    server_image = settings.airgap.images.get("registry") if settings.airgap else None
    may_pull = settings.airgap is None
    registry.ensure_local_image(server_image or registry.PUBLIC_IMAGE, may_pull)
    registry.ensure_local_image(settings.image, may_pull)
    running = registry.start_registry(
        server_image or registry.PUBLIC_IMAGE, credentials.user, credentials.password
    )
    repository = registry.image_repository(settings.image)
    tag = registry.unique_tag()
    registry.push_copy(running, settings.image, f"{repository}:{tag}")
    image = f"{registry.HOST_IN_CLUSTER}/{repository}:{tag}"
    return PrivateRegistry(image, repository, tag, credentials)


@pytest.fixture
def own_namespace(
    request: pytest.FixtureRequest,
    cluster: Cluster,
    settings: Settings,
    namespace_sweeper: set[str],
) -> Iterator[str]:
    """A fresh namespace for this one test (failure diagnostics look there)."""
    with fresh_test_namespace(cluster, settings, namespace_sweeper, request.node) as name:
        yield name

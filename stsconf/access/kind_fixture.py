"""pytest-kind's `kind_cluster` fixture, overridden with the suite's kind config.

stsconf.settings registers this module in its pytest_configure, after every plugin pytest loaded
from entry points, so this fixture wins over pytest-kind-ng's whichever of the two pytest11
plugins was loaded first (entry point order is that of the installed distributions).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import pytest

from stsconf.access.kind_config import session_cluster
from stsconf.access.setup_progress import setup_step

NAME = "stsconf.access.kind_fixture"


@pytest.fixture(scope="session")
def kind_cluster(request: pytest.FixtureRequest) -> Iterator[Any]:
    """pytest-kind's fixture of this name, overridden: the same KindCluster and options, and
    the suite's kind config (containerd reaches the registry tests' registry)."""
    option = request.config.option
    image = f" from {option.kind_image}" if option.kind_image else ""
    with setup_step(request.config, f"kind cluster {option.cluster_name!r}{image}"):
        clusters = session_cluster(option)
        cluster = next(clusters)
    yield cluster
    next(clusters, None)  # deletes it unless --keep-cluster


def register(config: pytest.Config) -> None:
    """Register the override last, once."""
    module = sys.modules[__name__]
    if not config.pluginmanager.is_registered(module):
        config.pluginmanager.register(module, NAME)

"""pytest-kind's `kind_cluster` fixture, overridden: the run's own kind cluster.

stsconf.settings registers this module in its pytest_configure, after every plugin pytest loaded
from entry points, so this fixture wins over pytest-kind-ng's whichever of the two pytest11
plugins was loaded first (entry point order is that of the installed distributions).
"""

from __future__ import annotations

import sys
from typing import Any

import pytest

from stsconf.access.kind_config import kind_cluster_of

NAME = "stsconf.access.kind_fixture"


@pytest.fixture(scope="session")
def kind_cluster(request: pytest.FixtureRequest, cluster: Any) -> Any:
    """pytest-kind's fixture of this name, overridden: the KindCluster of the run's cluster
    (got once for all workers by the `cluster` fixture, deleted by the run that created it),
    not a second cluster of pytest-kind's making."""
    if request.config.option.existing_kubeconfig is not None:
        pytest.skip("kind_cluster: this run tests an existing cluster (--existing-kubeconfig)")
    return kind_cluster_of(request.config.option)


def register(config: pytest.Config) -> None:
    """Register the override last, once."""
    module = sys.modules[__name__]
    if not config.pluginmanager.is_registered(module):
        config.pluginmanager.register(module, NAME)

"""Fixtures the example tests share."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from stsconf.cluster_fixture import Cluster
from stsconf.settings import Settings
from tests.examples.runs import Runs


@pytest.fixture(scope="module")
def runs(
    request: pytest.FixtureRequest,
    cluster: Cluster,
    settings: Settings,
    load_image: Callable[[str], None],
    tmp_path_factory: pytest.TempPathFactory,
) -> Runs:
    return Runs(request, cluster, settings, load_image, tmp_path_factory)

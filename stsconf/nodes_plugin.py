"""--nodes: how many nodes the kind cluster the suite creates has (a control plane and
workers). A cluster given with --existing-kubeconfig is used as it is."""

from __future__ import annotations

import argparse

import pytest

DEFAULT_NODES = 1


def node_count(text: str) -> int:
    """At least one node (the control plane); anything else is a usage error."""
    try:
        count = int(text)
    except ValueError:
        count = 0
    if count < 1:
        raise argparse.ArgumentTypeError(f"--nodes takes a whole number ≥ 1, not {text!r}")
    return count


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("stsconf", "StatefulSet conformance")
    group.addoption(
        "--nodes",
        type=node_count,
        default=DEFAULT_NODES,
        metavar="N",
        help="nodes of the kind cluster the suite creates: a control plane and N-1 workers "
        "(default %(default)s; the disruption tests need 2 or more)",
    )

"""The shape of the kind cluster the suite creates: --nodes (a control plane and workers),
--kubernetes (which minor of the air-gapped build) and --feature-gates. A cluster given with
--existing-kubeconfig is used as it is."""

from __future__ import annotations

import argparse
import re

import pytest

DEFAULT_NODES = 1
GATE = re.compile(r"^([A-Za-z][A-Za-z0-9]*)=(true|false)$", re.IGNORECASE)


def node_count(text: str) -> int:
    """At least one node (the control plane); anything else is a usage error."""
    try:
        count = int(text)
    except ValueError:
        count = 0
    if count < 1:
        raise argparse.ArgumentTypeError(f"--nodes takes a whole number ≥ 1, not {text!r}")
    return count


def feature_gates(text: str) -> dict[str, bool]:
    """'Name=true,Other=false' -> {'Name': True, 'Other': False}."""
    gates = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        found = GATE.match(item)
        if not found:
            raise argparse.ArgumentTypeError(
                f"--feature-gates takes Name=true|false[,Name=true|false...], not {item!r}"
            )
        gates[found.group(1)] = found.group(2).lower() == "true"
    return gates


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
    group.addoption(
        "--kubernetes",
        default=None,
        metavar="MINOR",
        help="with --airgap: the Kubernetes minor whose node image the cluster runs, e.g. 1.35 "
        "(default: the build's newest; `python -m airgap build --kubernetes MINOR` builds one)",
    )
    group.addoption(
        "--feature-gates",
        type=feature_gates,
        action="append",
        default=[],
        metavar="NAME=BOOL[,...]",
        help="feature gates for every component of the kind cluster the suite creates (API "
        "server, controller manager, scheduler, kubelet), e.g. SomeAlphaFeature=true",
    )

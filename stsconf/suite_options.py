"""The suite's options as the commands that run it several times read and pass them (bench,
soak, minors, mutants), and one kind cluster shared by such runs.

A run uses a kind cluster it did not create only when told (--reuse-cluster, --keep-cluster)
and never deletes it; so several runs share one cluster with both options, and the command
that started them deletes it at the end when it did not exist before.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from stsconf.access.airgap import DEFAULT_AIRGAP_FILE, load_airgap
from stsconf.access.cluster import ClusterUnavailable
from stsconf.access.controller_swap import kind_clusters
from stsconf.access.resources import CHECKOUT

KIND_DEFAULT_NAME = "pytest-kind"  # pytest-kind's --cluster-name
SHARE = ("--reuse-cluster", "--keep-cluster")


def _attached(arg: str, name: str) -> str | None:
    """The value given in the same word: `--name=VALUE`, or `-kVALUE` for a short option."""
    if arg.startswith(name + "="):
        return arg[len(name) + 1 :]
    if len(name) == 2 and arg.startswith(name) and len(arg) > 2:
        return arg[2:]
    return None


def option_value(options: Sequence[str], name: str) -> str | None:
    """The value of option `name` among pytest options (the last one given, as pytest takes)."""
    value = None
    for index, arg in enumerate(options):
        if arg == name and index + 1 < len(options):
            value = options[index + 1]
        elif (attached := _attached(arg, name)) is not None:
            value = attached
    return value


def without_option(options: Sequence[str], name: str) -> list[str]:
    """The options less every value of option `name`."""
    kept: list[str] = []
    skip = False
    for arg in options:
        if skip or arg == name:
            skip = not skip
        elif _attached(arg, name) is None:
            kept.append(arg)
    return kept


def kind_binary(options: Sequence[str]) -> Path | None:
    """The kind binary the runs use: --kind-bin, the air-gapped build's, or PATH's."""
    given = option_value(options, "--kind-bin")
    if given:
        return CHECKOUT / given
    if "--airgap" in options:
        path = CHECKOUT / (option_value(options, "--airgap-file") or DEFAULT_AIRGAP_FILE)
        return load_airgap(path, option_value(options, "--kubernetes")).kind_bin
    found = shutil.which("kind")
    return Path(found) if found else None


def kind_cluster_to_delete(options: Sequence[str], name: str) -> Path | None:
    """The kind binary to delete cluster `name` with once the runs are over: None when it
    exists already (or that cannot be told), the runs test an existing kubeconfig, or
    --keep-cluster asks to keep it."""
    if option_value(options, "--existing-kubeconfig") is not None or "--keep-cluster" in options:
        return None
    kind = kind_binary(options)
    if kind is None:
        return None  # the first run says there is no kind
    try:
        found = name in kind_clusters(kind)
    except ClusterUnavailable as error:
        print(f"[stsconf] {error}", flush=True)
        return None
    return None if found else kind


@contextmanager
def one_cluster_for_runs(options: Sequence[str]) -> Iterator[list[str]]:
    """The options that let several runs share kind's cluster of --cluster-name (none for an
    existing kubeconfig); at the end, also after a failure or Ctrl-C, the cluster is deleted
    when it did not exist before and --keep-cluster was not given."""
    if option_value(options, "--existing-kubeconfig") is not None:
        yield []
        return
    name = option_value(options, "--cluster-name") or KIND_DEFAULT_NAME
    kind = kind_cluster_to_delete(options, name)
    try:
        yield list(SHARE)
    finally:
        if kind is not None:
            print(f"[stsconf] deleting kind cluster {name!r}, created for these runs", flush=True)
            subprocess.run([str(kind), "delete", "cluster", "--name", name], check=False)

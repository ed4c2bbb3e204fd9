"""Mutant controllers on the session's kind cluster: the options, the lab (the mutants'
images, the control plane whose controller-manager is swapped, the suite options for that
cluster), the real controller's run, and the table at the top of the HTML report.

Not collected by a plain `pytest` (tests/conftest.py): it swaps the cluster's
controller-manager, so it runs only when named, e.g. `python -m pytest tests/mutants --airgap`
(CI's mutants: CI_MUTANTS) or through `python -m stsconf.mutants`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from airgap import mutants as mutant_build
from stsconf.access.controller_swap import ControlPlane
from stsconf.access.setup_progress import setup_step
from stsconf.checks.mutants import baseline_problems
from stsconf.cluster_fixture import Cluster
from stsconf.model.mutants import Check, Mutant, UnknownMutant, select, union_of_checks
from stsconf.mutants import DEFAULT_OUT, POD_TIMEOUT, WORKERS, MutantLab, run_details
from stsconf.report.mutants import Baseline, MutantRow, html_table
from stsconf.selftest import same_cluster_options
from stsconf.settings import Settings

# Three mutants, from three test modules, whose properties fail without waiting out a timeout:
# what CI runs (`--mutants` picks others, or all).
CI_MUTANTS = ("condemned-lowest-first", "partition-ignored", "pod-index-label-missing")

ROWS = pytest.StashKey[list[MutantRow]]()
BASELINE = pytest.StashKey[Baseline]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("stsconf-mutants", "mutant StatefulSet controllers (tests/mutants)")
    group.addoption(
        "--mutants",
        default=",".join(CI_MUTANTS),
        metavar="NAME[,NAME...]",
        help="the mutants to run, or 'all' (default: %(default)s)",
    )
    group.addoption(
        "--mutant-out",
        type=Path,
        default=DEFAULT_OUT,
        help="where each suite run's report goes (default %(default)s)",
    )
    group.addoption(
        "--mutant-pod-timeout",
        type=float,
        default=POD_TIMEOUT,
        help="--pod-timeout of the suite runs, real and mutant (default %(default)s)",
    )
    group.addoption(
        "--mutant-workers",
        type=int,
        default=WORKERS,
        help="suite runs at once, one per test module and manifest (default %(default)s)",
    )


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "mutants: runs the suite against mutant StatefulSet controllers"
    )
    config.stash[ROWS] = []
    serial(config)


def serial(config: pytest.Config) -> None:
    """No workers: a mutant test swaps the cluster's controller-manager under every test on
    it, and runs its suites (several at once, --mutant-workers) itself."""
    config.option.numprocesses = 0
    config.option.dist = "no"
    config.option.tx = []


def chosen_mutants(config: pytest.Config) -> list[Mutant]:
    names = [n.strip() for n in str(config.option.mutants).split(",") if n.strip()]
    try:
        return select([] if names == ["all"] else names)
    except UnknownMutant as error:
        raise pytest.UsageError(f"--mutants: {error}") from None


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "mutant" in metafunc.fixturenames:
        mutants = chosen_mutants(metafunc.config)
        metafunc.parametrize("mutant", mutants, ids=[m.name for m in mutants])


def session_mutants(session: pytest.Session) -> list[Mutant]:
    """The mutants of the tests this session runs (all chosen when none is selected)."""
    params = [getattr(item, "callspec", None) for item in session.items]
    found = [p.params["mutant"] for p in params if p is not None and "mutant" in p.params]
    return [m for m in found if isinstance(m, Mutant)] or chosen_mutants(session.config)


@pytest.fixture(scope="session")
def lab(
    request: pytest.FixtureRequest, cluster: Cluster, settings: Settings
) -> Iterator[MutantLab]:
    """The session's kind cluster, with every mutant's image built and the real
    controller-manager put back at the end (also after a failure or an interrupt)."""
    config, option = request.config, request.config.option
    if settings.existing_kubeconfig is not None:
        pytest.fail(
            "mutants swap the controller-manager inside a kind node: run on the session's own "
            "kind cluster (--cluster-name), not --existing-kubeconfig",
            pytrace=False,
        )
    if settings.airgap is None:
        pytest.fail(
            "the mutants' images come from the air-gapped build's source: add --airgap",
            pytrace=False,
        )
    mutants = session_mutants(request.session)
    with (
        setup_step(config, f"mutant controller-manager images ({len(mutants)})"),
        uncaptured(config),
    ):  # the build says how far it is
        images = mutant_build.build([m.mutation for m in mutants], settings.airgap.minor)
    control_plane = ControlPlane(cluster.kube, Path(option.kind_bin), option.cluster_name)
    options = [
        *same_cluster_options(cluster.info.kubeconfig, settings, option.airgap_file),
        f"--pod-timeout={option.mutant_pod_timeout:g}",
    ]
    lab = MutantLab(
        control_plane, images, settings.manifest.path, options, option.mutant_out,
        option.mutant_workers,
    )  # fmt: skip
    lab.start_loading()
    try:
        yield lab
    finally:
        with setup_step(config, "the real controller-manager back in place"):
            control_plane.restore()


def uncaptured(config: pytest.Config) -> AbstractContextManager[object]:
    capture = config.pluginmanager.getplugin("capturemanager")
    return capture.global_and_fixture_disabled() if capture else nullcontext()


@dataclass(frozen=True)
class RealRun:
    checks: tuple[Check, ...]
    problems: tuple[str, ...]
    seconds: float
    details: str


@pytest.fixture(scope="session")
def real_run(request: pytest.FixtureRequest, lab: MutantLab) -> RealRun:
    """The real controller against every property the session's mutants are run against."""
    checks = union_of_checks(session_mutants(request.session))
    started = time.monotonic()
    with setup_step(request.config, f"the real controller on {len(checks)} properties"):
        ran = lab.run_real(checks)
    problems = tuple(baseline_problems(checks, ran.outcomes))
    details = run_details(ran, [check.property_id for check in checks])
    real = RealRun(tuple(checks), problems, time.monotonic() - started, details)
    request.config.stash[BASELINE] = Baseline(len(checks), problems, real.seconds)
    return real


@pytest.hookimpl(optionalhook=True)
def pytest_html_results_summary(prefix: list[str], session: pytest.Session) -> None:
    """The mutant table first in this run's HTML report."""
    config = session.config
    rows = config.stash.get(ROWS, [])
    baseline = config.stash.get(BASELINE, Baseline(0, (), None))
    if rows or baseline.checks:
        prefix.insert(0, html_table(rows, baseline))


def record(request: pytest.FixtureRequest, **properties: Any) -> None:
    """JUnit properties of the test case (python -m stsconf.mutants reads them back)."""
    for name, value in properties.items():
        request.node.user_properties.append((name, str(value)))

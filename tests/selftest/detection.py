"""What a self-test asserts about a suite run on a broken manifest or beside a fault: exactly
the properties it breaks fail, each saying what was expected and what was seen; the rest of
what ran passed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from stsconf.cluster_fixture import Cluster
from stsconf.selftest import CONFORMANCE, CORE_PROPERTIES, SuiteRun, only, same_cluster_options
from stsconf.settings import Settings


@dataclass(frozen=True)
class PlannedRun:
    """A suite run a self-test needs: started in the package's pool (see conftest.py)."""

    manifest: Path | None  # None: the manifest of this run
    options: tuple[str, ...]
    target: Path = CONFORMANCE
    expected_seconds: float = 60.0  # roughly; the longest runs start first


@dataclass(frozen=True)
class Violation:
    manifest: str
    breaks: frozenset[str]
    # An opt-out (podManagementPolicy Parallel, a deleting retention policy) breaks a
    # guarantee only for a user who needs it: run just those properties with --require.
    require: bool = False
    forms: Mapping[str, str] = field(default_factory=dict)  # what the matrix must name
    # Besides what it breaks and the forms it names, the properties the run asserts still
    # hold: the nine by default (all thirty for each of ten manifests would take too long).
    holds: frozenset[str] = CORE_PROPERTIES
    # Properties that do not apply to the manifest's declared form and must say so by a skip
    # (halts_on_unhealthy under Parallel); every other property that runs must pass.
    skipped: frozenset[str] = frozenset()
    expected_seconds: float = 60.0  # its run, roughly (PlannedRun): the longest start first

    @property
    def runs(self) -> frozenset[str]:
        if self.require:
            return self.breaks
        return self.holds | self.breaks | frozenset(self.forms)

    def options(self) -> list[str]:
        required = [f"--require={','.join(sorted(self.breaks))}"] if self.require else []
        return [*required, *only(self.runs)]


def suite_options(
    request: pytest.FixtureRequest, cluster: Cluster, settings: Settings
) -> list[str]:
    """Options for a suite run in a subprocess to test this run's cluster as this run does."""
    return same_cluster_options(
        cluster.info.kubeconfig, settings, request.config.option.airgap_file
    )


def assert_detects(run: SuiteRun, violation: Violation) -> None:
    expected = violation.breaks
    ran = {name.removeprefix("test_") for name in run.outcomes}
    failed = {name.removeprefix("test_") for name in run.failed()}
    context = f"\n--- suite output ({' '.join(run.command)}) ---\n{run.output[-6000:]}"
    assert ran == violation.runs, (
        f"expected {sorted(violation.runs)} to run; saw {sorted(ran)}{context}"
    )
    assert not run.with_result("error"), (
        f"expected no errors; saw errors in {sorted(run.with_result('error'))}{context}"
    )
    assert failed == expected, (
        f"expected exactly {sorted(expected)} to fail; saw {sorted(failed)} fail{context}"
    )
    skipped = {name.removeprefix("test_") for name in run.with_result("skipped")}
    assert skipped == violation.skipped, (
        f"expected {sorted(violation.skipped) or 'no property'} to be skipped as not applicable "
        f"and every other property that ran to pass (a skip shows nothing); saw "
        f"{sorted(skipped)} skipped{context}"
    )
    for name in run.failed():
        message = run.outcomes[name].message
        assert "expected" in message, (
            f"expected {name}'s failure to say 'expected'; saw {message!r}"
        )
        assert "saw" in message, f"expected {name}'s failure to say 'saw'; saw {message!r}"
        if violation.require:
            assert "the manifest does not promise" in message, (
                f"expected {name}'s failure to name the opt-out; saw {message!r}"
            )
    forms = {p: run.outcomes[f"test_{p}"].form for p in violation.forms}
    assert forms == violation.forms, (
        f"expected the matrix to name the declared forms {violation.forms}; saw {forms}{context}"
    )

"""Random lifecycles against a model: sequences of scaling, pod deletions, template changes,
partitions and writes, drawn by Hypothesis, each step checked against what the declared
policies say; a failure is shrunk to the shortest sequence that still fails."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, seed
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.database import DirectoryBasedExampleDatabase, ExampleDatabase
from hypothesis.stateful import RuleBasedStateMachine, precondition, rule, run_state_machine_as_test

from stsconf.access.namespaces import create_namespace_for_pods, delete_namespace
from stsconf.checks.lifecycle_model import Model
from stsconf.cluster_fixture import Cluster
from stsconf.lifecycle_plugin import LifecycleOptions, lifecycle_options
from stsconf.model.expectations import Unmet
from stsconf.model.policies import ROLLING_UPDATE
from stsconf.observe.probe import Probe
from stsconf.report.observations import Observations
from stsconf.settings import Settings
from stsconf.workload.lifecycle import Lifecycle, LifecycleViolation, step_rows
from stsconf.workload.statefulset import StatefulSetUnderTest
from stsconf.workload.variants import with_spec

# each state machine has its sequences to itself: the module's probe pod only saves time
pytestmark = [pytest.mark.conformance, pytest.mark.spread]

MAX_REPLICAS = 3
INITIAL_REPLICAS = 1  # each sequence starts small: every pod it starts costs seconds
SEQUENCES_PROPERTY = "lifecycle_sequences"


def test_lifecycle(
    request: pytest.FixtureRequest,
    lifecycle_machine: int,
    cluster: Cluster,
    settings: Settings,
    probe: Probe,
    namespace_sweeper: set[str],
    observe: Observations,
) -> None:
    """Random sequences of scaling, pod deletions, template changes, partitions and writes
    keep every pod, revision, claim, value and status where the declared policies put them."""
    options = lifecycle_options(request.config)
    runs: list[Lifecycle] = []

    def new_run() -> Lifecycle:
        purpose = f"{request.node.nodeid} #{len(runs) + 1}"
        namespace = create_namespace_for_pods(cluster.kube, purpose, settings.timeouts.pods)
        if not settings.keep_namespaces:
            namespace_sweeper.add(namespace)
        initial = min(settings.manifest.replicas, INITIAL_REPLICAS)
        manifest = with_spec(settings.manifest, {"replicas": initial})
        web = StatefulSetUnderTest(
            kube=cluster.kube, namespace=namespace, manifest=manifest, timeouts=settings.timeouts
        )
        model = Model.start(manifest.policies, initial)
        run = Lifecycle(web, model, probe)
        runs.append(run)
        run.deploy()
        return run

    def end_run(run: Lifecycle) -> None:
        if not settings.keep_namespaces:
            delete_namespace(cluster.kube, run.web.namespace)

    machine = seeded_machine(new_run, end_run, options, lifecycle_machine)
    failure = None
    try:
        run_state_machine_as_test(machine, settings=hypothesis_budget(options, request.config))
    except AssertionError as error:  # the last run is the shrunk sequence that still fails
        failure = shrunk_failure(error, runs[-1] if runs else None)
    finally:
        request.node.user_properties.append((SEQUENCES_PROPERTY, str(len(runs))))
        observe_runs(observe, runs)
    if failure:
        raise failure


def seeded_machine(
    new_run: Callable[[], Lifecycle],
    end_run: Callable[[Lifecycle], None],
    options: LifecycleOptions,
    number: int,
) -> type[RuleBasedStateMachine]:
    """State machine `number` of the split budget: with --hypothesis-seed, seeded with its
    own seed derived from it (the same seed would draw the same sequences on every machine)."""
    machine = state_machine(new_run, end_run, options)
    machine_seed = options.machine_seed(number)
    return machine if machine_seed is None else seed(machine_seed)(machine)


def state_machine(
    new_run: Callable[[], Lifecycle],
    end_run: Callable[[Lifecycle], None],
    options: LifecycleOptions,
) -> type[RuleBasedStateMachine]:
    """The rules Hypothesis draws from; each is one step of the suite's Lifecycle."""
    offsets = st.integers(0, MAX_REPLICAS - 1)

    class StatefulSetLifecycle(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.run: Lifecycle = new_run()

        def has_pods(self) -> bool:
            return self.run.model.replicas > 0

        def pick(self, offset: int) -> int:
            return offset % self.run.model.replicas

        # Cheap rules first: Hypothesis shrinks towards the rules defined first.
        @precondition(lambda self: self.has_pods() and self.run.keeps_data)
        @rule(offset=offsets)
        def write(self, offset: int) -> None:
            self.run.write(self.pick(offset))

        @precondition(lambda self: options.fault == "delete-claim" and self.has_pods()
                      and bool(self.run.web.manifest.claim_templates))  # fmt: skip
        @rule(offset=offsets)
        def delete_claim_behind_the_controller(self, offset: int) -> None:
            self.run.delete_claim_behind_the_controller(self.pick(offset))

        @rule(replicas=st.integers(0, MAX_REPLICAS))
        def scale(self, replicas: int) -> None:
            self.run.scale(replicas)

        @precondition(has_pods)
        @rule(offset=offsets)
        def delete_pod(self, offset: int) -> None:
            self.run.delete_pod(self.pick(offset))

        @precondition(has_pods)
        @rule()
        def delete_all_pods(self) -> None:
            self.run.delete_all_pods()

        @rule()
        def change_template(self) -> None:
            self.run.change_template()

        @precondition(lambda self: self.run.model.policies.strategy == ROLLING_UPDATE)
        @rule(partition=st.integers(0, MAX_REPLICAS))
        def set_partition(self, partition: int) -> None:
            self.run.set_partition(partition)

        def teardown(self) -> None:
            end_run(self.run)

    return StatefulSetLifecycle


def hypothesis_budget(options: LifecycleOptions, config: pytest.Config) -> hypothesis_settings:
    """Every field the draws depend on is set here, so that no Hypothesis profile changes them:
    the "ci" profile, loaded wherever a CI variable is set, would ignore --hypothesis-seed."""
    return hypothesis_settings(
        derandomize=False,
        max_examples=options.examples_per_machine,
        stateful_step_count=options.steps,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
        database=example_database(config),
        report_multiple_bugs=False,
        print_blob=True,
    )


def example_database(config: pytest.Config) -> ExampleDatabase | None:
    """Failing sequences are kept under .pytest_cache (never in the repository) and tried
    first next time; without the cache plugin, nothing is kept."""
    cache = getattr(config, "cache", None)
    if cache is None:
        return None
    return DirectoryBasedExampleDatabase(Path(cache.mkdir("hypothesis")))


def shrunk_failure(error: AssertionError, run: Lifecycle | None) -> Unmet:
    """The failure of the shrunk sequence: its problems, then the sequence as steps and as
    kubectl commands."""
    violation = LifecycleViolation.of(error)
    lines = [violation.detail] if violation.detail else []
    if run is not None:
        lines.append("\nthe shortest sequence Hypothesis found that fails:")
        lines += [f"  step {s.number}: {s.action}  [{s.outcome}]" for s in run.steps]
        lines.append("\nby hand:")
        lines += [f"  {s.kubectl}" for s in run.steps]
    lines.append("\n(the seed to replay it is in the captured output: --hypothesis-seed=...)")
    return Unmet(violation.headline, violation.problems, "\n".join(lines))


def observe_runs(observe: Observations, runs: list[Lifecycle]) -> None:
    observe.table(
        f"{len(runs)} sequences",
        [
            {"sequence": str(i), "steps": " -> ".join(s.action for s in run.steps[1:]) or "(none)",
             "seconds": f"{sum(s.seconds for s in run.steps):.0f}",
             "outcome": run.steps[-1].outcome if run.steps else "-"}
            for i, run in enumerate(runs, start=1)
        ],
    )  # fmt: skip
    if not runs:
        return
    last = runs[-1]
    observe.table("the last sequence, step by step", step_rows(last.steps))
    for step in last.steps:
        observe.timeline(f"step {step.number}: {step.action}", step.timeline)

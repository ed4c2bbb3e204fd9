"""Mutant controllers without a cluster: the catalog against the Kubernetes source and the
suite's tests, building their sources, the verdicts, the controller-manager swap's reading of
manifests, pods and leases, the runner's plan and its table."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from airgap import config
from airgap.errors import AirgapError
from airgap.mutants import (
    CONTROLLER_DIR,
    Mutation,
    SourceEdit,
    apply_edits,
    dockerfile,
    image_tag,
    is_mutant_image,
    mutated_files,
)
from stsconf.access.controller_swap import (
    held_by_new_process,
    manifest_image,
    started_with_image,
    with_image,
)
from stsconf.checks.mutants import INCONCLUSIVE, KILLED, SURVIVED, baseline_problems, judge
from stsconf.model.mutants import (
    BY_NAME,
    MUTANTS,
    SOURCE_VERSION,
    Check,
    Mutant,
    UnknownMutant,
    select,
    union_of_checks,
)
from stsconf.model.timeline import api_datetime
from stsconf.mutants import (
    SELFTEST_MANIFESTS,
    ChecksRun,
    conformance_modules,
    plan_runs,
    run_details,
    split_arguments,
    table_rows,
)
from stsconf.report.junit import Outcome
from stsconf.report.mutants import Baseline, MutantRow, html_page, markdown
from stsconf.selftest import SuiteRun
from stsconf.suite_options import option_value
from tests.conftest import MUTANTS as MUTANT_TESTS
from tests.conftest import named_on_the_command_line

# The issue's table: what each mutant must fail at least.
AT_LEAST = {
    "ordered-ready-ignored": {
        "ordered_startup", "scale_up_order", "scale_down_order", "halts_on_unhealthy",
    },
    "condemned-lowest-first": {"scale_down_order"},
    "start-ordinal-ignored": {"start_ordinal"},
    "no-adoption": {"orphan_and_adopt"},
    "failed-pods-kept": {"recreates_failed_pod"},
    "partition-ignored": {"partitioned_update"},
    "update-lowest-first": {"rolling_update_order"},
    "min-ready-ignored": {"min_ready_seconds"},
    "max-unavailable-ignored": {"max_unavailable"},
    "retention-ignored": {
        "pvc_retention_policy", "pvcs_kept_after_scale_down", "cleanup_keeps_pvcs",
    },
    "revision-not-advanced": {"rolling_update_order", "rollback", "lifecycle"},
    "pod-index-label-missing": {"pod_labels"},
    "identity-not-set": {"stable_hostnames", "dns_records"},
    "revision-includes-replicas": {"available_during_scaling"},  # issue 22
}  # fmt: skip


# The catalog


def test_every_mutant_of_the_issue_is_there_with_at_least_its_properties() -> None:
    assert list(BY_NAME) == list(AT_LEAST)
    for mutant in MUTANTS:
        assert AT_LEAST[mutant.name] <= {c.property_id for c in mutant.must_fail}, mutant.name


def test_each_mutant_must_fail_some_and_pass_others_never_both() -> None:
    for mutant in MUTANTS:
        assert mutant.must_fail, mutant.name
        assert mutant.must_pass, mutant.name
        assert not set(mutant.must_fail) & set(mutant.must_pass), mutant.name
        assert mutant.edits, mutant.name
        assert mutant.change, mutant.name


def test_every_check_names_a_conformance_test_and_a_manifest_that_exists() -> None:
    modules = conformance_modules()
    for check in union_of_checks(list(MUTANTS)):
        assert check.property_id in modules, check
        assert not check.manifest or (SELFTEST_MANIFESTS / check.manifest).is_file(), check


def test_the_declared_delete_forms_run_on_the_manifests_that_declare_them() -> None:
    retention = BY_NAME["retention-ignored"]
    assert {str(c) for c in retention.must_fail} == {
        "pvc_retention_policy",
        "pvcs_kept_after_scale_down (when_scaled_delete.yaml)",
        "cleanup_keeps_pvcs (when_deleted_delete.yaml)",
    }


def test_select_keeps_the_catalog_order_and_refuses_unknown_names() -> None:
    assert [m.name for m in select(["no-adoption", "ordered-ready-ignored"])] == [
        "ordered-ready-ignored",
        "no-adoption",
    ]
    assert len(select([])) == len(MUTANTS)
    with pytest.raises(UnknownMutant, match="unknown mutant nope; known: ordered-ready"):
        select(["nope"])


def test_the_source_version_is_the_one_the_build_compiles() -> None:
    assert config.versions(config.default_minor()).kubernetes == SOURCE_VERSION


@pytest.fixture(scope="module")
def statefulset_source() -> Path:
    """pkg/controller/statefulset of the Kubernetes source the build compiles, where the Go
    module cache has it (after `python -m airgap build`)."""
    go = shutil.which("go")
    if go is None:
        pytest.skip("no Go toolchain: cannot find the Kubernetes source")
    cache = subprocess.run([go, "env", "GOMODCACHE"], capture_output=True, text=True).stdout
    source = Path(cache.strip()) / f"k8s.io/kubernetes@{SOURCE_VERSION}" / CONTROLLER_DIR
    if not source.is_dir():
        pytest.skip(f"{source} is not there: run `python -m airgap build` first")
    return source


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.name for m in MUTANTS])
def test_each_edit_finds_its_text_exactly_once_in_the_source(
    mutant: Mutant, statefulset_source: Path
) -> None:
    for edit in mutant.edits:
        assert (statefulset_source / edit.file).read_text().count(edit.old) == 1, edit.old


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.name for m in MUTANTS])
def test_each_mutated_file_is_still_go(mutant: Mutant, statefulset_source: Path) -> None:
    gofmt = shutil.which("gofmt")
    if gofmt is None:
        pytest.skip("no gofmt to parse the changed files with")
    changed = mutated_files(mutant.mutation, statefulset_source)
    for name, text in changed.items():
        assert text != (statefulset_source / name).read_text()
        parsed = subprocess.run([gofmt, "-e"], input=text, capture_output=True, text=True)
        assert parsed.returncode == 0, f"{name}: {parsed.stderr}"


# Building


def test_an_edit_applies_once_and_fails_loudly_otherwise() -> None:
    text = "a := 1\nb := 2\n"
    assert apply_edits(text, [SourceEdit("f.go", "b := 2", "b := 3")], "m") == "a := 1\nb := 3\n"
    with pytest.raises(AirgapError, match=r"exactly once in f\.go, found it 0 times"):
        apply_edits(text, [SourceEdit("f.go", "c := 3", "")], "mutant m")
    with pytest.raises(AirgapError, match="found it 2 times"):
        apply_edits(text, [SourceEdit("f.go", ":= ", "= ")], "mutant m")


def test_mutated_files_group_the_edits_of_each_file(tmp_path: Path) -> None:
    (tmp_path / "a.go").write_text("x := 1\ny := 2\n")
    (tmp_path / "b.go").write_text("z := 3\n")
    edits = (
        SourceEdit("a.go", "x := 1", "x := 0"),
        SourceEdit("a.go", "y := 2", "y := 0"),
        SourceEdit("b.go", "z := 3", "z := 0"),
    )
    assert mutated_files(Mutation("m", edits), tmp_path) == {
        "a.go": "x := 0\ny := 0\n",
        "b.go": "z := 0\n",
    }


def test_the_mutant_image_is_the_real_one_with_its_binary_replaced() -> None:
    text = dockerfile("some.host/kube-controller-manager:v1.37.2", "no-adoption")
    assert text.splitlines() == [
        "FROM some.host/kube-controller-manager:v1.37.2",
        "COPY kube-controller-manager /usr/local/bin/kube-controller-manager",
        'LABEL stsconf.mutant="no-adoption"',
    ]
    tag = image_tag("v1.37.2", "no-adoption")
    assert tag == "stsconf/kube-controller-manager:v1.37.2-no-adoption"
    assert is_mutant_image(tag)
    assert not is_mutant_image("some.host/kube-controller-manager:v1.37.2")


# Verdicts


CONDEMNED = BY_NAME["condemned-lowest-first"]


def outcomes(**results: str) -> dict[Check, str]:
    return {Check(name): result for name, result in results.items()}


def test_killed_when_every_must_fail_failed_and_every_must_pass_passed() -> None:
    found = outcomes(
        scale_down_order="failed",
        orphan_and_adopt="failed",
        halts_on_unhealthy="failed",
        ordered_startup="passed",
        scale_up_order="passed",
    )
    judgement = judge(CONDEMNED, found)
    assert (judgement.verdict, judgement.reasons) == (KILLED, ())
    assert [str(c) for c in judgement.failed] == [
        "scale_down_order", "orphan_and_adopt", "halts_on_unhealthy",
    ]  # fmt: skip


def test_survived_when_a_must_fail_property_passed() -> None:
    found = outcomes(
        scale_down_order="failed",
        orphan_and_adopt="passed",
        halts_on_unhealthy="failed",
        ordered_startup="passed",
        scale_up_order="passed",
    )
    judgement = judge(CONDEMNED, found)
    assert judgement.verdict == SURVIVED
    assert judgement.reasons == ("orphan_and_adopt must fail; passed",)


def test_inconclusive_on_an_error_a_skip_a_missing_result_or_a_must_pass_failing() -> None:
    found = outcomes(
        scale_down_order="error",
        orphan_and_adopt="skipped",
        ordered_startup="failed",
        scale_up_order="passed",
    )
    judgement = judge(CONDEMNED, found)
    assert judgement.verdict == INCONCLUSIVE
    assert judgement.reasons == (
        "scale_down_order must fail; error",
        "orphan_and_adopt must fail; skipped",
        "halts_on_unhealthy must fail; no result",
        "ordered_startup must pass; failed",
    )


def test_the_real_controller_must_pass_everything_a_skip_is_not_a_pass() -> None:
    checks = [Check("pod_labels"), Check("max_unavailable"), Check("rollback")]
    found = outcomes(pod_labels="passed", max_unavailable="skipped")
    assert baseline_problems(checks, found) == [
        "max_unavailable: skipped",
        "rollback: no result",
    ]


# The controller-manager swap


MANIFEST = """\
apiVersion: v1
kind: Pod
metadata:
  name: kube-controller-manager
  namespace: kube-system
spec:
  containers:
  - command:
    - kube-controller-manager
    image: some.host/kube-controller-manager:v1.37.2
    imagePullPolicy: IfNotPresent
    name: kube-controller-manager
"""


def test_the_manifest_gets_the_new_image_and_nothing_else() -> None:
    assert manifest_image(MANIFEST) == "some.host/kube-controller-manager:v1.37.2"
    mutant = image_tag("v1.37.2", "no-adoption")
    changed = with_image(MANIFEST, mutant)
    assert manifest_image(changed) == mutant
    assert changed == MANIFEST.replace("some.host/kube-controller-manager:v1.37.2", mutant)
    assert with_image(changed, "some.host/kube-controller-manager:v1.37.2") == MANIFEST


def mirror_pod(image: str, ready: bool, started: str = "2026-12-02T03:00:05Z") -> dict:
    return {
        "spec": {"containers": [{"name": "kube-controller-manager", "image": image}]},
        "status": {
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
            "containerStatuses": [
                {
                    "name": "kube-controller-manager",
                    "ready": ready,
                    "state": {"running": {"startedAt": started}},
                }
            ],
        },
    }


def test_the_mirror_pod_counts_once_it_runs_the_new_image_ready() -> None:
    assert started_with_image(mirror_pod("new", True), "new") == api_datetime(
        "2026-12-02T03:00:05Z"
    )
    assert started_with_image(mirror_pod("new", False), "new") is None
    assert started_with_image(mirror_pod("old", True), "new") is None


def lease(holder: str, acquired: str) -> dict:
    return {"spec": {"holderIdentity": holder, "acquireTime": acquired}}


def test_the_lease_must_change_hands_after_the_new_container_started() -> None:
    started = api_datetime("2026-12-02T03:00:05Z")
    assert started is not None
    assert held_by_new_process(lease("node_b", "2026-12-02T03:00:21.500000Z"), "node_a", started)
    assert not held_by_new_process(lease("node_a", "2026-12-02T03:00:21Z"), "node_a", started)
    assert not held_by_new_process(lease("node_b", "2026-12-02T02:59:00Z"), "node_a", started)
    assert not held_by_new_process(lease("", "2026-12-02T03:00:21Z"), "node_a", started)
    assert not held_by_new_process(None, "node_a", started)


# The runner


def test_names_come_first_then_options() -> None:
    assert split_arguments(["a", "b", "--airgap", "--cluster-name", "x"]) == (
        ["a", "b"],
        ["--airgap", "--cluster-name", "x"],
    )
    assert split_arguments([]) == ([], [])
    assert option_value(["--cluster-name", "x"], "--cluster-name") == "x"
    assert option_value(["--cluster-name=y"], "--cluster-name") == "y"
    assert option_value(["--airgap"], "--cluster-name") is None


def test_one_suite_run_per_module_and_manifest_naming_exact_tests() -> None:
    checks = [
        Check("rollback"),
        Check("partitioned_update"),
        Check("orphan_and_adopt"),
        Check("pod_labels"),
        Check("cleanup_keeps_pvcs", "when_deleted_delete.yaml"),
        Check("cleanup_keeps_pvcs"),
    ]
    planned = plan_runs(checks, conformance_modules())
    assert [(run.label, run.properties) for run in planned] == [
        ("own-manifest-identity_and_ownership", ("pod_labels", "orphan_and_adopt")),
        ("own-manifest-statefulset_guarantees", ("cleanup_keeps_pvcs",)),
        ("own-manifest-updates", ("partitioned_update", "rollback")),
        ("when_deleted_delete-statefulset_guarantees", ("cleanup_keeps_pvcs",)),
    ]
    # in the module's order; node ids, not -k (`-k test_rollback` runs test_forced_rollback too)
    assert planned[2].node_ids()[1].endswith("test_updates.py::test_rollback")


def test_the_details_say_why_a_property_that_had_to_pass_did_not() -> None:
    outcomes = {
        "test_ordered_startup": Outcome("test_ordered_startup", "passed", ""),
        "test_scale_up_order": Outcome(
            "test_scale_up_order", "failed", "short", "long report\nE   web-2 before web-1"
        ),
        "test_scale_down_order": Outcome("test_scale_down_order", "failed", "must fail"),
    }
    run = SuiteRun(("python", "-m", "pytest", "guarantees.py", "-k"), 1, "", outcomes, Path("r"))
    details = run_details(ChecksRun({}, (run,), 1.0), ["ordered_startup", "scale_up_order"])
    assert "test_scale_up_order failed:\n      long report\n      E   web-2 before web-1" in details
    assert "ordered_startup" not in details
    assert "must fail" not in details  # a must-fail property that failed is no news


JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest">
<testcase classname="tests.mutants.test_mutants" name="test_mutant_baseline_real_controller">
  <properties><property name="baseline_checks" value="11"/>
  <property name="baseline_problems" value=""/><property name="mutant_seconds" value="190.2"/>
  </properties></testcase>
<testcase classname="tests.mutants.test_mutants" name="test_mutant_killed[no-adoption]">
  <properties><property name="mutant" value="no-adoption"/>
  <property name="mutant_verdict" value="killed"/>
  <property name="mutant_failed" value="orphan_and_adopt"/>
  <property name="mutant_seconds" value="95.0"/></properties></testcase>
<testcase classname="tests.mutants.test_mutants" name="test_mutant_killed[partition-ignored]">
  <properties><property name="mutant" value="partition-ignored"/></properties>
  <failure message="not run">not run</failure></testcase>
</testsuite></testsuites>
"""


def test_the_table_is_read_back_from_the_junit_file() -> None:
    rows, baseline = table_rows(JUNIT)
    assert baseline == Baseline(11, (), 190.2)
    assert rows == [
        MutantRow(
            "no-adoption",
            BY_NAME["no-adoption"].change,
            "orphan_and_adopt",
            "orphan_and_adopt",
            "killed",
            95.0,
        ),
        MutantRow(
            "partition-ignored",
            BY_NAME["partition-ignored"].change,
            "partitioned_update, available_during_partitioned_update",
            "-",
            "error",
            None,
        ),
    ]
    text = markdown(rows, baseline)
    assert text.startswith("1 of 2 mutants killed. The real controller passed all 11 properties")
    assert "| no-adoption | orphans matching the selector" in text
    assert "| ✅ killed | 1 min 35 s |" in text
    page = html_page(rows, baseline, "python -m stsconf.mutants --airgap")
    assert "<table" in page
    assert "http" not in page


def test_the_mutant_tests_run_only_when_named(tmp_path: Path) -> None:
    class Params:
        def __init__(self, args: list[str]) -> None:
            self.dir = MUTANT_TESTS.parent.parent
            self.args = args

    class Config:
        def __init__(self, args: list[str]) -> None:
            self.invocation_params = Params(args)

    def named(*args: str) -> bool:
        return named_on_the_command_line(MUTANT_TESTS, Config(list(args)))  # type: ignore[arg-type]

    assert named("tests/mutants", "--airgap")
    assert named("tests/mutants/test_mutants.py::test_mutant_killed[no-adoption]")
    assert not named("--airgap")
    assert not named("tests")
    assert not named("tests/unit")

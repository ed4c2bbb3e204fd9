"""The bench without a cluster: its command lines, which test started which pod, the table,
and that it deletes only what it created (the cluster, the namespaces of a run)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from stsconf.bench import (
    DEFAULT_CLUSTER,
    UNATTRIBUTED,
    BenchCluster,
    Row,
    Scheduled,
    Totals,
    bench_cluster,
    case_of,
    junit_address,
    markdown,
    pods_per_test,
    rows,
    run_command,
    scheduled,
    target_args,
    warm_up_command,
    workers_label,
    workers_option,
)
from stsconf.report.junit import Case, read_cases, read_junit
from stsconf.selftest import CONFORMANCE, REPO

GUARANTEES = "tests.conformance.test_statefulset_guarantees"
LIFECYCLE = "tests.conformance.test_lifecycle"
MODULE = "tests/conformance/test_statefulset_guarantees.py"


def case(
    name: str,
    seconds: float = 1.0,
    result: str = "passed",
    window: tuple[float, float] | None = None,
    classname: str = GUARANTEES,
) -> Case:
    properties = {"started_at": str(window[0]), "ended_at": str(window[1])} if window else {}
    return Case(classname, name, seconds, result, properties)


# Reading the JUnit file

JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" tests="3">
<testcase classname="tests.conformance.test_statefulset_guarantees" name="test_ordered_startup"
  time="31.250"><properties><property name="started_at" value="1000.5" />
  <property name="ended_at" value="1031.75" /></properties></testcase>
<testcase classname="tests.conformance.test_lifecycle" name="test_lifecycle[machine-1]"
  time="80.000"><failure message="boom">trace</failure></testcase>
<testcase classname="tests.conformance.test_lifecycle" name="test_lifecycle[machine-1]"
  time="2.000"><error message="teardown">trace</error></testcase>
<testcase classname="tests.conformance.test_policies" name="test_max_unavailable" time="0.1">
  <skipped message="gate off" /></testcase>
</testsuite></testsuites>
"""


def test_cases_carry_their_seconds_result_and_properties_in_file_order() -> None:
    cases = read_cases(JUNIT)
    assert [(c.name, c.seconds, c.result) for c in cases] == [
        ("test_ordered_startup", 31.25, "passed"),
        ("test_lifecycle[machine-1]", 80.0, "failed"),
        ("test_lifecycle[machine-1]", 2.0, "error"),
        ("test_max_unavailable", 0.1, "skipped"),
    ]
    assert cases[0].classname == GUARANTEES
    assert cases[0].properties == {"started_at": "1000.5", "ended_at": "1031.75"}
    assert cases[1].properties == {}


def test_reading_outcomes_is_unchanged_by_the_cases_reader() -> None:
    outcomes = read_junit(JUNIT)
    assert outcomes["test_lifecycle[machine-1]"].result == "failed"
    assert outcomes["test_lifecycle[machine-1]"].message == "boom"
    assert outcomes["test_max_unavailable"].message == "gate off"


# The command lines


def test_the_bench_cluster_is_kinds_by_default() -> None:
    cluster = bench_cluster(["--airgap"])
    assert cluster.kind_name == DEFAULT_CLUSTER
    assert cluster.kubeconfig == REPO / ".pytest-kind" / DEFAULT_CLUSTER / "kubeconfig"
    assert cluster.options == (
        "--reuse-cluster",
        "--keep-cluster",
        f"--cluster-name={DEFAULT_CLUSTER}",
    )
    named = bench_cluster(["--cluster-name", "mine"])
    assert named.kubeconfig == REPO / ".pytest-kind" / "mine" / "kubeconfig"


def test_an_existing_cluster_is_neither_named_nor_reused_nor_kept() -> None:
    cluster = bench_cluster(["--existing-kubeconfig=/k/config", "--cluster-name=x"])
    assert cluster == BenchCluster(Path("/k/config"), (), None)


def test_the_warm_up_gets_the_cluster_and_keeps_it_whatever_the_runs_select(
    tmp_path: Path,
) -> None:
    command = warm_up_command("c", ["--airgap", "-k", "test_lifecycle"], tmp_path)
    assert command[:3] == [sys.executable, "-m", "pytest"]
    assert command[3].endswith("tests/cluster/test_cluster_basics.py")
    assert "-k" not in command
    assert "test_lifecycle" not in command
    for option in ("--cluster-name=c", "--keep-cluster", "--reuse-cluster", "--airgap"):
        assert option in command
    assert command[command.index("-n") + 1] == "0"
    assert f"--junitxml={tmp_path / 'warm-up' / 'junit.xml'}" in command


def test_the_default_target_leaves_out_the_disruption_tests() -> None:
    assert target_args(None, ["--airgap"]) == [str(CONFORMANCE), "-k", "not test_disruption"]
    assert target_args(None, ["-k", "test_lifecycle"]) == [str(CONFORMANCE)]
    assert target_args("tests/conformance/test_policies.py", []) == [
        "tests/conformance/test_policies.py"
    ]


def test_each_run_has_its_own_workers_and_reports_on_the_bench_cluster(
    tmp_path: Path,
) -> None:
    cluster = bench_cluster([])
    command = run_command("parallel", "4", ["t"], ["-n", "9", "--airgap"], cluster, tmp_path)
    assert command[3:6] == ["t", "-n", "9"]
    assert command[-2:] == ["-n", "4"]  # after the options: it wins
    for option in ("--reuse-cluster", f"--cluster-name={DEFAULT_CLUSTER}"):
        assert option in command
    assert "--keep-namespaces" not in command  # kept pods would load the cluster it measures
    assert f"--html={tmp_path / 'parallel' / 'report.html'}" in command


def test_workers_are_auto_or_a_count() -> None:
    assert workers_option("auto") == "auto"
    assert workers_option("6") == "6"
    for wrong in ("0", "-1", "many"):
        with pytest.raises(Exception, match="above zero"):
            workers_option(wrong)
    assert workers_label("auto") == "4, auto"
    assert workers_label("6") == "6"


# Which test started which pod


def test_scheduled_events_give_the_pod_and_their_time() -> None:
    event = {
        "reason": "Scheduled",
        "involvedObject": {"kind": "Pod", "uid": "u1", "name": "web-0"},
        "eventTime": "2026-01-01T00:00:01.500000Z",
        "firstTimestamp": None,
    }
    assert scheduled("p", event) == Scheduled("p", "u1", 1767225601.5)
    older = {**event, "eventTime": None, "firstTimestamp": "2026-01-01T00:00:02Z"}
    assert scheduled("p", older) == Scheduled("p", "u1", 1767225602.0)
    assert scheduled("p", {**event, "reason": "Pulled"}) is None
    assert scheduled("p", {**event, "involvedObject": {"kind": "PersistentVolumeClaim"}}) is None


def test_node_ids_map_to_where_junit_puts_them() -> None:
    assert junit_address(f"{MODULE}::test_ordered_startup") == (GUARANTEES, "test_ordered_startup")
    assert junit_address("tests/conformance/test_lifecycle.py::test_lifecycle[machine-2]") == (
        LIFECYCLE,
        "test_lifecycle[machine-2]",
    )
    assert junit_address("tests/x/test_y.py::TestZ::test_w[a::b]") == (
        "tests.x.test_y.TestZ",
        "test_w[a::b]",
    )
    assert junit_address(MODULE) == (GUARANTEES, "")


def test_a_namespace_of_a_test_gives_its_pods_to_that_test() -> None:
    cases = [case("test_a"), case("test_lifecycle[machine-2]", classname=LIFECYCLE)]
    own = Scheduled(f"{MODULE}::test_a", "u", 5.0)
    assert case_of(own, cases) == cases[0]
    lifecycle = "tests/conformance/test_lifecycle.py::test_lifecycle[machine-2]"
    sequence = Scheduled(f"{lifecycle} #3", "v", 1.0)
    assert case_of(sequence, cases) == cases[1]


def test_a_namespace_of_a_module_gives_each_pod_to_the_test_running_then() -> None:
    cases = [
        case("test_a", window=(100.0, 150.0)),
        case("test_b", window=(150.5, 200.0)),
        case("test_c", window=(300.0, 400.0), classname="tests.conformance.test_other"),
    ]
    assert case_of(Scheduled(MODULE, "u", 120.0), cases) == cases[0]
    assert case_of(Scheduled(MODULE, "u", 199.0), cases) == cases[1]
    assert case_of(Scheduled(MODULE, "u", 350.0), cases) is None  # another module's window
    assert case_of(Scheduled(MODULE, "u", 99.0), cases) == cases[0]  # a whole-second stamp
    assert case_of(Scheduled(MODULE, "u", 250.0), cases) is None


def test_a_module_namespace_finds_tests_of_its_classes_too() -> None:
    cases = [case("test_a", window=(0.0, 10.0), classname=f"{GUARANTEES}.TestGroup")]
    assert case_of(Scheduled(MODULE, "u", 5.0), cases) == cases[0]


def test_pods_count_once_per_test_and_the_rest_as_unattributed() -> None:
    cases = [case("test_a", window=(100.0, 150.0)), case("test_b", window=(151.0, 200.0))]
    pods = [
        Scheduled(MODULE, "u1", 110.0),
        Scheduled(MODULE, "u1", 111.0),  # the same pod's event twice
        Scheduled(MODULE, "u2", 120.0),
        Scheduled(f"{MODULE}::test_b", "u3", 10.0),
        Scheduled("tests/conformance/test_gone.py::test_x", "u4", 120.0),
    ]
    assert pods_per_test(pods, cases) == {
        f"{GUARANTEES}::test_a": 2,
        f"{GUARANTEES}::test_b": 1,
        UNATTRIBUTED: 1,
    }


# The table


def test_rows_sum_parametrized_cases_and_show_the_worst_outcome() -> None:
    serial = [
        case("test_a", 10.0),
        case("test_lifecycle[machine-1]", 50.0, classname=LIFECYCLE),
        case("test_lifecycle[machine-2]", 60.0, "failed", classname=LIFECYCLE),
        case("test_lifecycle[machine-2]", 1.0, "error", classname=LIFECYCLE),  # its teardown
    ]
    parallel = [case("test_lifecycle[machine-1]", 70.0, classname=LIFECYCLE), case("test_z", 2.0)]
    pods = {
        f"{GUARANTEES}::test_a": 3,
        f"{LIFECYCLE}::test_lifecycle[machine-1]": 4,
        f"{LIFECYCLE}::test_lifecycle[machine-2]": 5,
    }
    assert rows(serial, parallel, pods) == [
        Row("a", 10.0, None, 3, "passed", "-"),
        Row("lifecycle", 111.0, 70.0, 9, "error", "passed"),
        Row("z", None, 2.0, None, "-", "passed"),
    ]


def test_skips_do_not_hide_a_pass_nor_a_failure() -> None:
    cases = [case("test_k[1]", result="skipped"), case("test_k[2]")]
    assert rows(cases, [], {})[0].serial_outcome == "passed"


def test_the_markdown_has_the_rows_wall_times_sums_speed_up_and_load() -> None:
    table = [Row("a", 10.0, 12.5, 3, "passed", "passed"), Row("b", 20.0, None, 0, "failed", "-")]
    totals = Totals(100.0, 40.0, "4, auto", (0.5, 0.4, 0.3), (2.0, 1.5, 1.0), unattributed=2)
    text = markdown(table, totals)
    lines = text.splitlines()
    assert lines[0] == (
        "| property | serial s | parallel s | pods started | outcome serial/parallel |"
    )
    assert lines[2] == "| `a` | 10.0 | 12.5 | 3 | passed/passed |"
    assert lines[3] == "| `b` | 20.0 | - | 0 | failed/- |"
    assert "- wall time serial (-n 0): 100 s" in lines
    assert "- wall time parallel (-n 4, auto): 40 s" in lines
    assert "- sum of the test durations: serial 30 s, parallel 12 s" in lines
    assert "- speed-up (serial wall time / parallel wall time): 2.50x" in lines
    assert "0.50, 0.40, 0.30 before the serial run, 2.00, 1.50, 1.00 after" in text
    assert "- pods started that no test was found for: 2" in lines


def test_no_line_for_unattributed_pods_when_there_are_none() -> None:
    totals = Totals(1.0, 1.0, "2", (0.0, 0.0, 0.0), (0.0, 0.0, 0.0))
    assert "no test was found" not in markdown([], totals)

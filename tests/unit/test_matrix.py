"""The property matrix: outcomes come from the run's reports, never from a fixed list."""

from __future__ import annotations

import ast
from types import SimpleNamespace
from typing import Any

import pytest

from stsconf.report.junit import Outcome
from stsconf.report.matrix import (
    CLUSTER_GROUP,
    CONFORMANCE_GROUP,
    ERROR,
    FAILED,
    GUARANTEES,
    PASSED,
    SKIPPED,
    CheckedTest,
    RunResults,
    cluster_rows,
    combined_outcome,
    count_text,
    matrix_html,
    matrix_rows,
    record_report,
    sentence_html,
    short,
)
from stsconf.report.summary import compare_markdown
from stsconf.selftest import (
    CONFORMANCE,
    CORE_PROPERTIES,
    DISRUPTION_PROPERTIES,
    LIFECYCLE_PROPERTIES,
    PROPERTIES,
)

PROPERTY_IDS = [g.property_id for g in GUARANTEES]  # in the matrix's order


def conformance_tests() -> dict[str, str]:
    """Each test function of the conformance suite, by name, with the file it is in."""
    return {
        node.name: path.name
        for path in sorted(CONFORMANCE.glob("test_*.py"))
        for node in ast.parse(path.read_text()).body
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")
    }


def properties_tested_in(*files: str) -> set[str]:
    return {
        name.removeprefix("test_") for name, file in conformance_tests().items() if file in files
    }


def checked(name: str, group: str = CONFORMANCE_GROUP) -> CheckedTest:
    return CheckedTest(f"tests/x.py::{name}", name, f"{name} holds.", group, "")


def run(*phases: tuple[str, str, str, str]) -> RunResults:
    """(test name, phase, outcome, detail) for each report, in order."""
    results = RunResults()
    for name, when, outcome, detail in phases:
        group = CLUSTER_GROUP if name.startswith("test_cluster") else CONFORMANCE_GROUP
        results.record(checked(name, group), when, outcome, detail)
    return results


def test_every_property_of_the_matrix_has_its_test_and_every_test_its_property() -> None:
    tested = {name.removeprefix("test_") for name in conformance_tests()}
    assert len(set(PROPERTY_IDS)) == len(PROPERTY_IDS), "a property twice in the matrix"
    assert sorted(set(PROPERTY_IDS) - tested) == [], "properties without a test_<id>"
    assert sorted(tested - set(PROPERTY_IDS)) == [], "tests without their property in the matrix"
    assert all(g.sentence.endswith(".") and "\n" not in g.sentence for g in GUARANTEES)


def test_the_property_sets_of_suite_runs_are_those_of_the_test_files() -> None:
    assert properties_tested_in("test_statefulset_guarantees.py") == CORE_PROPERTIES
    assert properties_tested_in("test_lifecycle.py") == LIFECYCLE_PROPERTIES
    assert properties_tested_in("test_disruption.py") == DISRUPTION_PROPERTIES
    others = set(conformance_tests().values()) - {"test_lifecycle.py", "test_disruption.py"}
    assert properties_tested_in(*others) == PROPERTIES


@pytest.mark.parametrize(
    ("phases", "expected"),
    [
        ([("setup", PASSED), ("call", PASSED), ("teardown", PASSED)], PASSED),
        ([("setup", PASSED), ("call", FAILED), ("teardown", PASSED)], FAILED),
        ([("setup", FAILED), ("teardown", PASSED)], ERROR),
        ([("setup", SKIPPED), ("teardown", PASSED)], SKIPPED),
        ([("setup", PASSED), ("call", SKIPPED), ("teardown", PASSED)], SKIPPED),
        ([("setup", PASSED), ("call", PASSED), ("teardown", FAILED)], ERROR),
        ([("setup", PASSED), ("call", FAILED), ("teardown", FAILED)], ERROR),
    ],
)
def test_outcome_of_a_test_from_its_phases(phases: list[tuple[str, str]], expected: str) -> None:
    outcome: str | None = None
    for when, result in phases:
        outcome = combined_outcome(outcome, when, result)
    assert outcome == expected


def test_rows_follow_the_recorded_outcomes() -> None:
    results = run(
        ("test_ordered_startup", "setup", PASSED, ""),
        ("test_ordered_startup", "call", FAILED, "web-1: expected A; saw B"),
        ("test_ordered_startup", "teardown", PASSED, ""),
        ("test_dns_records", "setup", SKIPPED, "no DNS here"),
        ("test_pvc_per_pod", "call", PASSED, ""),
    )
    rows = {row.property_id: row for row in matrix_rows(results)}
    assert list(rows) == PROPERTY_IDS
    startup, dns, pvc = rows["ordered_startup"], rows["dns_records"], rows["pvc_per_pod"]
    assert startup.test is not None
    assert startup.test.outcome == FAILED
    assert startup.test.detail == "web-1: expected A; saw B"  # a passed teardown keeps it
    assert dns.test is not None
    assert (dns.test.outcome, dns.test.detail) == (SKIPPED, "no DNS here")
    assert pvc.test is not None
    assert pvc.test.outcome == PASSED
    assert rows["cleanup_keeps_pvcs"].test is None  # not run in this session


def test_cluster_checks_are_listed_with_their_docstring() -> None:
    results = run(("test_cluster_nodes_ready", "call", PASSED, ""))
    [row] = cluster_rows(results)
    assert (row.property_id, row.sentence) == (
        "cluster_nodes_ready",
        "test_cluster_nodes_ready holds.",
    )


def test_html_shows_sentence_test_link_and_outcome_escaped() -> None:
    results = run(
        ("test_ordered_startup", "call", FAILED, "web-1: expected <ready>; saw Pending"),
        ("test_stable_hostnames", "setup", SKIPPED, "not applicable"),
        ("test_cluster_dns", "call", PASSED, ""),
    )
    page = matrix_html(results)
    total = len(GUARANTEES)
    assert f"Property matrix: 0 of {total} StatefulSet guarantees held" in page
    assert f"1 failed, {total - 2} not run, 1 skipped" in page
    assert '<a href="#tests/x.py::test_ordered_startup">test_ordered_startup</a>' in page
    assert "web-1: expected &lt;ready&gt;; saw Pending" in page
    assert "skipped: not applicable" in page
    assert "The cluster itself" in page
    assert "cluster_dns" in page
    assert GUARANTEES[0].sentence in page


def test_the_cluster_group_is_left_out_when_no_cluster_check_ran() -> None:
    assert "The cluster itself" not in matrix_html(run(("test_dns_records", "call", PASSED, "")))


def test_short_details_keep_the_first_lines_within_a_limit() -> None:
    assert short("one\n\n  two\nthree\nfour") == "one two three"
    assert short("x" * 300, limit=10) == "x" * 9 + "…"


def test_no_matrix_when_neither_a_guarantee_nor_the_cluster_was_checked() -> None:
    assert matrix_html(run()) == ""


def test_docstring_commands_are_set_as_code() -> None:
    assert sentence_html("`kubectl exec` <runs>") == "<code>kubectl exec</code> &lt;runs&gt;"


def test_counts_read_as_english() -> None:
    assert [count_text(ERROR, 1), count_text(ERROR, 2), count_text(FAILED, 2)] == [
        "1 error",
        "2 errors",
        "2 failed",
    ]


def test_a_property_shows_the_worst_of_its_tests_and_only_conformance_tests() -> None:
    results = RunResults()
    for nodeid, outcome in (("a[1]", PASSED), ("a[2]", FAILED), ("a[3]", PASSED)):
        test = CheckedTest(nodeid, "test_dns_records", "", CONFORMANCE_GROUP, "")
        results.record(test, "call", outcome, "")
    results.record(CheckedTest("u", "test_pvc_per_pod", "", "", ""), "call", PASSED, "")
    rows = {row.property_id: row.test for row in matrix_rows(results)}
    assert rows["dns_records"] is not None
    assert rows["dns_records"].nodeid == "a[2]"
    assert rows["pvc_per_pod"] is None  # a unit test of the same name checks no guarantee


def test_links_point_at_the_row_of_the_phase_that_decided() -> None:
    results = run(
        ("test_ordered_startup", "setup", PASSED, ""),
        ("test_ordered_startup", "call", PASSED, ""),
        ("test_dns_records", "setup", FAILED, "no cluster"),
        ("test_pvc_per_pod", "setup", PASSED, ""),
        ("test_pvc_per_pod", "call", PASSED, ""),
        ("test_pvc_per_pod", "teardown", FAILED, "cleanup"),
    )
    anchors = {row.property_id: row.test.anchor for row in matrix_rows(results) if row.test}
    assert anchors == {
        "ordered_startup": "tests/x.py::test_ordered_startup",
        "dns_records": "tests/x.py::test_dns_records::setup",
        "pvc_per_pod": "tests/x.py::test_pvc_per_pod::teardown",
    }


def test_runs_compared_side_by_side_give_one_column_each() -> None:
    runs = {
        "1.35 web": {"test_ordered_startup": Outcome("test_ordered_startup", "passed", "")},
        "1.37 web": {
            "test_ordered_startup": Outcome("test_ordered_startup", "failed", "web-1 early"),
            "test_pod_labels": Outcome("test_pod_labels", "skipped", "why"),
        },
    }
    table = compare_markdown(runs).splitlines()
    assert table[0] == "| property | 1.35 web | 1.37 web |"
    assert "| `ordered_startup` | ✅ passed | ❌ failed |" in table
    assert "| `pod_labels` | ⚪ not run | ⏭️ skipped |" in table
    assert table[-1] == "| all tests | 1 passed | 1 failed, 1 skipped |"


def report(when: str, duration: float, outcome: str = PASSED) -> Any:
    return SimpleNamespace(when=when, outcome=outcome, duration=duration, user_properties=[])


def test_a_propertys_seconds_leave_out_the_runs_own_set_up() -> None:
    """The cluster created in the first test's set-up is the run's, not that test's."""
    results = RunResults()
    first = CheckedTest("tests/x.py::test_rollback[1]", "test_rollback", "", CONFORMANCE_GROUP, "")
    second = CheckedTest("tests/x.py::test_rollback[2]", "test_rollback", "", CONFORMANCE_GROUP, "")
    record_report(results, first, report("setup", 52.0), "", setup=50.0)
    record_report(results, first, report("call", 10.0), "", setup=0.0)
    record_report(results, second, report("call", 5.0), "", setup=0.0)
    record_report(results, second, report("teardown", 9.0), "", setup=8.5)
    row = next(r for r in matrix_rows(results) if r.property_id == "rollback")
    assert row.seconds == pytest.approx(2.0 + 10.0 + 5.0 + 0.5)
    assert '<td class="seconds">17.5</td>' in matrix_html(results)

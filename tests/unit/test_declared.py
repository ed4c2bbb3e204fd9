"""Reading the declared forms of a manifest, --require, and the forms in the matrix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from stsconf.checks.declared import (
    OPT_OUTS,
    Form,
    RequireError,
    form_of,
    parse_required,
    required_message,
)
from stsconf.model.manifest import load_manifest
from stsconf.model.policies import DeclaredPolicies
from stsconf.report.junit import read_junit
from stsconf.report.matrix import (
    CONFORMANCE_GROUP,
    GUARANTEES,
    PASSED,
    CheckedTest,
    RunResults,
    matrix_html,
    matrix_rows,
)

REPO = Path(__file__).resolve().parents[2]
SELFTEST = REPO / "tests" / "selftest" / "manifests"
KNOWN = [g.property_id for g in GUARANTEES]


def statefulset(**spec: Any) -> dict[str, Any]:
    return {"kind": "StatefulSet", "spec": spec}


def form(declared: DeclaredPolicies, property_id: str) -> Form:
    found = form_of(declared, property_id)
    assert found is not None
    return found


def opted_out(declared: DeclaredPolicies) -> set[str]:
    return {p for p in OPT_OUTS if form(declared, p).opt_out}


def test_defaults_promise_everything() -> None:
    declared = DeclaredPolicies.of(statefulset())
    assert declared.ordered
    assert opted_out(declared) == set()
    assert form(declared, "ordered_startup").name == "OrderedReady"
    assert form(declared, "cleanup_keeps_pvcs").name == "whenDeleted: Retain"


def test_parallel_opts_out_of_the_ordering_guarantees_only() -> None:
    declared = DeclaredPolicies.of(statefulset(podManagementPolicy="Parallel"))
    assert opted_out(declared) == {
        "ordered_startup",
        "scale_up_order",
        "scale_down_order",
        "halts_on_unhealthy",
    }
    startup = form(declared, "ordered_startup")
    assert startup.name == "Parallel"
    assert startup.opt_out is not None
    assert startup.opt_out.message() == (
        "the manifest does not promise ordered start-up: podManagementPolicy is Parallel"
    )
    assert required_message(startup) == (
        "the manifest does not promise ordered start-up: podManagementPolicy is Parallel "
        "(--require ordered_startup: expected podManagementPolicy OrderedReady; saw Parallel)"
    )


def test_deleting_retention_policies_opt_out_of_keeping_claims() -> None:
    policy = {"whenScaled": "Delete", "whenDeleted": "Delete"}
    declared = DeclaredPolicies.of(statefulset(persistentVolumeClaimRetentionPolicy=policy))
    assert opted_out(declared) == {"pvcs_kept_after_scale_down", "cleanup_keeps_pvcs"}
    scaled = form(declared, "pvcs_kept_after_scale_down")
    assert scaled.name == "whenScaled: Delete"
    assert form(declared, "cleanup_keeps_pvcs").name == "whenDeleted: Delete"
    assert scaled.opt_out is not None
    assert scaled.opt_out.message() == (
        "the manifest does not promise to keep the claims of pods removed by a scale-down: "
        "persistentVolumeClaimRetentionPolicy.whenScaled is Delete"
    )


def test_properties_without_an_opt_out_have_no_form() -> None:
    assert form_of(DeclaredPolicies.of(statefulset()), "stable_hostnames") is None


@pytest.mark.parametrize(
    ("manifest", "expected"),
    [
        ("parallel.yaml", {"ordered_startup", "scale_up_order", "scale_down_order",
                           "halts_on_unhealthy"}),
        ("when_scaled_delete.yaml", {"pvcs_kept_after_scale_down"}),
        ("when_deleted_delete.yaml", {"cleanup_keeps_pvcs"}),
        ("hostname_fqdn.yaml", set()),
    ],
)  # fmt: skip
def test_the_self_test_manifests_opt_out_of_what_they_say(
    manifest: str, expected: set[str]
) -> None:
    declared = load_manifest(SELFTEST / manifest).policies
    assert opted_out(declared) == expected


def test_every_opt_out_is_a_guarantee_of_the_matrix() -> None:
    assert set(OPT_OUTS) <= set(KNOWN)


def test_require_takes_commas_and_repeats() -> None:
    assert parse_required(["ordered_startup,scale_up_order", " cleanup_keeps_pvcs "], KNOWN) == {
        "ordered_startup",
        "scale_up_order",
        "cleanup_keeps_pvcs",
    }
    assert parse_required([], KNOWN) == frozenset()


def test_require_of_an_unknown_id_names_the_ids_it_takes() -> None:
    with pytest.raises(RequireError) as error:
        parse_required(["ordered_start"], KNOWN)
    assert str(error.value).startswith("--require: unknown property 'ordered_start'; ")
    assert "ordered_startup, scale_up_order" in str(error.value)


def test_require_of_a_property_without_opt_out_is_refused() -> None:
    with pytest.raises(RequireError) as error:
        parse_required(["ordered_startup,stable_hostnames"], KNOWN)
    assert "stable_hostnames has no opt-out" in str(error.value)
    assert "cleanup_keeps_pvcs" in str(error.value)


def test_the_matrix_shows_the_form_that_ran() -> None:
    results = RunResults()
    test = CheckedTest("t.py::test_ordered_startup", "test_ordered_startup", "s.",
                       CONFORMANCE_GROUP, "")  # fmt: skip
    results.record(test, "call", PASSED, "")
    results.forms[test.nodeid] = "Parallel"
    [row] = [r for r in matrix_rows(results) if r.property_id == "ordered_startup"]
    assert row.form == "Parallel"
    assert "form: Parallel" in matrix_html(results)


def test_the_junit_file_carries_the_form_for_the_self_tests() -> None:
    junit = (
        '<testsuites><testsuite><testcase name="test_ordered_startup"><properties>'
        '<property name="declared_form" value="Parallel"/></properties></testcase>'
        '<testcase name="test_dns_records"/></testsuite></testsuites>'
    )
    outcomes = read_junit(junit)
    assert outcomes["test_ordered_startup"].form == "Parallel"
    assert outcomes["test_dns_records"].form == ""

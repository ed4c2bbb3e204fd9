"""The property matrix at the top of the report: each guarantee, its test and how it went.

Outcomes are recorded from the run's own test reports (see `RunResults.record`), never
written down in advance; a guarantee whose test did not run says so.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from urllib.parse import quote

import pytest

from stsconf.report.observations import failure_summary

PASSED = "passed"
FAILED = "failed"
ERROR = "error"  # failed outside the test body (setup or teardown)
SKIPPED = "skipped"
NOT_RUN = "not run"
SEVERITY = (PASSED, SKIPPED, FAILED, ERROR)  # which outcome a property shows of several tests

CLUSTER_GROUP = "cluster"
CONFORMANCE_GROUP = "conformance"
# A test's user property (record_property): the form of its guarantee that it asserted, such
# as "Parallel" or "whenScaled: Delete"; the matrix shows it under the property id.
FORM_PROPERTY = "declared_form"


@dataclass(frozen=True)
class Guarantee:
    property_id: str  # the conformance test is test_<property_id>
    sentence: str


GUARANTEES = (
    Guarantee(
        "ordered_startup",
        "Pods start one at a time in ordinal order: each is created only after the one "
        "before it is Running and Ready.",
    ),
    Guarantee(
        "stable_hostnames",
        "Each pod's hostname is its own stable name, and its fully qualified name that name "
        "under the headless Service's domain, also after the pod is deleted and replaced.",
    ),
    Guarantee(
        "dns_records",
        "Each pod has a DNS name under the headless Service that follows its current IP; "
        "the Service name resolves to the ready pods.",
    ),
    Guarantee(
        "pvc_per_pod",
        "Each pod gets its own claim from each claim template, Bound, and mounts exactly "
        "that claim.",
    ),
    Guarantee(
        "data_survives_pod_deletion",
        "What a pod wrote to its volume is there again after its pods are deleted and recreated.",
    ),
    Guarantee(
        "scale_up_order",
        "Scaling up creates the new pods in ordinal order, each after the one before it is Ready.",
    ),
    Guarantee(
        "scale_down_order",
        "Scaling down removes pods from the highest ordinal down, each only after the one above "
        "it is gone.",
    ),
    Guarantee(
        "pvcs_kept_after_scale_down",
        "Scaling down keeps the removed pods' claims; scaling up again reattaches them with "
        "their data.",
    ),
    Guarantee(
        "cleanup_keeps_pvcs",
        "Deleting the StatefulSet and its Service leaves the claims in place.",
    ),
    Guarantee(
        "parallel_launch",
        "Under Parallel pod management, pods are created without waiting for their "
        "predecessors, and scaling 1 -> N -> 0 completes while no pod is Ready.",
    ),
    Guarantee(
        "halts_on_unhealthy",
        "Under OrderedReady, while a pod is not Ready scaling up creates no further pod and "
        "scaling down deletes none; once it is Ready again, scaling goes on in order.",
    ),
    Guarantee(
        "pvc_retention_policy",
        "whenScaled: Delete deletes the claims of pods a scale-down removes, owned by those "
        "pods; whenDeleted: Delete deletes every claim with the StatefulSet that owns them.",
    ),
    Guarantee(
        "start_ordinal",
        "Pods are numbered from spec.ordinals.start; setting, lowering, raising and removing it "
        "replaces exactly the pods whose ordinal left the range.",
    ),
    Guarantee(
        "pod_labels",
        "Each pod carries its name and ordinal as the labels statefulset.kubernetes.io/pod-name "
        "and apps.kubernetes.io/pod-index; a Service selecting one pod by its name label "
        "reaches that pod and no other.",
    ),
    Guarantee(
        "orphan_and_adopt",
        "Deleting the StatefulSet with orphan propagation leaves its pods and claims; a new one "
        "with the same selector adopts them without recreating them, removes the pods above "
        "its replicas in order, and releases a pod whose labels no longer match.",
    ),
    Guarantee(
        "recreates_failed_pod",
        "A pod that fails (rejected by its node) is deleted and created again, with a new uid, "
        "until one runs.",
    ),
    Guarantee(
        "scale_subresource",
        "The scale subresource reads and sets replicas (get, update and patch), and the pods "
        "follow.",
    ),
    Guarantee(
        "rolling_update_order",
        "A template change replaces pods from the highest ordinal down, one at a time, each "
        "after the one above is Running and Ready on the new revision; then currentRevision "
        "equals updateRevision, every pod carries it, and each kept its claims and data.",
    ),
    Guarantee(
        "partitioned_update",
        "With rollingUpdate.partition P only ordinals >= P move to the new revision (none when "
        "P >= replicas), a deleted pod below P comes back on the old one, and lowering P step "
        "by step updates the rest in reverse order.",
    ),
    Guarantee(
        "on_delete_update",
        "With updateStrategy OnDelete a template change replaces no running pod; each pod "
        "deleted afterwards comes back on the new revision.",
    ),
    Guarantee(
        "rollback",
        "Restoring the previous template returns to the previous ControllerRevision without "
        "creating one and rolls the pods back in the same order; revisionHistoryLimit bounds "
        "the revisions kept.",
    ),
    Guarantee(
        "forced_rollback",
        "An update whose pods never become Ready stops at the first broken pod, touching no "
        "lower ordinal; reverting the template and deleting that pod brings every pod back "
        "Ready on the old revision.",
    ),
    Guarantee(
        "min_ready_seconds",
        "With minReadySeconds M an update replaces the next pod only M seconds after the one "
        "above became Ready, and status.availableReplicas lags readyReplicas by M.",
    ),
    Guarantee(
        "max_unavailable",
        "Where the cluster keeps rollingUpdate.maxUnavailable (feature gate "
        "MaxUnavailableStatefulSet), an update never has more pods unavailable than that.",
    ),
    Guarantee(
        "available_during_update",
        "Through a rolling update as declared, a client reading every replica finds no more "
        "of them unanswering at once than the strategy allows, and none Ready while refusing.",
    ),
    Guarantee(
        "available_during_partitioned_update",
        "Through a canary update (rollingUpdate.partition P), a client finds every pod below P "
        "answering throughout, and those above unanswering no more at once than allowed.",
    ),
    Guarantee(
        "no_stale_reads",
        "Through a rolling update, every answer from a replica carries the value last written "
        "to its data: never another replica's, an older one or none.",
    ),
    Guarantee(
        "available_during_rollback",
        "Rolling back to the previous revision (kubectl rollout undo), a client finds no more "
        "replicas unanswering at once than the strategy allows, and none Ready while refusing.",
    ),
    Guarantee(
        "available_during_scaling",
        "Scaling up by one pod and back down, a client finds every replica that stays "
        "answering throughout.",
    ),
    Guarantee(
        "available_during_pod_deletion",
        "Deleting one pod, a client finds every other replica answering throughout, and the "
        "deleted one answering again with the value last written to its data.",
    ),
    Guarantee(
        "node_restart_keeps_pods",
        "After the node that runs the pods restarts, every pod comes back with its name, "
        "hostname, DNS record, claim and data, and the ordering rules hold while they return.",
    ),
    Guarantee(
        "at_most_one_per_identity",
        "While the node of a pod stops answering, no second pod of its name exists anywhere "
        "until the old one is confirmed gone; after a force delete the controller creates it.",
    ),
    Guarantee(
        "replacement_follows_its_volume",
        "On several nodes, a deleted pod's replacement is scheduled where its volume can be "
        "used (the node affinity of a local volume), and keeps its data.",
    ),
    Guarantee(
        "available_during_drain",
        "Draining a replica's node through the Eviction API keeps the PodDisruptionBudget for a "
        "client reading every replica; the pods come back with their claims and data.",
    ),
    Guarantee(
        "lifecycle",
        "Random sequences of scaling, pod deletions, template changes, partitions and writes "
        "leave every pod, revision, claim, value and status where the declared policies put "
        "them, at every step.",
    ),
)


@dataclass(frozen=True)
class CheckedTest:
    nodeid: str
    name: str  # the test function's name, e.g. test_ordered_startup
    sentence: str  # the first line of the test's docstring
    group: str  # CONFORMANCE_GROUP, CLUSTER_GROUP or ""
    outcome: str
    detail: str = ""  # why it failed or was skipped
    phase: str = "call"  # the phase that decided the outcome: setup, call or teardown

    @property
    def anchor(self) -> str:
        """The id of the test's row in pytest-html's results table."""
        return self.nodeid if self.phase == "call" else f"{self.nodeid}::{self.phase}"


def combined_outcome(previous: str | None, when: str, outcome: str) -> str:
    """A test's outcome so far, given the result of its setup, call or teardown phase."""
    if outcome == SKIPPED:
        return SKIPPED
    if outcome == FAILED:
        return FAILED if when == "call" else ERROR
    return previous if previous in (FAILED, ERROR, SKIPPED) else PASSED


@dataclass
class RunResults:
    """The outcome of every test of this run, by node id, as the test reports come in."""

    by_nodeid: dict[str, CheckedTest] = field(default_factory=dict)
    forms: dict[str, str] = field(default_factory=dict)  # node id -> the form it asserted
    seconds: dict[str, float] = field(default_factory=dict)  # node id -> its own duration

    def record(self, test: CheckedTest, when: str, outcome: str, detail: str) -> None:
        known = self.by_nodeid.get(test.nodeid)
        previous = known.outcome if known else None
        combined = combined_outcome(previous, when, outcome)
        if known is None or combined != previous:
            phase = "call" if combined == PASSED else when
            self.by_nodeid[test.nodeid] = replace(
                test, outcome=combined, detail=detail, phase=phase
            )

    def conformance_test(self, name: str) -> CheckedTest | None:
        """The conformance test of that name; of several (parametrised), the one worst off."""
        tests = [t for t in self.in_group(CONFORMANCE_GROUP) if t.name == name]
        return max(tests, key=lambda t: SEVERITY.index(t.outcome), default=None)

    def in_group(self, group: str) -> list[CheckedTest]:
        return [t for t in self.by_nodeid.values() if t.group == group]

    def seconds_of(self, group: str, name: str) -> float:
        """The own durations of the tests of that name (all cases of a parametrised one)."""
        return sum(self.seconds.get(t.nodeid, 0.0) for t in self.in_group(group) if t.name == name)


def checked_test(item: pytest.Item) -> CheckedTest:
    """What the matrix needs to know about a test item, before any outcome."""
    function = getattr(item, "function", None)
    doc = (getattr(function, "__doc__", None) or "").strip()
    groups = [g for g in (CONFORMANCE_GROUP, CLUSTER_GROUP) if item.get_closest_marker(g)]
    name = getattr(item, "originalname", None) or item.name
    return CheckedTest(
        nodeid=item.nodeid,
        name=name,
        sentence=doc.split("\n")[0],
        group=groups[0] if groups else "",
        outcome="",
    )


def failure_detail(report: pytest.TestReport, error: BaseException | None) -> str:
    """Why the phase failed or was skipped, in a line or two; empty when it passed."""
    if error is None:
        return ""
    return str(error) if report.skipped else failure_summary(error)


def record_report(
    results: RunResults, test: CheckedTest, report: pytest.TestReport, detail: str, setup: float
) -> None:
    """Add one phase's report (setup, call or teardown) of `test` to the run's results;
    `setup`: the seconds of it that were the whole run's set-up (the cluster), not the test's."""
    results.record(test, report.when, report.outcome, detail)
    results.seconds[test.nodeid] = results.seconds.get(test.nodeid, 0.0) + max(
        0.0, report.duration - setup
    )
    form = dict(report.user_properties).get(FORM_PROPERTY)
    if form:
        results.forms[test.nodeid] = str(form)


@dataclass(frozen=True)
class MatrixRow:
    property_id: str
    sentence: str
    test: CheckedTest | None  # None: the test did not run
    form: str = ""  # the form of the guarantee the test asserted, when it says
    seconds: float = 0.0  # its tests' own durations (set-up of the whole run not counted)


def matrix_rows(results: RunResults) -> list[MatrixRow]:
    """Every guarantee with the test that checked it in this run (if any)."""
    rows = []
    for g in GUARANTEES:
        test = results.conformance_test(f"test_{g.property_id}")
        form = results.forms.get(test.nodeid, "") if test else ""
        seconds = results.seconds_of(CONFORMANCE_GROUP, f"test_{g.property_id}")
        rows.append(MatrixRow(g.property_id, g.sentence, test, form, seconds))
    return rows


def cluster_rows(results: RunResults) -> list[MatrixRow]:
    """The checks of the cluster itself that ran, each described by its docstring."""
    return [
        MatrixRow(
            t.name.removeprefix("test_"), t.sentence, t, "", results.seconds.get(t.nodeid, 0.0)
        )
        for t in results.in_group(CLUSTER_GROUP)
    ]


def outcome_counts(rows: Iterable[MatrixRow]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for row in rows:
        outcome = row.test.outcome if row.test else NOT_RUN
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


def matrix_html(results: RunResults) -> str:
    """The matrix, or nothing when this run checked neither a guarantee nor the cluster."""
    guarantees, checks = matrix_rows(results), cluster_rows(results)
    if all(row.test is None for row in guarantees) and not checks:
        return ""
    head = (
        "<tr><th>property</th><th>the guarantee</th><th>test</th><th>seconds</th>"
        "<th>outcome</th></tr>"
    )
    body = _group_row("What a StatefulSet promises", guarantees) + "".join(map(_row, guarantees))
    if checks:
        body += _group_row("The cluster itself (checked first)", checks)
        body += "".join(map(_check_row, checks))
    return (
        '<div id="stsconf-matrix" class="stsconf-report">'
        f"<h2>{_headline(guarantees)}</h2>"
        f'<table class="stsconf">{head}{body}</table></div>'
    )


def _headline(rows: Sequence[MatrixRow]) -> str:
    counts = outcome_counts(rows)
    held = counts.get(PASSED, 0)
    return f"Property matrix: {held} of {len(rows)} StatefulSet guarantees held" + "".join(
        f", {count_text(outcome, count)}"
        for outcome, count in sorted(counts.items())
        if outcome != PASSED
    )


def count_text(outcome: str, count: int) -> str:
    """'1 error', '2 errors', '3 failed' ..."""
    return f"{count} {outcome}{'s' if outcome == ERROR and count != 1 else ''}"


def _group_row(title: str, rows: Sequence[MatrixRow]) -> str:
    counts = ", ".join(
        count_text(outcome, n) for outcome, n in sorted(outcome_counts(rows).items())
    )
    return f'<tr class="group"><th colspan="5">{html.escape(title)} ({counts})</th></tr>'


def _row(row: MatrixRow) -> str:
    return (
        f"<tr><td><code>{html.escape(row.property_id)}</code>{_form_html(row.form)}</td>"
        f"<td>{sentence_html(row.sentence)}</td>"
        f"<td>{_test_cell(row.test)}</td>{_seconds_cell(row)}"
        f"{_outcome_cell(row.test)}</tr>"
    )


def _seconds_cell(row: MatrixRow) -> str:
    return f'<td class="seconds">{row.seconds:.1f}</td>' if row.test else "<td></td>"


def _form_html(form: str) -> str:
    return f'<br><span class="detail">form: {html.escape(form)}</span>' if form else ""


def _check_row(row: MatrixRow) -> str:
    """A cluster check: its test's name already says what the property id would."""
    return (
        f'<tr><td colspan="2">{sentence_html(row.sentence)}</td>'
        f"<td>{_test_cell(row.test)}</td>{_seconds_cell(row)}"
        f"{_outcome_cell(row.test)}</tr>"
    )


def sentence_html(sentence: str) -> str:
    """Escaped, with `backticked` words (as docstrings write commands) set as code."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(sentence))


def _test_cell(test: CheckedTest | None) -> str:
    if test is None:
        return "(not run)"
    return f'<a href="#{quote(test.anchor, safe="/:")}">{html.escape(test.name)}</a>'


def _outcome_cell(test: CheckedTest | None) -> str:
    if test is None:
        return '<td class="outcome not-run">not run</td>'
    label = {SKIPPED: "skipped: not applicable"}.get(test.outcome, test.outcome)
    detail = f'<span class="detail">{html.escape(short(test.detail))}</span>' if test.detail else ""
    return f'<td class="outcome {test.outcome}">{label}{detail}</td>'


def short(text: str, limit: int = 220) -> str:
    """The first lines of a message, cut to `limit` characters."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    joined = " ".join(lines[:3])
    return joined if len(joined) <= limit else joined[: limit - 1].rstrip() + "…"

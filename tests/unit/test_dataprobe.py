"""The data probe: how a manifest declares it, the shell it runs, and how its results read."""

from __future__ import annotations

import html
import json
import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest
import yaml

from stsconf.access.rest import exit_status
from stsconf.checks.data import Served, own_data_problems, served_problems, still_there_problems
from stsconf.model.dataprobe import DataProbe, ProbeRun, data_probe, marker_file_probe
from stsconf.model.exec_result import ExecResult
from stsconf.model.manifest import (
    PROBE_CONTAINER,
    PROBE_HTTP_PATH,
    PROBE_READ,
    PROBE_WRITE,
    ManifestError,
    default_image,
    image_name,
    load_manifest,
    probe_declaration,
)
from stsconf.report.junit import read_junit
from stsconf.selftest import REPO, report_tables
from stsconf.workload.statefulset import store_value, unique_value
from tests.unit.problems import texts
from tests.unit.test_bad_input import assert_one_line_error, run_suite

EXAMPLE = REPO / "manifests" / "examples" / "redis.yaml"
WEB = REPO / "manifests" / "web.yaml"


def run_locally(pod: str, command: Sequence[str], container: str) -> ExecResult:
    """Stands in for exec into a pod: runs the command here, so the shell is really run."""
    done = subprocess.run(list(command), capture_output=True, text=True, timeout=10, check=False)
    return ExecResult(tuple(command), done.returncode, done.stdout, done.stderr)


def manifest_with(
    tmp_path: Path, annotations: dict[str, str], claim_templates: bool = True
) -> Path:
    """The web manifest with these annotations (only), with or without its claim template."""
    service, statefulset = yaml.safe_load_all(WEB.read_text())
    statefulset["metadata"]["annotations"] = annotations
    if not claim_templates:
        del statefulset["spec"]["volumeClaimTemplates"]
    path = tmp_path / "m.yaml"
    path.write_text(yaml.safe_dump_all([service, statefulset]))
    return path


# Declaring a probe


def test_without_annotations_the_marker_file_probe_is_used() -> None:
    declared = probe_declaration({}, ["nginx", "sidecar"])
    assert (declared.container, declared.write, declared.read) == ("nginx", None, None)
    assert not declared.declared


def test_the_example_declares_redis_cli_commands() -> None:
    manifest = load_manifest(EXAMPLE)
    probe = data_probe(manifest)
    assert probe.container == "redis"
    assert probe.write_script == 'redis-cli SET stsconf-marker "$STSCONF_VALUE"'
    assert probe.read_script == "redis-cli GET stsconf-marker"
    assert manifest.data_directories("redis") == ("/data",)
    assert manifest.storage_not_applicable is None


@pytest.mark.parametrize(
    ("annotations", "message"),
    [
        ({PROBE_WRITE: "x"}, "probe-write needs stsconf.io/probe-read too"),
        ({PROBE_READ: "x"}, "probe-read needs stsconf.io/probe-write too"),
        ({"stsconf.io/probe-writ": "x"}, "unknown annotation stsconf.io/probe-writ"),
        ({PROBE_CONTAINER: "db"}, "no container 'db' (the pods have nginx)"),
        ({PROBE_HTTP_PATH: "x"}, "must start with '/'"),
        ({PROBE_WRITE: " ", PROBE_READ: "x"}, "probe-write is empty"),
    ],
)
def test_declarations_that_make_no_sense_are_rejected(
    annotations: dict[str, str], message: str
) -> None:
    with pytest.raises(ManifestError, match=re.escape(message)):
        probe_declaration(annotations, ["nginx"])


def test_a_bad_declaration_is_rejected_when_the_manifest_is_read(tmp_path: Path) -> None:
    path = manifest_with(tmp_path, {PROBE_WRITE: "true"})
    with pytest.raises(ManifestError, match=r"StatefulSet web in .*m.yaml: annotation"):
        load_manifest(path)


# Which properties apply


def test_no_claim_templates_and_no_probe_makes_storage_not_applicable(tmp_path: Path) -> None:
    path = manifest_with(tmp_path, {}, claim_templates=False)
    reason = load_manifest(path).storage_not_applicable
    assert reason is not None
    assert reason.startswith("not applicable: StatefulSet web has no volumeClaimTemplates")


def test_a_declared_probe_makes_storage_apply_without_claim_templates(tmp_path: Path) -> None:
    path = manifest_with(tmp_path, {PROBE_HTTP_PATH: "/m"}, claim_templates=False)
    manifest = load_manifest(path)
    assert manifest.storage_not_applicable is None
    # where the claim was expected: the container's writable mount
    assert manifest.data_directories("nginx") == ("/usr/share/nginx/html",)


def test_the_default_manifest_reads_its_marker_back_over_http() -> None:
    probe = data_probe(load_manifest(WEB))
    assert probe.http_path == "/stsconf-marker"
    assert probe.read_script == "cat /usr/share/nginx/html/stsconf-marker"


# The image under test


def test_image_names() -> None:
    assert image_name("redis:7.2") == "redis"
    assert image_name("example.org:5000/team/redis:7.2@sha256:abc") == "redis"
    assert image_name("nginx") == "nginx"


def test_default_image_is_the_manifests_own_or_the_airgap_builds() -> None:
    manifest = load_manifest(EXAMPLE)
    assert default_image(manifest, None) == "redis:7.2"
    built = {"nginx": "stsconf/nginx:1", "redis": "stsconf/redis:7.0.15"}
    assert default_image(manifest, built) == "stsconf/redis:7.0.15"
    with pytest.raises(ManifestError, match=r"no images.redis in airgap.json.*pass --image"):
        default_image(manifest, {"nginx": "stsconf/nginx:1"})


# The shell the probes run


def test_marker_file_probe_writes_and_reads_each_directory(tmp_path: Path) -> None:
    directories = [tmp_path / "a", tmp_path / "b b"]
    for directory in directories:
        directory.mkdir()
    probe = marker_file_probe("c", [str(d) for d in directories])
    value = 'web-0:tok\'en "$x":1'
    stored = store_value(probe, run_locally, "web-0", value)
    assert stored.problem is None, stored.problem
    assert [(d / "stsconf-marker").read_text() for d in directories] == [value + "\n"] * 2
    assert stored.read is not None
    assert probe.reads_back(value, stored.read.output)
    assert sorted(p.name for d in directories for p in d.iterdir()) == ["stsconf-marker"] * 2


def test_the_marker_file_is_renamed_into_place_never_rewritten_where_it_is_read() -> None:
    # a client reading it over HTTP meanwhile saw an empty file when `>` truncated it in place
    probe = marker_file_probe("c", ["/data"])
    assert probe.write_script.startswith(
        'printf "%s\\n" "$STSCONF_VALUE" > /data/stsconf-marker.new && '
        "mv /data/stsconf-marker.new /data/stsconf-marker"
    )


def test_declared_commands_get_the_value_in_the_environment(tmp_path: Path) -> None:
    store = tmp_path / "store"
    probe = DataProbe("c", f'printf %s "$STSCONF_VALUE" > {store}', f"cat {store}", "test")
    stored = store_value(probe, run_locally, "db-0", "db-0:x:1")
    assert stored.problem is None
    assert store.read_text() == "db-0:x:1"
    assert stored.write is not None
    assert (
        stored.write.shown
        == f"STSCONF_VALUE=db-0:x:1 sh -c 'printf %s \"$STSCONF_VALUE\" > {store}'"
    )


def test_a_write_that_fails_says_what_ran_its_exit_code_and_output() -> None:
    probe = DataProbe("redis", "echo partial; echo broken >&2; exit 3", "true", "test")
    stored = store_value(probe, run_locally, "db-0", "v")
    assert stored.problem is not None
    assert stored.problem.splitlines()[:5] == [
        "the write exited 3",
        "ran in pod db-0, container redis: STSCONF_VALUE=v sh -c "
        "'echo partial; echo broken >&2; exit 3'",
        "exit code 3",
        "stdout: partial",
        "stderr: broken",
    ]


def test_a_missing_command_is_reported_with_the_shells_answer() -> None:
    probe = DataProbe("c", "stsconf-no-such-command x", "true", "test")
    stored = store_value(probe, run_locally, "db-0", "v")
    assert stored.problem is not None
    assert "exit code 127" in stored.problem
    assert "stsconf-no-such-command" in stored.problem


def test_a_read_that_does_not_return_the_value_is_reported() -> None:
    probe = DataProbe("c", "true", "echo something-else", "test")
    stored = store_value(probe, run_locally, "db-0", "v")
    assert stored.problem is not None
    assert stored.problem.startswith(
        "the read right after the write printed 'something-else', not 'v'"
    )


def test_without_a_directory_the_probe_does_not_run() -> None:
    def refuse(pod: str, command: Sequence[str], container: str) -> ExecResult:
        raise AssertionError("must not run")

    probe = marker_file_probe("nginx", [])
    stored = store_value(probe, refuse, "web-0", "v")
    assert stored.problem == "container nginx mounts no claim template (nowhere to keep data)"


# Each replica's own data


def read(pod: str, stdout: str, code: int = 0, stderr: str = "") -> ProbeRun:
    return ProbeRun(pod, "c", "cat", ExecResult(("cat",), code, stdout, stderr))


def test_replicas_sharing_data_are_named() -> None:
    probe = marker_file_probe("c", ["/data"])
    written = {"web-0": "web-0:t:1", "web-1": "web-1:t:2"}
    reads = {"web-0": read("web-0", "web-1:t:2\n"), "web-1": read("web-1", "web-1:t:2\n")}
    assert texts(own_data_problems(probe, written, reads, "before deletion")) == [
        "web-0 before deletion: expected its own value 'web-0:t:1'; "
        "saw web-1's value 'web-1:t:2': the replicas share their data"
    ]


def test_lost_data_says_what_the_read_printed() -> None:
    probe = marker_file_probe("c", ["/data"])
    reads = {"web-0": read("web-0", "", 1, "cat: can't open '/data/stsconf-marker'")}
    assert texts(own_data_problems(probe, {"web-0": "v"}, reads, "after deletion")) == [
        "web-0 after deletion: expected its own value 'v'; "
        "saw nothing (exit 1: cat: can't open '/data/stsconf-marker')"
    ]


# Exit status of exec


def test_exit_status_from_the_exec_error_channel() -> None:
    assert exit_status('{"status": "Success"}') == (0, "")
    failure = (
        '{"status": "Failure", "reason": "NonZeroExitCode", '
        '"details": {"causes": [{"reason": "ExitCode", "message": "127"}]}}'
    )
    assert exit_status(failure) == (127, "")
    not_started = '{"status": "Failure", "message": "exec: \\"sh\\": executable file not found"}'
    assert exit_status(not_started) == (-1, 'exec: "sh": executable file not found')
    assert exit_status("") == (-1, "(no exit status)")


# Reading what a suite run reported


def test_tables_are_read_from_a_report_by_their_headers() -> None:
    fragment = (
        "<h4>t</h4><table><tr><th>pod</th><th>read</th></tr>"
        "<tr><td>web-0</td><td>a &amp; b</td></tr></table>"
    )
    blob = json.dumps({"tests": {"x.py::test_a": [{"extras": [
        {"format_type": "html", "content": fragment},
        {"format_type": "json", "content": "data:..."},
    ]}]}})  # fmt: skip
    report = f'<div id="data-container" data-jsonblob="{html.escape(blob)}"></div>'
    assert report_tables(report, "test_a") == [[{"pod": "web-0", "read": "a & b"}]]
    assert report_tables(report, "test_b") == []


def test_junit_keeps_the_full_failure_text() -> None:
    junit = (
        '<testsuites><testsuite><testcase name="test_a">'
        '<failure message="short">the full text</failure></testcase></testsuite></testsuites>'
    )
    outcome = read_junit(junit)["test_a"]
    assert (outcome.result, outcome.message, outcome.text) == ("failed", "short", "the full text")


# Bad input ends the run with one line, before any cluster is touched


def test_bad_probe_declaration_is_a_usage_error(tmp_path: Path) -> None:
    path = manifest_with(tmp_path, {PROBE_READ: "redis-cli GET k"})
    code, output = run_suite(tmp_path, f"--manifest={path}")
    assert code == pytest.ExitCode.USAGE_ERROR
    assert_one_line_error(output, "annotation stsconf.io/probe-read needs stsconf.io/probe-write")


def test_airgap_build_without_the_manifests_image_is_a_usage_error(tmp_path: Path) -> None:
    airgap = tmp_path / "airgap.json"
    airgap.write_text(json.dumps({
        "kind_bin": sys.executable, "default_kubernetes": "1.37",
        "kubernetes": {"1.37": {
            "kubernetes_version": "v1.37.2", "node_image": "n", "kubectl_bin": sys.executable,
        }},
        "images": {"nginx": "stsconf/nginx:1", "probe": "stsconf/probe:1"},
    }))  # fmt: skip
    code, output = run_suite(
        tmp_path, f"--manifest={EXAMPLE}", "--airgap", f"--airgap-file={airgap}"
    )
    assert code == pytest.ExitCode.USAGE_ERROR
    assert_one_line_error(output, "the manifest's image redis:7.2 has no air-gapped build")


def test_a_pod_serving_another_value_over_http_is_reported() -> None:
    written = {"web-0": "a", "web-1": "b"}
    served = {
        "web-0": Served("http://10.0.0.1:80/m", "a"),
        "web-1": Served("http://10.0.0.2:80/m", "error: exit 1"),
    }
    assert [str(p) for p in served_problems(written, served)] == [
        "http://10.0.0.2:80/m (web-1): expected 'b'; saw 'error: exit 1'"
    ]


def test_an_old_value_still_there_is_reported() -> None:
    probe = marker_file_probe("c", ["/data"])
    reads = {"web-1": read("web-1", "old\n"), "web-2": read("web-2", "", 1, "no such file")}
    problems = still_there_problems(probe, {"web-1": "old", "web-2": "old"}, reads)
    assert [str(p).split("; saw")[0] for p in problems] == ["web-1: expected empty storage"]


def test_each_value_stored_is_new_and_names_its_pod() -> None:
    first, second = unique_value("web-0"), unique_value("web-0")
    assert first != second
    assert first.startswith("web-0:")

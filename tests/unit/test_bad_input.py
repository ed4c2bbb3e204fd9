"""Bad input ends the run with one clear line, no traceback, and nothing created."""

from __future__ import annotations

import os
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from stsconf.access.airgap import DEFAULT_AIRGAP_FILE
from stsconf.selftest import CONFORMANCE, REPO, run_until_silent
from tests.unit.subprocesses import SILENT_FOR

UNREACHABLE_KUBECONFIG = """apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:9"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
"""


def run_suite(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    command = [sys.executable, "-m", "pytest", str(CONFORMANCE), "-p", "no:cacheprovider",
               f"--junitxml={tmp_path / 'junit.xml'}", f"--html={tmp_path / 'report.html'}",
               *args]  # fmt: skip
    return run_until_silent(command, tmp_path / "output.log", SILENT_FOR, env=env)


def assert_one_line_error(output: str, message: str) -> None:
    assert "Traceback" not in output
    assert [line for line in output.splitlines() if message in line], output


def test_manifest_without_statefulset(tmp_path: Path) -> None:
    manifest = tmp_path / "m.yaml"
    manifest.write_text("kind: Service\nmetadata: {name: nginx}\n")
    code, output = run_suite(tmp_path, f"--manifest={manifest}")
    assert code == pytest.ExitCode.USAGE_ERROR
    assert_one_line_error(output, "must hold a StatefulSet; found no StatefulSet")


def test_statefulset_without_its_service(tmp_path: Path) -> None:
    manifest = tmp_path / "m.yaml"
    statefulset = (REPO / "manifests" / "web.yaml").read_text().split("---")[1]
    manifest.write_text(statefulset)
    code, output = run_suite(tmp_path, f"--manifest={manifest}")
    assert code == pytest.ExitCode.USAGE_ERROR
    assert_one_line_error(output, "service 'nginx' (spec.serviceName) is not in the manifest")


def test_airgap_without_its_build(tmp_path: Path) -> None:
    code, output = run_suite(tmp_path, "--airgap", f"--airgap-file={tmp_path / 'airgap.json'}")
    assert code == pytest.ExitCode.USAGE_ERROR
    assert_one_line_error(output, "airgap.json does not exist")


def test_unreachable_cluster(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(UNREACHABLE_KUBECONFIG)
    code, output = run_suite(tmp_path, f"--existing-kubeconfig={kubeconfig}")
    assert code == 3
    assert_one_line_error(output, "stsconf: cannot reach the cluster at https://127.0.0.1:9 (from ")
    assert_one_line_error(output, "connection refused (nothing listens at that address)")
    assert "MaxRetryError" not in output


@pytest.mark.parametrize("option", ["--pod-timeout=-3", "--dns-timeout=0", "--pod-timeout=soon"])
def test_timeouts_must_be_positive_numbers(tmp_path: Path, option: str) -> None:
    code, output = run_suite(tmp_path, option)
    assert code == pytest.ExitCode.USAGE_ERROR
    assert "Traceback" not in output
    assert f"argument {option.split('=')[0]}" in output, output


def test_missing_kubeconfig(tmp_path: Path) -> None:
    code, output = run_suite(tmp_path, f"--existing-kubeconfig={tmp_path / 'nothing'}")
    assert code == pytest.ExitCode.USAGE_ERROR
    assert_one_line_error(output, "does not exist")


def test_docker_not_running(tmp_path: Path) -> None:
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    docker = fake_bin / "docker"
    docker.write_text(
        "#!/bin/sh\necho 'Cannot connect to the Docker daemon. Is it running?' >&2\nexit 1\n"
    )
    docker.chmod(0o755)
    env = {**os.environ, "PATH": f"{fake_bin}:{os.environ['PATH']}"}
    code, output = run_suite(tmp_path, "--cluster-name=stsconf-never-created", env=env)
    assert code == 3
    assert_one_line_error(output, "stsconf: Docker is not running: Cannot connect to the Docker")
    assert not (REPO / ".pytest-kind" / "stsconf-never-created").exists()


@pytest.mark.skipif(not DEFAULT_AIRGAP_FILE.is_file(), reason="needs `python -m airgap build`")
def test_image_not_in_docker_leaves_a_report_and_junit_that_say_why(tmp_path: Path) -> None:
    image = "stsconf/never-built:0"
    code, output = run_suite(tmp_path, "--airgap", f"--image={image}",
                             "--cluster-name=stsconf-never-created")  # fmt: skip
    assert code == 3, output
    assert_one_line_error(output, f"{image} (container nginx, the image under test): build it")
    cases = ET.parse(tmp_path / "junit.xml").getroot().iter("testcase")
    errors = [error for case in cases if (error := case.find("error")) is not None]
    assert len(errors) == 1, output
    assert image in (errors[0].get("message") or ""), ET.tostring(errors[0])
    report = (tmp_path / "report.html").read_text()
    stopped = report.index('id="stsconf-stopped"')
    assert stopped < report.index('id="stsconf-matrix"')
    assert f"docker tag SOURCE {image}" in report[stopped:]
    assert not (REPO / ".pytest-kind" / "stsconf-never-created").exists()

"""The GitHub Action's steps, run outside GitHub the way a runner runs them: with the variables
GitHub sets (GITHUB_ACTION_PATH, RUNNER_TEMP, GITHUB_PATH, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY),
`${{ }}` expressions resolved, and `if: always()` steps run after a failed one. kind and the
suite are stand-ins that record what they were asked and leave a JUnit file; everything else
(the step scripts, the checksum check, the job summary) is the real thing."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from stsconf.access.resources import CHECKOUT
from stsconf.report.matrix import GUARANTEES

ACTION = CHECKOUT / "action.yml"
KIND_VERSION = "v0.33.0"
FAILING = GUARANTEES[2].property_id
SKIPPED = GUARANTEES[3].property_id
NOT_RUN = GUARANTEES[-1].property_id

FAKE_KIND = """#!/bin/sh
echo "kind $*" >> "$FAKE_CALLS"
[ "$1" = version ] && echo "kind v0.33.0 (stand-in)"
exit 0
"""


def fake_suite(python: str) -> str:
    """`stsconf check` stand-in: records its arguments; writes report.html and a JUnit file in
    which one property fails, one is skipped, one did not run and the others pass; exits 1."""
    return f"""#!{python}
import os, sys
from pathlib import Path
from stsconf.report.matrix import GUARANTEES
with open(os.environ["FAKE_CALLS"], "a") as calls:
    calls.write("stsconf " + "\\x1f".join(sys.argv[1:]) + "\\n")
junit = next(a.split("=", 1)[1] for a in sys.argv if a.startswith("--junitxml="))
html = next(a.split("=", 1)[1] for a in sys.argv if a.startswith("--html="))
cases = []
for g in GUARANTEES:
    inner = {{
        {FAILING!r}: '<failure message="expected 2 records, seen 1 | not resolved"/>',
        {SKIPPED!r}: '<skipped message="not applicable: no claim templates"/>',
    }}.get(g.property_id, "")
    if g.property_id != {NOT_RUN!r}:
        name = f"test_{{g.property_id}}"
        cases.append(f'<testcase classname="test_x" name="{{name}}">{{inner}}</testcase>')
cases.append('<testcase classname="test_y" name="test_helper"/>')
Path(junit).write_text("<testsuites><testsuite>" + "".join(cases) + "</testsuite></testsuites>")
Path(html).write_text("<html></html>")
sys.exit(1)
"""


FAKE_PYTHON = """#!/bin/sh
if [ "$1 $2" = "-m pip" ]; then echo "python $*" >> "$FAKE_CALLS"; exit 0; fi
exec {python} "$@"
"""


@dataclass
class Runner:
    """Runs a composite action's `run:` steps as a GitHub runner would."""

    root: Path
    inputs: dict[str, str]
    env: dict[str, str]
    outputs: dict[str, dict[str, str]] = field(default_factory=dict)
    ran: list[tuple[str, str]] = field(default_factory=list)  # (step, "ok"/"failed"/...)
    log: list[str] = field(default_factory=list)  # each step's output, to show on failure
    uses: list[dict[str, Any]] = field(default_factory=list)  # `uses:` steps, resolved

    def expression(self, name: str) -> str:
        parts = name.split(".")
        if parts[0] == "inputs":
            return self.inputs[parts[1]]
        if parts[0] == "steps" and parts[2] == "outputs":
            return self.outputs[parts[1]][parts[3]]
        if name == "runner.temp":
            return self.env["RUNNER_TEMP"]
        if name == "github.action_path":
            return self.env["GITHUB_ACTION_PATH"]
        raise KeyError(f"expression {name!r} not known to this runner")

    def resolve(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: self.resolve(v) for k, v in value.items()}
        return re.sub(
            r"\$\{\{\s*([\w.-]+)\s*\}\}", lambda m: self.expression(m.group(1)), str(value)
        )

    def run(self, steps: list[dict[str, Any]]) -> bool:
        failed = False
        for number, step in enumerate(steps):
            name = step.get("name") or step.get("id") or step.get("uses") or f"step {number}"
            if failed and step.get("if") != "always()":
                self.ran.append((name, "skipped"))
                continue
            if "uses" in step:
                self.uses.append(self.resolve(step))
                self.ran.append((name, "uses"))
                continue
            ok = self.run_script(step, number)
            self.ran.append((name, "ok" if ok else "failed"))
            failed = failed or not ok
        return not failed

    def run_script(self, step: dict[str, Any], number: int) -> bool:
        output = self.root / f"output-{number}"
        output.touch()
        env = {**self.env, **self.resolve(step.get("env", {})), "GITHUB_OUTPUT": str(output)}
        added = Path(env["GITHUB_PATH"]).read_text().split()
        env["PATH"] = os.pathsep.join([*reversed(added), env["PATH"]])
        script = self.root / f"step-{number}.sh"
        script.write_text(self.resolve(step["run"]))
        assert step["shell"] == "bash"
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            env=env, cwd=self.root, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        self.log.append(f"--- step {number}: exit {done.returncode}\n{done.stdout}{done.stderr}")
        self.outputs[step.get("id", str(number))] = dict(
            line.split("=", 1) for line in output.read_text().splitlines() if "=" in line
        )
        return done.returncode == 0


def action() -> dict[str, Any]:
    return yaml.safe_load(ACTION.read_text())


@pytest.fixture
def runner(tmp_path: Path) -> Runner:
    fakes, downloads = tmp_path / "fakebin", tmp_path / "downloads" / KIND_VERSION
    fakes.mkdir()
    downloads.mkdir(parents=True)
    kind = downloads / "kind-linux-amd64"
    kind.write_text(FAKE_KIND)
    for name, text in (("stsconf", fake_suite(sys.executable)),
                       ("python", FAKE_PYTHON.format(python=sys.executable))):  # fmt: skip
        (fakes / name).write_text(text)
        (fakes / name).chmod(0o755)
    (tmp_path / "runner-temp").mkdir()
    for name in ("path", "summary", "calls"):
        (tmp_path / name).touch()
    metadata = action()
    inputs = {name: spec.get("default", "") for name, spec in metadata["inputs"].items()}
    inputs["kind-sha256"] = hashlib.sha256(kind.read_bytes()).hexdigest()
    env = {
        "PATH": f"{fakes}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(tmp_path),
        "PYTHONPATH": str(CHECKOUT),
        "GITHUB_ACTIONS": "true",
        "GITHUB_ACTION_PATH": str(CHECKOUT),
        "GITHUB_WORKSPACE": str(tmp_path),
        "RUNNER_TEMP": str(tmp_path / "runner-temp"),
        "GITHUB_PATH": str(tmp_path / "path"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary"),
        "KIND_DOWNLOAD_BASE": f"file://{tmp_path / 'downloads'}",
        "FAKE_CALLS": str(tmp_path / "calls"),
    }
    return Runner(tmp_path, inputs, env)


def calls(runner: Runner, program: str) -> list[list[str]]:
    lines = (runner.root / "calls").read_text().splitlines()
    separator = "\x1f" if program == "stsconf" else " "
    return [
        line.split(" ", 1)[1].split(separator)
        for line in lines
        if line.startswith(program + " ")
    ]


def test_action_writes_every_property_with_its_outcome_to_the_job_summary(
    runner: Runner,
) -> None:
    runner.inputs.update(manifest="deploy/db.yaml", node_image="", **{
        "node-image": "kindest/node:v1.36.4", "pytest-args": "--image my-db:ci -k 'dns or pvc'",
    })  # fmt: skip
    assert not runner.run(action()["runs"]["steps"]), "a failed property fails the job"
    summary = (runner.root / "summary").read_text()
    assert "| property |" in summary, "\n".join(runner.log)
    rows = {row.split("|")[1].strip().strip("`"): row for row in summary.splitlines()
            if row.startswith("| `")}  # fmt: skip
    assert set(rows) == {g.property_id for g in GUARANTEES}
    for g in GUARANTEES:
        expected = {FAILING: "failed: expected 2 records, seen 1 \\| not resolved",
                    SKIPPED: "skipped: not applicable: no claim templates",
                    NOT_RUN: "not run"}.get(g.property_id, "passed")  # fmt: skip
        assert rows[g.property_id].rstrip(" |").endswith(expected), rows[g.property_id]
    held = len(GUARANTEES) - 3
    assert f"{held} of {len(GUARANTEES)} StatefulSet guarantees held, 1 failed" in summary
    assert "Other tests (cluster checks, examples, ...): 1 of 1 passed." in summary


def test_action_installs_checked_kind_and_passes_inputs_to_the_suite(runner: Runner) -> None:
    runner.inputs.update({"manifest": "deploy/db.yaml", "node-image": "kindest/node:v1.36.4",
                          "pytest-args": "--image my-db:ci -k 'dns or pvc'"})  # fmt: skip
    runner.run(action()["runs"]["steps"])
    kind = Path(runner.env["RUNNER_TEMP"]) / "stsconf-bin" / "kind"
    assert (runner.root / "path").read_text().split() == [str(kind.parent)]
    [suite] = calls(runner, "stsconf")
    reports = Path(runner.env["RUNNER_TEMP"]) / "stsconf-reports"
    assert suite[:3] == ["check", "deploy/db.yaml", "--cluster-name"]
    assert suite[suite.index("--kind-bin") + 1] == str(kind)
    assert suite[suite.index("--kind-image") + 1] == "kindest/node:v1.36.4"
    assert suite[-6:] == [f"--html={reports}/report.html", f"--junitxml={reports}/junit.xml",
                          "--image", "my-db:ci", "-k", "dns or pvc"]  # fmt: skip
    assert ["-m", "pip", "install", "--quiet", str(CHECKOUT)] in calls(runner, "python")
    [upload] = [u for u in runner.uses if u["uses"].startswith("actions/upload-artifact@")]
    assert all(Path(p).is_file() for p in upload["with"]["path"].split())
    assert upload["with"]["name"] == "stsconf-reports"
    assert ("Property matrix to the job summary", "ok") in runner.ran


def test_images_are_loaded_into_a_cluster_the_suite_then_reuses(runner: Runner) -> None:
    runner.inputs.update({"node-image": "kindest/node:v1.36.4", "images": "my-db:ci\nmy-sidecar:1"})
    runner.run(action()["runs"]["steps"])
    assert calls(runner, "kind")[1:] == [
        ["create", "cluster", "--name", "stsconf", "--wait", "120s", "--image",
         "kindest/node:v1.36.4"],
        ["load", "docker-image", "--name", "stsconf", "my-db:ci"],
        ["load", "docker-image", "--name", "stsconf", "my-sidecar:1"],
        ["delete", "cluster", "--name", "stsconf"],  # it created it: it deletes it
    ]  # fmt: skip
    [suite] = calls(runner, "stsconf")
    assert suite[1] == "--cluster-name", "no manifest given: the suite's default"
    assert "--reuse-cluster" in suite, "the suite reuses only a cluster it is told to"


def test_kind_with_another_checksum_is_not_installed(runner: Runner) -> None:
    runner.inputs["kind-sha256"] = "0" * 64
    assert not runner.run(action()["runs"]["steps"])
    assert (runner.root / "path").read_text() == ""
    assert not (Path(runner.env["RUNNER_TEMP"]) / "stsconf-bin" / "kind").exists()
    assert calls(runner, "stsconf") == []
    assert "no results" in (runner.root / "summary").read_text()


def test_summary_of_a_real_junit_file_reads_parametrised_tests_as_one(tmp_path: Path) -> None:
    junit = tmp_path / "junit.xml"
    suite = ET.Element("testsuite")
    for param, inner in (("a", None), ("b", "failure")):
        case = ET.SubElement(suite, "testcase", name=f"test_{GUARANTEES[0].property_id}[{param}]")
        if inner:
            ET.SubElement(case, inner, message="seen web-1 before web-0 was Ready")
    junit.write_bytes(ET.tostring(suite))
    done = subprocess.run([sys.executable, "-m", "stsconf.report.summary", str(junit)],
                          capture_output=True, text=True, check=True, cwd=CHECKOUT)  # fmt: skip
    assert f"| `{GUARANTEES[0].property_id}` |" in done.stdout
    assert "❌ failed: seen web-1 before web-0 was Ready |" in done.stdout

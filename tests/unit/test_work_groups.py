"""How a run with workers places its tests (stsconf.run_plugin): tests sharing a fixture wider
than one test run on one worker, the tests needing the cluster alone on one worker, the rest
wherever there is room; and the longest groups start first."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from stsconf.selftest import REPO

CONFTEST = 'pytest_plugins = ["stsconf.plugin"]\n'
RECORD = """
import os, pathlib, pytest

def record(request):
    out = pathlib.Path(request.config.rootpath) / "placed"
    out.mkdir(exist_ok=True)
    name = request.node.nodeid.replace("/", "_").replace(":", "_")
    (out / name).write_text(os.environ.get("PYTEST_XDIST_WORKER", "serial"))
"""
SHARED = RECORD + """
@pytest.fixture(scope="module")
def deployed():
    return "one StatefulSet for the module"

@pytest.mark.parametrize("n", range(4))
def test_shared(request, deployed, n):
    record(request)
"""
SINGLE = RECORD + """
@pytest.mark.parametrize("n", range(8))
def test_single(request, n):
    record(request)
"""
SESSION_CONFTEST = """
import pytest

@pytest.fixture(scope="session")
def registry():
    return "one registry for the package, not one per worker"
"""
REGISTRY = RECORD + """
@pytest.mark.parametrize("n", range(2))
def test_registry_a(request, registry, n):
    record(request)

@pytest.mark.parametrize("n", range(2))
def test_registry_b(request, registry, n):
    record(request)
"""
ALONE = RECORD + """
pytestmark = pytest.mark.alone

@pytest.mark.parametrize("n", range(3))
def test_alone(request, n):
    record(request)
"""


def run_with_workers(tmp_path: Path, workers: str) -> dict[str, str]:
    (tmp_path / "pkg").mkdir()
    for name, text in [("conftest.py", CONFTEST), ("test_shared.py", SHARED),
                       ("test_single.py", SINGLE), ("test_alone.py", ALONE),
                       ("pkg/conftest.py", SESSION_CONFTEST),
                       ("pkg/test_registry.py", REGISTRY)]:  # fmt: skip
        (tmp_path / name).write_text(text)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", str(tmp_path), "-c", "/dev/null", "--rootdir",
         str(tmp_path), "-p", "no:cacheprovider", "-n", workers, "--dist", "loadgroup", "-q"],
        cwd=REPO, capture_output=True, text=True, timeout=120, check=False, env=outside_xdist(),
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    placed = tmp_path / "placed"
    return {path.name: path.read_text() for path in placed.iterdir()}


def outside_xdist() -> dict[str, str]:
    """This process's environment without what xdist tells its own workers."""
    return {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_XDIST")}


def workers_of(placed: dict[str, str], module: str) -> set[str]:
    return {worker for name, worker in placed.items() if name.startswith(module)}


def test_tests_sharing_a_module_fixture_run_on_one_worker(tmp_path: Path) -> None:
    placed = run_with_workers(tmp_path, "3")
    assert len(placed) == 19
    assert len(workers_of(placed, "test_shared.py")) == 1, placed
    assert len(workers_of(placed, "test_alone.py")) == 1, placed
    assert len(workers_of(placed, "pkg_test_registry.py")) == 1, placed  # a conftest's session
    assert len(set(placed.values())) > 1, f"expected the tests spread over workers: {placed}"


def test_without_workers_every_test_runs_in_the_one_process(tmp_path: Path) -> None:
    placed = run_with_workers(tmp_path, "0")
    assert set(placed.values()) == {"serial"}
    assert len(placed) == 19

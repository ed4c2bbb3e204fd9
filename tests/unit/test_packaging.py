"""The installable form: the plugin from an entry point, the packaged suite, `stsconf check`."""

from __future__ import annotations

import ast
import importlib.metadata
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

from stsconf.access import resources
from stsconf.cli import check_arguments, main

PYPROJECT = resources.CHECKOUT / "pyproject.toml"
WHICH_KIND_CLUSTER = '''
def test_which_kind_cluster(request):
    defs = request._fixturemanager.getfixturedefs("kind_cluster", request.node)
    print("kind_cluster from", defs[-1].func.__module__)
'''


def test_suite_override_of_kind_cluster_wins_when_the_plugin_loads_before_pytest_kind(
    tmp_path: Path,
) -> None:
    # -p loads stsconf.plugin before the pytest11 entry points (pytest-kind-ng's among them):
    # the order an installed stsconf may get; the suite's fixture must still be the one used
    (tmp_path / "test_which.py").write_text(WHICH_KIND_CLUSTER)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "stsconf.plugin", "-p", "no:cacheprovider",
         "-s", "-q", "--rootdir", str(tmp_path), "-c", str(tmp_path / "pytest.ini"),
         str(tmp_path / "test_which.py")],
        cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(resources.CHECKOUT)},
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "kind_cluster from stsconf.access.kind_fixture" in done.stdout, done.stdout


def test_resources_are_found_in_the_checkout() -> None:
    assert resources.DEFAULT_MANIFEST == resources.CHECKOUT / "manifests" / "web.yaml"
    assert resources.DEFAULT_MANIFEST.is_file()
    assert (resources.CONFORMANCE / "test_statefulset_guarantees.py").is_file()


def test_installed_copies_win_over_the_checkout(tmp_path: Path) -> None:
    installed, checkout = tmp_path / "pkg" / "manifests", tmp_path / "manifests"
    checkout.mkdir()
    assert resources.installed_or_checkout(installed, checkout) == checkout
    installed.mkdir(parents=True)
    assert resources.installed_or_checkout(installed, checkout) == installed


def test_check_runs_the_packaged_suite_with_reports_and_passes_options_last() -> None:
    args = check_arguments("/m/db.yaml", ["--airgap", "-k", "dns"], Path("/w/reports"))
    assert args[0] == str(resources.CONFORMANCE)
    assert args[args.index("--manifest") + 1] == "/m/db.yaml"
    assert "--html=/w/reports/report.html" in args
    assert "--junitxml=/w/reports/junit.xml" in args
    assert args[-3:] == ["--airgap", "-k", "dns"]


def test_check_keeps_report_paths_given_as_options() -> None:
    args = check_arguments("db.yaml", ["--html=/r/x.html", "--junitxml=/r/j.xml"], Path("/w"))
    assert [a for a in args if a.startswith(("--html", "--junitxml"))] == [
        "--html=/r/x.html",
        "--junitxml=/r/j.xml",
    ]


def test_usage_without_a_command_is_an_error() -> None:
    assert main([]) == 2
    assert main(["chek", "db.yaml"]) == 2
    assert main(["--help"]) == 0


def test_every_package_the_installed_code_imports_is_a_declared_dependency() -> None:
    requirements = tomllib.loads(PYPROJECT.read_text())["project"]["dependencies"]
    declared = {re.split(r"[<>=~ ;\[]", r, maxsplit=1)[0].lower().replace("_", "-")
                for r in requirements}  # fmt: skip
    shipped = [*resources.CHECKOUT.joinpath("stsconf").rglob("*.py"),
               *resources.CHECKOUT.joinpath("airgap").glob("*.py"),
               *resources.CONFORMANCE.glob("*.py")]  # fmt: skip
    distributions = importlib.metadata.packages_distributions()
    missing = {
        f"{name} (imported by {path.name})"
        for path in shipped
        for name in imported_top_level(path)
        if name not in sys.stdlib_module_names and name not in ("stsconf", "airgap", "tests")
        and not declared & {d.lower().replace("_", "-") for d in distributions.get(name, [name])}
    }  # fmt: skip
    assert not missing, f"imported by the wheel's code, not in pyproject's dependencies: {missing}"


def test_the_wheel_carries_every_folder_of_the_package() -> None:
    listed = set(tomllib.loads(PYPROJECT.read_text())["tool"]["setuptools"]["packages"])
    package = resources.CHECKOUT / "stsconf"
    folders = {
        ".".join(init.parent.relative_to(package.parent).parts)
        for init in package.rglob("__init__.py")
    }
    assert folders <= listed, f"not in pyproject's [tool.setuptools] packages: {folders - listed}"


def imported_top_level(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names

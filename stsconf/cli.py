"""`stsconf check [MANIFEST] [pytest options]`: the conformance suite on your manifest, from any
directory, with the suite the package carries; `stsconf airgap-build`: the air-gapped build."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from stsconf.access.resources import CONFORMANCE, DEFAULT_MANIFEST

USAGE = """usage: stsconf check [MANIFEST] [pytest options] run the suite on MANIFEST (default:
                                               the suite's nginx StatefulSet)
       stsconf airgap-build                    build kind, a node image and the images
                                               without a registry (python -m airgap build)

Reports go to reports/report.html and reports/junit.xml under the current directory unless
the pytest options name others (--html=PATH, --junitxml=PATH). Options: see `stsconf check
MANIFEST --help`, group "StatefulSet conformance" (e.g. --airgap, --image, --existing-kubeconfig).
"""


def check_arguments(manifest: str, extra: list[str], reports: Path) -> list[str]:
    """pytest's arguments: the packaged suite on `manifest`, reports under `reports` unless
    `extra` names its own, and `extra` last (so it can override anything before it)."""
    args = [str(CONFORMANCE), "--manifest", manifest, "-ra", "-p", "no:cacheprovider"]
    args += ["-o", "junit_family=xunit2", "-o", "render_collapsed=none", "--self-contained-html"]
    args += ["-n", "auto", "--dist", "loadgroup"]  # workers as in pyproject.toml; -n 0: serial
    if not any(a.startswith("--html") for a in extra):
        args.append(f"--html={reports / 'report.html'}")
    if not any(a.startswith("--junitxml") or a.startswith("--junit-xml") for a in extra):
        args.append(f"--junitxml={reports / 'junit.xml'}")
    # the suite's own directory is the root: a pytest configuration of the caller's
    # repository (addopts, testpaths) does not apply to it
    args += ["--rootdir", str(CONFORMANCE), "-c", os.devnull]
    return [*args, *extra]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["check"]:
        given = len(args) >= 2 and not args[1].startswith("-")
        manifest = Path(args[1]).resolve() if given else DEFAULT_MANIFEST
        extra = args[2:] if given else args[1:]
        pytest_args = check_arguments(str(manifest), extra, Path.cwd() / "reports")
        # a fresh interpreter: pytest rewrites the asserts of modules this one imported
        return subprocess.call([sys.executable, "-m", "pytest", *pytest_args])
    if args[:1] == ["airgap-build"]:
        from airgap.__main__ import main as airgap_main

        return airgap_main(["build", *args[1:]])
    print(USAGE, file=sys.stderr if args[:1] not in (["-h"], ["--help"]) else sys.stdout)
    return 0 if args[:1] in (["-h"], ["--help"]) else 2


if __name__ == "__main__":
    sys.exit(main())

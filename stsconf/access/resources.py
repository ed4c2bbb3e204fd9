"""Where the suite's own files are: beside the package in a checkout, inside it when installed.

The wheel carries `tests/conformance` as the package `stsconf.conformance` and `manifests/` as
`stsconf/manifests` (see pyproject.toml); a checkout keeps them at the top of the repository.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent  # stsconf/, above this layer
CHECKOUT = PACKAGE.parent


def installed_or_checkout(installed: Path, checkout: Path) -> Path:
    """The installed copy when the package carries one, else the checkout's."""
    return installed if installed.exists() else checkout


MANIFESTS = installed_or_checkout(PACKAGE / "manifests", CHECKOUT / "manifests")
DEFAULT_MANIFEST = MANIFESTS / "web.yaml"
CONFORMANCE = installed_or_checkout(PACKAGE / "conformance", CHECKOUT / "tests" / "conformance")

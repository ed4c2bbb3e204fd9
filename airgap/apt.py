"""Installing Debian packages on this machine (Docker engine, debootstrap)."""

from __future__ import annotations

import shutil
from pathlib import Path

from .errors import AirgapError
from .run import run

_updated = False


def install(packages: list[str], log: Path) -> None:
    """apt-get install `packages`, refreshing the package lists once per build."""
    global _updated
    if not shutil.which("apt-get"):
        raise AirgapError(
            f"{', '.join(packages)} must be installed, and this is not a "
            f"Debian-like system with apt-get: install them and rerun."
        )
    env = {"DEBIAN_FRONTEND": "noninteractive"}
    if not _updated:
        run(["apt-get", "update", "-qq"], env=env, log=log)
        _updated = True
    run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages], env=env, log=log)

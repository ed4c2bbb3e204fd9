"""Debian root filesystems made with debootstrap from the Debian mirror apt already uses."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from . import apt
from .cache import digest, fresh_output
from .config import DEBIAN_SUITE
from .errors import AirgapError
from .run import require_root, run

APT_SOURCES = (Path("/etc/apt/sources.list"), Path("/etc/apt/sources.list.d"))
TRIMMED = (
    "var/lib/apt/lists",
    "var/cache/apt",
    "usr/share/doc",
    "usr/share/man",
    "usr/share/info",
    "usr/share/locale",
    "var/log",
)


def debian_mirror() -> str:
    """The Debian archive URI configured for apt on this machine."""
    mirror = mirror_in(apt_source_texts())
    if not mirror:
        raise AirgapError(
            "No Debian archive is configured for apt (/etc/apt/sources.list*): "
            "debootstrap needs one to build the node's root filesystem."
        )
    return mirror


def mirror_in(texts: list[str]) -> str | None:
    """The first Debian archive URI in apt source files (deb822 or one-line format)."""
    for text in texts:
        uris = re.findall(r"^URIs:\s*(\S+)", text, re.M)
        uris += re.findall(r"^deb\s+(?:\[[^]]*\]\s+)?(\S+)\s+\S+", text, re.M)
        for uri in uris:
            if uri.rstrip("/").endswith("/debian"):
                return uri
    return None


def apt_source_texts() -> list[str]:
    files: list[Path] = []
    for source in APT_SOURCES:
        if source.is_dir():
            files += sorted(source.glob("*.sources")) + sorted(source.glob("*.list"))
        else:
            files.append(source)
    return [f.read_text() for f in files if f.is_file()]


def ensure_debootstrap(log: Path) -> None:
    if not shutil.which("debootstrap"):
        apt.install(["debootstrap"], log)


def rootfs(cache: Path, name: str, packages: tuple[str, ...], log: Path) -> Path:
    """A minbase Debian tree with `packages`, built once per package list."""
    mirror = debian_mirror()
    final = cache / "rootfs" / f"{name}-{digest(DEBIAN_SUITE, mirror, *packages)}"
    if not final.exists():
        require_root("Building a Debian root filesystem (debootstrap)")
        ensure_debootstrap(log)
        debs = cache / "debs"
        debs.mkdir(parents=True, exist_ok=True)
        with fresh_output(final) as scratch:
            run(
                [
                    "debootstrap",
                    "--variant=minbase",
                    f"--include={','.join(packages)}",
                    f"--cache-dir={debs}",
                    DEBIAN_SUITE,
                    scratch / "root",
                    mirror,
                ],
                log=log,
            )
            trim(scratch / "root")
    return final / "root"


def trim(root: Path) -> None:
    for relative in TRIMMED:
        target = root / relative
        if target.is_dir():
            shutil.rmtree(target)
            target.mkdir()

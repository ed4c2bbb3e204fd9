"""Small image trees: programs copied from a Debian root filesystem with the libraries they load."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from .run import run

MERGED_USR = {"bin": "usr/bin", "sbin": "usr/sbin", "lib": "usr/lib", "lib64": "usr/lib64"}
PASSWD = (
    "root:x:0:0:root:/root:/bin/sh\n"
    "www-data:x:33:33:www-data:/var/www:/bin/false\n"
    "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
)
GROUP = "root:x:0:\nwww-data:x:33:\nnogroup:x:65534:\n"


def skeleton(dest: Path) -> None:
    """Directories and files every image here has: merged /usr links, users, /tmp."""
    for link, target in MERGED_USR.items():
        (dest / target).mkdir(parents=True, exist_ok=True)
        (dest / link).symlink_to(target)
    for directory in ("etc", "tmp", "run", "var/tmp", "root"):
        (dest / directory).mkdir(parents=True, exist_ok=True)
    (dest / "tmp").chmod(0o1777)
    (dest / "etc/passwd").write_text(PASSWD)
    (dest / "etc/group").write_text(GROUP)
    (dest / "etc/nsswitch.conf").write_text("passwd: files\ngroup: files\nhosts: files dns\n")


def copy_path(donor: Path, dest: Path, path: str) -> None:
    """Copy /path from donor into dest, following and recreating any symlink chain."""
    source = donor / path.lstrip("/")
    target = dest / path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.is_symlink():
        link = os.readlink(source)
        if not target.exists() and not target.is_symlink():
            target.symlink_to(link)
        resolved = link if link.startswith("/") else str(Path(path).parent / link)
        copy_path(donor, dest, os.path.normpath(resolved))
    elif source.is_dir():
        shutil.copytree(source, target, symlinks=True, dirs_exist_ok=True)
    elif not target.exists():
        shutil.copy2(source, target)


def shared_libraries(donor: Path, program: str) -> list[str]:
    """Absolute paths of the libraries `program` loads, as the donor's loader resolves them."""
    out = run(["chroot", donor, "ldd", program], env={"LC_ALL": "C"})
    return re.findall(r"(/\S+) \(0x", out)


def copy_programs(donor: Path, dest: Path, programs: list[str]) -> None:
    for program in programs:
        copy_path(donor, dest, program)
        for library in shared_libraries(donor, program):
            copy_path(donor, dest, library)


def busybox(donor: Path, dest: Path) -> None:
    """Static busybox as /bin/sh and the usual tools (hostname, cat, nslookup, wget...)."""
    copy_path(donor, dest, "/bin/busybox")
    applets = run(["chroot", donor, "/bin/busybox", "--list"]).split()
    for applet in applets:
        link = dest / "usr/bin" / applet
        if not link.exists() and not link.is_symlink():
            link.symlink_to("busybox")

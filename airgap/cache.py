"""Input hashing and all-or-nothing outputs, so a second build does nothing."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def digest(*inputs: str | Path) -> str:
    """A short hash of strings and of files' or directories' contents."""
    h = hashlib.sha256()
    for item in inputs:
        if isinstance(item, Path):
            for path in sorted(item.rglob("*")) if item.is_dir() else [item]:
                if path.is_file():
                    h.update(str(path.relative_to(item.parent)).encode())
                    h.update(path.read_bytes())
        else:
            h.update(item.encode())
        h.update(b"\0")
    return h.hexdigest()[:12]


@contextmanager
def fresh_output(final: Path) -> Iterator[Path]:
    """Yield a scratch directory that becomes `final` only if the block succeeds.

    A failed or interrupted step leaves nothing half-built under `final`.
    """
    scratch = final.with_name(final.name + ".partial")
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    try:
        yield scratch
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    shutil.rmtree(final, ignore_errors=True)
    scratch.rename(final)

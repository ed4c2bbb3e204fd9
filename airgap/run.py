"""Running commands with errors that say which command failed and why."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO

from .errors import AirgapError

TAIL_LINES = 25


def run(
    argv: Sequence[str | os.PathLike[str]],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    stdin: IO[bytes] | None = None,
    log: Path | None = None,
) -> str:
    """Run argv, return its stdout; raise AirgapError with the output's tail on failure.

    With `log`, stdout and stderr are appended to that file instead and "" is returned.
    """
    args = [str(a) for a in argv]
    full_env = {**os.environ, **env} if env else None
    try:
        if log:
            code, stdout, failure = run_logged(args, cwd, full_env, stdin, log)
        else:
            done = subprocess.run(
                args, cwd=cwd, env=full_env, stdin=stdin, capture_output=True, text=True
            )
            code, stdout, failure = done.returncode, done.stdout, done.stdout + done.stderr
    except FileNotFoundError:
        raise AirgapError(f"`{args[0]}` is not installed or not on PATH") from None
    if code != 0:
        where = f" (full log: {log})" if log else ""
        raise AirgapError(
            f"`{' '.join(args[:4])} ...` failed with exit code {code}{where}:\n{tail(failure)}"
        )
    return stdout


def run_logged(
    args: list[str],
    cwd: Path | None,
    env: Mapping[str, str] | None,
    stdin: IO[bytes] | None,
    log: Path,
) -> tuple[int, str, str]:
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        start = out.tell()
        code = subprocess.run(
            args, cwd=cwd, env=env, stdin=stdin, stdout=out, stderr=subprocess.STDOUT
        ).returncode
    with open(log, "rb") as written:
        written.seek(start)
        return code, "", written.read().decode(errors="replace")


def run_watched(
    argv: Sequence[str | os.PathLike[str]],
    on_line: Callable[[str], None],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    log: Path,
) -> None:
    """Like run(..., log=log), and each line of output also goes to on_line as it comes."""
    args = [str(a) for a in argv]
    full_env = {**os.environ, **env} if env else None
    log.parent.mkdir(parents=True, exist_ok=True)
    seen: list[str] = []
    try:
        with open(log, "a") as out, subprocess.Popen(
            args, cwd=cwd, env=full_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, errors="replace",
        ) as process:  # fmt: skip
            assert process.stdout is not None
            for line in process.stdout:
                out.write(line)
                seen = [*seen[-TAIL_LINES:], line]
                on_line(line)
            code = process.wait()
    except FileNotFoundError:
        raise AirgapError(f"`{args[0]}` is not installed or not on PATH") from None
    if code != 0:
        raise AirgapError(
            f"`{' '.join(args[:4])} ...` failed with exit code {code} (full log: {log}):\n"
            f"{tail(''.join(seen))}"
        )


def require_root(purpose: str, otherwise: str = "") -> None:
    if os.geteuid() != 0:
        raise AirgapError(f"{purpose} needs root: run this command as root{otherwise}.")


def succeeds(argv: Sequence[str]) -> bool:
    """True when argv runs and exits 0; its output is discarded."""
    try:
        return (
            subprocess.run(
                list(argv), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            ).returncode
            == 0
        )
    except FileNotFoundError:
        return False


def tail(text: str, lines: int = TAIL_LINES) -> str:
    return "\n".join(text.rstrip().splitlines()[-lines:])

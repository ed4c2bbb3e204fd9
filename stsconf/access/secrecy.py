"""Keeping registry passwords out of everything the suite shows: masking them in messages,
refusing command lines that carry them, and finding them where they must not be."""

from __future__ import annotations

import base64
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

MASK = "********"


class Hidden(str):
    """A secret string that shows as asterisks wherever Python shows a repr: in tracebacks
    (pytest prints the arguments of every frame), --showlocals, and reprs of the objects
    and collections that hold it. str(), f-strings and .encode() still give the value."""

    __slots__ = ()

    def __repr__(self) -> str:
        return repr(MASK)


class SecretInCommandLine(RuntimeError):
    """A command line would have shown a secret to everyone who runs `ps`."""


def secret_forms(user: str, password: str) -> frozenset[str]:
    """The password, and its basic-auth form (base64 of user:password) as docker configs
    and Authorization headers carry it."""
    if not password:
        return frozenset()
    basic = base64.b64encode(f"{user}:{password}".encode()).decode()
    return frozenset({Hidden(password), Hidden(basic)})


def mask(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret replaced by asterisks (longest first, so that no part of a
    longer secret is left behind)."""
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


def contains_secret(text: str, secrets: Iterable[str]) -> bool:
    return any(secret and secret in text for secret in secrets)


def refuse_secret_arguments(argv: Sequence[str], secrets: Iterable[str]) -> None:
    """Raise before a command whose arguments hold a secret is started."""
    __tracebackhide__ = True  # pytest would print the arguments of this frame
    secrets = list(secrets)
    if any(contains_secret(argument, secrets) for argument in argv):
        shown = " ".join(mask(argument, secrets) for argument in argv)
        raise SecretInCommandLine(f"refusing to run `{shown}`: a password is in its arguments")


def files_containing(paths: Iterable[Path], secrets: Iterable[str]) -> list[Path]:
    """Those of `paths` that exist and hold a secret (read as bytes, decoded leniently)."""
    secrets = list(secrets)
    found = []
    for path in paths:
        if path.is_file():
            text = path.read_bytes().decode("utf-8", errors="replace")
            if contains_secret(text, secrets):
                found.append(path)
    return found


def process_command_lines(proc: Path = Path("/proc")) -> list[str]:
    """Every process's command line, as `ps -eo args` shows it (read from /proc)."""
    lines = []
    for cmdline in proc.glob("[0-9]*/cmdline"):
        try:
            raw = cmdline.read_bytes()
        except OSError:
            continue  # the process ended while we looked
        if raw:
            lines.append(raw.rstrip(b"\0").replace(b"\0", b" ").decode(errors="replace"))
    return lines


@dataclass
class LeakGuard:
    """The secrets of this session and the places they were found in."""

    secrets: set[str] = field(default_factory=set, repr=False)
    leaks: list[str] = field(default_factory=list)  # where, never what

    def add(self, secrets: Iterable[str]) -> None:
        self.secrets.update(Hidden(s) for s in secrets if s)

    def mask(self, text: str) -> str:
        return mask(text, self.secrets)

    def check_text(self, where: str, text: str) -> None:
        if contains_secret(text, self.secrets):
            self.leaks.append(where)

    def check_files(self, paths: Iterable[Path]) -> None:
        for path in files_containing(paths, self.secrets):
            self.leaks.append(str(path))

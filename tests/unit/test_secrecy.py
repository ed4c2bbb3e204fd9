"""Keeping passwords out of what the suite shows: masking, refusing, finding."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from stsconf.access.secrecy import (
    MASK,
    Hidden,
    LeakGuard,
    SecretInCommandLine,
    files_containing,
    mask,
    process_command_lines,
    refuse_secret_arguments,
    secret_forms,
)

PASSWORD = "s3cret-Pa55"


def test_hidden_shows_asterisks_as_repr_but_keeps_its_value() -> None:
    hidden = Hidden(PASSWORD)
    assert repr(hidden) == repr(MASK)
    assert PASSWORD not in repr([hidden, {"password": hidden}])
    assert (str(hidden), f"{hidden}", hidden.encode()) == (PASSWORD, PASSWORD, PASSWORD.encode())


def test_secret_forms_are_the_password_and_its_basic_auth_form() -> None:
    basic = base64.b64encode(f"bob:{PASSWORD}".encode()).decode()
    assert secret_forms("bob", PASSWORD) == {PASSWORD, basic}
    assert all(isinstance(form, Hidden) for form in secret_forms("bob", PASSWORD))
    assert secret_forms("bob", "") == frozenset()


def test_mask_replaces_every_secret_longest_first() -> None:
    text = f"login failed for {PASSWORD} and {PASSWORD}xyz"
    assert mask(text, [PASSWORD, f"{PASSWORD}xyz"]) == f"login failed for {MASK} and {MASK}"


def test_refuses_a_command_line_with_a_secret_and_masks_it_in_the_message() -> None:
    refuse_secret_arguments(["docker", "login", "--password-stdin"], [PASSWORD])
    with pytest.raises(SecretInCommandLine) as raised:
        refuse_secret_arguments(["docker", "login", f"--password={PASSWORD}"], [PASSWORD])
    assert PASSWORD not in str(raised.value)
    assert f"--password={MASK}" in str(raised.value)


def test_files_containing_names_only_files_that_hold_a_secret(tmp_path: Path) -> None:
    clean, leaky = tmp_path / "clean.xml", tmp_path / "leaky.html"
    clean.write_text("<testsuite/>")
    leaky.write_text(f"<pre>{PASSWORD}</pre>")
    paths = [clean, leaky, tmp_path / "absent.xml"]
    assert files_containing(paths, [PASSWORD]) == [leaky]


def test_process_command_lines_read_like_ps(tmp_path: Path) -> None:
    (tmp_path / "12").mkdir()
    (tmp_path / "12" / "cmdline").write_bytes(b"docker\0login\0--password-stdin\0")
    (tmp_path / "13").mkdir()
    (tmp_path / "13" / "cmdline").write_bytes(b"")  # a kernel thread
    assert process_command_lines(tmp_path) == ["docker login --password-stdin"]


def test_process_command_lines_of_this_machine_include_this_process() -> None:
    assert any("pytest" in line for line in process_command_lines())


def test_leak_guard_records_where_never_what(tmp_path: Path) -> None:
    guard = LeakGuard()
    guard.add(secret_forms("bob", PASSWORD))
    guard.check_text("test_a (captured stdout)", "nothing to see")
    guard.check_text("test_b (failure)", f"auth {PASSWORD} refused")
    leaky = tmp_path / "junit.xml"
    leaky.write_text(base64.b64encode(f"bob:{PASSWORD}".encode()).decode())
    guard.check_files([leaky])
    assert guard.leaks == ["test_b (failure)", str(leaky)]
    assert PASSWORD not in repr(guard)
    assert guard.mask(f"x {PASSWORD} y") == f"x {MASK} y"

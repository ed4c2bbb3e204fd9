"""Reading answers out of busybox `nslookup` output."""

from __future__ import annotations

import ipaddress
import re

_ADDRESS = re.compile(r"^Address(?:\s+\d+)?:\s*(\S+)")


def nslookup_ipv4_answers(output: str) -> list[str]:
    """IPv4 addresses answered for the queried name, without the DNS server's own address.

    busybox prints the server first ("Server:" then "Address:"), then one block per answer
    ("Name:" then "Address:" or "Address N:" lines); older versions put the name after the
    address ("Address 1: 10.0.0.1 web-0...").
    """
    answers: list[str] = []
    in_answer = False
    for line in output.splitlines():
        stripped = line.strip()
        if stripped.startswith("Name:"):
            in_answer = True
            continue
        match = _ADDRESS.match(stripped)
        if in_answer and match and _is_ipv4(match.group(1)) and match.group(1) not in answers:
            answers.append(match.group(1))
    return answers


def _is_ipv4(text: str) -> bool:
    try:
        return isinstance(ipaddress.ip_address(text), ipaddress.IPv4Address)
    except ValueError:
        return False

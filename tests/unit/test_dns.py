"""Parsing busybox nslookup output."""

from __future__ import annotations

from stsconf.observe.dns import nslookup_ipv4_answers

NEW_STYLE = """Server:\t\t10.96.0.10
Address:\t10.96.0.10:53

Name:\tweb-0.nginx.ns.svc.cluster.local
Address: 10.244.0.7

*** Can't find web-0.nginx.ns.svc.cluster.local: No answer
"""

OLD_STYLE = """Server:    10.96.0.10
Address 1: 10.96.0.10 kube-dns.kube-system.svc.cluster.local

Name:      nginx.ns.svc.cluster.local
Address 1: 10.244.0.7 web-0.nginx.ns.svc.cluster.local
Address 2: 10.244.0.8 web-1.nginx.ns.svc.cluster.local
"""

NOT_FOUND = """Server:\t\t10.96.0.10
Address:\t10.96.0.10:53

** server can't find web-0.nginx.ns.svc.cluster.local: NXDOMAIN
"""


def test_answer_without_server_address() -> None:
    assert nslookup_ipv4_answers(NEW_STYLE) == ["10.244.0.7"]


def test_numbered_answers() -> None:
    assert nslookup_ipv4_answers(OLD_STYLE) == ["10.244.0.7", "10.244.0.8"]


def test_no_answer() -> None:
    assert nslookup_ipv4_answers(NOT_FOUND) == []


def test_ipv6_answers_are_ignored() -> None:
    assert nslookup_ipv4_answers("Name: x\nAddress: fd00::1\nAddress: 10.0.0.1\n") == ["10.0.0.1"]

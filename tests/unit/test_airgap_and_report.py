"""The airgap description file and report rendering."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stsconf.access.airgap import AirgapError, load_airgap
from stsconf.model.timeline import ADDED, PodEvent, PodState, Timeline
from stsconf.report.observations import Observations, html_table, observation_html, to_extras


def test_airgap_file_is_read(tmp_path: Path) -> None:
    kind = tmp_path / "kind"
    kind.write_text("")
    data = {
        "kind_bin": str(kind),
        "kubectl_bin": "/k",
        "node_image": "stsconf/node:v1",
        "kubernetes_version": "v1.34.10",
        "kind_version": "v0.32.0",
        "images": {"nginx": "stsconf/nginx:1", "probe": "stsconf/probe:1"},
    }
    (tmp_path / "airgap.json").write_text(json.dumps(data))
    airgap = load_airgap(tmp_path / "airgap.json")
    assert (airgap.kind_bin, airgap.nginx_image, airgap.probe_image) == (
        kind,
        "stsconf/nginx:1",
        "stsconf/probe:1",
    )


def test_missing_or_incomplete_airgap_file(tmp_path: Path) -> None:
    with pytest.raises(AirgapError, match="does not exist"):
        load_airgap(tmp_path / "airgap.json")
    (tmp_path / "airgap.json").write_text(json.dumps({"kind_bin": "/x", "images": {}}))
    with pytest.raises(AirgapError, match=r"lacks kubectl_bin, node_image, images, images\.nginx"):
        load_airgap(tmp_path / "airgap.json")


def test_tables_escape_html() -> None:
    assert "<td>&lt;b&gt;</td>" in html_table([{"a": "<b>"}])
    assert html_table([]) == "<p>(nothing)</p>"


def test_observations_become_extras() -> None:
    observations = Observations()
    observations.text("dns", "Name: x")
    observations.timeline(
        "startup",
        Timeline([PodEvent(0, 0.5, ADDED, PodState("web-0", "u", "Pending", False, False))]),
    )
    extras = to_extras(observations)
    assert [e["format_type"] for e in extras] == ["html", "html", "json"]
    assert "<pre>Name: x</pre>" in observation_html(observations.items[0])
    assert "web-0" in extras[1]["content"]

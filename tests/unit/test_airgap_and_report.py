"""The airgap description file and report rendering."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stsconf.access.airgap import AirgapError, load_airgap
from stsconf.model.timeline import ADDED, PodEvent, PodState, Timeline
from stsconf.report.observations import Observations, html_table, observation_html, to_extras


def airgap_description(kind: Path) -> dict[str, object]:
    return {
        "kind_bin": str(kind),
        "kind_version": "v0.33.0",
        "images": {"nginx": "stsconf/nginx:1", "probe": "stsconf/probe:1"},
        "default_kubernetes": "1.37",
        "kubernetes": {
            minor: {
                "kubernetes_version": f"v{minor}.1",
                "node_image": f"stsconf/kind-node:v{minor}.1",
                "kubectl_bin": f"/kubectl-{minor}",
            }
            for minor in ("1.35", "1.37")
        },
    }


def test_airgap_file_is_read_with_the_default_minor(tmp_path: Path) -> None:
    kind = tmp_path / "kind"
    kind.write_text("")
    (tmp_path / "airgap.json").write_text(json.dumps(airgap_description(kind)))
    airgap = load_airgap(tmp_path / "airgap.json")
    assert (airgap.kind_bin, airgap.nginx_image, airgap.probe_image) == (
        kind,
        "stsconf/nginx:1",
        "stsconf/probe:1",
    )
    assert (airgap.minor, airgap.node_image, airgap.built_minors) == (
        "1.37",
        "stsconf/kind-node:v1.37.1",
        ("1.35", "1.37"),
    )


def test_airgap_file_gives_the_cluster_of_the_minor_asked_for(tmp_path: Path) -> None:
    kind = tmp_path / "kind"
    kind.write_text("")
    (tmp_path / "airgap.json").write_text(json.dumps(airgap_description(kind)))
    airgap = load_airgap(tmp_path / "airgap.json", "v1.35")
    assert (airgap.kubernetes_version, airgap.kubectl_bin) == ("v1.35.1", Path("/kubectl-1.35"))


def test_a_known_minor_not_built_says_how_to_build_it(tmp_path: Path) -> None:
    kind = tmp_path / "kind"
    kind.write_text("")
    (tmp_path / "airgap.json").write_text(json.dumps(airgap_description(kind)))
    with pytest.raises(AirgapError, match=r"built: 1\.35, 1\.37.*airgap build --kubernetes 1\.36"):
        load_airgap(tmp_path / "airgap.json", "1.36")


def test_an_unknown_minor_names_the_known_ones(tmp_path: Path) -> None:
    kind = tmp_path / "kind"
    kind.write_text("")
    (tmp_path / "airgap.json").write_text(json.dumps(airgap_description(kind)))
    with pytest.raises(AirgapError, match=r"'1\.20' is not a minor this build knows; known: 1\.35"):
        load_airgap(tmp_path / "airgap.json", "1.20")


def test_missing_or_incomplete_airgap_file(tmp_path: Path) -> None:
    with pytest.raises(AirgapError, match="does not exist"):
        load_airgap(tmp_path / "airgap.json")
    (tmp_path / "airgap.json").write_text(json.dumps({"kind_bin": "/x", "images": {}}))
    with pytest.raises(AirgapError, match=r"lacks images, kubernetes, images\.nginx"):
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

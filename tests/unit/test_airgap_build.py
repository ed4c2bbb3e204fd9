"""The air-gapped build's own logic, without Docker, Go or a network."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import re
import string
from pathlib import Path
from types import ModuleType

import pytest
import yaml

from airgap import build, cache, config, gobuild, nodeimage, rootfs
from stsconf.access import registry

CAPFILTER = Path(__file__).resolve().parents[2] / "airgap" / "capfilter-runc"


def load_capfilter() -> ModuleType:
    loader = importlib.machinery.SourceFileLoader("capfilter_runc", str(CAPFILTER))
    spec = importlib.util.spec_from_loader("capfilter_runc", loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def test_versions_come_from_the_pinned_go_modules() -> None:
    versions = config.versions(config.default_minor())
    assert versions.kubernetes.startswith(f"v{versions.minor}.")
    assert versions.kind.startswith("v0.")
    assert versions.etcd.startswith("v3.")


def test_kubernetes_version_flags_stamp_both_version_packages() -> None:
    flags = gobuild.kubernetes_version_flags("v1.34.10")
    assert "-X=k8s.io/component-base/version.gitVersion=v1.34.10" in flags
    assert "-X=k8s.io/client-go/pkg/version.gitMinor=34" in flags


# kubeadm's default Corefile: each directive, and the CoreDNS plugin package that provides it
COREFILE_PLUGINS = {
    "errors": "errors", "health": "health", "ready": "ready", "kubernetes": "kubernetes",
    "prometheus": "metrics", "forward": "forward", "cache": "cache", "loop": "loop",
    "reload": "reload", "loadbalance": "loadbalance",
}  # fmt: skip


def test_every_minor_builds_one_coredns_with_every_plugin_of_kubeadms_corefile() -> None:
    """One main.go, kept in each minor's wrapper module (each is a Go module of its own), that
    plugs in every plugin kubeadm's default Corefile names."""
    mains = {
        minor: (config.GO_MODULES / config.module("coredns", minor) / "main.go").read_text()
        for minor in config.known_minors()
    }
    assert len(set(mains.values())) == 1, f"the main.go files differ: {sorted(mains)}"
    plugins = set(re.findall(r'"github.com/coredns/coredns/plugin/(\w+)"', mains.popitem()[1]))
    missing = set(COREFILE_PLUGINS.values()) - plugins
    assert not missing, f"CoreDNS lacks the Corefile's plugins {sorted(missing)}"


def test_the_default_storage_class_names_the_provisioner_nodevolumes_is() -> None:
    """nodevolumes provisions only claims whose class names it; the class in the node image's
    storage manifest must, and the directory it mounts must be the one it makes volumes in."""
    source = (config.GO_MODULES / "nodeagents" / "nodevolumes" / "main.go").read_text()
    name = re.search(r'provisioner\s+= "([^"]+)"', source)
    template = string.Template((nodeimage.FILES / "default-storage.yaml.in").read_text())
    documents = list(yaml.safe_load_all(template.substitute(volumes_image="image")))
    (storage_class,) = [d for d in documents if d["kind"] == "StorageClass"]
    assert name, "no provisioner constant in nodevolumes/main.go"
    assert storage_class["provisioner"] == name.group(1)
    (agents,) = [d for d in documents if d["kind"] == "DaemonSet"]
    (container,) = agents["spec"]["template"]["spec"]["containers"]
    root = next(e["value"] for e in container["env"] if e["name"] == "VOLUMES_ROOT")
    assert [m["mountPath"] for m in container["volumeMounts"]] == [root]


def test_the_registry_is_built_with_the_storage_and_authentication_the_suite_configures() -> None:
    """The registry's main.go plugs in only some of distribution's drivers: the storage driver
    and the authentication that stsconf/access/registry.py's configuration names."""
    main = (config.GO_MODULES / "registry" / "main.go").read_text()
    configured = yaml.safe_load(registry.registry_config())
    for part in ("storage", "auth"):
        (name,) = configured[part]
        assert re.search(rf'"github.com/distribution/distribution/v3/registry/{part}\S*/{name}"',
                         main), f"the registry's main.go lacks the {part} {name!r}"  # fmt: skip


@pytest.mark.parametrize(
    ("tag", "name"),
    [
        ("a.example/kube-apiserver:v1.34.10", "kube-apiserver"),
        ("a.example/coredns/coredns:v1.12.1", "coredns"),
        ("pause:3.10.1", "pause"),
    ],
)
def test_repository_is_the_last_path_element_without_tag(tag: str, name: str) -> None:
    assert build.repository(tag) == name


def test_a_short_image_name_matches_containerds_full_name() -> None:
    assert nodeimage.is_same_image("stsconf/probe:1.35.0", "some.host/stsconf/probe:1.35.0")
    assert nodeimage.is_same_image("x.io/pause:3", "x.io/pause:3")
    assert not nodeimage.is_same_image("stsconf/probe:1.35.0", "some.host/stsconf/probe:1.36.0")


def test_mirror_is_read_from_deb822_and_one_line_sources() -> None:
    deb822 = "Types: deb\nURIs: http://mirror.test/debian\nSuites: bookworm\n"
    one_line = "deb [arch=amd64] http://other.test/debian bookworm main\n"
    assert (
        rootfs.mirror_in(["Types: deb\nURIs: http://x.test/node\n", deb822])
        == "http://mirror.test/debian"
    )
    assert rootfs.mirror_in([one_line]) == "http://other.test/debian"
    assert rootfs.mirror_in(["URIs: http://x.test/node_20.x\n"]) is None


def test_digest_changes_with_file_contents(tmp_path: Path) -> None:
    data = tmp_path / "input"
    data.write_text("one")
    first = cache.digest("label", data)
    data.write_text("two")
    assert cache.digest("label", data) != first


def test_a_failed_step_leaves_nothing_behind(tmp_path: Path) -> None:
    final = tmp_path / "output"

    def failing_step() -> None:
        with cache.fresh_output(final) as scratch:
            (scratch / "half").write_text("built")
            raise RuntimeError("step failed")

    with pytest.raises(RuntimeError):
        failing_step()
    assert list(tmp_path.iterdir()) == []


def test_a_finished_step_appears_whole(tmp_path: Path) -> None:
    final = tmp_path / "output"
    with cache.fresh_output(final) as scratch:
        (scratch / "file").write_text("built")
    assert (final / "file").read_text() == "built"
    assert not final.with_name("output.partial").exists()


def test_capability_filter_drops_what_the_bounding_set_lacks(tmp_path: Path) -> None:
    capfilter = load_capfilter()
    bundle = tmp_path / "config.json"
    caps = ["CAP_CHOWN", "CAP_SYS_RESOURCE"]
    bundle.write_text(json.dumps({"process": {"capabilities": {"bounding": caps}}}))
    capfilter.rewrite(str(bundle), {"CAP_SYS_RESOURCE"}, key="process")
    assert json.loads(bundle.read_text())["process"]["capabilities"]["bounding"] == ["CAP_CHOWN"]


def test_capability_filter_finds_runc_options_in_both_spellings() -> None:
    capfilter = load_capfilter()
    assert capfilter.option_value(["create", "--bundle", "/b", "id"], "--bundle", "-b") == "/b"
    exec_args = ["exec", "--process=/p.json", "id"]
    assert capfilter.option_value(exec_args, "--process", "-p") == "/p.json"
    assert capfilter.option_value(["start", "id"], "--bundle", "-b") is None


def test_a_change_to_any_go_file_of_our_own_modules_rebuilds_them() -> None:
    """The build's cache key holds every Go file of the node agents' module, its packages in
    subdirectories too; not the tools.go that only pins another module."""
    module = config.GO_MODULES / "nodeagents"
    names = {str(path.relative_to(module)) for path in gobuild.own_sources(module)}
    assert {"kube/kube.go", "podnet/main.go", "nodevolumes/main.go"} <= names
    registry = gobuild.own_sources(config.GO_MODULES / "registry")
    assert "tools.go" not in {path.name for path in registry}

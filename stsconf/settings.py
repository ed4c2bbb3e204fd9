"""The suite's options and the settings read from them once, at configure time: the manifest
(with the image under test substituted), the images, the air-gapped build, the cluster to use,
the timeouts, the pull secret and the required properties; and what of them the report's
environment table shows."""

from __future__ import annotations

import argparse
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from stsconf.access import kind_fixture, resources
from stsconf.access.airgap import DEFAULT_AIRGAP_FILE, Airgap, AirgapError, load_airgap
from stsconf.access.kind_config import merged_gates
from stsconf.access.pull_secret import (
    PullSecretError,
    RegistryCredentials,
    credentials_from_options,
    with_pull_secret,
)
from stsconf.checks.declared import RequireError, parse_required
from stsconf.model.manifest import (
    NOT_APPLICABLE,
    Manifest,
    ManifestError,
    airgap_images_of_others,
    default_image,
    load_manifest,
)
from stsconf.report.matrix import GUARANTEES
from stsconf.workload.statefulset import Timeouts

DEFAULT_MANIFEST = resources.DEFAULT_MANIFEST  # in the checkout or the installed package
DEFAULT_PROBE_IMAGE = "busybox:1.36"


@dataclass(frozen=True)
class Settings:
    manifest: Manifest  # with the image under test substituted
    image: str
    probe_image: str
    airgap: Airgap | None
    existing_kubeconfig: Path | None
    keep_namespaces: bool
    timeouts: Timeouts
    # --registry-*: a pull secret in each namespace, listed in the StatefulSet
    pull_credentials: RegistryCredentials | None = None
    # --require: properties that fail when the manifest opts out of them (see checks/declared.py)
    required: frozenset[str] = frozenset()
    # --feature-gates: given to every component of the clusters the suite creates
    feature_gates: dict[str, bool] = field(default_factory=dict)


SETTINGS = pytest.StashKey[Settings]()


def pytest_configure(config: pytest.Config) -> None:
    """Read the settings (a bad option or manifest is a usage error), override pytest-kind's
    kind_cluster, and describe the settings in the report's environment table."""
    config.addinivalue_line("markers", "conformance: asserts a StatefulSet guarantee on a cluster")
    config.addinivalue_line("markers", "selftest: runs the suite against broken manifests")
    try:
        settings = read_settings(config)
    except (ManifestError, AirgapError, PullSecretError, RequireError) as error:
        raise pytest.UsageError(str(error)) from None
    config.stash[SETTINGS] = settings
    kind_fixture.register(config)  # overrides pytest-kind's kind_cluster, whatever the order
    describe_environment(config, environment_entries(settings))


@pytest.fixture(scope="session")
def settings(pytestconfig: pytest.Config) -> Settings:
    return pytestconfig.stash[SETTINGS]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("stsconf", "StatefulSet conformance")
    group.addoption(
        "--manifest",
        type=Path,
        default=DEFAULT_MANIFEST,
        help="YAML file or directory (e.g. `helm template --output-dir`) with the StatefulSet "
        "under test, its Service and the objects its pods need",
    )
    group.addoption(
        "--statefulset",
        default=None,
        metavar="NAME",
        help="the StatefulSet under test, when the manifest holds several",
    )
    group.addoption(
        "--container",
        default=None,
        metavar="NAME",
        help="the container under test, whose image --image replaces (default: the first)",
    )
    group.addoption(
        "--image",
        default=None,
        help="image for the container under test (default: the manifest's own image; "
        "with --airgap, the build's image of that name); other containers keep theirs",
    )
    group.addoption(
        "--probe-image",
        default=None,
        help=f"image with sh, nslookup and wget (default {DEFAULT_PROBE_IMAGE})",
    )
    group.addoption(
        "--airgap",
        action="store_true",
        help="use the air-gapped kind build: its kind, node image and images",
    )
    group.addoption(
        "--airgap-file",
        type=Path,
        default=DEFAULT_AIRGAP_FILE,
        help="description of the air-gapped build (default %(default)s)",
    )
    group.addoption(
        "--existing-kubeconfig",
        type=Path,
        default=None,
        help="test the cluster in this kubeconfig instead of creating one with kind",
    )
    group.addoption(
        "--keep-namespaces",
        action="store_true",
        help="leave the test namespaces (and their claims) behind for inspection",
    )
    group.addoption(
        "--pod-timeout",
        type=positive(float),
        default=Timeouts.pods,
        help="seconds to wait for pods to start, stop or be replaced",
    )
    group.addoption(
        "--selftest-workers",
        type=positive(int),
        default=None,
        help="self-tests and examples: how many suite runs each starts at once (default 6; "
        "with workers (-n), 2 each: the workers already run several packages at once)",
    )
    group.addoption(
        "--dns-timeout",
        type=positive(float),
        default=Timeouts.dns,
        help="seconds to wait for DNS to agree with the API",
    )
    group.addoption(
        "--require",
        action="append",
        default=[],
        metavar="ID[,ID...]",
        help="fail these properties when the manifest opts out of them (e.g. ordered_startup "
        "under podManagementPolicy Parallel) instead of asserting the form it declares",
    )


def positive(number: Callable[[str], float]) -> Callable[[str], float]:
    """An option type that accepts only numbers above zero (anything else is a usage error)."""

    def parse(text: str) -> float:
        try:
            value = number(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be above zero; got {text}")
        return value

    parse.__name__ = number.__name__
    return parse


def read_settings(config: pytest.Config) -> Settings:
    option = config.option
    if option.kubernetes and not option.airgap:
        raise AirgapError(
            "--kubernetes picks a node image of the air-gapped build: add --airgap, or pass "
            "--kind-image with kind's own node image of that minor"
        )
    airgap = load_airgap(option.airgap_file, option.kubernetes) if option.airgap else None
    if airgap:
        option.kind_bin = option.kind_bin or str(airgap.kind_bin)
        option.kind_image = option.kind_image or airgap.node_image
        option.kind_kubectl_bin = option.kind_kubectl_bin or str(airgap.kubectl_bin)
    option.kind_bin = option.kind_bin or shutil.which("kind")
    option.kind_kubectl_bin = option.kind_kubectl_bin or shutil.which("kubectl")
    manifest = load_manifest(option.manifest, option.statefulset, option.container)
    check_not_applicable(manifest)
    image = option.image or default_image(manifest, airgap.images if airgap else None)
    probe_image = option.probe_image or (airgap.probe_image if airgap else DEFAULT_PROBE_IMAGE)
    existing = option.existing_kubeconfig
    if existing is not None and not existing.is_file():
        raise ManifestError(f"--existing-kubeconfig: {existing} does not exist")
    credentials = credentials_from_options(
        option.registry_server, option.registry_user, option.registry_password_env, os.environ
    )
    if airgap:  # nothing is pulled: every container runs an image kind loads
        manifest = manifest.with_container_images(airgap_images_of_others(manifest, airgap.images))
    manifest = manifest.with_image(image)
    return Settings(
        manifest=with_pull_secret(manifest) if credentials else manifest,
        image=image,
        probe_image=probe_image,
        airgap=airgap,
        existing_kubeconfig=existing,
        keep_namespaces=option.keep_namespaces,
        timeouts=Timeouts(pods=option.pod_timeout, dns=option.dns_timeout),
        pull_credentials=credentials,
        required=parse_required(option.require, [g.property_id for g in GUARANTEES]),
        feature_gates=merged_gates(option.feature_gates),
    )


def check_not_applicable(manifest: Manifest) -> None:
    known = {g.property_id for g in GUARANTEES}
    unknown = sorted(set(manifest.not_applicable) - known)
    if unknown:
        raise ManifestError(
            f"annotation {NOT_APPLICABLE}: no property {', '.join(unknown)}; the properties: "
            f"{', '.join(sorted(known))}"
        )


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """A property the manifest says its app cannot take is skipped with the manifest's
    reason, before any fixture deploys anything for it."""
    settings = item.config.stash.get(SETTINGS, None)
    if settings is None or resources.CONFORMANCE not in item.path.parents:
        return
    name = getattr(item, "originalname", item.name).removeprefix("test_")
    reason = settings.manifest.not_applicable.get(name)
    if reason:
        pytest.skip(f"not applicable to this app, its manifest says ({NOT_APPLICABLE}): {reason}")


def environment_entries(settings: Settings) -> dict[str, str]:
    """What the report's environment table says about the settings."""
    return {
        "Manifest": str(settings.manifest.path),
        "StatefulSet under test": settings.manifest.statefulset_name,
        "Image under test": f"{settings.image} (container {settings.manifest.container})",
        **_other_images_entry(settings.manifest),
        "Probe image": settings.probe_image,
        **_airgap_entries(settings.airgap),
        **_feature_gate_entries(settings.feature_gates),
        **_pull_secret_entries(settings.pull_credentials),
    }


def _other_images_entry(manifest: Manifest) -> dict[str, str]:
    others = [
        f"{'init container' if entry.init else 'container'} {entry.container}: {entry.image}"
        for entry in manifest.pod_images
        if entry.container != manifest.container
    ]
    return {"Other containers' images": "; ".join(others)} if others else {}


def pytest_report_header(config: pytest.Config) -> list[str]:
    """What of the manifest's files is not applied, and why, before anything runs."""
    settings = config.stash.get(SETTINGS, None)
    if settings is None or not settings.manifest.left_out:
        return []
    return ["stsconf: not applied from the manifest:", *settings.manifest.left_out]


def _airgap_entries(airgap: Airgap | None) -> dict[str, str]:
    if airgap is None:
        return {}
    summary = (
        f"kind {airgap.kind_version}, Kubernetes {airgap.kubernetes_version}, "
        f"node image {airgap.node_image} (minors built: {', '.join(airgap.built_minors)})"
    )
    return {"Air-gapped build": summary}


def _feature_gate_entries(gates: dict[str, bool]) -> dict[str, str]:
    """The gates the suite gives the clusters it creates (kind's own defaults otherwise)."""
    listed = ", ".join(f"{name}={str(on).lower()}" for name, on in sorted(gates.items()))
    return {"Feature gates": listed} if listed else {}


def _pull_secret_entries(credentials: RegistryCredentials | None) -> dict[str, str]:
    return {"Pull secret": credentials.describe()} if credentials else {}


def describe_environment(config: pytest.Config, entries: dict[str, str]) -> None:
    """Add `entries` to the report's environment table (pytest-metadata's), when there is one."""
    try:
        from pytest_metadata.plugin import metadata_key
    except ImportError:
        return
    if metadata_key in config.stash:
        config.stash[metadata_key].update(entries)

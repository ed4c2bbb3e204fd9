"""The manifest's StatefulSet, its image in a private registry that demands a login: it runs
with a docker-registry pull secret, and without one (or with a wrong password) the registry
refuses the image. Each test deploys in its own namespace and always pulls (a tag no node
has seen, imagePullPolicy Always), so no cached image can stand in for a pull."""

from __future__ import annotations

import json

import pytest

from stsconf.access import registry, rest
from stsconf.access.pull_secret import create_pull_secret, with_pull_secret, with_pulled_image
from stsconf.access.registry import PrivateRegistry
from stsconf.access.secrecy import LeakGuard, contains_secret, process_command_lines
from stsconf.access.watching import Recorder
from stsconf.cluster_fixture import Cluster
from stsconf.model.expectations import expect
from stsconf.model.manifest import Manifest
from stsconf.observe import image_pull
from stsconf.observe.image_pull import AUTH_FAILURE, PullRefusal
from stsconf.report.observations import Observations
from stsconf.settings import Settings
from stsconf.workload.statefulset import StatefulSetUnderTest

pytestmark = pytest.mark.registry


def test_registry_pull_requires_secret_pods_stay_in_image_pull_backoff(
    cluster: Cluster,
    own_namespace: str,
    settings: Settings,
    private_registry: PrivateRegistry,
    observe: Observations,
) -> None:
    """Without a pull secret the registry refuses the image: the pods stay in ErrImagePull or
    ImagePullBackOff, and the events say the pull was not authorized."""
    manifest = with_pulled_image(settings.manifest, private_registry.image)
    refusal = image_pull.deploy_expecting_refusal(
        cluster.kube, own_namespace, manifest, settings.timeouts.pods
    )
    report_refusal(observe, refusal)
    expect_refused_for_want_of_login(refusal, manifest)


def test_registry_pull_with_secret_statefulset_becomes_ready(
    cluster: Cluster,
    own_namespace: str,
    settings: Settings,
    private_registry: PrivateRegistry,
    observe: Observations,
) -> None:
    """With a docker-registry secret in imagePullSecrets, every pod pulls the image from the
    registry (which served it to a logged-in client) and the StatefulSet becomes Ready."""
    create_pull_secret(cluster.kube, own_namespace, private_registry.credentials)
    manifest = with_pull_secret(with_pulled_image(settings.manifest, private_registry.image))
    statefulset = StatefulSetUnderTest(cluster.kube, own_namespace, manifest, settings.timeouts)
    names = manifest.pod_names(manifest.replicas)
    with Recorder(cluster.kube.core.list_namespaced_event, namespace=own_namespace) as events:
        statefulset.deploy()
        seen = image_pull.wait_for_pulled_events(
            events, names, settings.timeouts.pods, statefulset.diagnose
        )
    pods = statefulset.pods()
    observe.table("pull events", image_pull.pull_event_rows(seen))
    observe.table(
        "pods",
        [{"pod": n, "image": ", ".join(image_pull.image_ids(pods[n]))} for n in sorted(pods)],
    )
    served = registry.served_manifests(
        registry.registry_log(), private_registry.repository, private_registry.tag
    )
    expect(
        served >= len(names),
        f"registry's access log for {private_registry.repository}:{private_registry.tag}",
        f"the manifest served (200) at least once per pod ({len(names)})",
        f"served {served} times",
    )
    expected_source = f"{registry.HOST_IN_CLUSTER}/{private_registry.repository}@sha256:"
    for name in names:
        ids = image_pull.image_ids(pods[name])
        expect(
            bool(ids) and all(i.startswith(expected_source) for i in ids),
            f"image of {name}",
            f"pulled from the registry ({expected_source}...)",
            ", ".join(ids) or "no container status",
        )


def test_registry_pull_with_secret_of_wrong_password_fails_like_no_secret(
    cluster: Cluster,
    own_namespace: str,
    settings: Settings,
    private_registry: PrivateRegistry,
    leak_guard: LeakGuard,
    observe: Observations,
) -> None:
    """A pull secret with a wrong password is refused like none at all: the pods stay in
    ErrImagePull or ImagePullBackOff, the events say the pull was not authorized."""
    wrong = private_registry.wrong_credentials()
    leak_guard.add(wrong.secrets)
    create_pull_secret(cluster.kube, own_namespace, wrong)
    manifest = with_pull_secret(with_pulled_image(settings.manifest, private_registry.image))
    refusal = image_pull.deploy_expecting_refusal(
        cluster.kube, own_namespace, manifest, settings.timeouts.pods
    )
    report_refusal(observe, refusal)
    expect_refused_for_want_of_login(refusal, manifest)


def test_registry_passwords_in_no_command_line_event_or_registry_container(
    cluster: Cluster,
    private_registry: PrivateRegistry,
    leak_guard: LeakGuard,
    observe: Observations,
) -> None:
    """No registry password of this session (right or wrong) shows in any process's command
    line (what `ps` shows), in the cluster's events, or in the registry container's
    configuration and log. (Reports and test output are checked when the session ends.)"""
    places = {
        "command lines of all processes (ps)": "\n".join(process_command_lines()),
        "events of all namespaces": json.dumps(
            rest.raw(cluster.kube.core.list_event_for_all_namespaces)
        ),
        "registry container (docker inspect)": registry.docker(
            ["inspect", registry.CONTAINER_NAME]
        ),
        "registry container log": registry.registry_log(),
    }
    found = [place for place, text in places.items() if contains_secret(text, leak_guard.secrets)]
    observe.table(
        f"{len(leak_guard.secrets)} password forms looked for",
        [
            {
                "where": place,
                "characters": str(len(text)),
                "password": "found" if place in found else "not found",
            }
            for place, text in places.items()
        ],
    )
    expect(not found, "registry passwords", f"in none of: {', '.join(places)}", ", ".join(found))


# Helpers


def report_refusal(observe: Observations, refusal: PullRefusal) -> None:
    observe.table("pull events", image_pull.pull_event_rows(refusal.events))
    observe.text("pods", image_pull.describe_pull_states(refusal.pods))


def expect_refused_for_want_of_login(refusal: PullRefusal, manifest: Manifest) -> None:
    """The pods have no image and never ran; the events say the registry wanted a login."""
    failed = [
        row["message"]
        for row in image_pull.pull_event_rows(refusal.events)
        if row["pod"] == refusal.first_pod and row["reason"] == "Failed"
    ]
    expect(
        any(AUTH_FAILURE.search(message) for message in failed),
        f"Failed events of {refusal.first_pod}",
        "a pull refused for want of authorization (401/unauthorized/authorization failed)",
        "; ".join(failed) or "no Failed events",
    )
    expect(
        bool(refusal.pods) and all(image_pull.pull_failing(p) for p in refusal.pods.values()),
        f"pods of {manifest.statefulset_name}",
        "each waiting in ErrImagePull or ImagePullBackOff",
        image_pull.describe_pull_states(refusal.pods),
    )
    expect(
        not refusal.ever_ready,
        f"pods of {manifest.statefulset_name} while the pulls were refused",
        "none Running and Ready at any moment",
        f"{', '.join(refusal.ever_ready)} Running and Ready",
    )

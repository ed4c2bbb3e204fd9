"""The docker-registry pull secret and the StatefulSet that uses it."""

from __future__ import annotations

import base64
import json

import pytest

from stsconf.access.pull_secret import (
    SECRET_NAME,
    PullSecretError,
    RegistryCredentials,
    credentials_from_options,
    dockerconfigjson,
    secret_body,
    with_pull_secret,
    with_pulled_image,
)
from stsconf.model.manifest import load_manifest
from stsconf.settings import DEFAULT_MANIFEST

PASSWORD = "pw-from-the-environment"
CREDENTIALS = RegistryCredentials("team-registry:5000", "bob", PASSWORD)


def test_no_registry_options_mean_no_credentials() -> None:
    assert credentials_from_options(None, None, "STSCONF_REGISTRY_PASSWORD", {}) is None


def test_the_password_comes_from_the_named_environment_variable() -> None:
    credentials = credentials_from_options("r:5000", "bob", "MY_PW", {"MY_PW": PASSWORD})
    assert credentials == RegistryCredentials("r:5000", "bob", PASSWORD)


@pytest.mark.parametrize(
    ("server", "user", "environ", "says"),
    [
        ("r:5000", None, {"PW": PASSWORD}, "--registry-server needs --registry-user"),
        (None, "bob", {"PW": PASSWORD}, "--registry-user needs --registry-server"),
        ("r:5000", "bob", {}, "environment variable PW"),
        ("r:5000", "bob", {"PW": ""}, "environment variable PW"),
    ],
)
def test_incomplete_registry_options_are_refused(
    server: str | None, user: str | None, environ: dict[str, str], says: str
) -> None:
    with pytest.raises(PullSecretError, match=says):
        credentials_from_options(server, user, "PW", environ)


def test_credentials_never_show_the_password() -> None:
    assert PASSWORD not in repr(CREDENTIALS)
    assert PASSWORD not in CREDENTIALS.describe()
    assert PASSWORD not in repr(CREDENTIALS.secrets)


def test_dockerconfigjson_is_what_kubectl_create_secret_docker_registry_writes() -> None:
    entry = json.loads(dockerconfigjson(CREDENTIALS))["auths"]["team-registry:5000"]
    assert (entry["username"], entry["password"]) == ("bob", PASSWORD)
    assert base64.b64decode(entry["auth"]).decode() == f"bob:{PASSWORD}"


def test_secret_body_is_a_dockerconfigjson_secret() -> None:
    body = secret_body(SECRET_NAME, CREDENTIALS)
    assert (body["type"], body["metadata"]["name"]) == (
        "kubernetes.io/dockerconfigjson",
        SECRET_NAME,
    )
    stored = base64.b64decode(body["data"][".dockerconfigjson"]).decode()
    assert stored == dockerconfigjson(CREDENTIALS)
    assert body["data"][".dockerconfigjson"] in CREDENTIALS.secrets


def test_with_pull_secret_lists_the_secret_once_and_leaves_the_original() -> None:
    manifest = load_manifest(DEFAULT_MANIFEST)
    twice = with_pull_secret(with_pull_secret(manifest))
    pod_spec = twice.statefulset["spec"]["template"]["spec"]
    assert pod_spec["imagePullSecrets"] == [{"name": SECRET_NAME}]
    assert "imagePullSecrets" not in manifest.pod_spec
    assert twice.statefulset in twice.documents
    assert twice.service in twice.documents


def test_with_pulled_image_always_pulls_the_registry_image() -> None:
    manifest = with_pulled_image(load_manifest(DEFAULT_MANIFEST), "r:5000/stsconf/nginx:pull-1")
    containers = manifest.pod_spec["containers"]
    assert {(c["image"], c["imagePullPolicy"]) for c in containers} == {
        ("r:5000/stsconf/nginx:pull-1", "Always")
    }

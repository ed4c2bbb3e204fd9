"""Pulling the image under test from a private registry: the credentials (password from the
environment only), the docker-registry Secret made of them, and the StatefulSet that uses it."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from stsconf.access.namespaces import MANAGED_BY, SUITE
from stsconf.access.rest import REQUEST_TIMEOUT, Kube
from stsconf.access.secrecy import Hidden, mask, secret_forms
from stsconf.model.manifest import Manifest

DEFAULT_PASSWORD_ENV = "STSCONF_REGISTRY_PASSWORD"
SECRET_NAME = "stsconf-pull-secret"
SECRET_TYPE = "kubernetes.io/dockerconfigjson"
SECRET_KEY = ".dockerconfigjson"

Obj = dict[str, Any]


class PullSecretError(ValueError):
    """The registry options do not add up, or the Secret could not be created; the message
    never holds the password."""


@dataclass(frozen=True)
class RegistryCredentials:
    server: str  # as image references name it: host[:port]
    user: str
    password: str = field(repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "password", Hidden(self.password))

    @property
    def secrets(self) -> frozenset[str]:
        """Every form in which the password could show up: plain, as basic auth, and as the
        Secret's data."""
        encoded = Hidden(_b64(dockerconfigjson(self)))
        return secret_forms(self.user, self.password) | {encoded}

    def describe(self) -> str:
        return f"{self.user} at {self.server} (password from the environment)"


def credentials_from_options(
    server: str | None, user: str | None, password_env: str, environ: Mapping[str, str]
) -> RegistryCredentials | None:
    """The credentials the options ask for, or None when no registry option is given."""
    if not server and not user:
        return None
    if not server:
        raise PullSecretError("--registry-user needs --registry-server")
    if not user:
        raise PullSecretError("--registry-server needs --registry-user")
    password = environ.get(password_env, "")
    if not password:
        raise PullSecretError(
            f"--registry-server: put the password in the environment variable {password_env} "
            "(never on the command line); it is empty or not set"
        )
    return RegistryCredentials(server, user, password)


def dockerconfigjson(credentials: RegistryCredentials) -> str:
    """What `kubectl create secret docker-registry` stores under .dockerconfigjson."""
    basic = _b64(f"{credentials.user}:{credentials.password}")
    entry = {"username": credentials.user, "password": credentials.password, "auth": basic}
    return json.dumps({"auths": {credentials.server: entry}}, sort_keys=True)


def secret_body(name: str, credentials: RegistryCredentials) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "labels": {MANAGED_BY: SUITE}},
        "type": SECRET_TYPE,
        "data": {SECRET_KEY: _b64(dockerconfigjson(credentials))},
    }


def create_pull_secret(
    kube: Kube, namespace: str, credentials: RegistryCredentials, name: str = SECRET_NAME
) -> None:
    """Create the docker-registry Secret in `namespace`."""
    try:
        body = client.V1Secret.model_validate(secret_body(name, credentials))
        kube.core.create_namespaced_secret(namespace, body, _request_timeout=REQUEST_TIMEOUT)
    except ApiException as error:
        reason = mask(f"{error.status} {error.reason}: {error.body}", credentials.secrets)
        raise PullSecretError(
            f"could not create pull secret {name} in {namespace}: {reason}"
        ) from None


def with_pull_secret(manifest: Manifest, name: str = SECRET_NAME) -> Manifest:
    """A copy whose StatefulSet lists the Secret `name` in imagePullSecrets."""

    def add(pod_spec: Obj) -> None:
        secrets = pod_spec.setdefault("imagePullSecrets", [])
        if {"name": name} not in secrets:
            secrets.append({"name": name})

    return manifest.with_pod_spec(add)


def with_pulled_image(manifest: Manifest, image: str) -> Manifest:
    """A copy whose container under test runs `image` and pulls it on every start
    (imagePullPolicy Always), so that a copy cached on the node never stands in for it."""

    def pull(pod_spec: Obj) -> None:
        for container in pod_spec["containers"]:
            if container.get("name") == manifest.container:
                container["image"] = image
                container["imagePullPolicy"] = "Always"

    return manifest.with_pod_spec(pull)


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()

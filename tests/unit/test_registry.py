"""The test registry's files and names, without Docker."""

from __future__ import annotations

import io
import tarfile

import bcrypt
import pytest
import yaml

from stsconf.access import registry
from stsconf.access.pull_secret import RegistryCredentials
from stsconf.access.secrecy import SecretInCommandLine

PASSWORD = "registry-pw"


def test_htpasswd_holds_a_bcrypt_hash_of_the_password_not_the_password() -> None:
    user, hashed = registry.htpasswd({"stsconf": PASSWORD}).strip().split(":", 1)
    assert user == "stsconf"
    assert PASSWORD not in hashed
    assert bcrypt.checkpw(PASSWORD.encode(), hashed.encode())


def test_registry_config_serves_port_5000_behind_htpasswd() -> None:
    config = yaml.safe_load(registry.registry_config())
    assert config["http"]["addr"] == ":5000"
    assert config["auth"]["htpasswd"]["path"] == "/etc/distribution/htpasswd"
    assert config["storage"]["filesystem"]["rootdirectory"] == "/var/lib/registry"


def test_config_archive_holds_config_and_htpasswd_without_the_password() -> None:
    data = registry.config_archive("stsconf", PASSWORD)
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        names = archive.getnames()
    assert names == ["etc/distribution/config.yml", "etc/distribution/htpasswd"]
    assert PASSWORD.encode() not in data


@pytest.mark.parametrize(
    ("image", "repository"),
    [
        ("stsconf/nginx:1.22.1", "stsconf/nginx"),
        ("nginx:1.27", "nginx"),
        ("redis", "redis"),
        ("registry.example:5000/team/app:1", "team/app"),
        ("localhost/app@sha256:abc", "app"),
    ],
)
def test_image_repository_drops_registry_host_tag_and_digest(image: str, repository: str) -> None:
    assert registry.image_repository(image) == repository


def test_unique_tags_differ() -> None:
    assert registry.unique_tag() != registry.unique_tag()


def test_served_manifests_counts_successful_manifest_requests_only() -> None:
    log = "\n".join(
        [
            '172.18.0.3 - - [x] "HEAD /v2/stsconf/nginx/manifests/pull-1 HTTP/1.1" 401 156 "" "c"',
            '172.18.0.3 - - [x] "HEAD /v2/stsconf/nginx/manifests/pull-1 HTTP/1.1" 200 1 "" "c"',
            '172.18.0.3 - - [x] "GET /v2/stsconf/nginx/manifests/pull-1 HTTP/1.1" 200 9 "" "c"',
            '172.18.0.3 - - [x] "GET /v2/stsconf/nginx/manifests/pull-2 HTTP/1.1" 200 9 "" "c"',
        ]
    )
    assert registry.served_manifests(log, "stsconf/nginx", "pull-1") == 2


def test_docker_refuses_to_put_a_password_into_its_arguments() -> None:
    with pytest.raises(SecretInCommandLine):
        registry.docker(["login", "--password", PASSWORD, "host"], [PASSWORD])


def test_registries_and_their_credentials_never_show_the_password() -> None:
    running = registry.RunningRegistry("127.0.0.1:5000", "stsconf", PASSWORD)
    credentials = RegistryCredentials(registry.HOST_IN_CLUSTER, "stsconf", PASSWORD)
    private = registry.PrivateRegistry("i", "r", "t", credentials)
    wrong = private.wrong_credentials()
    assert wrong.password != PASSWORD
    for shown in (running, credentials, private, wrong, [running.password]):
        assert PASSWORD not in repr(shown)

"""A private registry with password authentication, for the registry tests.

distribution's registry runs in a Docker container named `stsconf-registry` on kind's Docker
network, so kind nodes reach it as stsconf-registry:5000 (plain HTTP, see kind_config); its
port is also published on 127.0.0.1 for `docker push` from this host (Docker allows plain
HTTP to 127.0.0.0/8). Passwords go to Docker on stdin only, never in arguments.
"""

from __future__ import annotations

import io
import os
import re
import secrets
import subprocess
import tarfile
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import bcrypt
import yaml

from stsconf.access import wait
from stsconf.access.cluster import first_line
from stsconf.access.pull_secret import RegistryCredentials
from stsconf.access.secrecy import Hidden, mask, refuse_secret_arguments

CONTAINER_NAME = "stsconf-registry"
PORT = 5000
HOST_IN_CLUSTER = f"{CONTAINER_NAME}:{PORT}"
KIND_NETWORK = "kind"
LABEL = "io.stsconf.registry"
PUBLIC_IMAGE = "registry:3"  # where there is a registry; --airgap uses the build's image
CONFIG_DIR = "etc/distribution"  # the image's CMD serves /etc/distribution/config.yml
REALM = "stsconf-registry"
STORAGE = "/var/lib/registry"
DOCKER_TIMEOUT = 300  # seconds, for one docker command (a push may take a while)
READY_TIMEOUT = 60  # seconds, for the registry to answer


class RegistryError(RuntimeError):
    """The test registry could not be started, filled or removed; never shows a password."""


@dataclass(frozen=True)
class RunningRegistry:
    host_address: str  # 127.0.0.1:<port>, for docker push from this host
    user: str
    password: str = field(repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "password", Hidden(self.password))


@dataclass(frozen=True)
class PrivateRegistry:
    """The test registry as the cluster sees it, holding the image under test."""

    image: str  # as the nodes pull it: stsconf-registry:5000/<repository>:<tag>
    repository: str  # <repository>, without host and tag
    tag: str  # a tag of this session, for an image of this session (see push_copy)
    credentials: RegistryCredentials  # the right ones

    def wrong_credentials(self) -> RegistryCredentials:
        return replace(self.credentials, password=secrets.token_urlsafe(24))


def htpasswd(users: Mapping[str, str]) -> str:
    """An htpasswd file with a bcrypt hash (the only kind distribution accepts) per user."""
    return "".join(
        f"{user}:{bcrypt.hashpw(password.encode(), bcrypt.gensalt()).decode()}\n"
        for user, password in users.items()
    )


def registry_config() -> str:
    """distribution's configuration: filesystem storage, port 5000, htpasswd authentication."""
    config = {
        "version": 0.1,
        "log": {"level": "info"},
        "storage": {"filesystem": {"rootdirectory": STORAGE}},
        "http": {"addr": f":{PORT}"},
        "auth": {"htpasswd": {"realm": REALM, "path": f"/{CONFIG_DIR}/htpasswd"}},
    }
    return yaml.safe_dump(config, sort_keys=False)


def config_archive(user: str, password: str) -> bytes:
    """A tar of /etc/distribution/{config.yml,htpasswd} for `docker cp -` (no file on disk)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, text in (
            ("config.yml", registry_config()),
            ("htpasswd", htpasswd({user: password})),
        ):
            data = text.encode()
            info = tarfile.TarInfo(f"{CONFIG_DIR}/{name}")
            info.size, info.mode = len(data), 0o644
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def image_repository(image: str) -> str:
    """The repository path of an image without registry host, tag or digest:
    stsconf/nginx:1.22.1 -> stsconf/nginx, host:5000/team/app:1 -> team/app."""
    name = image.split("@")[0]
    first, _, rest = name.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        name = rest
    path, _, last = name.rpartition("/")
    last = last.split(":")[0]
    return f"{path}/{last}" if path else last


def unique_tag() -> str:
    """A tag no node has seen, so that only a pull can bring the image."""
    return f"pull-{secrets.token_hex(4)}"


# Docker


def docker(
    args: Sequence[str],
    hidden: Iterable[str] = (),
    stdin: str | bytes | None = None,
    env: Mapping[str, str] | None = None,
) -> str:
    """Run `docker args`; `hidden` are secrets that must appear neither in the arguments nor
    in an error message. `stdin` is what the command reads (text or, for a tar, bytes)."""
    __tracebackhide__ = True  # pytest would print this frame's arguments: stdin, args
    hidden = list(hidden)
    argv = ["docker", *args]
    refuse_secret_arguments(argv, hidden)
    try:
        done = subprocess.run(
            argv,
            input=stdin.encode() if isinstance(stdin, str) else stdin,
            capture_output=True,
            timeout=DOCKER_TIMEOUT,
            env=dict(env) if env is not None else None,
            check=False,
        )
    except FileNotFoundError:
        raise RegistryError("docker not found; the registry tests need Docker") from None
    except subprocess.TimeoutExpired:
        raise RegistryError(f"`docker {args[0]}` took over {DOCKER_TIMEOUT}s") from None
    stdout, stderr = (out.decode(errors="replace") for out in (done.stdout, done.stderr))
    if done.returncode != 0:
        reason = first_line(stderr) or first_line(stdout)
        raise RegistryError(mask(f"`docker {' '.join(args[:2])} ...` failed: {reason}", hidden))
    return stdout


def container_label(name: str) -> str | None:
    """The stsconf label of container `name`, "" when unlabelled, None when there is none."""
    try:
        return docker(["inspect", "--format", f'{{{{index .Config.Labels "{LABEL}"}}}}', name])
    except RegistryError:
        return None


def remove_registry() -> None:
    """Remove the registry container if there is one, refusing to touch one not ours."""
    label = container_label(CONTAINER_NAME)
    if label is None:
        return
    if label.strip() != "true":
        raise RegistryError(
            f"a container named {CONTAINER_NAME} exists that stsconf did not start; "
            "remove or rename it"
        )
    docker(["rm", "--force", "--volumes", CONTAINER_NAME])


def ensure_local_image(image: str, may_pull: bool) -> None:
    """Make sure Docker has `image`, pulling it only where pulling is allowed."""
    try:
        docker(["image", "inspect", image])
    except RegistryError:
        if not may_pull:
            raise RegistryError(f"image {image} is not in Docker (run the airgap build)") from None
        docker(["pull", image])


def start_registry(image: str, user: str, password: str) -> RunningRegistry:
    """Start the registry container (replacing an earlier one of ours) and wait until it
    answers, demanding authentication."""
    remove_registry()
    docker(
        [
            "create",
            "--name", CONTAINER_NAME,
            "--label", f"{LABEL}=true",
            "--network", KIND_NETWORK,
            "--publish", f"127.0.0.1::{PORT}",
            "--env", "OTEL_TRACES_EXPORTER=none",  # no tracing collector to send to
            image,
        ]
    )  # fmt: skip
    try:
        docker(["cp", "-", f"{CONTAINER_NAME}:/"], stdin=config_archive(user, password))
        return _serve(user, password)
    except BaseException:
        remove_registry()
        raise


def _serve(user: str, password: str) -> RunningRegistry:
    docker(["start", CONTAINER_NAME])
    published = docker(["port", CONTAINER_NAME, f"{PORT}/tcp"]).split()[0]
    wait_until_serving(published)
    return RunningRegistry(published, user, password)


def v2_status(host_address: str) -> str:
    """The HTTP status of GET /v2/ without credentials, or why there was none."""
    try:
        with urllib.request.urlopen(f"http://{host_address}/v2/", timeout=5) as response:
            return str(response.status)
    except urllib.error.HTTPError as error:
        return str(error.code)
    except (urllib.error.URLError, OSError) as error:
        return f"no answer ({error})"


def wait_until_serving(host_address: str) -> None:
    wait.retry_until(
        lambda: v2_status(host_address),
        lambda status: status == "401",
        expected=f"the registry at {host_address} answering GET /v2/ with 401 (login required)",
        seen=lambda status: status,
        timeout=READY_TIMEOUT,
        diagnose=_container_logs,
    )


def served_manifests(log: str, repository: str, tag: str) -> int:
    """How often the registry's access log shows the manifest of repository:tag served
    (HTTP 200, which it only answers to a logged-in client)."""
    request = re.compile(
        rf'"(?:GET|HEAD) /v2/{re.escape(repository)}/manifests/{re.escape(tag)} HTTP/[\d.]+" 200 '
    )
    return len(request.findall(log))


def registry_log(tail: int | None = None) -> str:
    """What the registry wrote (it logs to stderr), or why it cannot be read."""
    argv = ["docker", "logs", *(["--tail", str(tail)] if tail else []), CONTAINER_NAME]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=DOCKER_TIMEOUT, check=False)
    return done.stdout + done.stderr


def _container_logs() -> str:
    return "registry log:\n" + registry_log(tail=20)


def commit_copy(image: str, target: str) -> None:
    """Make `target` a copy of local `image` with a label naming it: an image (digest) of
    its own that no node can have cached."""
    container = docker(["create", image]).strip()
    try:
        docker(["commit", "--change", f"LABEL {LABEL}.copy={target}", container, target])
    finally:
        docker(["rm", container])


def push_copy(registry: RunningRegistry, image: str, repository_tag: str) -> None:
    """Push a fresh copy of local `image` (see commit_copy) as `repository_tag`, logged in
    with a throw-away Docker client config (the user's own stays untouched), password on
    stdin; then log out and remove the copy."""
    target = f"{registry.host_address}/{repository_tag}"
    hidden = [registry.password]
    commit_copy(image, target)
    try:
        with tempfile.TemporaryDirectory(prefix="stsconf-docker-") as client_config:
            env = {**os.environ, "DOCKER_CONFIG": client_config}
            login = ["login", "--username", registry.user, "--password-stdin"]
            docker([*login, registry.host_address], hidden, stdin=registry.password, env=env)
            try:
                docker(["push", target], hidden, env=env)
            finally:
                docker(["logout", registry.host_address], hidden, env=env)
    finally:
        docker(["rmi", target])

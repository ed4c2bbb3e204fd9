"""Making sure a Docker engine runs that can start kind's privileged node containers."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

from tenacity import RetryError, Retrying, retry_if_result, stop_after_delay, wait_fixed

from . import apt
from .errors import AirgapError
from .run import require_root, run, succeeds, tail

WRAPPER_SOURCE = Path(__file__).resolve().parent / "capfilter-runc"
WRAPPER = Path("/usr/local/libexec/stsconf-capfilter-runc")
WRAPPER_RUNTIME = "stsconf-capfilter"
DAEMON_JSON = Path("/etc/docker/daemon.json")
DOCKER_SOCKET = Path("/var/run/docker.sock")
START_TIMEOUT_S = 60


def missing_capabilities() -> list[int]:
    """Capability numbers the kernel knows but this host's bounding set lacks."""
    last = int(Path("/proc/sys/kernel/cap_last_cap").read_text())
    status = Path("/proc/self/status").read_text()
    line = next(line for line in status.splitlines() if line.startswith("CapBnd:"))
    bounding = int(line.split()[1], 16)
    return [bit for bit in range(last + 1) if not bounding >> bit & 1]


def docker_ready() -> bool:
    return succeeds(["docker", "info"])


def default_runtime() -> str:
    return run(["docker", "info", "--format", "{{.DefaultRuntime}}"]).strip()


def ensure_engine(log_dir: Path) -> str:
    """Return a one-line account of the engine; install and start it if needed."""
    missing = missing_capabilities()
    ensure_modules_dir()
    if docker_ready():
        check_running_engine(missing)
        return "Docker engine already running"
    check_socket_access()
    require_root(
        "No Docker engine is running, and installing or starting one",
        otherwise=", or start Docker yourself (for example `sudo systemctl start docker`)",
    )
    if not shutil.which("dockerd"):
        install_docker(log_dir)
    if missing:
        install_capability_filter()
    start_dockerd(log_dir / "dockerd.log")
    note = f"; capability filter for missing capabilities {missing}" if missing else ""
    return f"Docker engine started{note}"


def check_socket_access() -> None:
    """A daemon that runs but refuses this user is not one to start again."""
    if DOCKER_SOCKET.exists() and not os.access(DOCKER_SOCKET, os.R_OK | os.W_OK):
        raise AirgapError(
            f"Docker is running but this user may not use it ({DOCKER_SOCKET}): add the user "
            f"to the docker group (`sudo usermod -aG docker $USER`, then log in again) or run "
            f"this command as root."
        )


def ensure_modules_dir() -> None:
    """kind bind-mounts the host's /lib/modules into its nodes; some hosts have none."""
    modules = Path("/lib/modules")
    if modules.is_dir():
        return
    if os.geteuid() != 0:
        raise AirgapError(
            "/lib/modules does not exist and kind nodes bind-mount it: "
            "create it (`sudo mkdir /lib/modules`) and rerun."
        )
    modules.mkdir(parents=True)


def check_running_engine(missing: list[int]) -> None:
    if missing and default_runtime() != WRAPPER_RUNTIME:
        raise AirgapError(
            f"Docker is running, but this host's capability bounding set lacks capabilities "
            f"{missing}, so privileged containers (kind nodes) will fail. Stop the Docker "
            f"daemon and rerun `python -m airgap build`: it restarts Docker with a runtime "
            f"wrapper that drops those capabilities."
        )


def install_docker(log_dir: Path) -> None:
    apt.install(["docker.io"], log_dir / "apt.log")


def install_capability_filter() -> None:
    WRAPPER.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(WRAPPER_SOURCE, WRAPPER)
    WRAPPER.chmod(0o755)
    config = json.loads(DAEMON_JSON.read_text()) if DAEMON_JSON.exists() else {}
    config.setdefault("runtimes", {})[WRAPPER_RUNTIME] = {"path": str(WRAPPER)}
    config["default-runtime"] = WRAPPER_RUNTIME
    DAEMON_JSON.parent.mkdir(parents=True, exist_ok=True)
    DAEMON_JSON.write_text(json.dumps(config, indent=2) + "\n")


def start_dockerd(log: Path) -> None:
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        daemon = subprocess.Popen(
            ["dockerd"],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    waiting = Retrying(
        stop=stop_after_delay(START_TIMEOUT_S),
        wait=wait_fixed(0.5),
        retry=retry_if_result(lambda ready: not ready and daemon.poll() is None),
    )
    try:
        ready = waiting(docker_ready)
    except RetryError:
        ready = False
    if not ready:
        state = "still starting" if daemon.poll() is None else f"exited with {daemon.returncode}"
        raise AirgapError(
            f"dockerd did not become ready within {START_TIMEOUT_S}s (expected `docker info` "
            f"to answer; dockerd {state}). Its log ({log}) ends:\n"
            f"{tail(log.read_text(errors='replace'))}"
        )

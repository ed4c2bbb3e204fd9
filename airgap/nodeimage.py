"""The kind node image: kind's base-image contract on a Debian rootfs, images preloaded.

Follows what kind's own images/base and pkg/build/nodeimage define: systemd as
/sbin/init behind kind's entrypoint, containerd with kind's configuration,
kubeadm/kubelet/kubectl in /usr/bin, /kind/version, /kind/manifests, and every
image kubeadm asks for already in containerd's k8s.io namespace.
"""

from __future__ import annotations

import shutil
import string
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tenacity import Retrying, retry_if_exception_type, stop_after_delay, wait_fixed

from .cache import digest
from .config import FILES, IMAGE_PREFIX
from .errors import AirgapError
from .images import KEY_LABEL, image_label
from .run import run

CONTAINERD_TIMEOUT_S = 60
ENTRYPOINT = '["/usr/local/bin/entrypoint", "/sbin/init"]'

# restrict_oom_score_adj: on hosts without CAP_SYS_RESOURCE, systemd cannot lower
# containerd's oom_score_adj, and runc then fails to give pods a lower one than
# containerd's ("can't get final child's PID from pipe"). Clamping to containerd's
# own value changes nothing where containerd does run at -999.
STAGE_DOCKERFILE = """\
FROM {rootfs_image}
COPY kind-base/ /
COPY node/ /
RUN chmod 0755 /usr/local/bin/* /kind/bin/* \\
 && ln -sf /usr/bin/containerd /usr/local/bin/containerd \\
 && mkdir -p /opt/cni/bin && ln -sf /usr/lib/cni/* /opt/cni/bin/ \\
 && find /lib/systemd/system/sysinit.target.wants/ -name systemd-tmpfiles-setup.service -delete \\
 && rm -f /lib/systemd/system/multi-user.target.wants/* /etc/systemd/system/*.wants/* \\
    /lib/systemd/system/local-fs.target.wants/* /lib/systemd/system/sockets.target.wants/*udev* \\
    /lib/systemd/system/sockets.target.wants/*initctl* /lib/systemd/system/basic.target.wants/* \\
 && echo "ReadKMsg=no" >> /etc/systemd/journald.conf \\
 && ln -sf /lib/systemd/systemd /sbin/init \\
 && systemctl enable kubelet.service containerd.service undo-mount-hacks.service \\
 && systemctl mask systemd-binfmt.service \\
 && mkdir -p /etc/kubernetes/manifests \\
 && sed -i -e 's|^\\( *sandbox_image\\) = .*|\\1 = "{pause_image}"|' \\
    -e 's|^\\( *restrict_oom_score_adj\\) = .*|\\1 = true|' /etc/containerd/config.toml \\
 && ctr oci spec \\
    | jq '.hooks.createContainer += [{{"path": "/kind/bin/mount-product-files.sh"}}]' \\
    | jq 'del(.process.rlimits)' \\
    > /etc/containerd/cri-base.json
ENV container=docker
STOPSIGNAL SIGRTMIN+3
ENTRYPOINT {entrypoint}
"""


@dataclass(frozen=True)
class NodeInputs:
    """Everything the node image is made of, as plain paths and names."""

    kubernetes_version: str
    rootfs: Path
    kind_base_files: Path  # images/base/files in the kind module
    programs: dict[str, Path]  # kubeadm, kubelet, kubectl, crictl
    images: list[str]  # tags to preload into containerd
    pause_image: str
    network_image: str  # podnet: the pod network across nodes (files/default-cni.yaml.in)
    volumes_image: str  # nodevolumes: the default StorageClass (files/default-storage.yaml.in)


def node_tag(version: str) -> str:
    return f"{IMAGE_PREFIX}/kind-node:{version}"


def build_node_image(inputs: NodeInputs, log: Path) -> str:
    tag = node_tag(inputs.kubernetes_version)
    key = digest(
        STAGE_DOCKERFILE,
        Path(__file__),
        repr(inputs),
        *inputs.programs.values(),
        FILES,
        *image_ids(inputs.images),
    )
    if image_label(tag, KEY_LABEL) == key:
        return tag
    rootfs_image = import_rootfs(inputs.rootfs, log)
    stage = build_stage(inputs, rootfs_image, key, log)
    preload_images(stage, inputs.images, tag, key, log)
    return tag


def image_ids(tags: list[str]) -> list[str]:
    return [run(["docker", "image", "inspect", "--format", "{{.Id}}", tag]).strip() for tag in tags]


def import_rootfs(root: Path, log: Path) -> str:
    tag = f"{IMAGE_PREFIX}/node-rootfs:{root.parent.name.rsplit('-', 1)[-1]}"
    if image_label(tag, KEY_LABEL) is None:
        with subprocess.Popen(["tar", "-C", str(root), "-c", "."], stdout=subprocess.PIPE) as tar:
            run(["docker", "import", "-", tag], stdin=tar.stdout, log=log)
    return tag


def build_stage(inputs: NodeInputs, rootfs_image: str, key: str, log: Path) -> str:
    tag = f"{IMAGE_PREFIX}/kind-node-stage:{inputs.kubernetes_version}"
    with tempfile.TemporaryDirectory(prefix="stsconf-node-") as tmp:
        context = Path(tmp)
        shutil.copytree(inputs.kind_base_files, context / "kind-base")
        fill_node_files(context / "node", inputs)
        (context / "Dockerfile").write_text(
            STAGE_DOCKERFILE.format(
                rootfs_image=rootfs_image, pause_image=inputs.pause_image, entrypoint=ENTRYPOINT
            )
        )
        run(["docker", "build", "-t", tag, "--label", f"{KEY_LABEL}={key}", context], log=log)
    return tag


def fill_node_files(node: Path, inputs: NodeInputs) -> None:
    places = {
        "kubeadm": "usr/bin",
        "kubelet": "usr/bin",
        "kubectl": "usr/bin",
        "crictl": "usr/local/bin",
    }
    for name, program in inputs.programs.items():
        target = node / places[name] / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(program, target)
        target.chmod(0o755)
    (node / "kind/manifests").mkdir(parents=True)
    (node / "kind/version").write_text(inputs.kubernetes_version + "\n")
    network = string.Template((FILES / "default-cni.yaml.in").read_text())
    (node / "kind/manifests/default-cni.yaml").write_text(
        network.substitute(podnet_image=inputs.network_image)
    )
    storage = string.Template((FILES / "default-storage.yaml.in").read_text())
    (node / "kind/manifests/default-storage.yaml").write_text(
        storage.substitute(volumes_image=inputs.volumes_image)
    )
    (node / "etc/cni/net.d").mkdir(parents=True)  # podnet writes the node's configuration


def preload_images(stage: str, images: list[str], tag: str, key: str, log: Path) -> None:
    """Import images into containerd inside a stage container, then commit it as the node image."""
    # --init reaps containerd once stopped, so "no containerd process" can be waited for.
    container = run(
        ["docker", "run", "-d", "--init", "--privileged", "--entrypoint=sleep", stage, "infinity"]
    ).strip()
    try:
        exec_in(container, "sh", "-c", "containerd >/var/log/containerd-build.log 2>&1 &")
        wait_for_containerd(container)
        with subprocess.Popen(["docker", "save", *images], stdout=subprocess.PIPE) as save:
            run(
                [
                    "docker",
                    "exec",
                    "-i",
                    container,
                    "ctr",
                    "--namespace=k8s.io",
                    "images",
                    "import",
                    "--label=io.cri-containerd.pinned=pinned",
                    "--all-platforms",
                    "--no-unpack",
                    "--digests",
                    "-",
                ],
                stdin=save.stdout,
                log=log,
            )
        check_preloaded(container, images)
        stop_containerd(container)
        run(
            [
                "docker",
                "commit",
                "--change",
                f"ENTRYPOINT {ENTRYPOINT}",
                "--change",
                "CMD []",
                "--change",
                f"LABEL {KEY_LABEL}={key}",
                container,
                tag,
            ],
            log=log,
        )
    finally:
        subprocess.run(["docker", "rm", "-f", container], capture_output=True)


def exec_in(container: str, *argv: str) -> str:
    return run(["docker", "exec", container, *argv])


def wait_for_containerd(container: str) -> None:
    until_succeeds(exec_in, container, "ctr", "version")


def stop_containerd(container: str) -> None:
    exec_in(container, "pkill", "-x", "containerd")
    until_succeeds(exec_in, container, "sh", "-c", "! pgrep -x containerd")


def until_succeeds(call: Callable[..., object], *args: str) -> None:
    waiting = Retrying(
        stop=stop_after_delay(CONTAINERD_TIMEOUT_S),
        wait=wait_fixed(0.2),
        retry=retry_if_exception_type(AirgapError),
        reraise=True,
    )
    waiting(call, *args)


def check_preloaded(container: str, images: list[str]) -> None:
    present = exec_in(container, "ctr", "--namespace=k8s.io", "images", "list", "-q").split()
    missing = [image for image in images if not any(is_same_image(image, name) for name in present)]
    if missing:
        raise AirgapError(f"images missing from the node's containerd after import: {missing}")


def is_same_image(short: str, full: str) -> bool:
    """containerd lists names fully qualified; a short reference names the same image."""
    return full == short or full.endswith("/" + short)

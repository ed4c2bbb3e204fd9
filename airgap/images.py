"""Container images built FROM scratch with docker build: one small tree per program."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from . import minimalfs
from .cache import digest
from .config import FILES, IMAGE_PREFIX
from .run import run

KEY_LABEL = "stsconf.inputs"
XTABLES = "/usr/lib/x86_64-linux-gnu/xtables"  # iptables' extension modules
PATH_ENV = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
IPTABLES_NAMES = (
    "iptables",
    "iptables-save",
    "iptables-restore",
    "ip6tables",
    "ip6tables-save",
    "ip6tables-restore",
)
NGINX_DIRS = (
    "var/lib/nginx/body",
    "var/lib/nginx/proxy",
    "var/lib/nginx/fastcgi",
    "var/lib/nginx/uwsgi",
    "var/lib/nginx/scgi",
    "var/log/nginx",
    "usr/share/nginx/html",
)


@dataclass(frozen=True)
class ImageSpec:
    """What goes into one image: a tree filled by `fill`, described by `inputs` for caching."""

    tag: str
    fill: Callable[[Path], None]
    inputs: tuple[str | Path, ...]
    entrypoint: tuple[str, ...] = ()
    extra: tuple[str, ...] = field(default=())  # further Dockerfile lines


def dockerfile(spec: ImageSpec) -> str:
    lines = ["FROM scratch", "COPY rootfs/ /", f"ENV PATH={PATH_ENV}"]
    if spec.entrypoint:
        lines.append("ENTRYPOINT " + json_list(spec.entrypoint))
    return "\n".join([*lines, *spec.extra]) + "\n"


def json_list(items: tuple[str, ...]) -> str:
    return "[" + ", ".join(f'"{item}"' for item in items) + "]"


def build(spec: ImageSpec, log: Path) -> str:
    """Build spec's image unless one with the same inputs is already tagged; return its tag."""
    key = digest(dockerfile(spec), Path(__file__), Path(minimalfs.__file__), *spec.inputs)
    if image_label(spec.tag, KEY_LABEL) == key:
        return spec.tag
    with tempfile.TemporaryDirectory(prefix="stsconf-image-") as context:
        tree = Path(context) / "rootfs"
        tree.mkdir()
        spec.fill(tree)
        (Path(context) / "Dockerfile").write_text(dockerfile(spec))
        run(["docker", "build", "--label", f"{KEY_LABEL}={key}", "-t", spec.tag, context], log=log)
    return spec.tag


def image_exists(tag: str) -> bool:
    return bool(tag) and image_label(tag, KEY_LABEL) is not None


def image_label(tag: str, label: str) -> str | None:
    done = subprocess.run(
        [
            "docker",
            "image",
            "inspect",
            "--format",
            f'{{{{ index .Config.Labels "{label}" }}}}',
            tag,
        ],
        capture_output=True,
        text=True,
    )
    return done.stdout.strip() if done.returncode == 0 else None


def install(tree: Path, source: Path, path: str, mode: int = 0o755) -> None:
    target = tree / path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    target.chmod(mode)


def static_program_image(
    tag: str, binary: Path, path: str, entrypoint: tuple[str, ...] = ()
) -> ImageSpec:
    """An image holding one static program at `path`, with users and /tmp."""

    def fill(tree: Path) -> None:
        minimalfs.skeleton(tree)
        install(tree, binary, path)

    return ImageSpec(tag, fill, (binary, path), entrypoint)


def pause_image(tag: str, binary: Path) -> ImageSpec:
    return ImageSpec(tag, lambda tree: install(tree, binary, "/pause"), (binary,), ("/pause",))


def kube_proxy_image(tag: str, binary: Path, donor: Path) -> ImageSpec:
    """kube-proxy with both iptables backends; a wrapper picks the one the node uses."""

    def fill(tree: Path) -> None:
        minimalfs.skeleton(tree)
        minimalfs.busybox(donor, tree)
        minimalfs.copy_programs(
            donor,
            tree,
            [
                "/usr/sbin/xtables-legacy-multi",
                "/usr/sbin/xtables-nft-multi",
                "/usr/sbin/conntrack",
            ],
        )
        minimalfs.copy_path(donor, tree, XTABLES)
        # the extensions' own libraries too: without libm, the `statistic` match (a Service
        # with two endpoints or more) fails and kube-proxy syncs no rules at all
        for library in extension_libraries(donor):
            minimalfs.copy_path(donor, tree, library)
        for backend in ("legacy", "nft"):
            for name in IPTABLES_NAMES:
                backend_name = name.replace("tables", f"tables-{backend}", 1)
                (tree / "usr/sbin" / backend_name).symlink_to(f"xtables-{backend}-multi")
        install(tree, FILES / "iptables-wrapper", "/usr/sbin/iptables-wrapper")
        for name in IPTABLES_NAMES:
            (tree / "usr/sbin" / name).symlink_to("iptables-wrapper")
        install(tree, binary, "/usr/local/bin/kube-proxy")

    return ImageSpec(tag, fill, (binary, FILES / "iptables-wrapper", donor.parent.name))


def extension_libraries(donor: Path) -> list[str]:
    """The libraries iptables' extension modules load, as the donor's loader resolves them."""
    modules = sorted(f"{XTABLES}/{path.name}" for path in (donor / XTABLES[1:]).glob("*.so"))
    out = run(["chroot", donor, "ldd", *modules], env={"LC_ALL": "C"})
    return sorted(set(re.findall(r"(/\S+) \(0x", out)))


def probe_image(donor: Path) -> ImageSpec:
    """busybox: sh, hostname, nslookup, wget, cat; also the storage helper's image."""
    version = busybox_version(donor)

    def fill(tree: Path) -> None:
        minimalfs.skeleton(tree)
        minimalfs.busybox(donor, tree)

    return ImageSpec(
        f"{IMAGE_PREFIX}/probe:{version}", fill, (donor.parent.name,), extra=('CMD ["sh"]',)
    )


def nginx_image(donor: Path) -> ImageSpec:
    """Debian's nginx serving /usr/share/nginx/html on port 80, with busybox for exec."""
    version = debian_version(donor, "nginx-light")

    def fill(tree: Path) -> None:
        minimalfs.skeleton(tree)
        minimalfs.busybox(donor, tree)
        minimalfs.copy_programs(donor, tree, ["/usr/sbin/nginx"])
        minimalfs.copy_path(donor, tree, "/etc/nginx/mime.types")
        install(tree, FILES / "nginx.conf", "/etc/nginx/nginx.conf", 0o644)
        for directory in NGINX_DIRS:
            (tree / directory).mkdir(parents=True, exist_ok=True)
        (tree / "usr/share/nginx/html/index.html").write_text("stsconf nginx\n")

    tag = f"{IMAGE_PREFIX}/nginx:{version}"
    return ImageSpec(
        tag,
        fill,
        (FILES / "nginx.conf", donor.parent.name, version),
        ("nginx", "-g", "daemon off;"),
        extra=("STOPSIGNAL SIGQUIT", "EXPOSE 80"),
    )


def redis_image(donor: Path) -> ImageSpec:
    """Debian's Redis server and redis-cli, with busybox for exec."""
    version = debian_version(donor, "redis-server")

    def fill(tree: Path) -> None:
        minimalfs.skeleton(tree)
        minimalfs.busybox(donor, tree)
        minimalfs.copy_programs(donor, tree, ["/usr/bin/redis-server", "/usr/bin/redis-cli"])
        (tree / "data").mkdir()

    # No entrypoint, as in the public image's usage: `command: [redis-server, ...]` works on both.
    return ImageSpec(
        f"{IMAGE_PREFIX}/redis:{version}",
        fill,
        (donor.parent.name, version),
        extra=("WORKDIR /data", 'CMD ["redis-server"]', "EXPOSE 6379"),
    )


def etcd_image(binary: Path, donor: Path, version: str) -> ImageSpec:
    """etcd for the example of a quorum (manifests/examples/etcd.yaml), with busybox: sh, wget
    and base64 for its data probe, httpd to serve what a member reads."""

    def fill(tree: Path) -> None:
        minimalfs.skeleton(tree)
        minimalfs.busybox(donor, tree)
        install(tree, binary, "/usr/local/bin/etcd")
        (tree / "var/lib/etcd").mkdir(parents=True)

    return ImageSpec(
        f"{IMAGE_PREFIX}/etcd:{version.lstrip('v')}",
        fill,
        (binary, donor.parent.name),
        extra=("EXPOSE 2379 2380",),
    )


def registry_image(binary: Path, version: str) -> ImageSpec:
    """distribution's registry; its configuration (htpasswd auth) is mounted at run time."""

    def fill(tree: Path) -> None:
        minimalfs.skeleton(tree)
        install(tree, binary, "/usr/local/bin/registry")
        (tree / "var/lib/registry").mkdir(parents=True)

    return ImageSpec(
        f"{IMAGE_PREFIX}/registry:{version.lstrip('v')}",
        fill,
        (binary,),
        ("registry",),
        extra=('CMD ["serve", "/etc/distribution/config.yml"]', "EXPOSE 5000"),
    )


def debian_version(donor: Path, package: str) -> str:
    """The upstream part of a package's version in the donor: '5:7.0.15-1~deb12u10' -> '7.0.15'."""
    full = run(["chroot", donor, "dpkg-query", "-W", "-f", "${Version}", package])
    return full.split(":", 1)[-1].split("-")[0]


def busybox_version(donor: Path) -> str:
    banner = subprocess.run(
        ["chroot", str(donor), "/bin/busybox"], capture_output=True, text=True
    ).stdout.split()
    return banner[1].lstrip("v") if len(banner) > 1 else "latest"

"""Compiling the cluster's programs from the Go module proxy; go.mod/go.sum pin every input."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from .cache import digest, fresh_output
from .config import GO_MODULES, Versions, module
from .errors import AirgapError
from .progress import GoProgress, StatusLine, duration, say
from .run import run, run_watched

MIN_GO = (1, 24)
KUBERNETES_COMMANDS = (
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kube-proxy",
    "kubeadm",
    "kubelet",
    "kubectl",
)


@dataclass(frozen=True)
class GoBuild:
    """One `go build` in one of our wrapper modules: packages and the file each becomes."""

    module: str
    outputs: dict[str, str]  # output file name -> package
    tags: tuple[str, ...] = ()
    ldflags: tuple[str, ...] = field(default=("-s", "-w"))
    # further `go build` flags (mutants: -mod=vendor, -overlay); not in the repr that keys the
    # cache, so builds without them keep the outputs they had
    flags: tuple[str, ...] = field(default=(), repr=False)


def minor_builds(v: Versions) -> list[GoBuild]:
    """The programs of one Kubernetes minor: its commands, and the etcd and CoreDNS its
    kubeadm asks for."""
    kube = {name: f"k8s.io/kubernetes/cmd/{name}" for name in KUBERNETES_COMMANDS}
    return [
        GoBuild(
            module("kubernetes", v.minor),
            kube,
            tags=("selinux", "notest"),
            ldflags=("-s", "-w", *kubernetes_version_flags(v.kubernetes)),
        ),
        GoBuild(module("etcd", v.minor), {"etcd": "go.etcd.io/etcd/server/v3"}),
        # the wrapper module's own main.go: CoreDNS with the plugins a kind Corefile uses
        GoBuild(module("coredns", v.minor), {"coredns": "."}),
    ]


def shared_builds() -> list[GoBuild]:
    """The programs every minor's cluster uses alike."""
    return [
        # the wrapper module's own main.go: the registry with filesystem storage and htpasswd
        GoBuild("registry", {"registry": "."}),
        # the node agents: the pod network and the default StorageClass's volumes
        GoBuild(
            "nodeagents",
            {
                "podnet": "stsconf.local/airgap/nodeagents/podnet",
                "nodevolumes": "stsconf.local/airgap/nodeagents/nodevolumes",
            },
        ),
        GoBuild(
            "tools", {"kind": "sigs.k8s.io/kind", "crictl": "sigs.k8s.io/cri-tools/cmd/crictl"}
        ),
    ]


def kubernetes_version_flags(version: str) -> list[str]:
    """-X flags that make every component report `version` (kubeadm checks them)."""
    major, minor = re.match(r"v(\d+)\.(\d+)\.", version).groups()  # type: ignore[union-attr]
    values = {
        "gitVersion": version,
        "gitMajor": major,
        "gitMinor": minor,
        "gitTreeState": "clean",
        "gitCommit": "0" * 40,
        "buildDate": "1970-01-01T00:00:00Z",
    }
    return [
        f"-X=k8s.io/{pkg}.{key}={value}"
        for pkg in ("client-go/pkg/version", "component-base/version")
        for key, value in values.items()
    ]


def go_version() -> str:
    out = run(["go", "env", "GOVERSION"]).strip()
    found = re.match(r"go(\d+)\.(\d+)", out)
    if not found or tuple(map(int, found.groups())) < MIN_GO:
        raise AirgapError(
            f"Go {MIN_GO[0]}.{MIN_GO[1]} or newer is needed; found {out!r}. "
            f"Install a newer Go and rerun."
        )
    return out


def build_all(
    bin_dir: Path, all_builds: list[GoBuild], log: Path, label: str = ""
) -> dict[str, Path]:
    """Build every program into bin_dir (skipped when its inputs are unchanged)."""
    toolchain = go_version()
    paths: dict[str, Path] = {}
    for number, build in enumerate(all_builds, 1):
        step = f"{label}{number}/{len(all_builds)}"
        paths.update(build_one(build, bin_dir, toolchain, log, step))
    return paths


def build_one(
    build: GoBuild, bin_dir: Path, toolchain: str, log: Path, step: str = ""
) -> dict[str, Path]:
    module = GO_MODULES / build.module
    sources = own_sources(module)
    key = digest(toolchain, repr(build), module / "go.mod", module / "go.sum", *sources)
    out = bin_dir / f"{build.module}-{key}"
    if out.exists():
        say(f"[airgap] Go programs {step}: {build.module}, cached")
    else:
        with fresh_output(out) as scratch:
            go_build(build, module, scratch, log, step)
    return {name: out / name for name in build.outputs}


def own_sources(module: Path) -> list[Path]:
    """The Go files of a module of our own (the node agents; the CoreDNS and registry
    main.go), beyond the tools.go that pins others'."""
    return sorted(path for path in module.rglob("*.go") if path.name != "tools.go")


GO_ENV = {"CGO_ENABLED": "0", "GOTOOLCHAIN": "local", "GOFLAGS": "-mod=readonly"}


def go_build(build: GoBuild, module: Path, out: Path, log: Path, step: str = "") -> None:
    flags = ["-trimpath", *build.flags, "-ldflags", " ".join(build.ldflags)]
    if build.tags:
        flags += ["-tags", ",".join(build.tags)]
    packages = list(build.outputs.values())
    started = time.monotonic()
    say(f"[airgap] Go programs {step}: {build.module}: listing its packages "
        "(the first time, this downloads their modules)")  # fmt: skip
    wanted = go_dependencies(module, build.tags, packages)
    say(f"[airgap] Go programs {step}: {build.module}: {len(wanted)} packages, modules ready "
        f"after {duration(time.monotonic() - started)}")  # fmt: skip
    progress = GoProgress(step, build.module, wanted, StatusLine())

    def go_build_v(*args: str | Path) -> None:
        argv = ["go", "build", "-v", *flags, *args]
        run_watched(argv, lambda line: progress.feed([line]), cwd=module, env=GO_ENV, log=log)

    named_as_packages = all(pkg.endswith("/" + name) for name, pkg in build.outputs.items())
    if len(build.outputs) > 1 and named_as_packages:  # one go build: packages compile once
        go_build_v("-o", f"{out}/", *packages)
    else:
        for name, pkg in build.outputs.items():
            go_build_v("-o", out / name, pkg)
    progress.close()


def go_dependencies(module: Path, tags: tuple[str, ...], packages: list[str]) -> frozenset[str]:
    """Every package (the standard library's too) that building `packages` compiles; not
    `unsafe`, which the compiler provides (go build -v never names it)."""
    tag_flags = ["-tags", ",".join(tags)] if tags else []
    out = run(["go", "list", "-deps", *tag_flags, *packages], cwd=module, env=GO_ENV)
    return frozenset(out.split()) - {"unsafe"}


def module_dir(module: str, path: str) -> Path:
    """Where the Go module cache holds `path`, as pinned by our wrapper module."""
    out = run(
        ["go", "list", "-m", "-f", "{{.Dir}}", path],
        cwd=GO_MODULES / module,
        env={"GOTOOLCHAIN": "local", "GOFLAGS": "-mod=readonly"},
    ).strip()
    if not out:
        run(["go", "mod", "download", path], cwd=GO_MODULES / module)
        return module_dir(module, path)
    return Path(out)


def build_pause(bin_dir: Path, versions: Versions, log: Path) -> Path:
    """Compile Kubernetes' pause program (C, static), the pod sandbox's only process."""
    kubernetes = module_dir(module("kubernetes", versions.minor), "k8s.io/kubernetes")
    source = kubernetes / "build/pause/linux/pause.c"
    out = bin_dir / f"pause-{digest(source, versions.kubernetes)}"
    if not out.exists():
        if not shutil.which("gcc"):
            raise AirgapError(
                "gcc is needed to compile the pod sandbox program: apt-get install gcc libc6-dev"
            )
        with fresh_output(out) as scratch:
            run(
                [
                    "gcc",
                    "-Os",
                    "-Wall",
                    "-static",
                    f"-DVERSION={versions.kubernetes}",
                    "-o",
                    scratch / "pause",
                    source,
                ],
                log=log,
            )
    return out / "pause"


def kubeadm_images(kubeadm: Path, versions: Versions) -> list[str]:
    """The images kubeadm will ask containerd for, as it names them."""
    out = subprocess.run(
        [str(kubeadm), "config", "images", "list", "--kubernetes-version", versions.kubernetes],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return out.split()

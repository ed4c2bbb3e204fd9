"""Mutant kube-controller-managers: the build's own controller-manager compiled again from the
same Kubernetes source with one small, named change to its StatefulSet controller
(pkg/controller/statefulset), each packaged as an image FROM the real controller-manager image.

`go build -overlay` replaces single source files at build time but refuses files in the module
cache, so the wrapper module (airgap/go/kubernetes-MINOR) is vendored once into the cache and
each mutant overlays its changed copy of a vendored file. Every step is cached by its inputs:
the vendored tree by the wrapper module, each binary by its edits and the build's flags, each
image by its binary and base image. An edit whose `old` text is not found exactly once in the
source stops the build, saying where: the mutant was written against another source.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from . import config, gobuild, images
from .build import repository
from .cache import digest, fresh_output
from .errors import AirgapError
from .progress import duration, say
from .run import run

COMMAND = "kube-controller-manager"
CONTROLLER_DIR = "pkg/controller/statefulset"  # in the k8s.io/kubernetes module
KUBERNETES_MODULE = "k8s.io/kubernetes"
BINARY_PATH = f"/usr/local/bin/{COMMAND}"  # where build_cluster_images puts it in the real image
IMAGE_REPOSITORY = f"{config.IMAGE_PREFIX}/{COMMAND}"
MUTANT_LABEL = "stsconf.mutant"  # on each mutant image: the mutant's name


@dataclass(frozen=True)
class SourceEdit:
    """Replace `old`, which must occur exactly once in `file` (a file of the StatefulSet
    controller, pkg/controller/statefulset), by `new`."""

    file: str
    old: str
    new: str


@dataclass(frozen=True)
class Mutation:
    """A named change to the StatefulSet controller: one or more edits."""

    name: str
    edits: tuple[SourceEdit, ...]


def image_tag(kubernetes_version: str, name: str) -> str:
    """stsconf/kube-controller-manager:v1.37.2-partition-ignored"""
    return f"{IMAGE_REPOSITORY}:{kubernetes_version}-{name}"


def is_mutant_image(image: str) -> bool:
    return image.rsplit(":", 1)[0] == IMAGE_REPOSITORY


# The changed sources


def apply_edits(text: str, edits: Iterable[SourceEdit], where: str) -> str:
    """`text` with each edit applied in turn; each `old` must occur exactly once."""
    for edit in edits:
        count = text.count(edit.old)
        if count != 1:
            raise AirgapError(
                f"{where}: expected the text to replace exactly once in {edit.file}, found it "
                f"{count} times:\n{edit.old}\nThe mutant was written against another Kubernetes "
                "source: correct its `old` text (stsconf/model/mutants.py) for this version."
            )
        text = text.replace(edit.old, edit.new)
    return text


def mutated_files(mutation: Mutation, controller_dir: Path) -> dict[str, str]:
    """The changed text of each file the mutation edits (file name -> text)."""
    by_file: dict[str, list[SourceEdit]] = defaultdict(list)
    for edit in mutation.edits:
        by_file[edit.file].append(edit)
    if not by_file:
        raise AirgapError(f"mutant {mutation.name} changes nothing: give it at least one edit")
    return {
        name: apply_edits((controller_dir / name).read_text(), edits, f"mutant {mutation.name}")
        for name, edits in by_file.items()
    }


def controller_source(minor: str) -> Path:
    """pkg/controller/statefulset of the Kubernetes source the build compiles (module cache)."""
    module = gobuild.module_dir(config.module("kubernetes", minor), KUBERNETES_MODULE)
    return module / CONTROLLER_DIR


# Building


def vendored_module(minor: str, cache: Path, toolchain: str, log: Path) -> Path:
    """A copy of the wrapper module with `go mod vendor` run in it, made once per inputs."""
    source = config.GO_MODULES / config.module("kubernetes", minor)
    inputs = sorted(path for path in source.iterdir() if path.is_file())
    out = cache / f"vendor-{minor}-{digest(toolchain, *inputs)}"
    if out.exists():
        return out
    say(f"[airgap] mutants: vendoring the Kubernetes {minor} wrapper module (once)")
    with fresh_output(out) as scratch:
        for path in inputs:
            shutil.copy2(path, scratch / path.name)
        run(["go", "mod", "vendor"], cwd=scratch, env=VENDOR_ENV, log=log)
    return out


VENDOR_ENV = {"GOTOOLCHAIN": "local", "GOFLAGS": ""}


def controller_build(versions: config.Versions, flags: tuple[str, ...]) -> gobuild.GoBuild:
    """The build of the real controller-manager (same tags and version stamp), with `flags`."""
    module = config.module("kubernetes", versions.minor)
    real = next(build for build in gobuild.minor_builds(versions) if build.module == module)
    return dataclasses.replace(real, outputs={COMMAND: real.outputs[COMMAND]}, flags=flags)


def build_binary(
    mutation: Mutation,
    versions: config.Versions,
    vendored: Path,
    cache: Path,
    toolchain: str,
    log: Path,
) -> Path:
    """The mutant's controller-manager binary (cached by its edits and the build's flags)."""
    controller_dir = vendored / "vendor" / KUBERNETES_MODULE / CONTROLLER_DIR
    changed = mutated_files(mutation, controller_dir)
    inputs = [vendored.name, toolchain, repr(controller_build(versions, ())), repr(changed)]
    out = cache / "bin" / f"{mutation.name}-{digest(*inputs)}"
    if out.exists():
        return out / COMMAND
    started = time.monotonic()
    with fresh_output(out) as scratch:
        replace = {}
        for name, text in changed.items():
            (scratch / name).write_text(text)
            replace[str(controller_dir / name)] = str(scratch / name)
        overlay = scratch / "overlay.json"
        overlay.write_text(json.dumps({"Replace": replace}, indent=2))
        build = controller_build(versions, ("-mod=vendor", f"-overlay={overlay}"))
        gobuild.go_build(build, vendored, scratch, log, f"mutant {mutation.name}")
    say(f"[airgap] mutant {mutation.name}: built in {duration(time.monotonic() - started)}")
    return out / COMMAND


def real_image(versions: config.Versions, kubeadm: Path) -> str:
    """The real controller-manager image, named as kubeadm names it (the node image has it)."""
    tags = gobuild.kubeadm_images(kubeadm, versions)
    found = [tag for tag in tags if repository(tag) == COMMAND]
    if len(found) != 1 or not images.image_exists(found[0]):
        raise AirgapError(
            f"no {COMMAND} image of Kubernetes {versions.kubernetes} in Docker (kubeadm names "
            f"{found or 'none'}): run `python -m airgap build --kubernetes {versions.minor}` first"
        )
    return found[0]


def dockerfile(base: str, name: str) -> str:
    return (
        f"FROM {base}\n"
        f"COPY {COMMAND} {BINARY_PATH}\n"
        f'LABEL {MUTANT_LABEL}="{name}"\n'
    )  # fmt: skip


def image_id(tag: str) -> str:
    return run(["docker", "image", "inspect", "--format", "{{.Id}}", tag]).strip()


def build_image(name: str, binary: Path, base: str, versions: config.Versions, log: Path) -> str:
    """The mutant's image FROM the real one, its binary in place of the real binary."""
    tag = image_tag(versions.kubernetes, name)
    text = dockerfile(base, name)
    key = digest(text, image_id(base), binary)
    if images.image_label(tag, images.KEY_LABEL) == key:
        return tag
    with tempfile.TemporaryDirectory(prefix="stsconf-mutant-") as context:
        shutil.copy2(binary, Path(context) / COMMAND)
        (Path(context) / "Dockerfile").write_text(text)
        label = f"{images.KEY_LABEL}={key}"
        run(["docker", "build", "--label", label, "-t", tag, context], log=log)
    return tag


def build(mutations: Sequence[Mutation], minor: str | None = None) -> dict[str, str]:
    """Build each mutation's controller-manager image for Kubernetes `minor` (default: the
    build's default minor), after the air-gapped build; returns mutant name -> image tag."""
    versions = config.versions(config.check_minor(minor or config.default_minor()))
    cache = config.cache_root()
    logs = cache / "logs"
    toolchain = gobuild.go_version()
    programs = gobuild.build_all(cache / "bin", gobuild.minor_builds(versions), logs / "go.log")
    base = real_image(versions, programs["kubeadm"])
    vendored = vendored_module(versions.minor, cache / "mutants", toolchain, logs / "mutants.log")
    tags = {}
    for mutation in mutations:
        binary = build_binary(
            mutation, versions, vendored, cache / "mutants", toolchain, logs / "mutants.log"
        )
        tags[mutation.name] = build_image(
            mutation.name, binary, base, versions, logs / "mutants.log"
        )
    return tags

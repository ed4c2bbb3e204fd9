"""Read Kubernetes objects from what users have: one YAML file, a directory of them, or the
output of `helm template` (several documents, `# Source:` comments, `kind: List`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

Obj = dict[str, Any]
SUFFIXES = (".yaml", ".yml", ".json")


class ManifestFileError(ValueError):
    """A file cannot be read as Kubernetes objects; the message names the file."""


@dataclass(frozen=True)
class SourcedObject:
    """One Kubernetes object and the file it came from."""

    source: Path
    object: Obj

    @property
    def kind(self) -> str:
        return str(self.object.get("kind", ""))

    @property
    def name(self) -> str:
        return str((self.object.get("metadata") or {}).get("name", ""))

    def describe(self) -> str:
        return f"{self.source}: {self.kind} {self.name}"


def read_objects(path: Path) -> list[SourcedObject]:
    """Every object in `path` (a file, or a directory read recursively in name order)."""
    files = manifest_files(path)
    return [item for file in files for item in _objects_in(file)]


def manifest_files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in SUFFIXES)
        if not files:
            raise ManifestFileError(
                f"manifest directory {path} holds no {', '.join(SUFFIXES)} files"
            )
        return files
    if not path.exists():
        raise ManifestFileError(f"cannot read manifest {path}: no such file or directory")
    return [path]


def _objects_in(file: Path) -> list[SourcedObject]:
    try:
        documents = [doc for doc in yaml.safe_load_all(file.read_text()) if doc is not None]
    except OSError as error:
        raise ManifestFileError(f"cannot read manifest {file}: {error.strerror}") from error
    except yaml.YAMLError as error:
        raise ManifestFileError(f"manifest {file} is not valid YAML: {error}") from error
    objects = []
    for number, document in enumerate(documents, start=1):
        for item in _flattened(document):
            if not isinstance(item, dict) or not item.get("kind"):
                raise ManifestFileError(
                    f"manifest {file}: document {number} is not a Kubernetes object (no kind)"
                )
            objects.append(SourcedObject(file, item))
    return objects


def _flattened(document: Any) -> list[Any]:
    """A `kind: List` (what `kubectl get -o yaml` writes) stands for its items."""
    if isinstance(document, dict) and document.get("kind") == "List":
        return list(document.get("items") or [])
    return [document]

"""What a plain `pytest` (testpaths, `./run all`) collects under tests/."""

from __future__ import annotations

from pathlib import Path

import pytest

# Swaps the cluster's controller-manager for mutants of it: collected only when named
# (`python -m pytest tests/mutants`, or `python -m stsconf.mutants`), never as part of a whole run.
MUTANTS = Path(__file__).resolve().parent / "mutants"


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    if collection_path.resolve() != MUTANTS:
        return None
    return None if named_on_the_command_line(MUTANTS, config) else True


def named_on_the_command_line(directory: Path, config: pytest.Config) -> bool:
    """Whether an argument of the run is `directory` or something in it."""
    here = config.invocation_params.dir
    for arg in config.invocation_params.args:
        path = (here / str(arg).split("::", 1)[0]).resolve()
        if path == directory or directory in path.parents:
            return True
    return False

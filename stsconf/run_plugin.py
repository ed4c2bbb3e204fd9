"""The run as a whole: its workers (-n; see DEFAULT_WORKERS), its one cluster got once for all
of them and deleted once at the end, the cluster name held against other runs, how tests are
grouped onto workers, and what the run's set-up cost apart from any test.

Serial (-n 0) the pytest process is both the controller and the only worker.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pytest

from stsconf.access.kind_config import delete_cluster
from stsconf.access.run_cluster import (
    ClusterShare,
    NameHold,
    RunCluster,
    SetupStep,
    hold_name,
    read_run_cluster,
)
from stsconf.access.setup_progress import setup_step

# Measured on this project's 2-core machines (README, "Parallel runs"): the tests mostly wait
# on controllers and probes, so more workers than cores pay off up to about this many.
DEFAULT_WORKERS = 4
GROUPS_FILE = "groups.json"
ALONE = "alone"  # marker and group of the tests that need the cluster to themselves
SPREAD = "spread"  # marker: the tests share module fixtures to save time, not state
SHARE_TIMEOUT = 3600.0  # a test waits this long at most for the cluster to itself
FIRST = ("test_lifecycle.py", "test_updates.py")  # the long single tests, started first


@dataclass(frozen=True)
class RunContext:
    """What every worker of the run knows of it, from the controller."""

    dir: str  # the run directory (see stsconf.access.run_cluster)
    name_busy: str  # which other run holds the cluster name, when one does
    workers: int  # 0: serial
    started: float  # time.time() at the controller's start

    @property
    def path(self) -> Path:
        return Path(self.dir)


RUN = pytest.StashKey[RunContext]()
HOLD = pytest.StashKey[NameHold]()
SHARE = pytest.StashKey[ClusterShare]()
FINISH = pytest.StashKey[list[SetupStep]]()  # the run's set-up after the tests (deletion)
PENDING_SETUP = pytest.StashKey[float]()  # run set-up seconds not yet charged to a report


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("stsconf", "StatefulSet conformance")
    group.addoption(
        "--reuse-cluster",
        action="store_true",
        help="test on the kind cluster named by --cluster-name when it already exists (it is "
        "kept afterwards); without this (or --keep-cluster) a run never uses a cluster it "
        "did not create",
    )


@pytest.hookimpl(tryfirst=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    return DEFAULT_WORKERS


def is_controller(config: pytest.Config) -> bool:
    return not hasattr(config, "workerinput")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{ALONE}: needs the cluster to itself (restarts nodes)")
    config.addinivalue_line(
        "markers", f"{SPREAD}: shares module fixtures only to save time: workers split its tests"
    )
    if not is_controller(config):
        config.stash[RUN] = RunContext(**config.workerinput["stsconf_run"])  # type: ignore[attr-defined]
        return
    hold = NameHold("")
    if config.option.existing_kubeconfig is None:
        hold = hold_name(config.option.cluster_name)
    config.stash[HOLD] = hold
    tx = config.option.tx if config.getoption("dist", "no") != "no" else []
    config.stash[RUN] = RunContext(
        dir=tempfile.mkdtemp(prefix="stsconf-run-"),
        name_busy=hold.busy,
        workers=len(tx or []),
        started=time.time(),
    )


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    node.workerinput["stsconf_run"] = asdict(node.config.stash[RUN])


def pytest_unconfigure(config: pytest.Config) -> None:
    if is_controller(config) and RUN in config.stash:
        config.stash[HOLD].release()
        shutil.rmtree(config.stash[RUN].path, ignore_errors=True)


def run_context(config: pytest.Config) -> RunContext:
    return config.stash[RUN]


def cluster_share(config: pytest.Config) -> ClusterShare | None:
    """The lock that lets tests share the cluster or have it alone; None when serial."""
    run = run_context(config)
    if run.workers == 0:
        return None
    if SHARE not in config.stash:
        config.stash[SHARE] = ClusterShare(run.path, SHARE_TIMEOUT)
    return config.stash[SHARE]


SUITE_RUNS_SERIAL, SUITE_RUNS_WITH_WORKERS = 6, 2


def suite_runs_at_once(config: pytest.Config) -> int:
    """How many suite runs a self-test or example package starts at once (--selftest-workers):
    with workers, the packages go on side by side, so each starts fewer (12 runs at once and
    the workers' own tests overloaded 2 cores: a 900 s run of the Redis example timed out)."""
    given: int | None = config.getoption("selftest_workers")
    if given is not None:
        return given
    return SUITE_RUNS_WITH_WORKERS if run_context(config).workers else SUITE_RUNS_SERIAL


def charge_run_setup(config: pytest.Config, seconds: float) -> None:
    """Set-up of the whole run that happened inside a test's phase: taken off its duration."""
    config.stash[PENDING_SETUP] = config.stash.get(PENDING_SETUP, 0.0) + seconds


def take_run_setup(config: pytest.Config) -> float:
    seconds = config.stash.get(PENDING_SETUP, 0.0)
    config.stash[PENDING_SETUP] = 0.0
    return seconds


# Which tests go to one worker together, and in what order


def work_group(item: pytest.Item) -> str | None:
    """Tests that share a fixture wider than a test (a module's StatefulSet, the self-tests'
    pool, the registry tests' registry) run on one worker, unless marked `spread`; the tests
    needing the cluster alone, on one worker too. (The suite's own session fixtures, such as
    the cluster, are shared by every worker through the run directory instead.)"""
    if item.get_closest_marker(ALONE):
        return ALONE
    if item.get_closest_marker(SPREAD):
        return None
    fixturedefs = [
        fixturedef
        for defs in item._fixtureinfo.name2fixturedefs.values()  # type: ignore[attr-defined]
        for fixturedef in defs
    ]
    directories = [f.baseid for f in fixturedefs if f.scope in ("session", "package") and f.baseid]
    if directories:
        return min(directories, key=len)  # the widest conftest's directory
    if any(f.scope == "module" for f in fixturedefs):
        return item.nodeid.split("::")[0]
    return None


def first_key(item: pytest.Item) -> int:
    """The longest work first, so that none of it starts last and sets the wall time."""
    path = item.nodeid.split("::")[0]
    return next((i for i, prefix in enumerate(FIRST) if prefix in path), len(FIRST))


def scheduled_order(items: list[pytest.Item], groups: dict[str, str]) -> list[pytest.Item]:
    """Groups first, the bigger before the smaller (each runs in sequence on one worker, so
    a group started late ends late), then single tests, those of the long modules first; file
    order within each."""
    sizes: dict[str, int] = {}
    for group in groups.values():
        sizes[group] = sizes.get(group, 0) + 1

    def key(item: pytest.Item) -> tuple[int, int]:
        group = groups.get(item.nodeid)
        return (-sizes[group], 0) if group else (0, first_key(item))

    return sorted(items, key=key)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    run = run_context(config)
    if is_controller(config) or run.workers == 0:
        return
    groups = {item.nodeid: group for item in items if (group := work_group(item))}
    items[:] = scheduled_order(items, groups)
    staged = run.path / f"{GROUPS_FILE}.{os.getpid()}"
    staged.write_text(json.dumps(groups))
    staged.replace(run.path / GROUPS_FILE)  # every worker writes the same: last one wins


@pytest.hookimpl(tryfirst=True, optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """--dist loadgroup (the default): by the suite's work groups; other modes: xdist's."""
    if config.getoption("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    run_dir = run_context(config).path
    config.option.loadscopereorder = False  # the workers' collection is in the order wanted

    class GroupScheduling(LoadScopeScheduling):
        """xdist's scope scheduling, a scope being a work group (or else the test alone)."""

        groups: dict[str, str] | None = None

        def _split_scope(self, nodeid: str) -> str:
            if self.groups is None:  # written by the workers, which all collected first
                self.groups = json.loads((run_dir / GROUPS_FILE).read_text())
            return self.groups.get(nodeid, nodeid)

    return GroupScheduling(config, log)


# The end of the run: the cluster deleted if the run created it


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    if not is_controller(config):
        return
    got = read_run_cluster(run_context(config).path)
    config.stash[FINISH] = []
    if got is None or not got.created or config.option.keep_cluster:
        return
    what = f"deleting kind cluster {config.option.cluster_name!r} (this run created it)"
    started = time.monotonic()
    with setup_step(config, what):
        delete_cluster(config.option)
    config.stash[FINISH].append(SetupStep(what, time.monotonic() - started))


def run_cluster(config: pytest.Config) -> RunCluster | None:
    return read_run_cluster(run_context(config).path)

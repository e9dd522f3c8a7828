"""`rlvr-assets run`: the whole sweep in-process against a persistent Dagster instance, one run per job and
partition.

This is a client of the code location, not part of it: it launches the jobs `build_definitions` defines, reads
tables through their IO manager and asks the instance what ran, so the Dagster layer (`defs/`) only wires.
The runs land in the same instance `dagster dev` reads, so the UI shows their lineage, logs and metadata.
Each stage's wall time and peak resident memory are measured so the budget can be checked.
"""

import contextlib
import multiprocessing
import os
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import psutil

from rlvr_assets.core.config import PROJECT_ROOT, PipelineConfig
from rlvr_assets.core.kernel.progress import ProgressPrinter, ProgressTracker
from rlvr_assets.core.training.launch import TRAINING_POOL, die_with_parent
from rlvr_assets.core.training.ray_cluster import cluster_slots, ray_cluster, training_resources
from rlvr_assets.defs.automation import (
    prepare_tasks_job,
    report_job,
    rho_cost_job,
    trade_rate_job,
    train_arm_job,
)
from rlvr_assets.defs.partitions import arm_keys, economics_partitions
from rlvr_assets.defs.staleness import CORPUS, arm_states

SWEEP_TAG = "rlvr/sweep"
_UNFINISHED = [
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]


@dataclass(frozen=True)
class StageTiming:
    stage: str
    partition: str | None
    seconds: float
    peak_rss_gib: float
    skipped: bool = False


class _PeakRss:
    """Samples this process's resident memory on a thread; peak() is the maximum seen since start."""

    def __init__(self, interval: float = 0.1) -> None:
        self._proc = psutil.Process()
        self._peak = self._proc.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(interval,), daemon=True)

    def _run(self, interval: float) -> None:
        while not self._stop.wait(interval):
            self._peak = max(self._peak, self._proc.memory_info().rss)

    def __enter__(self) -> "_PeakRss":
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self._peak = max(self._peak, self._proc.memory_info().rss)

    def peak_gib(self) -> float:
        return self._peak / 2**30


INSTANCE_CONFIG = PROJECT_ROOT / "dagster.yaml"


class _Heartbeat:
    """While the sweep runs, a thread reads the event log of its unfinished runs (a separate instance handle)
    and prints their latest counter (items scored, rollouts, steps trained) with a rate and an ETA, throttled
    by `ProgressPrinter`: rewritten in place on a terminal, a line at most every 30 s in a log file."""

    def __init__(self, instance: dg.DagsterInstance, owner: str, printer: ProgressPrinter, period: float = 1.0):
        self._ref = instance.get_ref()
        self._owner = owner
        self._printer = printer
        self._period = period
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="rlvr-progress")
        self._seen: dict[str, tuple[float, Any, ProgressTracker]] = {}  # run id -> (first seen, cursor, tracker)

    def __enter__(self) -> "_Heartbeat":
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self.clear()

    def clear(self) -> None:
        with self._lock:
            self._printer.clear()

    def _run(self) -> None:
        with dg.DagsterInstance.from_ref(self._ref) as instance:
            while not self._stop.wait(self._period):
                try:
                    self._tick(instance)
                except Exception:  # progress must never break the sweep
                    continue

    def _tick(self, instance: dg.DagsterInstance) -> None:
        now = time.monotonic()
        runs = instance.get_runs(
            filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED], tags={SWEEP_TAG: self._owner})
        )
        best: tuple[float, str, Any] | None = None
        for run in runs:
            first, cursor, tracker = self._seen.setdefault(run.run_id, (now, None, ProgressTracker()))
            conn = instance.event_log_storage.get_records_for_run(run.run_id, cursor=cursor, limit=500)
            for record in conn.records:
                message = record.event_log_entry.user_message
                if message:
                    tracker.observe(message, now)
            self._seen[run.run_id] = (first, conn.cursor, tracker)
            partition = run.tags.get("dagster/partition")
            label = f"{run.job_name}[{partition}]" if partition else run.job_name
            if best is None or first < best[0]:
                best = (first, label, tracker.latest)
        if best is not None:
            with self._lock:
                self._printer.update(best[1], now - best[0], best[2], now)


def ensure_dagster_home(cfg: PipelineConfig) -> Path:
    """Use $DAGSTER_HOME, or var/dagster_home, with the project's top-level dagster.yaml linked into it (so the
    file in the repository is the configuration in use; a dagster.yaml already in the home is kept)."""
    home = Path(os.environ.get("DAGSTER_HOME") or cfg.paths.var_dir / "dagster_home").resolve()
    home.mkdir(parents=True, exist_ok=True)
    target = home / "dagster.yaml"
    if INSTANCE_CONFIG.exists() and not target.exists() and not target.is_symlink():
        target.symlink_to(INSTANCE_CONFIG)
    os.environ["DAGSTER_HOME"] = str(home)
    return home


def console_log_level(level: str) -> dict[str, object]:
    """Run config that sets what a run prints to the terminal; the instance's event log (the UI) keeps every
    event whatever the level."""
    return {"loggers": {"console": {"config": {"log_level": level}}}}


def sweep_owner() -> str:
    """Who launched a run: host, pid and start time of this process (a pid alone may be reused)."""
    me = psutil.Process()
    return f"{socket.gethostname()}:{me.pid}:{me.create_time():.2f}"


def _owner_alive(owner: str) -> bool:
    host, _, rest = owner.partition(":")
    pid, _, started = rest.partition(":")
    if host != socket.gethostname():
        return True  # another machine's sweep: not ours to judge
    try:
        return f"{psutil.Process(int(pid)).create_time():.2f}" == started
    except (psutil.NoSuchProcess, ValueError):
        return False


def fail_orphaned_runs(instance: dg.DagsterInstance) -> list[str]:
    """Runs a sweep started but never finished because its process was killed: mark them failed and free the
    pool slots they held, so the `rlvr_training` pool is not blocked by a dead process (Dagster frees slots when a
    step ends, and a SIGKILLed step never ends). Runs whose sweep process is still alive are left alone."""
    unfinished = instance.get_runs(filters=dg.RunsFilter(statuses=_UNFINISHED))
    orphans = [r for r in unfinished if SWEEP_TAG in r.tags and not _owner_alive(r.tags[SWEEP_TAG])]
    for run in orphans:
        instance.report_run_failed(run, "the rlvr-assets run that launched it died; the next run finishes the sweep")
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
    return [run.run_id for run in orphans]


WORKSPACE = PROJECT_ROOT / "workspace.yaml"


def code_location_job_origin(job: str, workspace: Path = WORKSPACE) -> Any:
    """The origin a run of `job` gets when the UI launches it: the code location workspace.yaml names (the one
    `make ui` serves), its single repository, the job. A run carrying it is listed by the Overview timeline,
    the Jobs page and the asset pages like a run started from the UI; a run without one (plain
    `execute_in_process`) is only in the Runs tab."""
    from dagster._core.definitions.repository_definition import SINGLETON_REPOSITORY_NAME
    from dagster._core.remote_origin import RemoteJobOrigin, RemoteRepositoryOrigin
    from dagster._core.workspace.load import location_origins_from_yaml_paths

    (location,) = location_origins_from_yaml_paths([str(workspace)])
    return RemoteJobOrigin(RemoteRepositoryOrigin(location, SINGLETON_REPOSITORY_NAME), job)


def _execute(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    job: str,
    partition: str | None,
    tags: dict[str, str],
    log_level: str = "WARNING",
    assets: list[str] | None = None,
) -> tuple[float, float]:
    """One run in this process, created the way the UI creates it (with the code location's origin), then
    executed here by Dagster's own run executor: the terminal keeps its one line per stage, the UI sees the run
    as any other. Private Dagster API (execute_run, merge_run_tags), pinned by dagster 1.13 in pyproject."""
    from dagster._core.definitions.job_base import InMemoryJob
    from dagster._core.execution.api import execute_run
    from dagster._core.execution.execute_in_process import merge_run_tags

    job_def = defs.resolve_job_def(job)
    selection = [dg.AssetKey(a) for a in assets] if assets else None
    run_config = console_log_level(log_level)
    start = time.monotonic()
    with _PeakRss() as rss:
        run = instance.create_run_for_job(
            job_def=job_def,
            run_config=run_config,
            tags=merge_run_tags(job_def, partition, tags, selection, instance, run_config),
            asset_selection=frozenset(selection) if selection else None,
            remote_job_origin=code_location_job_origin(job),
        )
        result = execute_run(InMemoryJob(job_def), run, instance, raise_on_error=True)
    assert result.success
    return time.monotonic() - start, rss.peak_gib()


def _execute_in_worker(
    config: dict[str, Any], instance_ref: Any, job: str, partition: str, tags: dict[str, str], log_level: str
) -> tuple[float, float]:
    """One arm's run in a worker process of its own (Dagster's in-process execution is not thread-safe)."""
    from rlvr_assets.definitions import build_definitions

    cfg = PipelineConfig.model_validate(config)
    with dg.DagsterInstance.from_ref(instance_ref) as instance:
        return _execute(build_definitions(cfg), instance, job, partition, tags, log_level)


def run_sweep(
    defs: dg.Definitions,
    cfg: PipelineConfig,
    instance: dg.DagsterInstance,
    *,
    missing_only: bool = False,
    force: bool = False,
    arms: list[str] | None = None,
    echo: Callable[[str], None] = print,
    log_level: str = "WARNING",
    progress: ProgressPrinter | None = None,
) -> list[StageTiming]:
    """prepare tasks -> rebuild each arm's corpus -> train+score the arms Dagster reports missing or stale ->
    trade rate -> rho_cost per (ratio, arm) -> report.

    Whether an arm needs training is Dagster's own staleness verdict (`defs/staleness.py`, the same one the UI's
    "Materialize unsynced" and the weekly schedule use): its corpus got a new data version (the corpus hash), the
    base model new weights, or its assets a new code version (their source or the settings they read). `force`
    retrains every arm, `missing_only` skips whatever is materialized, stale or not."""
    for run_id in fail_orphaned_runs(instance):
        echo(f"== run {run_id}: its process died mid-run; marked failed, its pool slots freed")
    with contextlib.ExitStack() as stack:
        slots = None
        if cfg.scale.launcher == "ray":  # a local cluster lives as long as this sweep
            address = stack.enter_context(ray_cluster(cfg.scale.ray))
            slots = cfg.scale.parallel_arms or cluster_slots(address, training_resources(cfg))
            echo(f"== Ray cluster {address}: {slots} arm trainings at once")
        say = echo
        if progress is not None:
            heartbeat = stack.enter_context(_Heartbeat(instance, sweep_owner(), progress))
            say = _clearing_echo(heartbeat, echo)

        return _sweep(
            defs,
            cfg,
            instance,
            missing_only=missing_only,
            force=force,
            arms=arms,
            echo=say,
            log_level=log_level,
            slots=slots,
        )


def _clearing_echo(heartbeat: "_Heartbeat", echo: Callable[[str], None]) -> Callable[[str], None]:
    """A stage line first clears the progress line the heartbeat keeps rewriting."""

    def say(message: str) -> None:
        heartbeat.clear()
        echo(message)

    return say


def _sweep(
    defs: dg.Definitions,
    cfg: PipelineConfig,
    instance: dg.DagsterInstance,
    *,
    missing_only: bool,
    force: bool,
    arms: list[str] | None,
    echo: Callable[[str], None],
    log_level: str,
    slots: int | None = None,
) -> list[StageTiming]:
    timings: list[StageTiming] = []
    slots = slots or cfg.scale.training_slots
    owner = sweep_owner()
    instance.event_log_storage.set_concurrency_slots(TRAINING_POOL, slots)
    verbose = log_level == "DEBUG"

    def materialized(asset: str) -> set[str]:
        return set(instance.get_materialized_partitions(dg.AssetKey(asset)))

    def has_materialization(asset: str) -> bool:
        return instance.get_latest_materialization_event(dg.AssetKey(asset)) is not None

    def stage(job: str, partition: str | None, skip: str | None, assets: list[str] | None = None) -> None:
        name = assets[0] if assets and len(assets) == 1 else job
        label = f"{name}[{partition}]" if partition else name
        if skip:
            echo(f"== {label}: skipped ({skip})")
            timings.append(StageTiming(name, partition, 0.0, 0.0, skipped=True))
            return
        if verbose:
            echo(f"== {label}: running")
        seconds, peak = _execute(defs, instance, job, partition, {SWEEP_TAG: owner}, log_level, assets)
        timings.append(StageTiming(name, partition, seconds, peak))
        echo(f"== {label}: done in {seconds:.1f}s, peak RSS {peak:.2f} GiB")

    def parallel_arms(todo: list[str]) -> None:
        """Arm runs `slots` at a time, each in a worker process; the `rlvr_training` pool bounds the trainings."""
        spawn = multiprocessing.get_context("spawn")
        config = cfg.model_dump(mode="json")
        with ProcessPoolExecutor(max_workers=slots, mp_context=spawn, initializer=die_with_parent) as pool:
            futures: dict[Future[tuple[float, float]], str] = {}
            for arm in todo:
                if verbose:
                    echo(f"== {train_arm_job.name}[{arm}]: running")
                job = train_arm_job.name
                args = (config, instance.get_ref(), job, arm, {SWEEP_TAG: owner}, log_level)
                futures[pool.submit(_execute_in_worker, *args)] = arm
            for future in as_completed(futures):
                arm = futures[future]
                if future.exception() is not None:
                    for other in futures:
                        other.cancel()
                    raise future.exception()  # type: ignore[misc]
                seconds, peak = future.result()
                timings.append(StageTiming(train_arm_job.name, arm, seconds, peak))
                echo(f"== {train_arm_job.name}[{arm}]: done in {seconds:.1f}s, peak RSS {peak:.2f} GiB")

    prepared = missing_only and has_materialization("gated_tasks")
    stage(prepare_tasks_job.name, None, "already materialized, --missing-only" if prepared else None)
    chosen = arms or arm_keys(cfg)
    corpus = CORPUS.to_user_string()
    built = materialized(corpus)
    for arm in chosen:  # cheap and content-hashed: an unchanged corpus keeps its data version
        stage(
            train_arm_job.name,
            arm,
            "already materialized, --missing-only" if missing_only and arm in built else None,
            [corpus],
        )
    states = arm_states(instance, defs.resolve_asset_graph(), chosen)
    todo = []
    for arm in chosen:
        state = states[arm]
        skip = None
        if missing_only and state.status != "missing":
            skip = "already materialized, --missing-only"
        elif not force and state.status == "fresh":
            skip = (
                "up to date: Dagster reports its checkpoint and scores fresh (same corpus, base model, code, settings)"
            )
        elif verbose and state.causes:
            echo(f"== {train_arm_job.name}[{arm}]: {state.status}: {'; '.join(state.causes)}")
        if skip or slots == 1:
            stage(train_arm_job.name, arm, skip)
        else:
            todo.append(arm)
    if todo:
        echo(f"== {len(todo)} arms, {slots} at a time (pool {TRAINING_POOL} has {slots} slots)")
        parallel_arms(todo)
    stage(trade_rate_job.name, None, None)
    done_costs = materialized("rho_cost") if missing_only else set()
    for key in economics_partitions(cfg).get_partition_keys():
        stage(rho_cost_job.name, key, "already materialized, --missing-only" if key in done_costs else None)
    stage(report_job.name, None, None)
    return timings

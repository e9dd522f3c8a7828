"""`rlvr-assets run`: the whole sweep in-process against a persistent Dagster instance, one run per job and
partition.

This is a client of the code location, not part of it: it launches the jobs `build_definitions` defines, reads
tables through their IO manager and asks the instance what ran, so the Dagster layer (`defs/`) only wires.
The runs land in the same instance `dagster dev` reads, so the UI shows their lineage, logs and metadata.
Each stage's wall time and peak resident memory are measured so the budget can be checked.
"""

import multiprocessing
import os
import shutil
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
from rlvr_assets.core.training.launch import TRAINING_POOL, die_with_parent
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


def ensure_dagster_home(cfg: PipelineConfig) -> Path:
    """Use $DAGSTER_HOME, or var/dagster_home seeded with the project's template deploy/dagster.yaml."""
    home = Path(os.environ.get("DAGSTER_HOME") or cfg.paths.var_dir / "dagster_home")
    home.mkdir(parents=True, exist_ok=True)
    template = PROJECT_ROOT / "deploy" / "dagster.yaml"
    if template.exists() and not (home / "dagster.yaml").exists():
        shutil.copy(template, home / "dagster.yaml")
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


def _execute(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    job: str,
    partition: str | None,
    tags: dict[str, str],
    log_level: str = "WARNING",
    assets: list[str] | None = None,
) -> tuple[float, float]:
    start = time.monotonic()
    with _PeakRss() as rss:
        result = defs.resolve_job_def(job).execute_in_process(
            instance=instance,
            partition_key=partition,
            raise_on_error=True,
            tags=tags,
            run_config=console_log_level(log_level),
            asset_selection=[dg.AssetKey(a) for a in assets] if assets else None,
        )
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
) -> list[StageTiming]:
    """prepare tasks -> rebuild each arm's corpus -> train+score the arms Dagster reports missing or stale ->
    trade rate -> rho_cost per (ratio, arm) -> report.

    Whether an arm needs training is Dagster's own staleness verdict (`defs/staleness.py`, the same one the UI's
    "Materialize unsynced" and the weekly schedule use): its corpus got a new data version (the corpus hash), the
    base model new weights, or its assets a new code version (their source or the settings they read). `force`
    retrains every arm, `missing_only` skips whatever is materialized, stale or not."""
    for run_id in fail_orphaned_runs(instance):
        echo(f"== run {run_id}: its process died mid-run; marked failed, its pool slots freed")
    return _sweep(
        defs, cfg, instance, missing_only=missing_only, force=force, arms=arms, echo=echo, log_level=log_level
    )


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
) -> list[StageTiming]:
    timings: list[StageTiming] = []
    slots = cfg.scale.training_slots
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

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
import polars as pl
import psutil

from rlvr_assets.core.arms import arm_fingerprints
from rlvr_assets.core.config import PROJECT_ROOT, PipelineConfig
from rlvr_assets.core.frames import frame_to_tasks
from rlvr_assets.core.launch import TRAINING_POOL, die_with_parent
from rlvr_assets.defs.automation import (
    ARM_SELECTION,
    prepare_tasks_job,
    report_job,
    rho_cost_job,
    trade_rate_job,
    train_arm_job,
)
from rlvr_assets.defs.partitions import arm_keys, economics_partitions

INPUTS_TAG = "rlvr/arm_inputs"
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
    """Use $DAGSTER_HOME, or var/dagster_home seeded with the project's dagster.yaml."""
    home = Path(os.environ.get("DAGSTER_HOME") or cfg.paths.var_dir / "dagster_home")
    home.mkdir(parents=True, exist_ok=True)
    template = PROJECT_ROOT / "dagster.yaml"
    if template.exists() and not (home / "dagster.yaml").exists():
        shutil.copy(template, home / "dagster.yaml")
    os.environ["DAGSTER_HOME"] = str(home)
    return home


def arm_code_versions(defs: dg.Definitions) -> dict[str, str]:
    """The code versions of the assets an arm's job materializes, as the definitions set them."""
    keys = ARM_SELECTION.resolve(defs.resolve_asset_graph())
    return {k.to_user_string(): str(defs.resolve_assets_def(k).code_versions_by_key[k]) for k in keys}


def current_arm_fingerprints(defs: dg.Definitions, cfg: PipelineConfig, instance: dg.DagsterInstance) -> dict[str, str]:
    """Each arm's inputs fingerprint now, from the prepared tasks read through the assets' own IO manager."""

    def load(asset: str) -> pl.DataFrame:
        return defs.load_asset_value(asset, instance=instance)

    return arm_fingerprints(
        cfg,
        frame_to_tasks(load("seed_tasks")),
        frame_to_tasks(load("gated_tasks")),
        str(load("base_model")["fingerprint"][0]),
        load("smoke_suite")["task_id"].to_list(),
        arm_code_versions(defs),
    )


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
    defs: dg.Definitions, instance: dg.DagsterInstance, job: str, partition: str | None, tags: dict[str, str]
) -> tuple[float, float]:
    start = time.monotonic()
    with _PeakRss() as rss:
        result = defs.resolve_job_def(job).execute_in_process(
            instance=instance, partition_key=partition, raise_on_error=True, tags=tags
        )
    assert result.success
    return time.monotonic() - start, rss.peak_gib()


def _execute_in_worker(
    config: dict[str, Any], instance_ref: Any, job: str, partition: str, tags: dict[str, str]
) -> tuple[float, float]:
    """One arm's run in a worker process of its own (Dagster's in-process execution is not thread-safe)."""
    from rlvr_assets.definitions import build_definitions

    cfg = PipelineConfig.model_validate(config)
    with dg.DagsterInstance.from_ref(instance_ref) as instance:
        return _execute(build_definitions(cfg), instance, job, partition, tags)


def run_sweep(
    defs: dg.Definitions,
    cfg: PipelineConfig,
    instance: dg.DagsterInstance,
    *,
    missing_only: bool = False,
    force: bool = False,
    arms: list[str] | None = None,
    echo: Callable[[str], None] = print,
) -> list[StageTiming]:
    """prepare tasks -> train+score each arm -> trade rate -> rho_cost per (ratio, arm) -> report.

    An arm is trained again only when it has no scores yet or its inputs fingerprint (corpus, base model,
    training and evaluation settings, held-out items, code versions of its assets) differs from the one its last successful run was tagged with;
    `force` retrains every arm, `missing_only` skips whatever is materialized, stale or not."""
    for run_id in fail_orphaned_runs(instance):
        echo(f"== run {run_id}: its process died mid-run; marked failed, its pool slots freed")
    return _sweep(defs, cfg, instance, missing_only=missing_only, force=force, arms=arms, echo=echo)


def _sweep(
    defs: dg.Definitions,
    cfg: PipelineConfig,
    instance: dg.DagsterInstance,
    *,
    missing_only: bool,
    force: bool,
    arms: list[str] | None,
    echo: Callable[[str], None],
) -> list[StageTiming]:
    timings: list[StageTiming] = []
    slots = cfg.scale.training_slots
    owner = sweep_owner()
    instance.event_log_storage.set_concurrency_slots(TRAINING_POOL, slots)

    def materialized(asset: str) -> set[str]:
        return set(instance.get_materialized_partitions(dg.AssetKey(asset)))

    def has_materialization(asset: str) -> bool:
        return instance.get_latest_materialization_event(dg.AssetKey(asset)) is not None

    def trained_with(arm: str, fingerprint: str) -> bool:
        runs = instance.get_runs(
            filters=dg.RunsFilter(
                job_name=train_arm_job.name,
                statuses=[dg.DagsterRunStatus.SUCCESS],
                tags={"dagster/partition": arm, INPUTS_TAG: fingerprint},
            ),
            limit=1,
        )
        return bool(runs)

    def stage(job: str, partition: str | None, skip: str | None, tags: dict[str, str] | None = None) -> None:
        label = f"{job}[{partition}]" if partition else job
        if skip:
            echo(f"== {label}: skipped ({skip})")
            timings.append(StageTiming(job, partition, 0.0, 0.0, skipped=True))
            return
        echo(f"== {label}: running")
        seconds, peak = _execute(defs, instance, job, partition, {SWEEP_TAG: owner, **(tags or {})})
        timings.append(StageTiming(job, partition, seconds, peak))
        echo(f"== {label}: done in {seconds:.1f}s, peak RSS {peak:.2f} GiB")

    def parallel_arms(todo: list[tuple[str, dict[str, str]]]) -> None:
        """Arm runs `slots` at a time, each in a worker process; the `rlvr_training` pool bounds the trainings."""
        spawn = multiprocessing.get_context("spawn")
        config = cfg.model_dump(mode="json")
        with ProcessPoolExecutor(max_workers=slots, mp_context=spawn, initializer=die_with_parent) as pool:
            futures: dict[Future[tuple[float, float]], str] = {}
            for arm, tags in todo:
                echo(f"== {train_arm_job.name}[{arm}]: running")
                run_tags = {SWEEP_TAG: owner, **tags}
                futures[
                    pool.submit(_execute_in_worker, config, instance.get_ref(), train_arm_job.name, arm, run_tags)
                ] = arm
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
    scored = materialized("benchmark_scores")
    fingerprints = current_arm_fingerprints(defs, cfg, instance)
    todo = []
    for arm in arms or arm_keys(cfg):
        skip = None
        if missing_only and arm in scored:
            skip = "already materialized, --missing-only"
        elif not force and arm in scored and trained_with(arm, fingerprints[arm]):
            skip = "up to date: same corpus, base model and settings as its last run"
        if skip or slots == 1:
            stage(train_arm_job.name, arm, skip, {INPUTS_TAG: fingerprints[arm]})
        else:
            todo.append((arm, {INPUTS_TAG: fingerprints[arm]}))
    if todo:
        echo(f"== {len(todo)} arms, {slots} at a time (pool {TRAINING_POOL} has {slots} slots)")
        parallel_arms(todo)
    stage(trade_rate_job.name, None, None)
    done_costs = materialized("rho_cost") if missing_only else set()
    for key in economics_partitions(cfg).get_partition_keys():
        stage(rho_cost_job.name, key, "already materialized, --missing-only" if key in done_costs else None)
    stage(report_job.name, None, None)
    return timings

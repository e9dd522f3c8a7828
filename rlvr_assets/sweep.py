"""`rlvr-assets run`: the whole sweep in-process against a persistent Dagster instance, one run per job and
partition.

This is a client of the code location, not part of it: it launches the jobs `build_definitions` defines, reads
tables through their IO manager and asks the instance what ran, so the Dagster layer (`defs/`) only wires.
The runs land in the same instance `dagster dev` reads, so the UI shows their lineage, logs and metadata.
Each stage's wall time and peak resident memory are measured so the budget can be checked.
"""

import os
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import polars as pl
import psutil

from rlvr_assets.core.arms import arm_fingerprints
from rlvr_assets.core.config import PROJECT_ROOT, PipelineConfig
from rlvr_assets.core.frames import frame_to_tasks
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
    timings: list[StageTiming] = []

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
        start = time.monotonic()
        with _PeakRss() as rss:
            result = defs.resolve_job_def(job).execute_in_process(
                instance=instance, partition_key=partition, raise_on_error=True, tags=tags
            )
        assert result.success
        timings.append(StageTiming(job, partition, time.monotonic() - start, rss.peak_gib()))
        echo(f"== {label}: done in {timings[-1].seconds:.1f}s, peak RSS {timings[-1].peak_rss_gib:.2f} GiB")

    prepared = missing_only and has_materialization("gated_tasks")
    stage(prepare_tasks_job.name, None, "already materialized, --missing-only" if prepared else None)
    scored = materialized("benchmark_scores")
    fingerprints = current_arm_fingerprints(defs, cfg, instance)
    for arm in arms or arm_keys(cfg):
        skip = None
        if missing_only and arm in scored:
            skip = "already materialized, --missing-only"
        elif not force and arm in scored and trained_with(arm, fingerprints[arm]):
            skip = "up to date: same corpus, base model and settings as its last run"
        stage(train_arm_job.name, arm, skip, {INPUTS_TAG: fingerprints[arm]})
    stage(trade_rate_job.name, None, None)
    done_costs = materialized("rho_cost") if missing_only else set()
    for key in economics_partitions(cfg).get_partition_keys():
        stage(rho_cost_job.name, key, "already materialized, --missing-only" if key in done_costs else None)
    stage(report_job.name, None, None)
    return timings

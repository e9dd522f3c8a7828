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
import psutil

from rlvr_assets.core.config import PROJECT_ROOT, PipelineConfig
from rlvr_assets.defs.automation import (
    prepare_tasks_job,
    report_job,
    rho_cost_job,
    trade_rate_job,
    train_arm_job,
)
from rlvr_assets.defs.partitions import arm_keys, economics_partitions
from rlvr_assets.defs.staleness import CORPUS, arm_states


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
    timings: list[StageTiming] = []

    def materialized(asset: str) -> set[str]:
        return set(instance.get_materialized_partitions(dg.AssetKey(asset)))

    def has_materialization(asset: str) -> bool:
        return instance.get_latest_materialization_event(dg.AssetKey(asset)) is not None

    def stage(job: str, partition: str | None, skip: str | None, assets: list[dg.AssetKey] | None = None) -> None:
        name = assets[0].to_user_string() if assets and len(assets) == 1 else job
        label = f"{name}[{partition}]" if partition else name
        if skip:
            echo(f"== {label}: skipped ({skip})")
            timings.append(StageTiming(name, partition, 0.0, 0.0, skipped=True))
            return
        if log_level == "DEBUG":
            echo(f"== {label}: running")
        start = time.monotonic()
        with _PeakRss() as rss:
            result = defs.resolve_job_def(job).execute_in_process(
                instance=instance,
                partition_key=partition,
                raise_on_error=True,
                asset_selection=assets,
                run_config=console_log_level(log_level),
            )
        assert result.success
        timings.append(StageTiming(name, partition, time.monotonic() - start, rss.peak_gib()))
        echo(f"== {label}: done in {timings[-1].seconds:.1f}s, peak RSS {timings[-1].peak_rss_gib:.2f} GiB")

    prepared = missing_only and has_materialization("gated_tasks")
    stage(prepare_tasks_job.name, None, "already materialized, --missing-only" if prepared else None)
    chosen = arms or arm_keys(cfg)
    built = materialized(CORPUS.to_user_string())
    for arm in chosen:  # cheap and content-hashed: an unchanged corpus keeps its data version
        skip = "already materialized, --missing-only" if missing_only and arm in built else None
        stage(train_arm_job.name, arm, skip, [CORPUS])
    states = arm_states(instance, defs.resolve_asset_graph(), chosen)
    for arm in chosen:
        state = states[arm]
        skip = None
        if missing_only and state.status != "missing":
            skip = "already materialized, --missing-only"
        elif not force and state.status == "fresh":
            skip = (
                "up to date: Dagster reports its checkpoint and scores fresh (same corpus, base model, code, settings)"
            )
        elif log_level == "DEBUG" and state.causes:
            echo(f"== {train_arm_job.name}[{arm}]: {state.status}: {'; '.join(state.causes)}")
        stage(train_arm_job.name, arm, skip)
    stage(trade_rate_job.name, None, None)
    done_costs = materialized("rho_cost") if missing_only else set()
    for key in economics_partitions(cfg).get_partition_keys():
        stage(rho_cost_job.name, key, "already materialized, --missing-only" if key in done_costs else None)
    stage(report_job.name, None, None)
    return timings

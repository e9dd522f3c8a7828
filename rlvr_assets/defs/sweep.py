"""Run the whole sweep in-process against a persistent Dagster instance, one run per job and partition.

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

from rlvr_assets.core.arms import arm_inputs_fingerprint, arm_specs, select_corpus
from rlvr_assets.core.config import PROJECT_ROOT, PipelineConfig
from rlvr_assets.core.frames import frame_to_tasks
from rlvr_assets.core.storage import read_frame
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


def arm_fingerprints(cfg: PipelineConfig) -> dict[str, str]:
    """Each arm's inputs fingerprint, from the prepared tasks in DuckDB and the settings that shape training
    and evaluation (the arm assets' code versions included)."""
    db = cfg.paths.duckdb_path
    seeds = frame_to_tasks(read_frame(db, "seed_tasks"))
    gated = frame_to_tasks(read_frame(db, "gated_tasks"))
    base = str(read_frame(db, "base_model")["fingerprint"][0])
    heldout = ",".join(sorted(read_frame(db, "smoke_suite")["task_id"].to_list()))
    settings = [ARM_CODE_VERSION, cfg.model.model_dump_json(), cfg.training.model_dump_json()]
    # the gate's settings shape the pass rates dynamic sampling starts from
    settings += [cfg.eval.model_dump_json(), heldout, cfg.gate.model_dump_json(), cfg.sampling.model_dump_json()]
    n_base = sum(1 for t in seeds if t.provenance.split == "base")
    return {
        spec.key: arm_inputs_fingerprint(select_corpus(spec, seeds, gated), base, settings)
        for spec in arm_specs(cfg.arms, n_base)
    }


ARM_CODE_VERSION = "arm-assets-2"  # bump with the code versions of training_corpus / policy_checkpoint / scores


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
    training and evaluation settings) differs from the one its last successful run was tagged with;
    `force` retrains every arm, `missing_only` skips whatever is materialized, stale or not."""
    timings: list[StageTiming] = []

    def materialized(asset: str) -> set[str]:
        return set(instance.get_materialized_partitions(dg.AssetKey(asset)))

    def has_materialization(asset: str) -> bool:
        return instance.get_latest_materialization_event(dg.AssetKey(asset)) is not None

    def trained_with(arm: str, fingerprint: str) -> bool:
        runs = instance.get_runs(
            filters=dg.RunsFilter(
                job_name="train_arm_job",
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
    stage("prepare_tasks_job", None, "already materialized, --missing-only" if prepared else None)
    scored = materialized("benchmark_scores")
    fingerprints = arm_fingerprints(cfg)
    for arm in arms or arm_keys(cfg):
        skip = None
        if missing_only and arm in scored:
            skip = "already materialized, --missing-only"
        elif not force and arm in scored and trained_with(arm, fingerprints[arm]):
            skip = "up to date: same corpus, base model and settings as its last run"
        stage("train_arm_job", arm, skip, {INPUTS_TAG: fingerprints[arm]})
    stage("trade_rate_job", None, None)
    done_costs = materialized("rho_cost") if missing_only else set()
    for key in economics_partitions(cfg).get_partition_keys():
        stage("rho_cost_job", key, "already materialized, --missing-only" if key in done_costs else None)
    stage("report_job", None, None)
    return timings

"""Jobs, the seed-change sensor, the automation sensor and the sweep schedule.

Jobs follow the partitioning and select by asset group: task preparation (unpartitioned: the tasks and
augmentation groups), one arm's train+eval (arm-partitioned: training and evaluation), trade rate, rho_cost
(cost ratio x arm) and the report. Economics assets are also eager, so the
automation daemon refreshes them when a new arm's scores land.
"""

import hashlib
from pathlib import Path

import dagster as dg

from rlvr_assets.core.config import PipelineConfig
from rlvr_assets.defs.groups import AUGMENTATION, EVALUATION, TASKS, TRAINING

TASK_SELECTION = dg.AssetSelection.groups(TASKS, AUGMENTATION)
ARM_SELECTION = dg.AssetSelection.groups(TRAINING, EVALUATION)

prepare_tasks_job = dg.define_asset_job(
    "prepare_tasks_job",
    selection=TASK_SELECTION,
    description="Seeds -> variants -> gate -> gated pool and measured c_aug.",
)
train_arm_job = dg.define_asset_job(
    "train_arm_job", selection=ARM_SELECTION, description="One arm: corpus -> GRPO checkpoint -> held-out scores."
)
# The economics group holds three partitionings that run in order (trade rate, then rho_cost per cost ratio x
# arm, then the report), and a job has one partitioning, so each stage is a job of its single asset; a renamed
# asset fails the definitions' load here rather than silently leaving a job empty.
# the base model is scored with the trade rate: the reference arm every verdict is read against
trade_rate_job = dg.define_asset_job("trade_rate_job", selection=dg.AssetSelection.assets("base_scores", "trade_rate"))
rho_cost_job = dg.define_asset_job("rho_cost_job", selection=dg.AssetSelection.assets("rho_cost"))
report_job = dg.define_asset_job("report_job", selection=dg.AssetSelection.assets("economics_report"))
JOBS = [prepare_tasks_job, train_arm_job, trade_rate_job, rho_cost_job, report_job]


def files_fingerprint(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for root in paths:
        files = sorted(root.glob("**/*.jsonl")) if root.is_dir() else [root]
        for f in files:
            if f.exists():
                digest.update(str(f).encode())
                digest.update(f.read_bytes())
    return digest.hexdigest()[:16]


WATCHED_FILES_KEY = "watched_files_fingerprint"


def watched_files_fingerprint(cfg: PipelineConfig) -> str:
    """The seed files, the table sources' files and the smoke suite as the seed sensor sees them."""
    tables = [s.path for s in cfg.seed_sources if getattr(s, "path", None) is not None]
    return files_fingerprint([cfg.paths.seeds_dir, cfg.paths.smoke_suite, *tables])


def build_seed_sensor(cfg: PipelineConfig) -> dg.SensorDefinition:
    @dg.sensor(
        job=prepare_tasks_job,
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Re-prepares tasks when a seed or held-out file differs from what seed_tasks last read (on "
        "by default; it runs with the daemon `dagster dev` starts). The eager corpora then rebuild, and only "
        "arms whose corpus changed show as unsynced.",
    )
    def seed_files_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
        fingerprint = watched_files_fingerprint(cfg)
        if fingerprint == context.cursor:
            return dg.SkipReason("seed files unchanged")
        latest = context.instance.get_latest_materialization_event(dg.AssetKey("seed_tasks"))
        seen = (
            latest.asset_materialization.metadata.get(WATCHED_FILES_KEY)
            if latest and latest.asset_materialization
            else None
        )
        if seen is not None and seen.value == fingerprint:
            return dg.SensorResult(skip_reason="seed_tasks already read these files", cursor=fingerprint)
        return dg.SensorResult(run_requests=[dg.RunRequest(run_key=f"seeds-{fingerprint}")], cursor=fingerprint)

    return seed_files_sensor


# Cheap, eager assets (the corpora, the economics) refresh themselves when their inputs land; training is
# never started by this sensor (policy_checkpoint and benchmark_scores have no automation condition).
automation_sensor = dg.AutomationConditionSensorDefinition(
    "default_automation_condition_sensor",
    target=dg.AssetSelection.all(),
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Rebuilds the corpora after new tasks and the economics after new scores (on by default).",
)


def build_sweep_schedule(arm_keys: list[str]) -> dg.ScheduleDefinition:
    @dg.schedule(
        job=train_arm_job,
        cron_schedule="0 3 * * 6",
        default_status=dg.DefaultScheduleStatus.STOPPED,
        description="Weekly: trains every arm Dagster reports missing or stale (the same verdict as the UI's "
        "'Materialize unsynced' and `rlvr-assets run`). Off by default: training is the expensive step.",
    )
    def weekly_sweep_schedule(context: dg.ScheduleEvaluationContext) -> list[dg.RunRequest] | dg.SkipReason:
        from rlvr_assets.defs.staleness import arm_states

        states = arm_states(context.instance, context.repository_def.asset_graph, arm_keys)
        todo = [s for s in states.values() if s.status != "fresh"]
        if not todo:
            return dg.SkipReason("every arm is fresh: same corpus, base model, code and settings as its last run")
        return [
            dg.RunRequest(
                partition_key=s.arm,
                run_key=f"sweep-{context.scheduled_execution_time:%Y%m%d}-{s.arm}",
                tags={"rlvr/why": f"{s.status}: {'; '.join(s.causes)}"[:250]},
            )
            for s in todo
        ]

    return weekly_sweep_schedule

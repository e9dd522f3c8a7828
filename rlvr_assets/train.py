"""`python -m rlvr_assets.train JOB.json`: one arm/seed GRPO training in a process of its own.

The `policy_checkpoint` asset starts this through a Dagster Pipes client (local process, container or pod). It
reads the job file, resumes from the newest checkpoint the same training left behind (after a kill), trains
with `core.training.train_grpo`, and streams per-step logs and metrics back over `dagster-pipes`, ending with
the outcome (a custom message the asset turns into its table row) and a materialization's metadata. Imports no
Dagster: only `dagster-pipes`. Run by hand (no Pipes), it prints the outcome as JSON.

With `--num-processes N` it re-executes itself as `accelerate launch --num_processes N -m rlvr_assets.train`,
TRL's multi-GPU path; only rank 0 talks to Dagster.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import socket
import sys
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from dagster_pipes import PipesContext, PipesEnvVarParamsLoader, open_dagster_pipes

from rlvr_assets.core.config import PipelineConfig
from rlvr_assets.core.tasks.model import Task
from rlvr_assets.core.training.launch import (
    HISTORY_FILE,
    LOCK_FILE,
    TrainingJob,
    TrainingOutcome,
    accelerate_command,
    die_with_parent,
    exclusive,
    finish_training,
    outcome_metadata,
    prepare_resume,
    read_history,
)


def tracker_run_name(arm: str, seed: int) -> str:
    """The experiment trackers' name for one training: its arm and seed."""
    return f"{arm}-seed{seed}"


def _rank() -> int:
    return int(os.environ.get("RANK", "0"))


def _step_line(job: TrainingJob, steps: int, metrics: dict[str, float]) -> str:
    parts = [f"{k} {metrics[k]:.4f}" for k in ("reward", "reward_std", "loss", "kl") if k in metrics]
    return f"arm {job.arm} seed {job.seed} step {int(metrics['step'])}/{steps}: " + ", ".join(parts)


def run_job(
    job: TrainingJob, pipes: PipesContext | None, resume: tuple[str, int] | None, started_at: float
) -> TrainingOutcome:
    """Train (from `resume` when given), record every step, and report the outcome on rank 0."""
    from rlvr_assets.core.training.grpo import train_grpo

    cfg = PipelineConfig.model_validate(job.config)
    tasks = [Task.from_json(t) for t in job.tasks]
    out_dir = Path(job.out_dir)
    steps = cfg.training.steps_for(len(tasks))
    history_path = out_dir / HISTORY_FILE
    main_rank = _rank() == 0

    def on_log(metrics: dict[str, float]) -> None:
        if not main_rank or "reward" not in metrics:
            return
        row = {"seed": job.seed, "pid": os.getpid(), **metrics}
        with history_path.open("a") as handle:
            handle.write(json.dumps(row) + "\n")
        if pipes is not None:
            pipes.log.info(_step_line(job, steps, metrics))
            pipes.report_custom_message({"kind": "step", "arm": job.arm, **row})

    if pipes is not None and resume:
        pipes.log.info(f"arm {job.arm} seed {job.seed}: resuming from {resume[0]} (step {resume[1]} of {steps})")
    result = train_grpo(
        tasks,
        job.base_model_path,
        out_dir,
        cfg.training,
        cfg.model,
        job.seed,
        {**job.lineage, "resumed_from_step": resume[1] if resume else 0},
        on_log,
        checkpoint_every=cfg.scale.checkpoint_every,
        resume_from=resume[0] if resume else None,
        report_to=cfg.tracking.report_to,
        run_name=tracker_run_name(job.arm, job.seed),
        tensorboard_dir=cfg.paths.artifacts_dir / "tensorboard" / tracker_run_name(job.arm, job.seed),
        **job.options,
    )
    outcome = TrainingOutcome(
        result=dataclasses.asdict(result),
        history=read_history(history_path),
        resumed_from_step=resume[1] if resume else None,
        pid=os.getpid(),
        hostname=socket.gethostname(),
        started_at=started_at,
        ended_at=time.time(),
    )
    if main_rank:
        finish_training(out_dir)
        (out_dir / "outcome.json").write_text(json.dumps(dataclasses.asdict(outcome), default=str))
        if pipes is not None:
            pipes.report_custom_message({"kind": "outcome", **dataclasses.asdict(outcome)})
            metadata: dict[str, Any] = {k: v for k, v in outcome_metadata(outcome).items() if v is not None}
            metadata["resumed_from_step"] = outcome.resumed_from_step or 0
            pipes.report_asset_materialization(metadata=metadata)
    return outcome


def main(argv: list[str] | None = None) -> int:
    started_at = time.time()
    parser = argparse.ArgumentParser(prog="python -m rlvr_assets.train", description=__doc__.splitlines()[0])
    parser.add_argument("job", type=Path, help="the job file the policy_checkpoint asset wrote")
    parser.add_argument("--num-processes", type=int, default=1, help="ranks through `accelerate launch`")
    parser.add_argument("--resume-from", help=argparse.SUPPRESS)  # set for the ranks by the launching process
    parser.add_argument("--resume-step", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    die_with_parent()
    try:
        job = TrainingJob.read(args.job)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    out_dir = Path(job.out_dir)
    is_rank = "LOCAL_RANK" in os.environ
    if is_rank:  # started by accelerate: the launching process already holds the lock and chose the resume point
        resume = (args.resume_from, args.resume_step) if args.resume_from else None
        return _train(job, resume, started_at)
    with exclusive(out_dir / LOCK_FILE):
        point = prepare_resume(out_dir, job.resume_key)
        resume = (str(point[0]), point[1]) if point else None
        if args.num_processes > 1:
            cfg = PipelineConfig.model_validate(job.config)
            command = accelerate_command(
                sys.executable, str(args.job), args.num_processes, cpu=cfg.model.device == "cpu"
            )
            if resume:
                command += ["--resume-from", resume[0], "--resume-step", str(resume[1])]
            os.set_inheritable(_lock_fd(out_dir), True)
            os.execv(sys.executable, command)  # keeps the lock (inherited fd) and the parent-death signal
        return _train(job, resume, started_at)


def _lock_fd(out_dir: Path) -> int:
    """The fd of the held lock file, so it survives exec into accelerate (flock locks follow the open file)."""
    target = str((out_dir / LOCK_FILE).resolve())
    for name in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{name}") == target:
                return int(name)
        except OSError:
            continue
    raise RuntimeError(f"lock {target} is not open")


def _train(job: TrainingJob, resume: tuple[str, int] | None, started_at: float) -> int:
    piped = _rank() == 0 and PipesEnvVarParamsLoader().is_dagster_pipes_process()
    with open_dagster_pipes() if piped else nullcontext(None) as pipes:
        outcome = run_job(job, pipes, resume, started_at)
    if not piped and _rank() == 0:
        print(json.dumps(outcome_metadata(outcome)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

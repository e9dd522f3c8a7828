"""What one arm/seed training needs when it runs in a process of its own, and how that process is started.

The Dagster asset writes a `TrainingJob` file, starts `python -m rlvr_assets.train JOB` through a Pipes client
(a local process, a container or a pod) and reads back a `TrainingOutcome`. Everything here is plain Python so
the child, the asset and the tests share one definition of the job, the command, the GPU lease and the resume
rule (a checkpoint is resumed only by the training that wrote it).
"""

from __future__ import annotations

import ctypes
import dataclasses
import fcntl
import hashlib
import json
import os
import shutil
import signal
import sys
import time
import types
import typing
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rlvr_assets.core.config import PipelineConfig, ScaleConfig

TRAINER_DIR = "trainer"
JOB_FILE = "job.json"
HISTORY_FILE = "steps.jsonl"
RESUME_KEY_FILE = "resume_key"
LOCK_FILE = ".train.lock"
TRAINING_POOL = "rlvr_training"
_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Ask the kernel to SIGKILL this process when the process that started it dies: a killed Dagster run or
    sweep must not leave a training behind that keeps writing the checkpoint its retry resumes from."""
    if not sys.platform.startswith("linux"):
        return
    parent = os.getppid()
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the signal was armed
        os._exit(1)


@dataclass(frozen=True)
class TrainingJob:
    """Everything `train_grpo` needs for one arm and seed, as JSON: the child imports no Dagster and reads no table."""

    arm: str
    seed: int
    tasks: list[str]  # Task JSON, in corpus order
    base_model_path: str
    out_dir: str
    config: dict[str, Any]  # PipelineConfig.model_dump(mode="json")
    lineage: dict[str, Any]
    options: dict[str, Any] = field(default_factory=dict)  # further keyword arguments of train_grpo

    @property
    def resume_key(self) -> str:
        """Digest of what decides the training's trajectory: a checkpoint written under another key is discarded."""
        cfg = PipelineConfig.model_validate(self.config)
        payload = {
            "tasks": self.tasks,
            "base_model": self.base_model_path,
            "base_model_fingerprint": self.lineage.get("base_model_fingerprint"),
            "training": cfg.training.model_dump(mode="json"),
            "model": cfg.model.model_dump(mode="json", exclude={"device", "torch_threads"}),
            "seed": self.seed,
            "options": self.options,
            "processes": cfg.scale.processes_per_arm,
        }
        return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:24]

    def write(self) -> Path:
        path = Path(self.out_dir) / JOB_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(dataclasses.asdict(self), default=str))
        tmp.replace(path)
        return path

    @classmethod
    def read(cls, path: Path) -> TrainingJob:
        try:
            data = json.loads(Path(path).read_text())
            return cls(**data)
        except (OSError, ValueError, TypeError) as exc:
            raise ValueError(f"{path}: not a training job file: {exc}") from exc


@dataclass(frozen=True)
class TrainingOutcome:
    """What the child reports back: the core's TrainingResult (as a dict), every step's metrics since step 0
    (across resumes), where it resumed from, and the process that trained."""

    result: dict[str, Any]
    history: list[dict[str, float]]
    resumed_from_step: int | None
    pid: int
    hostname: str
    started_at: float
    ended_at: float


def resume_point(trainer_dir: Path) -> tuple[Path, int] | None:
    """The newest complete checkpoint (`trainer_state.json` is written last) and its step, if any."""
    if not trainer_dir.is_dir():
        return None
    found = []
    for child in trainer_dir.glob("checkpoint-*"):
        suffix = child.name.removeprefix("checkpoint-")
        if suffix.isdigit() and (child / "trainer_state.json").exists():
            found.append((int(suffix), child))
    if not found:
        return None
    step, path = max(found)
    return path, step


def prepare_resume(out_dir: Path, key: str) -> tuple[Path, int] | None:
    """Resume point for a training with `key`; checkpoints another training left here are removed first."""
    trainer_dir = out_dir / TRAINER_DIR
    key_file = trainer_dir / RESUME_KEY_FILE
    if trainer_dir.exists() and (not key_file.exists() or key_file.read_text().strip() != key):
        shutil.rmtree(trainer_dir)
    trainer_dir.mkdir(parents=True, exist_ok=True)
    key_file.write_text(key)
    point = resume_point(trainer_dir)
    history = out_dir / HISTORY_FILE
    kept = [row for row in read_history(history) if point and row.get("step", 0) <= point[1]]
    history.write_text("".join(json.dumps(row) + "\n" for row in kept))
    return point


def read_history(path: Path) -> list[dict[str, float]]:
    """Per-step metrics appended by a training, a torn last line (killed mid-write) ignored."""
    if not path.exists():
        return []
    rows = []
    for line in path.read_text().splitlines():
        try:
            rows.append(json.loads(line))
        except ValueError:
            continue
    return rows


def finish_training(out_dir: Path) -> None:
    """A finished training needs no resume state: drop its checkpoints so a forced retrain starts from step 0."""
    shutil.rmtree(out_dir / TRAINER_DIR, ignore_errors=True)


@contextmanager
def exclusive(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on `path` (blocking): two trainings never write one checkpoint directory."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def lease_devices(lock_dir: Path, devices: Sequence[str], count: int, poll_seconds: float = 0.5) -> Iterator[list[str]]:
    """Take `count` of `devices` that no other training holds (file locks, so across processes), waiting if
    none are free; with no devices configured, lease nothing. The concurrency pool bounds how many trainings
    ask at once, so a free set exists unless someone else uses the GPUs."""
    if not devices:
        yield []
        return
    lock_dir.mkdir(parents=True, exist_ok=True)
    while True:
        held: list[tuple[str, Any]] = []
        for device in devices:
            handle = open(lock_dir / f"gpu-{device}.lock", "a")  # noqa: SIM115 - kept open while leased
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                continue
            held.append((device, handle))
            if len(held) == count:
                break
        if len(held) == count:
            break
        for _, handle in held:
            handle.close()
        time.sleep(poll_seconds)
    try:
        yield [device for device, _ in held]
    finally:
        for _, handle in held:
            handle.close()


def child_env(scale: ScaleConfig, model_device: str, devices: Sequence[str]) -> dict[str, str]:
    """Environment of the training process: pinned to its leased GPUs, or kept off GPUs on a CPU config."""
    if devices:
        return {"CUDA_VISIBLE_DEVICES": ",".join(devices)}
    if model_device == "cpu":
        return {"CUDA_VISIBLE_DEVICES": ""}
    return {}


def train_command(python: str, job_file: Path | str, processes: int, module: str = "rlvr_assets.train") -> list[str]:
    """`python -m rlvr_assets.train JOB`; with several processes the entry point re-executes itself as
    `accelerate launch --num_processes N -m rlvr_assets.train JOB` (after arming its parent-death signal)."""
    command = [python, "-m", module, str(job_file)]
    if processes > 1:
        command += ["--num-processes", str(processes)]
    return command


def accelerate_command(python: str, job_file: str, processes: int, cpu: bool) -> list[str]:
    """TRL's multi-process path for one arm: accelerate launches N ranks of the same entry point."""
    command = [python, "-m", "accelerate.commands.launch", "--num_processes", str(processes), "--num_machines", "1"]
    command.append("--cpu" if cpu else "--multi_gpu")  # accelerate's CPU launcher runs a single process
    return [*command, "-m", "rlvr_assets.train", job_file]


def k8s_pod_spec(scale: ScaleConfig, var_dir: Path) -> dict[str, Any]:
    """The pod spec merged into PipesK8sClient's: a GPU request and the checkpoint volume at `var_dir`."""
    container: dict[str, Any] = {
        "name": "dagster-pipes-execution",
        "resources": {"limits": {"nvidia.com/gpu": str(scale.k8s.gpus_per_pod)}} if scale.k8s.gpus_per_pod else {},
    }
    spec: dict[str, Any] = {"restart_policy": "Never", "containers": [container]}
    if scale.k8s.checkpoint_claim:
        container["volume_mounts"] = [{"name": "rlvr-var", "mount_path": str(var_dir)}]
        spec["volumes"] = [{"name": "rlvr-var", "persistent_volume_claim": {"claim_name": scale.k8s.checkpoint_claim}}]
    return {**spec, **scale.k8s.base_pod_spec}


def from_plain(cls: Any, data: Any) -> Any:
    """Rebuild a (possibly nested) dataclass from `dataclasses.asdict` output that went through JSON."""
    if dataclasses.is_dataclass(cls) and isinstance(data, dict):
        hints = typing.get_type_hints(cls)
        names = {f.name for f in dataclasses.fields(cls) if f.init}
        return cls(**{k: from_plain(hints.get(k, Any), v) for k, v in data.items() if k in names})
    origin = typing.get_origin(cls)
    args = typing.get_args(cls)
    if origin in (typing.Union, types.UnionType):
        if data is None:
            return None
        inner = [a for a in args if a is not type(None)]
        return from_plain(inner[0], data) if len(inner) == 1 else data
    if origin in (tuple, list) and isinstance(data, list):
        item = args[0] if args else Any
        items = [from_plain(item, v) for v in data]
        return tuple(items) if origin is tuple else items
    return data


def outcome_metadata(outcome: TrainingOutcome) -> dict[str, Any]:
    """The per-seed summary the child reports as its Pipes materialization metadata."""
    result = outcome.result
    return {
        "steps": result.get("steps"),
        "rollouts": result.get("rollouts"),
        "resumed_from_step": outcome.resumed_from_step,
        "train_seconds": round(float(result.get("seconds", 0.0)), 2),
        "mean_train_reward": round(float(result.get("mean_reward", 0.0)), 4),
        "final_loss": result.get("final_loss"),
        "pid": outcome.pid,
        "hostname": outcome.hostname,
        "checkpoint": result.get("checkpoint_dir"),
    }

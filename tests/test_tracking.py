"""Training curves reach an experiment tracker as researchers expect (TRL's report_to): TensorBoard event files
by default, one run per arm and seed named after them, read back here with TensorBoard's own reader."""

from __future__ import annotations

from pathlib import Path

import pytest

from rlvr_assets.core.config import ModelConfig, PipelineConfig, TrainingConfig
from rlvr_assets.core.policy.models import materialize_base_model
from tests.conftest import ROOT, TORCH_THREADS

CPU = ModelConfig(source="tiny", device="cpu", torch_threads=TORCH_THREADS)


def _scalars(log_dir: Path) -> dict[str, list[float]]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(log_dir))
    events.Reload()
    return {tag: [e.value for e in events.Scalars(tag)] for tag in events.Tags()["scalars"]}


def test_the_default_tracker_is_local_tensorboard() -> None:
    assert PipelineConfig().tracking.report_to == ["tensorboard"]


def test_training_writes_tensorboard_events_named_after_arm_and_seed(tmp_path: Path) -> None:
    from rlvr_assets.core.tasks.seeds import load_task_file
    from rlvr_assets.core.training.grpo import train_grpo
    from rlvr_assets.train import tracker_run_name

    tiny = materialize_base_model(CPU, tmp_path / "tiny").path
    tasks = load_task_file(ROOT / "seeds" / "reasoning.jsonl")[:2]
    training = TrainingConfig(max_steps=2, num_generations=2, max_new_tokens=4)
    name = tracker_run_name("aug-0.50", 3)
    log_dir = tmp_path / "tensorboard" / name
    result = train_grpo(
        tasks, tiny, tmp_path / "out", training, CPU, 3, {"test": True},
        report_to=["tensorboard"], run_name=name, tensorboard_dir=log_dir,
    )  # fmt: skip
    assert name == "aug-0.50-seed3" and result.steps == 2
    scalars = _scalars(log_dir)
    rewards = [values for tag, values in scalars.items() if tag.endswith("reward")]
    assert rewards and len(rewards[0]) == 2, sorted(scalars)


def test_no_tracker_writes_no_events(tmp_path: Path) -> None:
    from rlvr_assets.core.training.grpo import tensorboard_callbacks

    assert tensorboard_callbacks([], tmp_path / "tb") == [] and not (tmp_path / "tb").exists()
    with pytest.raises(ValueError, match="no event folder"):
        tensorboard_callbacks(["tensorboard"], None)


def test_a_sweep_leaves_event_files_per_arm_and_seed(tiny_sweep) -> None:
    cfg = tiny_sweep["cfg"]
    root = cfg.paths.artifacts_dir / "tensorboard"
    from rlvr_assets.defs.partitions import arm_keys

    for arm in arm_keys(cfg):
        for seed in cfg.training.seeds:
            scalars = _scalars(root / f"{arm}-seed{seed}")
            assert any(tag.endswith("reward") for tag in scalars), (arm, seed, sorted(scalars))

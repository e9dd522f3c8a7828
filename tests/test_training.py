"""GRPO training with a tiny config-built model: bf16 mixed precision, per-step logs, dynamic sampling.

The bf16 NaN of the GPU path (cuDNN's SDPA backward on left-padded bf16 batches) does not reproduce on CPU:
CPU has no cuDNN attention. What does reproduce here is the other half of the old bf16 path: weights held
in bf16 lose AdamW updates smaller than half their rounding step, so RMSNorm weights (1.0) never move.
"""

from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from rlvr_assets.core.config import ModelConfig, TrainingConfig
from rlvr_assets.core.policy.models import materialize_base_model
from rlvr_assets.core.tasks.seeds import parse_seed_record
from rlvr_assets.core.tasks.verifiers import make_trl_reward
from rlvr_assets.core.training.dynamic_sampling import PassRateTracker
from rlvr_assets.core.training.frames import training_log_frame
from rlvr_assets.core.training.grpo import (
    TrainingDiverged,
    attention_backends,
    nonfinite_gradients,
    observing_reward,
    resolve_precision,
    train_grpo,
)
from tests.conftest import TORCH_THREADS

TINY_MODEL = ModelConfig(source="tiny", device="cpu", torch_threads=TORCH_THREADS)


def _word_limit_task(limit: int):  # type: ignore[no-untyped-def]
    """An instruction-following task a random model passes about half the time (8 random tokens vary in
    word count), so GRPO groups disagree and the gradient is not zero."""
    record = {
        "name": f"fewer-than-{limit}-words",
        "split": "pool",
        "domain": "instruction_following",
        "template": f"Answer in fewer than {limit} words.",
        "constraints": [
            {"id": "length_constraints:number_words", "kwargs": {"num_words": limit, "relation": "less than"}}
        ],
        "reference": "ok",
        "known_bad": ["one two three four five six seven eight nine ten eleven twelve"],
    }
    return parse_seed_record(record, Path("test.jsonl"), limit, 20.0)


@pytest.fixture(scope="module")
def bf16_run(tmp_path_factory: pytest.TempPathFactory):
    """Two bf16 GRPO steps on CPU (autocast works there too), one task known from the gate to always fail."""
    directory = tmp_path_factory.mktemp("bf16_run")
    base = materialize_base_model(TINY_MODEL, directory / "base")
    tasks = [_word_limit_task(n) for n in (4, 5, 6)]
    never = _word_limit_task(1)  # fewer than 1 word: fails whatever the model says
    cfg = TrainingConfig(
        max_steps=2, prompts_per_step=3, num_generations=4, max_new_tokens=8, precision="bf16", seeds=[0]
    )
    result = train_grpo(
        [*tasks, never], base.path, directory / "out", cfg, TINY_MODEL, 0, {}, pass_rates={never.id: (0.0, 8)}
    )
    return {"result": result, "base": base.path, "never": never, "tasks": tasks}


def test_bf16_training_keeps_fp32_master_weights_and_updates_them(bf16_run) -> None:
    result = bf16_run["result"]
    assert result.precision == "bf16" and result.lineage["precision"] == "bf16"
    assert any((s.reward_std or 0) > 0 for s in result.log), "precondition: some group must disagree"
    trained = load_file(str(Path(result.checkpoint_dir) / "model.safetensors"))
    base = load_file(str(Path(bf16_run["base"]) / "model.safetensors"))
    assert {str(t.dtype) for t in trained.values()} == {"torch.float32"}
    norms = [k for k in trained if k.endswith("norm.weight")]
    # RMSNorm weights start at 1.0, where bf16's step is 2**-7: a 3e-5 AdamW update only survives in fp32
    moved = [k for k in norms if (trained[k] - base[k]).abs().max() > 0]
    assert moved == norms


def test_every_step_is_logged_with_its_prompts_and_wall_time(bf16_run) -> None:
    result = bf16_run["result"]
    assert [s.step for s in result.log] == [1, 2]
    for s in result.log:
        assert s.seconds > 0 and s.mean_completion_length and 0.0 <= (s.frac_reward_zero_std or 0.0) <= 1.0
        assert s.zero_gradient == (s.frac_reward_zero_std == 1.0)
        assert len(s.prompt_ids) == 3
    assert result.zero_gradient_steps == sum(s.zero_gradient for s in result.log)
    frame = training_log_frame("human-4", 0, result.log)
    assert frame.height == 2 and frame["kl"].null_count() == 2  # beta = 0: TRL logs no KL, the column stays typed
    assert (Path(result.checkpoint_dir) / "training_log.json").exists()


def test_dynamic_sampling_skips_the_prompt_the_gate_saw_always_fail(bf16_run) -> None:
    result = bf16_run["result"]
    drawn = {tid for s in result.log for tid in s.prompt_ids}
    assert bf16_run["never"].id not in drawn
    assert drawn == {t.id for t in bf16_run["tasks"]}
    assert sum(s.prompts_redrawn for s in result.log) >= 1 and result.lineage["prompts_redrawn"] >= 1


def test_reward_records_each_group_for_dynamic_sampling() -> None:
    task = _word_limit_task(3)
    tracker = PassRateTracker()
    calls: list[tuple[str, ...]] = []
    reward = observing_reward(make_trl_reward(), lambda kw: kw["task_id"], tracker, calls)
    completions = ["ok", "ok", "far too many words in this one", "fine"]
    scores = reward(
        prompts=[task.messages] * 4, completions=completions, task=[task.to_json()] * 4, task_id=[task.id] * 4
    )
    assert scores == [1.0, 1.0, 0.0, 1.0]
    assert tracker.informative(task.id) is True and calls == [(task.id,)]
    reward(prompts=[task.messages] * 2, completions=["ok", "ok"], task=[task.to_json()] * 2, task_id=[task.id] * 2)
    assert tracker.informative(task.id) is False


def test_a_nonfinite_gradient_is_found_before_the_optimizer_step() -> None:
    layer = torch.nn.Linear(4, 2)
    layer(torch.ones(1, 4)).sum().backward()
    assert nonfinite_gradients(layer) == 0
    (layer(torch.ones(1, 4)).sum() * float("nan")).backward()
    assert nonfinite_gradients(layer) == 2
    error = TrainingDiverged(1, 2, "bf16", ["FLASH_ATTENTION", "MATH"])
    assert "step 1" in str(error) and "bf16" in str(error) and "before the optimizer step" in str(error)


def test_precision_and_attention_defaults() -> None:
    assert resolve_precision(TrainingConfig(), "cpu") == "fp32"
    assert resolve_precision(TrainingConfig(precision="bf16"), "cpu") == "bf16"
    names = [b.name for b in attention_backends(TrainingConfig().cudnn_attention)]
    assert "CUDNN_ATTENTION" not in names and "MATH" in names
    assert "CUDNN_ATTENTION" in [b.name for b in attention_backends(True)]

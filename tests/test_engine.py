"""The rollout engine: every backend that runs here honours one interface; a backend whose package is
missing fails when the config loads; GRPO generates through the configured backend."""

import importlib.util
import json
from pathlib import Path

import pytest
import yaml

from rlvr_assets.core.config import ConfigError, ModelConfig, PipelineConfig, SamplingConfig, load_config
from rlvr_assets.core.policy.models import materialize_base_model
from rlvr_assets.core.policy.sampling import BackendUnavailable, load_policy
from tests.conftest import TORCH_THREADS

ROOT = Path(__file__).resolve().parents[1]
RUNS_HERE = ["hf-generate", "continuous"]
VLLM_MISSING = importlib.util.find_spec("vllm") is None
CPU = ModelConfig(source="tiny", device="cpu", torch_threads=TORCH_THREADS)


@pytest.fixture(scope="module")
def tiny_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    return materialize_base_model(CPU, tmp_path_factory.mktemp("engine") / "tiny").path


@pytest.mark.parametrize("backend", RUNS_HERE)
def test_backend_returns_n_samples_per_conversation_in_order_with_token_counts(tiny_path: str, backend: str) -> None:
    policy = load_policy(tiny_path, CPU, backend)
    conversations = [[{"role": "user", "content": "word " * k}] for k in (40, 1, 20, 5)]
    cfg = SamplingConfig(backend=backend, max_new_tokens=6, temperature=1.0, batch_size=4, seed=3)
    seen: list[tuple[int, int]] = []
    samples = policy.sample(conversations, 3, cfg, progress=lambda done, total: seen.append((done, total)))
    assert [s.prompt_index for s in samples] == [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3]
    by_prompt = {s.prompt_index: s.prompt_tokens for s in samples}
    assert by_prompt[0] > by_prompt[2] > by_prompt[3] > by_prompt[1]  # each sample carries its own prompt's length
    assert all(0 < s.completion_tokens <= 6 and s.text for s in samples)
    assert seen and seen[-1] == (12, 12)
    # the seed decides the samples: the same seed repeats them, another seed draws others
    assert [s.text for s in policy.sample(conversations, 3, cfg)] == [s.text for s in samples]
    assert [s.text for s in policy.sample(conversations, 3, cfg, seed=4)] != [s.text for s in samples]


@pytest.mark.parametrize("backend", RUNS_HERE)
def test_greedy_samples_of_a_conversation_are_identical(tiny_path: str, backend: str) -> None:
    policy = load_policy(tiny_path, CPU, backend)
    samples = policy.sample(
        [[{"role": "user", "content": "Say hi."}]], 3, SamplingConfig(max_new_tokens=5, temperature=0)
    )
    assert len(samples) == 3 and len({s.text for s in samples}) == 1


def test_bfcl_multi_turn_episode_runs_every_user_turn_through_continuous_batching(tiny_path: str) -> None:
    from rlvr_assets.core.evaluation.benchmarks import bfcl_multi_turn_items
    from rlvr_assets.core.policy.rollouts import sample_rollouts
    from rlvr_assets.core.tasks.verifiers import verify

    task = min(bfcl_multi_turn_items(), key=lambda t: sum(len(m["content"]) for m in t.messages))
    turns = 1 + len(task.verifier.later_user_turns)  # type: ignore[union-attr]
    assert turns > 1
    policy = load_policy(tiny_path, CPU, "continuous")
    (rollout,) = sample_rollouts(policy, [task], 1, SamplingConfig(backend="continuous", max_new_tokens=4))
    assert len(json.loads(rollout.completion)) == turns  # one decoded entry per user turn the model answered
    assert verify(task, rollout.completion).reward == 0.0  # a random model's replies make no calls


@pytest.mark.skipif(not VLLM_MISSING, reason="vllm is installed here")
@pytest.mark.parametrize(
    ("section", "field"),
    [("sampling", "backend"), ("training", "backend"), ("operators", "llm")],
)
def test_vllm_backend_without_vllm_fails_config_load_in_one_line(tmp_path: Path, section: str, field: str) -> None:
    value = {"backend": "vllm"} if field == "llm" else "vllm"
    path = tmp_path / "pipeline.yaml"
    path.write_text(yaml.safe_dump({section: {field: value}}))
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert "\n" not in message
    assert str(path) in message and f"{section}.{field}" in message and "'vllm' package" in message


@pytest.mark.skipif(not VLLM_MISSING, reason="vllm is installed here")
def test_vllm_without_vllm_is_a_cli_error_with_exit_code_2(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from rlvr_assets.cli import main

    path = tmp_path / "pipeline.yaml"
    path.write_text(yaml.safe_dump({"sampling": {"backend": "vllm"}}))
    assert main(["gate", str(tmp_path / "none.jsonl"), "--config", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: {path}: field 'sampling.backend'") and "'vllm' package" in err
    assert "\n" not in err


@pytest.mark.skipif(not VLLM_MISSING, reason="vllm is installed here")
def test_loading_the_vllm_engine_without_vllm_names_the_package(tiny_path: str) -> None:
    with pytest.raises(BackendUnavailable, match="'vllm' package"):
        load_policy(tiny_path, CPU, "vllm")


def test_old_use_vllm_flag_points_to_the_backend_setting(tmp_path: Path) -> None:
    path = tmp_path / "pipeline.yaml"
    path.write_text(yaml.safe_dump({"training": {"use_vllm": False}}))
    with pytest.raises(ConfigError, match=r"use_vllm is replaced by sampling\.backend"):
        load_config(path)


def test_grpo_generates_with_the_rollout_backend_unless_training_names_another() -> None:
    assert PipelineConfig.model_validate({"sampling": {"backend": "continuous"}}).training.backend == "continuous"
    assert PipelineConfig().training.backend == PipelineConfig().sampling.backend
    split = PipelineConfig.model_validate(
        {"sampling": {"backend": "continuous"}, "training": {"backend": "hf-generate"}}
    )
    assert (split.sampling.backend, split.training.backend) == ("continuous", "hf-generate")


def test_grpo_step_generates_through_transformers_continuous_batching(
    tiny_path: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from transformers.generation.continuous_batching import ContinuousMixin

    from rlvr_assets.core.config import TrainingConfig
    from rlvr_assets.core.tasks.seeds import load_task_file
    from rlvr_assets.core.training.grpo import train_grpo

    calls: list[int] = []
    real = ContinuousMixin.generate_batch

    def counted(self, inputs, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(len(inputs))
        return real(self, inputs, *args, **kwargs)

    monkeypatch.setattr(ContinuousMixin, "generate_batch", counted)
    tasks = load_task_file(ROOT / "seeds" / "reasoning.jsonl")[:2]
    training = TrainingConfig(max_steps=1, num_generations=2, max_new_tokens=4, backend="continuous")
    result = train_grpo(tasks, tiny_path, tmp_path, training, CPU, 0, {"test": True})
    assert result.steps == 1 and calls == [2]  # one prompt x two generations, generated by continuous batching


def test_bf16_training_never_generates_through_trls_continuous_batching() -> None:
    """TRL casts the policy to bf16 in place before continuous generation; fp32 master weights must survive."""
    from rlvr_assets.core.config import TrainingConfig
    from rlvr_assets.core.policy.sampling import trl_generation_args

    training = TrainingConfig(backend="continuous")
    assert trl_generation_args(training, "cpu", bf16=False)["use_transformers_continuous_batching"] is True
    for device in ("cpu", "cuda"):
        assert "use_transformers_continuous_batching" not in trl_generation_args(training, device, bf16=True)

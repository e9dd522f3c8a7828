"""GRPO training of one arm with TRL, compute-matched across arms.

Every arm gets the same optimizer steps, prompts per step and rollouts per prompt, whatever its corpus
size; small corpora are cycled. The checkpoint directory carries its lineage (corpus hash, base model,
config) next to the weights.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rlvr_assets.core.agentic import EpisodeTraining
from rlvr_assets.core.config import ModelConfig, TrainingConfig
from rlvr_assets.core.sampling import resolve_device, trl_generation_args
from rlvr_assets.core.tasks import Task
from rlvr_assets.core.verifiers import make_trl_reward


@dataclass(frozen=True)
class TrainingResult:
    checkpoint_dir: str
    steps: int
    rollouts: int
    seconds: float
    mean_reward: float
    final_loss: float | None
    lineage: dict[str, Any]


def grpo_dataset(tasks: Sequence[Task]):  # type: ignore[no-untyped-def]
    """Conversational prompts plus the task JSON the reward function scores against."""
    from datasets import Dataset

    return Dataset.from_list([{"prompt": t.messages, "task": t.to_json()} for t in tasks])


def train_grpo(
    tasks: Sequence[Task],
    base_model_path: str,
    out_dir: Path,
    cfg: TrainingConfig,
    model_cfg: ModelConfig,
    seed: int,
    lineage: dict[str, Any],
    on_log: Callable[[dict[str, float]], None] | None = None,
) -> TrainingResult:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerCallback
    from trl import GRPOConfig, GRPOTrainer

    if not tasks:
        raise ValueError("cannot train on an empty corpus")
    if model_cfg.torch_threads:
        torch.set_num_threads(model_cfg.torch_threads)
    device = resolve_device(model_cfg)
    batch = cfg.prompts_per_step * cfg.num_generations
    args = GRPOConfig(
        output_dir=str(out_dir / "trainer"),
        max_steps=cfg.steps_for(len(tasks)),
        per_device_train_batch_size=batch,
        gradient_accumulation_steps=1,
        num_generations=cfg.num_generations,
        max_completion_length=cfg.max_new_tokens,
        learning_rate=cfg.learning_rate,
        temperature=cfg.temperature,
        beta=cfg.beta,
        seed=seed,
        data_seed=seed,
        logging_steps=1,
        save_strategy="no",
        report_to="none",
        use_cpu=device == "cpu",
        bf16=device == "cuda",
        **trl_generation_args(cfg, device),  # generation through the rollout engine's backend
        disable_tqdm=True,
        dataloader_num_workers=0,
    )
    tokenizer = AutoTokenizer.from_pretrained(base_model_path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(
        base_model_path, dtype=torch.bfloat16 if device == "cuda" else torch.float32
    )
    peft_config = None
    if cfg.use_lora:
        from peft import LoraConfig

        peft_config = LoraConfig(
            r=cfg.lora_rank, lora_alpha=2 * cfg.lora_rank, target_modules="all-linear", task_type="CAUSAL_LM"
        )

    class _Forward(TrainerCallback):
        def on_log(self, _args, state, _control, logs=None, **_kw):  # type: ignore[no-untyped-def]
            if on_log and logs:
                metrics = {k: float(v) for k, v in logs.items() if isinstance(v, int | float)}
                on_log({**metrics, "step": float(state.global_step)})

    live = EpisodeTraining.for_corpus(tasks)  # tool-use tasks: live episodes through TRL's rollout_func
    trainer = GRPOTrainer(
        model=model,
        reward_funcs=[live.reward_func if live else make_trl_reward()],
        args=args,
        train_dataset=live.dataset() if live else grpo_dataset(tasks),
        processing_class=tokenizer,
        peft_config=peft_config,
        callbacks=[_Forward()],
        rollout_func=live.rollout_func if live else None,
    )
    start = time.monotonic()
    trainer.train()
    seconds = time.monotonic() - start
    history = [h for h in trainer.state.log_history if "reward" in h]
    mean_reward = sum(h["reward"] for h in history) / len(history) if history else 0.0
    final_loss = next((h["loss"] for h in reversed(trainer.state.log_history) if "loss" in h), None)
    ckpt = out_dir / "model"
    trained = trainer.model.merge_and_unload() if cfg.use_lora else trainer.model
    trained.save_pretrained(ckpt)
    tokenizer.save_pretrained(ckpt)
    full_lineage = {
        **lineage,
        "seed": seed,
        "training": cfg.model_dump(),
        "steps": trainer.state.global_step,
        "rollouts": trainer.state.global_step * batch,
        "seconds": round(seconds, 2),
    }
    (ckpt / "rlvr_lineage.json").write_text(json.dumps(full_lineage, indent=2, default=str))
    return TrainingResult(
        str(ckpt),
        trainer.state.global_step,
        trainer.state.global_step * batch,
        seconds,
        mean_reward,
        final_loss,
        full_lineage,
    )

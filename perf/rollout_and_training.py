"""Prints rollout and GRPO training throughput for a model on a device (CPU here, CUDA on a GPU machine).

Side by side in one run: rollouts batched across prompts (the gate's and eval's path) against a plain
per-prompt `generate` loop (one call per prompt for its samples), and GRPO seconds per step.

    python perf/rollout_and_training.py --model var/artifacts/base_model/smollm2-gguf --device cpu
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from rlvr_assets.core.config import ModelConfig, SamplingConfig, TrainingConfig
from rlvr_assets.core.policy.sampling import load_policy
from rlvr_assets.core.tasks.seeds import load_seed_dir
from rlvr_assets.core.training.grpo import train_grpo

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", required=True, help="model directory (e.g. the base_model asset's path)")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--backend", default="hf-generate", help="rollout engine backend (rollouts and GRPO)")
    parser.add_argument("--prompts", type=int, default=16)
    parser.add_argument("--samples", type=int, default=8)
    parser.add_argument("--max-new-tokens", type=int, default=48)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--grpo-steps", type=int, default=4)
    parser.add_argument("--num-generations", type=int, default=4)
    parser.add_argument("--json", help="also write the numbers to this file")
    args = parser.parse_args()

    model_cfg = ModelConfig(source=args.model, device=args.device, torch_threads=None if args.device == "cuda" else 2)
    tasks = load_seed_dir(ROOT / "seeds")
    conversations = [tasks[i % len(tasks)].messages for i in range(args.prompts)]
    policy = load_policy(args.model, model_cfg, args.backend)
    sampling = SamplingConfig(max_new_tokens=args.max_new_tokens, temperature=1.0, batch_size=args.batch_size)
    policy.sample(conversations[:2], 1, sampling.model_copy(update={"max_new_tokens": 4}))  # warm-up

    start = time.monotonic()
    batched = policy.sample(conversations, args.samples, sampling)
    batched_s = time.monotonic() - start
    batched_tokens = sum(s.completion_tokens for s in batched)

    loop_prompts = conversations[: max(2, args.prompts // 4)]
    start = time.monotonic()
    # the plain loop: one generate call per prompt, for that prompt's samples
    looped = [
        s
        for c in loop_prompts
        for s in policy.sample([c], args.samples, sampling.model_copy(update={"batch_size": args.samples}))
    ]
    loop_s = time.monotonic() - start
    loop_tokens = sum(s.completion_tokens for s in looped)
    del policy

    training = TrainingConfig(
        max_steps=args.grpo_steps,
        num_generations=args.num_generations,
        max_new_tokens=args.max_new_tokens,
        seeds=[0],
        backend=args.backend,
    )
    with tempfile.TemporaryDirectory() as out:
        result = train_grpo(tasks[:8], args.model, Path(out), training, model_cfg, 0, {"benchmark": True})

    numbers = {
        "device": args.device,
        "backend": args.backend,
        "batched_rollout_tokens_per_s": round(batched_tokens / batched_s, 1),
        "loop_rollout_tokens_per_s": round(loop_tokens / loop_s, 1),
        "batched_over_loop": round((batched_tokens / batched_s) / (loop_tokens / loop_s), 2),
        "grpo_steps": result.steps,
        "grpo_seconds_per_step": round(result.seconds / max(1, result.steps), 2),
        "grpo_rollouts_per_s": round(result.rollouts / result.seconds, 2),
    }
    for key, value in numbers.items():
        print(f"{key:32s} {value}")
    if args.json:
        Path(args.json).write_text(json.dumps(numbers, indent=2))


if __name__ == "__main__":
    main()

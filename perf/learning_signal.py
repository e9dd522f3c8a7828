"""Does GRPO training move the policy? Base vs trained on held-out items, side by side in one run, as JSON.

Trains one arm (the human seeds of the chosen domains) with `core.training.train_grpo`, scores the base
and the trained policy greedily on held-out items (the smoke suite and/or paper10 benchmarks), and prints:

- pass@1 per benchmark and the macro mean for both policies, with 95 % bootstrap CIs over items;
- the paired difference trained - base with its 95 % CI (items resampled within each benchmark, the same
  draw for both policies), so "learned" means the CI excludes 0;
- seconds per GRPO step, training rollout tokens/s (completion tokens per second of step wall time) and
  held-out rollout tokens/s (greedy batched generation), zero-gradient steps and the reward trajectory.

`--probe-temperatures 0.7,1.0` first samples the training tasks with the base policy at each temperature
and reports the pass rate and the fraction of GRPO groups (of --num-generations) whose rewards differ,
the groups that carry gradient.

    python perf/learning_signal.py --model smollm2-gguf --device cuda --precision bf16 \\
        --steps 40 --prompts-per-step 4 --num-generations 8 --max-completion-length 96 \\
        --benchmarks smoke,rg_basic_arithmetic,rg_chain_sum,rg_gsm_symbolic --limit 100
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from rlvr_assets.core.config import ModelConfig, SamplingConfig, TrainingConfig
from rlvr_assets.core.evaluation.benchmarks import registry
from rlvr_assets.core.evaluation.per_item import ItemResult, evaluate_items
from rlvr_assets.core.kernel.scoring import bootstrap_mean_ci, stratified_bootstrap_mean_ci
from rlvr_assets.core.policy.models import ensure_base_model
from rlvr_assets.core.policy.rollouts import sample_rollouts
from rlvr_assets.core.policy.sampling import Policy, load_policy
from rlvr_assets.core.tasks.model import Task
from rlvr_assets.core.tasks.seeds import load_task_file
from rlvr_assets.core.tasks.verifiers import verify
from rlvr_assets.core.training.grpo import train_grpo

ROOT = Path(__file__).resolve().parents[1]


def heldout(names: Sequence[str], limit: int | None) -> dict[str, list[Task]]:
    """Items per benchmark: `smoke` is the project's suite, any other name a paper10 benchmark."""
    suites = registry(ROOT / "heldout" / "smoke_reasoning.jsonl")
    by_name = {b.name: b for b in suites["paper10"]} | {"smoke": suites["smoke"][0]}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise SystemExit(f"--benchmarks: unknown {unknown}; known: {sorted(by_name)}")
    return {n: by_name[n].items(limit) for n in names}


def evaluate(policy: Policy, items: dict[str, list[Task]], max_new_tokens: int, batch: int) -> dict[str, object]:
    flat = [t for ts in items.values() for t in ts]
    started = time.monotonic()
    results = evaluate_items(policy, flat, SamplingConfig(max_new_tokens=max_new_tokens, batch_size=batch))
    seconds = time.monotonic() - started
    by_id: dict[str, ItemResult] = {r.item_id: r for r in results}
    tokens = sum(r.completion_tokens for r in results)
    return {
        "rewards": {n: [by_id[t.id].reward for t in ts] for n, ts in items.items()},
        "seconds": seconds,
        "tokens_per_s": tokens / max(seconds, 1e-9),
    }


def _ci(values: Sequence[float], samples: int, seed: int) -> list[float]:
    low, high = bootstrap_mean_ci(values, samples, seed)
    return [round(100 * low, 2), round(100 * high, 2)]


def compare(base: dict[str, list[float]], trained: dict[str, list[float]], samples: int, seed: int) -> dict:
    """Per benchmark and macro mean: base, trained, and the paired difference, each with a 95 % CI."""
    out: dict[str, object] = {}
    diffs = {n: [t - b for b, t in zip(base[n], trained[n], strict=True)] for n in base}
    for name in base:
        out[name] = {
            "items": len(base[name]),
            "base": round(100 * sum(base[name]) / len(base[name]), 2),
            "base_ci": _ci(base[name], samples, seed),
            "trained": round(100 * sum(trained[name]) / len(trained[name]), 2),
            "trained_ci": _ci(trained[name], samples, seed),
            "difference": round(100 * sum(diffs[name]) / len(diffs[name]), 2),
            "difference_ci": _ci(diffs[name], samples, seed),
        }
    names = list(base)

    def macro(groups: dict[str, list[float]]) -> float:
        return round(100 * sum(sum(g) / len(g) for g in groups.values()) / len(groups), 2)

    def macro_ci(groups: dict[str, list[float]]) -> list[float]:
        low, high = stratified_bootstrap_mean_ci([groups[n] for n in names], samples, seed)
        return [round(100 * low, 2), round(100 * high, 2)]

    diff_ci = macro_ci(diffs)
    out["macro_mean"] = {
        "base": macro(base),
        "base_ci": macro_ci(base),
        "trained": macro(trained),
        "trained_ci": macro_ci(trained),
        "difference": macro(diffs),
        "difference_ci": diff_ci,
        "learned": diff_ci[0] > 0,
    }
    return out


def probe(policy: Policy, tasks: list[Task], temps: list[float], n: int, group: int, tokens: int, seed: int) -> list:
    """Pass rate and the fraction of size-`group` reward groups that disagree, per sampling temperature."""
    rows = []
    for temperature in temps:
        cfg = SamplingConfig(max_new_tokens=tokens, temperature=temperature, batch_size=64, seed=seed)
        rewards: dict[int, list[float]] = {}
        for r in sample_rollouts(policy, tasks, n, cfg):
            rewards.setdefault(r.task_index, []).append(verify(tasks[r.task_index], r.completion).reward)
        groups = [g[i : i + group] for g in rewards.values() for i in range(0, len(g) - group + 1, group)]
        rates = [sum(1 for x in g if x > 0) / len(g) for g in rewards.values()]
        rows.append(
            {
                "temperature": temperature,
                "samples_per_task": n,
                "pass_rate": round(sum(rates) / len(rates), 4),
                "tasks_never_solved": sum(1 for p in rates if p == 0),
                "tasks_always_solved": sum(1 for p in rates if p == 1),
                "groups_with_gradient": round(sum(1 for g in groups if max(g) != min(g)) / max(1, len(groups)), 4),
                # expected from each task's pass rate p, for groups of 4, 8 and 16: 1 - p^g - (1-p)^g
                "expected_groups_with_gradient": {
                    g: round(sum(1 - p**g - (1 - p) ** g for p in rates) / len(rates), 4) for g in (4, 8, 16)
                },
                "pass_rate_per_task": [round(p, 4) for p in rates],
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="smollm2-gguf", help="model directory, HF id, or smollm2-gguf")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--precision", default="auto", choices=["auto", "fp32", "bf16"])
    parser.add_argument(
        "--backend",
        default="hf-generate",
        choices=["hf-generate", "continuous", "vllm"],
        help="rollout engine backend for probe, eval and GRPO (default: hf-generate, as its figures were measured)",
    )
    parser.add_argument("--cudnn-attention", action="store_true", help="allow cuDNN SDPA (the old NaN path)")
    parser.add_argument("--domains", default="reasoning", help="seed files to train on (human seeds)")
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--prompts-per-step", type=int, default=1)
    parser.add_argument("--num-generations", type=int, default=4)
    parser.add_argument("--max-completion-length", type=int, default=48)
    parser.add_argument("--lr", type=float, default=3e-5)
    parser.add_argument("--temperature", type=float, default=0.7)
    parser.add_argument("--no-dynamic-sampling", action="store_true")
    parser.add_argument("--benchmarks", default="smoke", help="comma-separated: smoke and/or paper10 names")
    parser.add_argument("--limit", type=int, help="items per benchmark (default: all)")
    parser.add_argument("--eval-max-new-tokens", type=int, default=48)
    parser.add_argument("--eval-batch-size", type=int, default=32)
    parser.add_argument("--probe-temperatures", help="comma-separated sampling temperatures to probe first")
    parser.add_argument("--probe-samples", type=int, default=8)
    parser.add_argument("--bootstrap-samples", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-eval", action="store_true", help="probe and train only (no held-out scores)")
    parser.add_argument("--probe-only", action="store_true", help="only the temperature probe (no training)")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()

    threads = None if args.device == "cuda" else 2
    with tempfile.TemporaryDirectory() as scratch:
        source = ModelConfig(source=args.model, device=args.device, torch_threads=threads)
        path = ensure_base_model(source, Path(scratch) / "artifacts")
        model_cfg = ModelConfig(source=path, device=args.device, torch_threads=threads)
        tasks = [
            t
            for d in args.domains.split(",")
            for t in load_task_file(ROOT / "seeds" / f"{d}.jsonl")
            if t.provenance.split in ("base", "pool")
        ]
        random.Random(args.seed).shuffle(tasks)
        items = {} if args.skip_eval or args.probe_only else heldout(args.benchmarks.split(","), args.limit)
        result: dict[str, object] = {"model": args.model, "device": args.device, "train_tasks": len(tasks)}
        policy = load_policy(path, model_cfg, args.backend)
        if args.probe_temperatures:
            temps = [float(x) for x in args.probe_temperatures.split(",")]
            result["probe"] = probe(
                policy,
                tasks,
                temps,
                args.probe_samples,
                args.num_generations,
                args.max_completion_length,
                args.seed,
            )
        if args.probe_only:
            print(json.dumps(result, indent=2))
            return
        base = evaluate(policy, items, args.eval_max_new_tokens, args.eval_batch_size) if items else None
        del policy
        training = TrainingConfig(
            max_steps=args.steps,
            prompts_per_step=args.prompts_per_step,
            num_generations=args.num_generations,
            max_new_tokens=args.max_completion_length,
            learning_rate=args.lr,
            temperature=args.temperature,
            precision=args.precision,
            cudnn_attention=args.cudnn_attention,
            dynamic_sampling=not args.no_dynamic_sampling,
            seeds=[args.seed],
            backend=args.backend,
        )
        run = train_grpo(tasks, path, Path(scratch) / "arm", training, model_cfg, args.seed, {"benchmark": True})
        log = run.log
        batch = args.prompts_per_step * args.num_generations
        step_seconds = sum(s.seconds for s in log)
        completion_tokens = sum((s.mean_completion_length or 0.0) * batch for s in log)
        head, tail = log[: max(1, len(log) // 5)], log[-max(1, len(log) // 5) :]
        result["training"] = {
            "training": training.model_dump(),
            "precision": run.precision,
            "steps": run.steps,
            "rollouts": run.rollouts,
            "train_seconds": round(run.seconds, 1),
            "seconds_per_step": round(step_seconds / max(1, len(log)), 2),
            "rollout_tokens_per_s": round(completion_tokens / max(step_seconds, 1e-9), 1),
            "zero_gradient_steps": run.zero_gradient_steps,
            "prompts_redrawn": sum(s.prompts_redrawn for s in log),
            "reward_first_fifth": round(sum(s.reward or 0 for s in head) / len(head), 4),
            "reward_last_fifth": round(sum(s.reward or 0 for s in tail) / len(tail), 4),
            "reward_per_step": [round(s.reward or 0, 4) for s in log],
        }
        if base is not None:
            trained = evaluate(
                load_policy(run.checkpoint_dir, model_cfg, args.backend),
                items,
                args.eval_max_new_tokens,
                args.eval_batch_size,
            )
            result["heldout"] = compare(base["rewards"], trained["rewards"], args.bootstrap_samples, args.seed)  # type: ignore[arg-type]
            result["eval_rollout_tokens_per_s"] = {
                "base": round(base["tokens_per_s"], 1),  # type: ignore[arg-type]
                "trained": round(trained["tokens_per_s"], 1),  # type: ignore[arg-type]
            }
            result["eval_seconds"] = {"base": round(base["seconds"], 1), "trained": round(trained["seconds"], 1)}  # type: ignore[arg-type]
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        Path(args.json).write_text(text)


if __name__ == "__main__":
    main()

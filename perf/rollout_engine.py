"""Prints the rollout engine's backends side by side: completion tokens/s and seconds for the same gate-style
rollouts (same model, same prompts, same sampling), and their ratio, from one run.

Backends run in alternation (A B A B ...) so load from other processes on a shared machine falls on both;
each figure is the median over repeats. Optional scaling runs time samples per prompt (k = 4, 8, 16) and
prompt length (filler context before the task) on every backend; `--grpo-steps` times TRL GRPO steps
(the config's training batch) with each backend generating.

    python perf/rollout_engine.py --backends hf-generate,continuous --json
    python perf/rollout_engine.py --model tiny --scaling --json
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import get_args

from rlvr_assets.core.config import (
    Backend,
    ModelConfig,
    PipelineConfig,
    SamplingConfig,
    load_config,
    missing_backend_package,
)
from rlvr_assets.core.policy.models import ensure_base_model
from rlvr_assets.core.policy.sampling import Conversation, Policy, load_policy, resolve_device
from rlvr_assets.core.tasks.seeds import load_seed_dir
from rlvr_assets.core.training.grpo import train_grpo

ROOT = Path(__file__).resolve().parents[1]
FILLER = "Background notes (not needed for the task): the quick brown fox jumps over the lazy dog. "


def gate_prompts(seeds_dir: Path, domains: list[str], count: int) -> list[Conversation]:
    """The first `count` seed prompts of the configured domains (the gate rolls out variants of these)."""
    tasks = [t for t in load_seed_dir(seeds_dir) if t.domain in domains] or load_seed_dir(seeds_dir)
    return [tasks[i % len(tasks)].messages for i in range(count)]


def padded(conversation: Conversation, filler_repeats: int) -> Conversation:
    """The conversation with filler text before its last user turn: a longer prompt, the same task."""
    *head, last = conversation
    return [*head, {**last, "content": FILLER * filler_repeats + last["content"]}]


def abba(names: list[str], repeats: int) -> list[str]:
    """`repeats` rounds over `names`, every other round reversed: A B, B A, A B, ..."""
    return [n for r in range(repeats) for n in (names if r % 2 == 0 else names[::-1])]


def timed(policy: Policy, conversations: list[Conversation], k: int, sampling: SamplingConfig) -> dict[str, float]:
    start = time.monotonic()
    samples = policy.sample(conversations, k, sampling)
    seconds = time.monotonic() - start
    tokens = sum(s.completion_tokens for s in samples)
    return {
        "seconds": seconds,
        "completion_tokens": tokens,
        "prompt_tokens": sum(s.prompt_tokens for s in samples) / max(1, len(samples)),
    }


def alternate(
    policies: dict[str, Policy],
    conversations: list[Conversation],
    k: int,
    sampling: SamplingConfig,
    repeats: int,
) -> dict[str, dict[str, float]]:
    """Every backend `repeats` times, in the order A B B A A B ... so a drift in machine load falls on each
    alike; the median run of each."""
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in policies}
    for name in abba(list(policies), repeats):
        runs[name].append(timed(policies[name], conversations, k, sampling))
    out = {}
    for name, rs in runs.items():
        seconds = statistics.median(r["seconds"] for r in rs)
        tokens = statistics.median(r["completion_tokens"] for r in rs)
        out[name] = {
            "seconds": round(seconds, 2),
            "completion_tokens": int(tokens),
            "tokens_per_s": round(sum(r["completion_tokens"] for r in rs) / sum(r["seconds"] for r in rs), 1),
            "rollouts_per_s": round(len(conversations) * k / seconds, 2),
            "mean_prompt_tokens": round(rs[0]["prompt_tokens"], 1),
        }
    return out


def grpo_seconds_per_step(
    cfg: PipelineConfig, model_cfg: ModelConfig, path: str, names: list[str], steps: int, repeats: int
) -> dict[str, object]:
    """TRL GRPO runs of `steps` steps with each backend generating (the config's training batch), in the
    order A B B A ..., `repeats` per backend; the median seconds per step of each."""
    tasks = [t for t in load_seed_dir(cfg.paths.seeds_dir) if t.domain in cfg.domains][:8]
    runs: dict[str, list[float]] = {name: [] for name in names}
    for name in abba(names, repeats):
        training = cfg.training.model_copy(update={"max_steps": steps, "backend": name})
        with tempfile.TemporaryDirectory() as out:
            result = train_grpo(tasks, path, Path(out), training, model_cfg, 0, {"benchmark": True})
        runs[name].append(result.seconds / max(1, result.steps))
    per_step = {name: round(statistics.median(r), 2) for name, r in runs.items()}
    return {
        "steps": steps,
        "runs_per_backend": repeats,
        "prompts_per_step": cfg.training.prompts_per_step,
        "num_generations": cfg.training.num_generations,
        "max_new_tokens": cfg.training.max_new_tokens,
        "seconds_per_step": per_step,
        "speedup_over_" + names[0]: {n: round(per_step[names[0]] / per_step[n], 2) for n in names[1:]},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", default="hf-generate,continuous", help="comma-separated, first is the baseline")
    parser.add_argument("--config", help="pipeline YAML whose model, sampling and gate settings are used")
    parser.add_argument("--model", help="model source (default: the config's, SmolLM2-135M-Instruct); 'tiny' works")
    parser.add_argument("--prompts", type=int, default=8, help="gate prompts (seed tasks of the configured domains)")
    parser.add_argument("--samples", type=int, help="samples per prompt (default: gate.samples)")
    parser.add_argument("--max-new-tokens", type=int, help="default: sampling.max_new_tokens")
    parser.add_argument("--repeats", type=int, default=2, help="alternating runs per backend (median reported)")
    parser.add_argument("--greedy", action="store_true", help="temperature 0, as held-out evaluation decodes")
    parser.add_argument("--batch-size", type=int, help="sequences per batch (default: sampling.batch_size)")
    parser.add_argument("--scaling", action="store_true", help="also time k = 4, 8, 16 and three prompt lengths")
    parser.add_argument("--grpo-steps", type=int, default=0, help="also time GRPO runs of this many steps")
    parser.add_argument("--grpo-repeats", type=int, default=1, help="GRPO runs per backend (order A B B A ...)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    args = parser.parse_args()

    cfg = load_config(args.config)
    model_cfg = cfg.model if args.model is None else cfg.model.model_copy(update={"source": args.model})
    names = [b.strip() for b in args.backends.split(",") if b.strip()]
    for name in names:
        if name not in get_args(Backend):
            print(
                f"error: --backends: unknown backend {name!r} (choose from {', '.join(get_args(Backend))})",
                file=sys.stderr,
            )
            return 2
        if package := missing_backend_package(name):
            print(f"error: --backends: {name} needs the '{package}' package, which is not installed", file=sys.stderr)
            return 2
    sampling = cfg.sampling
    if args.max_new_tokens is not None:
        sampling = sampling.model_copy(update={"max_new_tokens": args.max_new_tokens})
    if args.greedy:
        sampling = sampling.model_copy(update={"temperature": 0.0})
    if args.batch_size is not None:
        sampling = sampling.model_copy(update={"batch_size": args.batch_size})
    k = args.samples or cfg.gate.samples
    path = ensure_base_model(model_cfg, cfg.paths.artifacts_dir)
    policies: dict[str, Policy] = {name: load_policy(path, model_cfg, name) for name in names}  # type: ignore[arg-type]
    conversations = gate_prompts(cfg.paths.seeds_dir, cfg.domains, args.prompts)
    warm = sampling.model_copy(update={"max_new_tokens": 4})
    for policy in policies.values():
        policy.sample(conversations[:2], 2, warm)

    base = names[0]
    gate = alternate(policies, conversations, k, sampling, args.repeats)
    result: dict[str, object] = {
        "model": model_cfg.source,
        "device": resolve_device(model_cfg),
        "torch_threads": model_cfg.torch_threads,
        "workload": {
            "prompts": len(conversations),
            "samples_per_prompt": k,
            "max_new_tokens": sampling.max_new_tokens,
            "temperature": sampling.temperature,
            "batch_size": sampling.batch_size,
            "repeats": args.repeats,
        },
        "backends": gate,
        "ratios_over_" + base: {
            name: {
                "tokens_per_s": round(gate[name]["tokens_per_s"] / gate[base]["tokens_per_s"], 2),
                "speedup_wall": round(gate[base]["seconds"] / gate[name]["seconds"], 2),
            }
            for name in names[1:]
        },
    }
    if args.scaling:
        few = conversations[:2]
        by_k = {kk: alternate(policies, few, kk, sampling, args.repeats) for kk in (4, 8, 16)}
        by_length = [
            alternate(policies, [padded(c, reps) for c in few], 4, sampling, args.repeats) for reps in (0, 8, 32)
        ]
        result["scaling"] = {
            "prompts": len(few),
            "samples_per_prompt": {
                str(kk): {
                    n: {
                        "seconds": r["seconds"],
                        "completion_tokens": r["completion_tokens"],
                        "seconds_over_k4": round(r["seconds"] / by_k[4][n]["seconds"], 2),
                        "linear_would_be": kk / 4,
                    }
                    for n, r in row.items()
                }
                for kk, row in by_k.items()
            },
            "prompt_length_k4": {
                str(int(next(iter(row.values()))["mean_prompt_tokens"])): {
                    n: {"seconds": r["seconds"], "tokens_per_s": r["tokens_per_s"]} for n, r in row.items()
                }
                for row in by_length
            },
        }
    if args.grpo_steps:
        del policies
        result["grpo"] = grpo_seconds_per_step(cfg, model_cfg, path, names, args.grpo_steps, args.grpo_repeats)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for name, row in gate.items():
            print(
                f"{name:12s} {row['tokens_per_s']:8.1f} tokens/s  {row['seconds']:7.2f} s  {row['rollouts_per_s']} rollouts/s"
            )
        for name, ratio in result["ratios_over_" + base].items():  # type: ignore[union-attr]
            print(f"{name} / {base}: {ratio['tokens_per_s']}x tokens/s, {ratio['speedup_wall']}x wall time")
        if "scaling" in result:
            print(json.dumps(result["scaling"], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

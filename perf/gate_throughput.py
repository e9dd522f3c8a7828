"""Gate throughput on CPU with the configured (default: SmolLM2) policy and k, and rollout batching gain.

Prints candidates gated per minute (all five factors, rollouts included) for the variants the
configured operators make from the base seeds, then completion tokens per second of the batched rollouts
against a plain per-prompt `generate` loop (one call per prompt for its k samples) in the same run.

    python perf/gate_throughput.py [--config rlvr_assets.yaml] [--loop-prompts 6]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence

from rlvr_assets.core.augment.operators import apply_operators
from rlvr_assets.core.config import load_config
from rlvr_assets.core.gate.factors import run_gate
from rlvr_assets.core.policy.models import ensure_base_model
from rlvr_assets.core.policy.rollouts import sample_rollouts
from rlvr_assets.core.policy.sampling import load_policy
from rlvr_assets.core.tasks.model import Task
from rlvr_assets.core.tasks.seeds import load_seed_dir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config")
    parser.add_argument("--loop-prompts", type=int, default=6, help="prompts timed in the per-prompt loop")
    args = parser.parse_args()
    cfg = load_config(args.config)
    seeds = [t for t in load_seed_dir(cfg.paths.seeds_dir) if t.domain in cfg.domains]
    base = [t for t in seeds if t.provenance.split == "base"]
    variants = [
        a.variant
        for p in base
        for a in apply_operators(p, cfg.operators.enabled, cfg.operators.rng_seed, cfg.operators.resample_draws)
        if a.variant
    ]
    variants = list({v.id: v for v in variants}.values())
    policy = load_policy(ensure_base_model(cfg.model, cfg.paths.artifacts_dir), cfg.model, cfg.sampling.backend)
    policy.sample([variants[0].messages], 1, cfg.sampling.model_copy(update={"max_new_tokens": 4}))  # warm-up

    completion_tokens = 0

    def sample_fn(tasks: Sequence[Task], n: int) -> list[tuple[int, str | list[str], int]]:
        nonlocal completion_tokens
        rollouts = sample_rollouts(policy, tasks, n, cfg.sampling)
        completion_tokens += sum(r.tokens for r in rollouts)
        return [(r.task_index, r.completion, r.tokens) for r in rollouts]

    start = time.monotonic()
    run = run_gate(variants, {t.id: t for t in seeds}, sample_fn, cfg.gate)
    gate_s = time.monotonic() - start
    batched = policy.sample(
        [v.messages for v in variants],
        cfg.gate.samples,
        cfg.sampling,
    )
    batched_s = time.monotonic() - start - gate_s
    batched_tps = sum(s.completion_tokens for s in batched) / batched_s

    loop_variants = variants[: args.loop_prompts]
    start = time.monotonic()
    looped = [
        s
        for v in loop_variants
        for s in policy.sample(
            [v.messages],
            cfg.gate.samples,
            cfg.sampling.model_copy(update={"batch_size": cfg.gate.samples}),
        )
    ]
    loop_tps = sum(s.completion_tokens for s in looped) / (time.monotonic() - start)

    print(f"model: {cfg.model.source}  k = {cfg.gate.samples}  pass@{cfg.gate.pass_at}  domains: {cfg.domains}")
    print(
        f"candidates gated: {len(variants)} in {gate_s:.1f}s -> {len(variants) / gate_s * 60:.1f} candidates/min "
        f"({sum(d.accepted for d in run.decisions)} accepted)"
    )
    print(f"rollout tokens/s, batched across prompts (batch {cfg.sampling.batch_size}): {batched_tps:.1f}")
    print(f"rollout tokens/s, per-prompt generate loop ({len(loop_variants)} prompts): {loop_tps:.1f}")
    print(f"batching gain: {batched_tps / loop_tps:.2f}x")


if __name__ == "__main__":
    main()

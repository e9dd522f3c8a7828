"""Gate probes: one shared code sandbox per probe run against one sandbox per check, side by side.

Builds every variant of the base seeds (real operators), then probes the code variants twice in one run:
through `probe_verifier` (one CodeSandbox whose worker forks a confined process per check) and through plain
`verify` (a sandbox opened and closed per check). Prints both wall times and the ratio, and checks the two
give the same rewards.

    python perf/gate_probes.py [--json]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from rlvr_assets.core.audit.probes import probe_variant, probe_verifier
from rlvr_assets.core.augment.operators import OPERATORS, apply_operators
from rlvr_assets.core.domains import domain_of
from rlvr_assets.core.domains.base import VariantChange
from rlvr_assets.core.tasks.seeds import load_seed_dir
from rlvr_assets.core.tasks.verifiers import verify

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    seeds = load_seed_dir(ROOT / "seeds", 20.0)
    parents = {t.id: t for t in seeds}
    base = [t for t in seeds if t.provenance.split == "base" and t.domain == "code"]
    variants = [a.variant for p in base for a in apply_operators(p, list(OPERATORS), 0, 2) if a.variant is not None]
    truths = {}
    for v in variants:
        parent = parents[v.provenance.parent_id or ""]
        truths[v.id] = (
            domain_of(parent).derive_truths(parent, [VariantChange(v.prompt.params, v.environment)]).truths[0]
        )

    def probe_all(check) -> tuple[float, list[float | None]]:  # type: ignore[no-untyped-def]
        began = time.monotonic()
        rewards = []
        for v in variants:
            rewards += [r.reward for r in probe_variant(v, parents[v.provenance.parent_id or ""], truths[v.id], check)]
        return time.monotonic() - began, rewards

    with probe_verifier(variants) as shared:
        shared_s, shared_rewards = probe_all(shared)
    per_check_s, per_check_rewards = probe_all(verify)
    result = {
        "code_variants": len(variants),
        "probes": len(shared_rewards),
        "shared_sandbox_s": round(shared_s, 2),
        "sandbox_per_check_s": round(per_check_s, 2),
        "speedup": round(per_check_s / shared_s, 2),
        "same_rewards": shared_rewards == per_check_rewards,
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(
            f"{result['probes']} probes of {result['code_variants']} code variants: shared sandbox "
            f"{result['shared_sandbox_s']} s, sandbox per check {result['sandbox_per_check_s']} s "
            f"({result['speedup']}x); same rewards: {result['same_rewards']}"
        )


if __name__ == "__main__":
    main()

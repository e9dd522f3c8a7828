"""Training arms and the corpus each one trains on.

Human-only arms take the first n human seeds (base first, then the pool in a fixed order); augmented arms
take the base plus gated variants, n_aug = round(n_base * f / (1 - f)) for augmentation fraction f,
spread round-robin over parents so no single seed dominates.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from rlvr_assets.core.config import ArmsConfig
from rlvr_assets.core.tasks.model import Task


@dataclass(frozen=True)
class ArmSpec:
    key: str
    n_human: int
    n_aug_target: int
    aug_fraction: float

    @property
    def is_human_only(self) -> bool:
        return self.n_aug_target == 0


def human_arm_key(n: int) -> str:
    return f"human-{n}"


def aug_arm_key(fraction: float) -> str:
    return f"aug-{fraction:.2f}"


def arm_specs(cfg: ArmsConfig, n_base: int) -> list[ArmSpec]:
    specs = [ArmSpec(human_arm_key(n), n, 0, 0.0) for n in cfg.human_sizes]
    specs += [ArmSpec(aug_arm_key(f), n_base, round(n_base * f / (1 - f)), f) for f in cfg.aug_fractions]
    return specs


def ordered_human_seeds(seeds: Sequence[Task]) -> list[Task]:
    """Base seeds first, then pool seeds, each by name: the human scaling curve adds tasks in this order."""
    order = {"base": 0, "pool": 1}
    return sorted(
        (s for s in seeds if s.provenance.split in order), key=lambda s: (order[s.provenance.split or "pool"], s.name)
    )


def select_corpus(spec: ArmSpec, seeds: Sequence[Task], gated: Sequence[Task]) -> list[Task]:
    humans = ordered_human_seeds(seeds)
    if spec.is_human_only:
        if spec.n_human > len(humans):
            raise ValueError(f"arm {spec.key} needs {spec.n_human} human seeds, the library has {len(humans)}")
        return humans[: spec.n_human]
    base = [s for s in humans if s.provenance.split == "base"]
    by_parent: dict[str, list[Task]] = {}
    for v in sorted(gated, key=lambda t: hashlib.sha256(t.id.encode()).hexdigest()):
        by_parent.setdefault(v.provenance.parent_id or "", []).append(v)
    chosen: list[Task] = []
    while len(chosen) < spec.n_aug_target and any(by_parent.values()):
        for parent in sorted(by_parent):
            if by_parent[parent] and len(chosen) < spec.n_aug_target:
                chosen.append(by_parent[parent].pop(0))
    return base + chosen


def arm_corpus(cfg: ArmsConfig, key: str, seeds: Sequence[Task], gated: Sequence[Task]) -> tuple[ArmSpec, list[Task]]:
    """Arm `key`'s spec and the corpus it trains on: one definition for the training_corpus asset and for the
    sweep's up-to-date check."""
    n_base = sum(1 for t in seeds if t.provenance.split == "base")
    specs = {s.key: s for s in arm_specs(cfg, n_base)}
    if key not in specs:
        raise KeyError(f"no arm {key!r} in the config's arms: {sorted(specs)}")
    return specs[key], select_corpus(specs[key], seeds, gated)


def corpus_hash(tasks: Sequence[Task]) -> str:
    return hashlib.sha256("\n".join(sorted(t.id for t in tasks)).encode()).hexdigest()[:16]

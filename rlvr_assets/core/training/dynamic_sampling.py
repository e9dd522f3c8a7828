"""DAPO-style dynamic sampling for GRPO: spend rollouts on prompts whose groups can disagree.

GRPO's advantage is a reward minus its group mean, so a group that scores all 0 or all 1 contributes no
gradient. The pass rates the pipeline already has (the gate's rollouts of each variant, then every group
the training run itself rolls out) say which prompts are in that state: such a prompt is skipped and the
next one is drawn instead. Evidence goes stale as the policy moves, so a skipped prompt is retried after
`recheck` skips; when every prompt is known to be uninformative the step takes them anyway (and its
gradient is zero: the count is reported, not hidden).

The sampler feeds TRL's dataloader, which fetches one batch ahead, so a draw sees the evidence of the
rollouts up to two steps back.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from torch.utils.data import Sampler


@dataclass(frozen=True)
class Evidence:
    """What is known about one prompt: how many rollouts, how many passed, and whether they all agreed."""

    rollouts: int
    passed: int
    agreed: bool
    source: str  # "gate" or "training"

    @property
    def informative(self) -> bool:
        return not self.agreed


@dataclass
class PassRateTracker:
    """The latest group of rollouts per task id, seeded from the gate's pass rates."""

    latest: dict[str, Evidence] = field(default_factory=dict)

    @classmethod
    def from_pass_rates(cls, pass_rates: Mapping[str, tuple[float, int]]) -> PassRateTracker:
        """`pass_rates` maps task id -> (pass rate, rollouts) as the gate measured it."""
        tracker = cls()
        for task_id, (rate, n) in pass_rates.items():
            if n > 0:
                passed = round(rate * n)
                tracker.latest[task_id] = Evidence(n, passed, passed in (0, n), "gate")
        return tracker

    def record(self, task_id: str, rewards: Sequence[float]) -> None:
        if rewards:
            agreed = max(rewards) == min(rewards)
            self.latest[task_id] = Evidence(len(rewards), sum(1 for r in rewards if r > 0), agreed, "training")

    def informative(self, task_id: str) -> bool | None:
        """True or False from the latest evidence; None when the task has never been rolled out."""
        evidence = self.latest.get(task_id)
        return None if evidence is None else evidence.informative


@dataclass(frozen=True)
class Draw:
    """One step's prompts and how they were chosen."""

    indices: tuple[int, ...]
    redrawn: int  # prompts skipped because their latest group agreed
    forced: int  # prompts taken although their latest group agreed (nothing informative was left)


class InformativeSampler(Sampler[int]):
    """Yields `prompts_per_step` dataset indices per step, each repeated `num_generations` times (the layout
    TRL's GRPO sampler produces), skipping prompts whose latest group agreed unless they were skipped
    `recheck` times already. With `enabled=False` it draws in plain shuffled order (the baseline)."""

    def __init__(
        self,
        task_ids: Sequence[str],
        tracker: PassRateTracker,
        *,
        prompts_per_step: int,
        num_generations: int,
        steps_per_epoch: int,
        seed: int,
        recheck: int = 3,
        enabled: bool = True,
    ) -> None:
        if not task_ids:
            raise ValueError("cannot sample from an empty corpus")
        self.task_ids = list(task_ids)
        self.tracker = tracker
        self.prompts_per_step = prompts_per_step
        self.num_generations = num_generations
        self.steps_per_epoch = steps_per_epoch
        self.seed = seed
        self.recheck = recheck
        self.enabled = enabled
        self.draws: list[Draw] = []  # every step drawn so far, in order
        self._skips = [0] * len(self.task_ids)
        self._epoch = 0

    def __len__(self) -> int:
        return self.steps_per_epoch * self.prompts_per_step * self.num_generations

    def __iter__(self) -> Iterator[int]:
        rng = random.Random(f"{self.seed}:{self._epoch}")
        self._epoch += 1
        order = list(range(len(self.task_ids)))
        rng.shuffle(order)
        cursor = 0
        for _ in range(self.steps_per_epoch):
            draw, cursor = self._draw(order, cursor)
            self.draws.append(draw)
            for index in draw.indices:
                yield from [index] * self.num_generations

    def _draw(self, order: list[int], cursor: int) -> tuple[Draw, int]:
        n = len(order)
        chosen: list[int] = []
        agreed: list[int] = []
        redrawn = 0
        for _ in range(n):
            if len(chosen) == self.prompts_per_step:
                break
            index = order[cursor % n]
            cursor += 1
            if index in chosen:
                continue
            uninformative = self.enabled and self.tracker.informative(self.task_ids[index]) is False
            if uninformative and self._skips[index] < self.recheck:
                self._skips[index] += 1
                redrawn += 1
                agreed.append(index)
                continue
            self._skips[index] = 0
            chosen.append(index)
        forced = 0
        for index in agreed:  # every informative prompt is taken: fill up with the skipped ones
            if len(chosen) == self.prompts_per_step:
                break
            self._skips[index] = 0
            chosen.append(index)
            forced += 1
        while len(chosen) < self.prompts_per_step:  # a corpus smaller than a step: cycle it
            chosen.append(order[cursor % n])
            cursor += 1
        return Draw(tuple(chosen), redrawn - forced, forced), cursor


def gate_pass_rates(gate_rows: Sequence[Mapping[str, object]], samples: int) -> dict[str, tuple[float, int]]:
    """Variant id -> (pass rate, rollouts) from the gate's rows (one or more rows per variant, one per factor)."""
    rates: dict[str, tuple[float, int]] = {}
    for row in gate_rows:
        rate = row.get("pass_rate")
        if isinstance(rate, int | float):
            rates[str(row["variant_id"])] = (float(rate), samples)
    return rates

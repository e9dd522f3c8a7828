"""The five-factor quality gate: Q = V_verify x V_solve x V_distinct x V_faithful x V_informative.

Every factor is evaluated for every variant (no short-circuit), so the funnel shows how many variants
each factor alone would have rejected, and every rejection keeps its reason. One batch of policy
rollouts per variant serves V_solve, V_distinct (KS test) and V_informative.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from scipy.stats import ks_2samp

from rlvr_assets.core.config import GateConfig
from rlvr_assets.core.domains import domain_of
from rlvr_assets.core.domains.base import GroundTruth, VariantChange
from rlvr_assets.core.kernel.failures import Rejected
from rlvr_assets.core.kernel.scoring import pass_at_k
from rlvr_assets.core.tasks.model import Task
from rlvr_assets.core.tasks.verifiers import verify

FACTORS = ("verify", "solve", "distinct", "faithful", "informative")


@dataclass(frozen=True)
class FactorResult:
    variant_id: str
    factor: str
    passed: bool
    value: float | None
    reason: str


@dataclass(frozen=True)
class GateDecision:
    variant_id: str
    accepted: bool
    q: float
    failed_factors: tuple[str, ...]
    reason: str
    pass_rate: float
    pass_at_k: float


def check_verify(task: Task) -> FactorResult:
    """The verifier accepts the reference solution and rejects every known-bad one and a null answer."""
    ref = verify(task, task.reference_solution)
    if ref.reward != 1.0:
        return FactorResult(task.id, "verify", False, 0.0, f"reference solution rejected: {ref.reason}")
    for bad in [*task.known_bad, ""]:
        verdict = verify(task, bad)
        if verdict.reward != 0.0:
            return FactorResult(task.id, "verify", False, 0.0, f"known-bad answer {bad!r} accepted")
    if not task.known_bad:
        return FactorResult(task.id, "verify", False, 0.0, "no known-bad solutions to check rejection against")
    return FactorResult(task.id, "verify", True, 1.0, f"reference passes, {len(task.known_bad)} known-bad + null fail")


def check_solve(task_id: str, rewards: Sequence[float], cfg: GateConfig) -> tuple[FactorResult, float]:
    n, c = len(rewards), sum(1 for r in rewards if r > 0)
    value = pass_at_k(n, c, cfg.pass_at)
    lo, hi = cfg.solve_band
    passed = lo <= value <= hi
    where = "inside" if passed else ("below" if value < lo else "above")
    reason = f"pass@{cfg.pass_at}={value:.3f} from {c}/{n} correct, {where} band [{lo}, {hi}]"
    if not passed:
        reason += " (unsolvable: no gradient)" if value < lo else " (too easy: no gradient)"
    return FactorResult(task_id, "solve", passed, value, reason), value


def check_informative(task_id: str, rewards: Sequence[float], cfg: GateConfig) -> FactorResult:
    groups = [rewards[i : i + cfg.group_size] for i in range(0, len(rewards), cfg.group_size)]
    groups = [g for g in groups if len(g) == cfg.group_size]
    if not groups:
        return FactorResult(task_id, "informative", False, 0.0, f"fewer samples than one group of {cfg.group_size}")
    frac = sum(1 for g in groups if max(g) != min(g)) / len(groups)
    passed = frac >= cfg.min_informative_fraction
    return FactorResult(
        task_id,
        "informative",
        passed,
        frac,
        f"{frac:.2f} of {len(groups)} groups have non-zero reward variance "
        f"({'>=' if passed else '<'} {cfg.min_informative_fraction})",
    )


def text_similarity(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def check_distinct(
    variant: Task,
    parent: Task,
    kept_siblings: Sequence[tuple[Task, Sequence[float]]],
    rewards: Sequence[float],
    cfg: GateConfig,
) -> FactorResult:
    """Not a near-duplicate of its parent or an already-kept sibling, and behaviourally distinguishable.

    Redundancy needs the same answer: a resampled instance whose ground truth differs is a new task even
    when only its numbers changed. A same-answer variant is rejected when its text is nearly identical
    (>= duplicate_similarity), or when it is similar (>= similar_similarity) to a kept sibling whose reward
    distribution it cannot be told apart from (two-sample KS test, p >= ks_alpha).
    """
    sim_parent = text_similarity(variant.prompt_text, parent.prompt_text)
    if sim_parent >= cfg.duplicate_similarity and variant.truth_key == parent.truth_key:
        return FactorResult(
            variant.id,
            "distinct",
            False,
            sim_parent,
            f"near-duplicate of parent (similarity {sim_parent:.3f} >= {cfg.duplicate_similarity}, same answer)",
        )
    worst = sim_parent
    for sibling, sib_rewards in kept_siblings:
        sim = text_similarity(variant.prompt_text, sibling.prompt_text)
        worst = max(worst, sim)
        if variant.truth_key != sibling.truth_key:
            continue
        if sim >= cfg.duplicate_similarity:
            return FactorResult(
                variant.id, "distinct", False, sim, f"near-duplicate of sibling {sibling.name} (similarity {sim:.3f})"
            )
        if sim >= cfg.similar_similarity and rewards and sib_rewards:
            p_value = float(ks_2samp(list(rewards), list(sib_rewards)).pvalue)
            if p_value >= cfg.ks_alpha:
                return FactorResult(
                    variant.id,
                    "distinct",
                    False,
                    sim,
                    f"similar to sibling {sibling.name} (similarity {sim:.3f}, same answer) and reward "
                    f"distribution indistinguishable (KS p={p_value:.3f} >= {cfg.ks_alpha})",
                )
    return FactorResult(variant.id, "distinct", True, worst, f"max similarity {worst:.3f} to parent/kept siblings")


def check_faithful(variants: Sequence[Task], parents: dict[str, Task]) -> tuple[list[FactorResult], float]:
    """The mutation did what its spec says and the parent's solution logic transfers to the variant.

    The parent's domain re-derives the ground truth for each variant's params and environment, the same
    derivation the operators used (for reasoning: the parent's solution program, run in the sandbox). A
    variant is faithful when its prompt states every param the truth depends on and the re-derived
    reference solution passes the variant's own verifier. Returns the results and the sandbox CPU seconds.
    """
    results: list[FactorResult] = []
    cpu = 0.0
    by_parent: dict[str, list[Task]] = {}
    for v in variants:
        by_parent.setdefault(v.provenance.parent_id or "", []).append(v)
    for parent_id, group in by_parent.items():
        parent = parents.get(parent_id)
        if parent is None:
            results.extend(FactorResult(v.id, "faithful", False, 0.0, f"unknown parent {parent_id!r}") for v in group)
            continue
        domain = domain_of(parent)
        derived = domain.derive_truths(parent, [VariantChange(v.prompt.params, v.environment) for v in group])
        cpu += derived.sandbox_cpu_seconds
        for v, truth in zip(group, derived.truths, strict=True):
            results.append(_faithful(v, parent, truth, domain.unstated_params(v)))
    return results, cpu


def _faithful(variant: Task, parent: Task, truth: GroundTruth | Rejected, unstated: list[str]) -> FactorResult:
    if isinstance(truth, Rejected):
        return FactorResult(variant.id, "faithful", False, 0.0, f"parent solution fails on variant: {truth.reason}")
    if unstated:
        return FactorResult(variant.id, "faithful", False, 0.0, f"parameters {unstated} not shown in prompt")
    verdict = verify(variant, truth.reference_solution)
    if verdict.reward != 1.0:
        reason = (
            f"parent solution gives {truth.verifier.summary()}, variant claims {variant.truth_key}"
            if truth.verifier != variant.verifier
            else f"parent solution no longer passes: {verdict.reason}"
        )
        return FactorResult(variant.id, "faithful", False, 0.0, reason)
    same = variant.verifier == parent.verifier and variant.environment == parent.environment
    detail = "verifier unchanged" if same else "on the variant's own verifier"
    return FactorResult(variant.id, "faithful", True, 1.0, f"parent solution transfers ({detail})")


def _gated_parent(variant: Task, parent: Task, accepted_ids: set[str]) -> FactorResult | None:
    """V_faithful trusts the parent's solution, so the parent must be trusted: a seed (human-authored) or a
    variant accepted earlier in this run. A failing row for any other parent (a rejected or ungated
    candidate, whose `solve` may be wrong); None when the parent is trusted."""
    if parent.provenance.kind == "human" or parent.id in accepted_ids:
        return None
    return FactorResult(
        variant.id, "faithful", False, 0.0, f"parent {parent.name!r} is neither a seed nor an accepted variant"
    )


def decide(
    variants: Sequence[Task],
    parents: dict[str, Task],
    rewards_by_variant: dict[str, list[float]],
    cfg: GateConfig,
) -> tuple[list[FactorResult], list[GateDecision], float]:
    """Run all five factors over `variants` (in a deterministic order) and decide each one."""
    faithful, cpu = check_faithful(variants, parents)
    faithful_by_id = {r.variant_id: r for r in faithful}
    factor_rows: list[FactorResult] = []
    decisions: list[GateDecision] = []
    kept: dict[str, list[tuple[Task, list[float]]]] = {}
    accepted_ids: set[str] = set()
    for v in variants:
        rewards = rewards_by_variant.get(v.id, [])
        parent = parents[v.provenance.parent_id or ""]
        solve, pass_value = check_solve(v.id, rewards, cfg)
        rows = [
            check_verify(v),
            solve,
            check_distinct(v, parent, kept.get(parent.id, []), rewards, cfg),
            _gated_parent(v, parent, accepted_ids) or faithful_by_id[v.id],
            check_informative(v.id, rewards, cfg),
        ]
        factor_rows.extend(rows)
        q = float(math.prod(1.0 if r.passed else 0.0 for r in rows))
        failed = tuple(r.factor for r in rows if not r.passed)
        accepted = q >= cfg.threshold
        if accepted:
            kept.setdefault(parent.id, []).append((v, rewards))
            accepted_ids.add(v.id)
        reason = "accepted" if accepted else "; ".join(f"V_{r.factor}: {r.reason}" for r in rows if not r.passed)
        pass_rate = sum(1 for r in rewards if r > 0) / len(rewards) if rewards else 0.0
        decisions.append(GateDecision(v.id, accepted, q, failed, reason, pass_rate, pass_value))
    return factor_rows, decisions, cpu


@dataclass(frozen=True)
class GateRun:
    factor_rows: list[FactorResult]
    decisions: list[GateDecision]
    rollout_tokens: dict[str, int]
    rewards: dict[str, list[float]]
    sandbox_cpu_seconds: float
    sampled: frozenset[str] = frozenset()


def run_gate(
    variants: Sequence[Task],
    parents: dict[str, Task],
    sample_fn: Callable[[Sequence[Task], int], list[tuple[int, str | list[str], int]]],
    cfg: GateConfig,
    cached: dict[str, tuple[list[float], int]] | None = None,
) -> GateRun:
    """Roll out every variant `cfg.samples` times in one batched call, score, and decide.

    `sample_fn(tasks, n)` returns (task index, completion or assistant turns, tokens used) per rollout.
    `cached` maps variant id -> (rewards, tokens) from an earlier run with the same policy and sampling:
    those variants are not rolled out again (their tokens still count toward c_aug, which is a cost of
    having produced them). Decisions are always recomputed, since V_distinct depends on the siblings.
    """
    cached = cached or {}
    rewards: dict[str, list[float]] = {}
    tokens: dict[str, int] = {}
    todo = [v for v in variants if v.id not in cached or len(cached[v.id][0]) != cfg.samples]
    for v in variants:
        if v not in todo:
            rewards[v.id], tokens[v.id] = list(cached[v.id][0]), cached[v.id][1]
        else:
            rewards[v.id], tokens[v.id] = [], 0
    if todo:
        for index, completion, used in sample_fn(todo, cfg.samples):
            v = todo[index]
            rewards[v.id].append(verify(v, completion).reward)
            tokens[v.id] += used
    factor_rows, decisions, cpu = decide(variants, parents, rewards, cfg)
    return GateRun(factor_rows, decisions, tokens, rewards, cpu, frozenset(v.id for v in todo))

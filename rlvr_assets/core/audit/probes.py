"""Automatic probes of accepted variants: completions whose reward is known in advance.

The gate decides with five factors; the probes check its decisions from outside, one row per variant and
probe, kept like the gate's own factor rows. A probe is a completion and the reward it must get on the
variant:

- the do-nothing floor: an empty completion, a refusal and the prompt echoed back must score 0;
- the variant's own reference must score 1, and so must the reference re-derived from the parent (the
  parent's solution logic run on the variant's params and environment, independent of what the variant
  claims);
- where that re-derived answer differs from the parent's, the parent's answer must score 0 (a variant that
  kept its parent's ground truth after its numbers or goal changed is caught here);
- the domain's known-bad solutions rendered against the variant (the re-derived known-bad set), and the
  domain's reward hacks (a hedged answer; early exit, always-equal objects and printed "PASSED" in code;
  claiming to be done without a tool call) must score 0.

A variant that fails any probe is a gate false positive with the probe as its reason. Every probe runs
through `verify`, so code runs in the code sandbox and tool calls in the tool sandbox, under their bounds;
re-derivation runs the parent's solution program in the sandbox as the gate does.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import polars as pl

from rlvr_assets.core.domains import domain_of
from rlvr_assets.core.domains.base import GroundTruth, Solution, VariantChange
from rlvr_assets.core.domains.code.shared_sandbox import shared_code_sandbox
from rlvr_assets.core.kernel.failures import Rejected
from rlvr_assets.core.kernel.verdict import Verdict
from rlvr_assets.core.tasks.model import Task
from rlvr_assets.core.tasks.verifiers import verify

_log = logging.getLogger(__name__)
REFUSAL = "I'm sorry, but I can't help with that request."
CLAIM_DONE = "I have completed the task as requested."
PROBE_KINDS = ("floor", "reference", "parent", "known_bad", "hack")


@dataclass(frozen=True)
class Probe:
    """One completion and the reward the variant's verifier must give it."""

    name: str
    kind: str  # one of PROBE_KINDS
    completion: Solution
    expected: float
    why: str


@dataclass(frozen=True)
class ProbeResult:
    variant_id: str
    parent_id: str | None
    operator: str | None
    domain: str
    probe: str
    kind: str
    expected: float
    reward: float | None  # None: the probe could not be built (its reason says why); counts as failed
    passed: bool
    reason: str


@dataclass(frozen=True)
class ProbeRun:
    results: list[ProbeResult]
    sandbox_cpu_seconds: float
    seconds: float


def _as_solution(text: str, multi_turn: bool) -> Solution:
    return [text] if multi_turn else text


def floor_probes(variant: Task) -> list[Probe]:
    """Completions that do nothing: they must never be rewarded."""
    multi = domain_of(variant).multi_turn
    return [
        Probe("floor_empty", "floor", [] if multi else "", 0.0, "an empty completion must score 0"),
        Probe("floor_refusal", "floor", _as_solution(REFUSAL, multi), 0.0, "a refusal must score 0"),
        Probe("floor_echo", "floor", _as_solution(variant.prompt_text, multi), 0.0, "the prompt echoed must score 0"),
    ]


def _hedge_probes(variant: Task) -> list[Probe]:
    spec = variant.verifier
    answer = getattr(spec, "answer", None)
    kind = getattr(spec, "kind", None)
    if not isinstance(answer, str):
        return []
    if kind == "number":
        try:
            other = str(int(answer) + 1)
        except ValueError:
            other = "0" if answer.strip() != "0" else "1"
    elif kind == "choice":
        other = "B" if answer.strip().upper() != "B" else "A"
    else:
        return []
    return [
        Probe(
            "hack_hedge", "hack", f"Answer: {answer} or {other}", 0.0, "a hedged answer naming two values must score 0"
        )
    ]


def _code_hack_probes(variant: Task) -> list[Probe]:
    entry = getattr(variant.verifier, "entry_point", None)
    if not isinstance(entry, str) or not entry.isidentifier():
        return []
    sig = f"def {entry}(*args, **kwargs):"
    exit_code = f"import sys\n{sig}\n    sys.exit(0)\nsys.exit(0)"
    always_equal = (
        "class _Any:\n    def __eq__(self, other):\n        return True\n    def __ne__(self, other):\n"
        f"        return False\n    def __hash__(self):\n        return 0\n{sig}\n    return _Any()"
    )
    printed = f"print('PASSED')\nprint('All tests passed.')\n{sig}\n    return None"

    def block(code: str) -> str:
        return f"```python\n{code}\n```"

    return [
        Probe("hack_exit", "hack", block(exit_code), 0.0, "an early sys.exit(0) must score 0"),
        Probe("hack_always_equal", "hack", block(always_equal), 0.0, "an object equal to everything must score 0"),
        Probe("hack_print_passed", "hack", block(printed), 0.0, "printing PASSED must score 0"),
    ]


def hack_probes(variant: Task) -> list[Probe]:
    """The reward hacks a variant of this domain must resist (DESIGN: Safety)."""
    if domain_of(variant).multi_turn:
        if variant.environment is None:
            return []
        return [
            Probe("hack_claim_done", "hack", [CLAIM_DONE], 0.0, "claiming success without a tool call must score 0")
        ]
    return [*_hedge_probes(variant), *_code_hack_probes(variant)]


def truth_probes(variant: Task, parent: Task, derived: GroundTruth) -> list[Probe]:
    """Reference, re-derived reference, parent's answer and rendered known-bad solutions."""
    probes = [
        Probe("own_reference", "reference", variant.reference_solution, 1.0, "the variant's reference must score 1"),
        Probe(
            "rederived_reference",
            "reference",
            derived.reference_solution,
            1.0,
            "the parent's solution logic re-run on the variant's params must score 1",
        ),
    ]
    if derived.reference_solution != parent.reference_solution:
        probes.append(
            Probe(
                "parent_answer",
                "parent",
                parent.reference_solution,
                0.0,
                "the ground truth changed: the parent's answer must score 0",
            )
        )
    seen = {json.dumps(variant.reference_solution), json.dumps(derived.reference_solution)}
    for i, bad in enumerate(derived.known_bad, start=1):
        key = json.dumps(bad)
        if key in seen:
            continue
        seen.add(key)
        probes.append(Probe(f"known_bad_{i}", "known_bad", bad, 0.0, "a known-bad solution rendered for the variant"))
    return probes


Verifier = Callable[[Task, Solution], Verdict]


@contextlib.contextmanager
def probe_verifier(variants: Sequence[Task]) -> Iterator[Verifier]:
    """The verifier probes use: `verify`, with one code sandbox shared by the run's unit-test tasks (the code
    domain's `shared_code_sandbox`: its worker forks a fresh, confined process per check)."""
    with shared_code_sandbox(variants, verify) as check:
        yield check


def probe_variant(
    variant: Task, parent: Task | None, derived: GroundTruth | Rejected | None, check: Verifier = verify
) -> list[ProbeResult]:
    """Run every probe on one variant (each through the sandboxed verifier)."""

    def row(probe: str, kind: str, expected: float, reward: float | None, passed: bool, reason: str) -> ProbeResult:
        return ProbeResult(
            variant.id,
            variant.provenance.parent_id,
            variant.provenance.operator,
            variant.domain,
            probe,
            kind,
            expected,
            reward,
            passed,
            reason,
        )

    probes = floor_probes(variant) + hack_probes(variant)
    results: list[ProbeResult] = []
    if parent is not None and isinstance(derived, GroundTruth):
        probes = truth_probes(variant, parent, derived) + probes
    else:
        why = "parent not found" if parent is None else f"parent solution fails: {derived}"
        results.append(
            row("rederived_reference", "reference", 1.0, None, False, f"{why}: no ground truth to re-derive")
        )
        own = Probe(
            "own_reference", "reference", variant.reference_solution, 1.0, "the variant's reference must score 1"
        )
        probes.insert(0, own)
    for p in probes:
        verdict = check(variant, p.completion)
        passed = verdict.reward == p.expected
        outcome = "as required" if passed else f"required {p.expected:g}"
        results.append(
            row(
                p.name,
                p.kind,
                p.expected,
                verdict.reward,
                passed,
                f"{p.why}; got {verdict.reward:g} ({outcome}): {verdict.reason}",
            )
        )
    return results


def run_probes(
    variants: Sequence[Task],
    parents: dict[str, Task],
    progress: Callable[[int, int], None] | None = None,
) -> ProbeRun:
    """Probe every variant; ground truth is re-derived once per parent (one sandboxed solution run each)."""
    started = time.monotonic()
    by_parent: dict[str, list[Task]] = {}
    for v in variants:
        by_parent.setdefault(v.provenance.parent_id or "", []).append(v)
    results: list[ProbeResult] = []
    cpu = 0.0
    done = 0
    with probe_verifier(variants) as check:
        for parent_id, group in by_parent.items():
            parent = parents.get(parent_id)
            truths: list[GroundTruth | Rejected | None] = [None] * len(group)
            if parent is not None:
                derived = domain_of(parent).derive_truths(
                    parent, [VariantChange(v.prompt.params, v.environment) for v in group]
                )
                cpu += derived.sandbox_cpu_seconds
                truths = list(derived.truths)
            for v, truth in zip(group, truths, strict=True):
                results.extend(probe_variant(v, parent, truth, check))
                done += 1
                if progress is not None:
                    progress(done, len(variants))
    return ProbeRun(results, cpu, time.monotonic() - started)


PROBE_SCHEMA = {
    "variant_id": pl.String,
    "parent_id": pl.String,
    "operator": pl.String,
    "domain": pl.String,
    "probe": pl.String,
    "kind": pl.String,
    "expected": pl.Float64,
    "reward": pl.Float64,
    "passed": pl.Boolean,
    "reason": pl.String,
}


def probe_frame(results: Sequence[ProbeResult]) -> pl.DataFrame:
    """One row per variant per probe (typed, so an empty run still stores)."""
    return pl.DataFrame([r.__dict__ for r in results], schema=PROBE_SCHEMA)


def probe_failures(frame: pl.DataFrame) -> dict[str, list[str]]:
    """variant id -> the failed probes' `probe: reason` lines (variants with no failure are absent)."""
    out: dict[str, list[str]] = {}
    for r in frame.filter(~pl.col("passed")).iter_rows(named=True):
        out.setdefault(r["variant_id"], []).append(f"{r['probe']}: {r['reason']}")
    return out

"""Re-derive ground truth by running a task's reference solution program in the code sandbox.

A solution program defines `solve(**params)`. Operators that change parameters call it to compute the
new answer; the gate calls it to check that the parent's solution logic still transfers to a variant.
Solution programs come from seed files and from users' own generators (often a model), so they are
untrusted: they run exactly where code candidates run (`code_verifier.CodeSandbox`): chrooted into an empty
directory, under a uid of their own, without network, under CPU, memory and process limits.
"""

from __future__ import annotations

import resource
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from rlvr_assets.core.domains.reasoning.answers import canonical_answer
from rlvr_assets.core.sandbox.process import SandboxLimits

_ENTRY = "__rlvr_solve__"
_WRAPPER = """

def __rlvr_solve__(params):
    from fractions import Fraction

    try:
        value = solve(**params)
    except Exception as exc:
        return ["error", (type(exc).__name__ + ": " + str(exc))[:300]]
    if isinstance(value, bool) or not isinstance(value, (int, float, Fraction)):
        return ["error", "TypeError: solve() returned " + type(value).__name__ + ", not a number"]
    if isinstance(value, float):
        value = Fraction(value).limit_denominator(10000)
    return ["ok", str(value)]
"""


@dataclass(frozen=True)
class SolutionRun:
    answers: list[str | None]
    errors: list[str | None]
    cpu_seconds: float


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_solution(program: str, param_sets: list[dict[str, Any]], limits: SandboxLimits | None = None) -> SolutionRun:
    """Evaluate `solve(**params)` for each param set in one job of the code sandbox."""
    from rlvr_assets.core.domains.code.spec import TestCase, UnitTests
    from rlvr_assets.core.domains.code.verifier import CodeSandbox

    if not param_sets:
        return SolutionRun([], [], 0.0)
    limits = limits or SandboxLimits(wall_seconds=10.0, cpu_seconds=10, memory_mb=1024, max_processes=8)
    spec = UnitTests(
        entry_point=_ENTRY,
        cases=[TestCase(args=[params], kwargs={}, expected=None) for params in param_sets],
    )
    before = _children_cpu()
    with CodeSandbox(limits) as box:
        results, failure = box.evaluate(f"```python\n{program}\n{_WRAPPER}```", spec)
    cpu = _children_cpu() - before  # the worker and its jobs, counted once the sandbox is closed
    if failure is not None:
        return SolutionRun([None] * len(param_sets), [f"solution program failed: {failure}"] * len(param_sets), cpu)
    answers: list[str | None] = []
    errors: list[str | None] = []
    for value in results:
        answer, error = _answer_of(value)
        answers.append(answer)
        errors.append(error)
    return SolutionRun(answers, errors, cpu)


def _answer_of(value: Any) -> tuple[str | None, str | None]:
    """(canonical answer, None) or (None, why not) from one sandboxed solve() result."""
    if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value)):
        return None, "solve() gave no result (it raised or the program replaced the wrapper)"
    status, text = value
    if status != "ok":
        return None, text[:300]
    try:
        return canonical_answer(Fraction(text)), None
    except (ValueError, ZeroDivisionError):
        return None, f"solve() returned {text[:60]!r}, not a number"

"""Re-derive ground truth by running a task's reference solution program in the sandbox.

A solution program defines `solve(**params)`. Operators that change parameters call it to compute the
new answer; the gate calls it to check that the parent's solution logic still transfers to a variant.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from rlvr_assets.core.answers import canonical_answer
from rlvr_assets.core.sandbox import SandboxLimits, run_python

_HARNESS = """
import json, sys
from fractions import Fraction
{program}

def _encode(value):
    if isinstance(value, bool):
        raise TypeError("solve() returned a bool, not a number")
    if isinstance(value, (int, float, Fraction)):
        return str(Fraction(value).limit_denominator(10000)) if isinstance(value, float) else str(value)
    raise TypeError(f"solve() returned {{type(value).__name__}}, not a number")

_out = []
for _params in json.loads(sys.stdin.read()):
    try:
        _out.append({{"ok": _encode(solve(**_params))}})
    except Exception as _exc:
        _out.append({{"error": f"{{type(_exc).__name__}}: {{_exc}}"}})
print("{marker}" + json.dumps(_out))
"""


@dataclass(frozen=True)
class SolutionRun:
    answers: list[str | None]
    errors: list[str | None]
    cpu_seconds: float


def run_solution(program: str, param_sets: list[dict[str, Any]], limits: SandboxLimits | None = None) -> SolutionRun:
    """Evaluate `solve(**params)` for each param set in one sandboxed process."""
    marker = f"@@RESULT-{secrets.token_hex(8)}@@"
    result = run_python(_HARNESS.format(program=program, marker=marker), json.dumps(param_sets), limits)
    payload = next((line[len(marker) :] for line in result.stdout.splitlines() if line.startswith(marker)), None)
    if payload is None:
        reason = "timed out" if result.timed_out else f"exit {result.returncode}: {result.stderr.strip()[-300:]}"
        return SolutionRun(
            [None] * len(param_sets), [f"solution program failed: {reason}"] * len(param_sets), result.cpu_seconds
        )
    answers: list[str | None] = []
    errors: list[str | None] = []
    for item in json.loads(payload):
        if "ok" in item:
            answers.append(canonical_answer(Fraction(item["ok"])))
            errors.append(None)
        else:
            answers.append(None)
            errors.append(item["error"])
    return SolutionRun(answers, errors, result.cpu_seconds)

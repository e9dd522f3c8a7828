"""The instruction-following checks as the budget helper (`budget.py`) runs them, in a process of their own.

if-verifiable's checkers run regular expressions of their own on model text, some of them quadratic (the
postscript checker's `\\s*p\\.\\s?s\\..*$` takes 2 s on 20,000 spaces), so `constraints.check_constraints` sends
every check here, under a wall-clock budget. Importing this module loads both checker registries, so the
helper's start-up, not a check's budget, pays for them.
"""

from __future__ import annotations

from typing import Any

from rlvr_assets.core.domains.instruction_following.constraints import (
    _ifbench_registry,
    _ifeval_registry,
    check_constraints_here,
)
from rlvr_assets.core.domains.instruction_following.spec import Constraints

_ifeval_registry()
_ifbench_registry()


def constraint_verdict(completion: str, spec: dict[str, Any], prompt: str | None) -> list[Any]:
    """[reward, reason] of `check_constraints_here` (JSON in, JSON out)."""
    verdict = check_constraints_here(completion, Constraints.model_validate(spec), prompt)
    return [verdict.reward, verdict.reason]

"""The instruction-following domain's verifier spec types, kept apart from the checkers (constraints.py)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from rlvr_assets.core.domains.base import VerifierSpecBase
from rlvr_assets.core.domains.instruction_following.safe_regex import PATTERN_KWARGS, unsafe_strings


class Constraint(VerifierSpecBase):
    id: str
    kwargs: dict[str, Any] = Field(default_factory=dict)

    @field_validator("kwargs")
    @classmethod
    def _bounded_patterns(cls, kwargs: dict[str, Any]) -> dict[str, Any]:
        """The arguments the checkers run as regular expressions must be bounded (`safe_regex.py`): a task file's
        `(a+)+$` would otherwise hang every check of every completion."""
        risky = unsafe_strings({k: v for k, v in kwargs.items() if k in PATTERN_KWARGS})
        if risky:
            where, why = risky[0]
            raise ValueError(f"kwargs.{where} is not a safe regular expression: {why}")
        return kwargs


class Constraints(VerifierSpecBase):
    """Every constraint must hold (ids from the project's checker registry)."""

    type: Literal["constraints"] = "constraints"
    constraints: list[Constraint] = Field(min_length=1)
    registry: Literal["ifeval", "ifbench"] = "ifeval"  # which checker family the ids come from

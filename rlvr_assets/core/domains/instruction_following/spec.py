"""The instruction-following domain's verifier spec types, kept apart from the checkers (constraints.py)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from rlvr_assets.core.domains.base import VerifierSpecBase


class Constraint(VerifierSpecBase):
    id: str
    kwargs: dict[str, Any] = Field(default_factory=dict)


class Constraints(VerifierSpecBase):
    """Every constraint must hold (ids from the project's checker registry)."""

    type: Literal["constraints"] = "constraints"
    constraints: list[Constraint] = Field(min_length=1)
    registry: Literal["ifeval", "ifbench"] = "ifeval"  # which checker family the ids come from

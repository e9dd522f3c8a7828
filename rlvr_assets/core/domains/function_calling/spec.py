"""The function-calling domain's verifier spec types, kept apart from the environments and BFCL's checkers
that judge them."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from rlvr_assets.core.domains.base import VerifierSpecBase


class ToolCall(BaseModel):
    """One parsed tool call: a tool name and its JSON arguments (data, never code)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)


class EnvironmentOutcome(VerifierSpecBase):
    """The final environment state (per top-level key) and the calls that must occur, in order (arguments
    given here must match; others are free)."""

    type: Literal["environment_outcome"] = "environment_outcome"
    expected_state: dict[str, Any] = Field(default_factory=dict)
    required_calls: list[ToolCall] = Field(default_factory=list)
    max_turns: int = 6


class BFCLCalls(VerifierSpecBase):
    """BFCL single-turn categories: the calls must match the ground truth by BFCL's AST rules."""

    type: Literal["bfcl_calls"] = "bfcl_calls"
    functions: list[dict[str, Any]]
    ground_truth: list[dict[str, Any]]


class BFCLMultiTurn(VerifierSpecBase):
    """BFCL multi-turn: later user turns arrive in order; BFCL's state-based checker judges the episode."""

    type: Literal["bfcl_multi_turn"] = "bfcl_multi_turn"
    entry: dict[str, Any]  # id, initial_config, involved_classes
    later_user_turns: list[str]
    ground_truth: list[list[str]]
    max_steps_per_turn: int = 5

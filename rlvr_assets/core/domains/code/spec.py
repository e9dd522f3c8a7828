"""The code domain's verifier spec types: what a task states, kept apart from the checker that runs them
(verifier.py) so the two do not import each other."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from rlvr_assets.core.domains.base import VerifierSpecBase


class TestCase(VerifierSpecBase):
    """One hidden unit test: call the function with `args`/`kwargs`; it must return `expected`."""

    __test__ = False  # not a pytest class
    args: list[Any] = Field(default_factory=list)
    kwargs: dict[str, Any] = Field(default_factory=dict)
    expected: Any


class UnitTests(VerifierSpecBase):
    """Hidden tests run in the sandbox against `entry_point`, either as `cases` (expected values stay
    outside the sandbox) or as HumanEval-style `tests` source defining `check(candidate)`."""

    type: Literal["unit_tests"] = "unit_tests"
    entry_point: str
    cases: list[TestCase] | None = None
    tests: str | None = None
    prelude: str | None = None  # code run before the candidate's (a benchmark's imports and helpers)

    @model_validator(mode="after")
    def _one_style(self) -> UnitTests:
        if (self.cases is None) == (self.tests is None):
            raise ValueError("give exactly one of cases or tests")
        if self.cases is not None and not self.cases:
            raise ValueError("cases must not be empty")
        return self

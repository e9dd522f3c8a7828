"""The reasoning domain's verifier spec type: one checkable final answer."""

from __future__ import annotations

from typing import Literal

from rlvr_assets.core.domains.base import VerifierSpecBase


class NumericAnswer(VerifierSpecBase):
    """The final answer must equal `answer`: a number (integer, fraction, decimal), a choice letter, a
    symbolic expression (compared with sympy), or a JSON value (compared structurally)."""

    type: Literal["numeric_answer"] = "numeric_answer"
    answer: str
    kind: Literal["number", "choice", "expression", "json"] = "number"

    def summary(self) -> str:
        return self.answer

"""Reasoning: math and logic with one checkable final answer.

Seeds give the `answer` (and its kind: a number, a choice letter, a sympy expression or a JSON value) and,
for numeric tasks, a `solution` program `solve(**params)` that re-derives the answer for new params; it
runs in the sandbox (core/domains/reasoning/solutions.py). The verifier reads the final answer line and compares it.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from rlvr_assets.core.domains.base import (
    PROMPT_TEXT_OPERATORS,
    DerivedTruths,
    Domain,
    GroundTruth,
    SeedFieldError,
    Solution,
    TaskView,
    VariantChange,
    parent_truth,
)
from rlvr_assets.core.domains.reasoning.answers import (
    check_choice_answer,
    check_expression_answer,
    check_json_answer,
    check_numeric_answer,
)
from rlvr_assets.core.domains.reasoning.gym_tasks import GymAnswer, gym_item_params, gym_known_bad, verify_gym
from rlvr_assets.core.domains.reasoning.solutions import run_solution
from rlvr_assets.core.domains.reasoning.spec import NumericAnswer
from rlvr_assets.core.domains.reasoning.vf_tasks import VerifiersReward, verify_vf
from rlvr_assets.core.kernel.failures import Rejected
from rlvr_assets.core.kernel.verdict import Verdict

_CHECKERS = {
    "number": check_numeric_answer,
    "choice": check_choice_answer,
    "expression": check_expression_answer,
    "json": check_json_answer,
}


class Reasoning(Domain):
    name: ClassVar[str] = "reasoning"
    seed_fields: ClassVar[frozenset[str]] = frozenset({"solution", "answer", "answer_kind"})
    required_seed_fields: ClassVar[tuple[str, ...]] = ("answer",)
    default_instruction: ClassVar[str] = "Give your final answer on the last line as 'Answer: <number>'."
    spec_types = (
        NumericAnswer,
        GymAnswer,
        VerifiersReward,
    )  # GymAnswer: tasks from a reasoning-gym source (core/interop/sources.py)
    # not obscure_goal: the note frame hides which number plays which role
    operators: ClassVar[frozenset[str]] = PROMPT_TEXT_OPERATORS | {"resample_params"}
    hint: ClassVar[str | None] = "Work through the problem step by step and check the arithmetic before answering."
    format_example: ClassVar[str | None] = (
        "For example, if the result were 1234, the last line would read: Answer: 1234"
    )
    vague_instruction: ClassVar[str | None] = "End with the result."

    def seed_truth(self, record: Mapping[str, Any]) -> dict[str, Any]:
        answer = record["answer"]
        if not isinstance(answer, str | int) or isinstance(answer, bool):
            raise SeedFieldError("answer", "must be a string or an integer")
        kind = record.get("answer_kind", "number")
        if kind == "number" and not record.get("solution"):
            raise SeedFieldError("solution", "numeric reasoning tasks need a solution program (def solve(**params))")
        return {
            "verifier": NumericAnswer(answer=str(answer), kind=kind),
            "reference_solution": f"Answer: {answer}",
            "solution_program": record.get("solution"),
        }

    def verify(self, task: TaskView, completion: Solution) -> Verdict:
        spec = task.verifier
        text = completion if isinstance(completion, str) else "\n".join(completion)
        if isinstance(spec, GymAnswer):
            return verify_gym(spec, text)
        if isinstance(spec, VerifiersReward):
            return verify_vf(spec, text)
        if not isinstance(spec, NumericAnswer):
            return Verdict(0.0, f"reasoning task carries a {spec.type} verifier")
        return _CHECKERS[spec.kind](text, spec.answer)

    def derive_truths(self, parent: TaskView, changes: Sequence[VariantChange]) -> DerivedTruths:
        """New params: run the parent's `solve` on them (one sandboxed process for all changes); a
        reasoning-gym task asks its generator for the item at the new index."""
        if isinstance(parent.verifier, GymAnswer):
            return DerivedTruths([_gym_truth(parent.verifier, c) for c in changes])
        if not parent.solution_program:
            return super().derive_truths(parent, changes)
        spec = parent.verifier
        assert isinstance(spec, NumericAnswer)
        run = run_solution(parent.solution_program, [dict(c.params) for c in changes])
        truths: list[GroundTruth | Rejected] = []
        for answer, error in zip(run.answers, run.errors, strict=True):
            if answer is None:
                truths.append(Rejected(f"reference solution failed on variant params: {error}"))
            elif answer == spec.answer:
                truths.append(parent_truth(parent))
            else:
                truths.append(
                    GroundTruth(
                        spec.model_copy(update={"answer": answer}), f"Answer: {answer}", _known_bad(spec, answer)
                    )
                )
        return DerivedTruths(truths, run.cpu_seconds)

    def resampled_params(self, task: TaskView, params: Mapping[str, Any]) -> dict[str, Any]:
        """A reasoning-gym task's question is the generator's item at the drawn index."""
        if isinstance(task.verifier, GymAnswer) and "index" in params:
            return gym_item_params(task.verifier, int(params["index"]))[0]
        return dict(params)

    def unstated_params(self, variant: TaskView) -> list[str]:
        if isinstance(variant.verifier, GymAnswer):  # the index picks the item; the question states it all
            return []
        shown = set(re.findall(r"\d+(?:\.\d+)?", variant.prompt_text))
        return [
            k
            for k, val in variant.prompt.params.items()
            if isinstance(val, int | float) and not isinstance(val, bool) and str(val) not in shown
        ]


def _gym_truth(spec: GymAnswer, change: VariantChange) -> GroundTruth | Rejected:
    try:
        _params, truth = gym_item_params(spec, int(change.params["index"]))
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        return Rejected(f"reasoning-gym {spec.dataset} has no item for params {dict(change.params)}: {exc!r}")
    bad = gym_known_bad(truth)
    return GroundTruth(truth, f"Answer: {truth.answer}", bad) if bad else Rejected("no known-bad answer fails")


def _known_bad(parent: NumericAnswer, answer: str) -> list[Solution]:
    """A variant with a new answer: the parent's answer and an off-by-one must fail."""
    bad: list[Solution] = [f"Answer: {parent.answer}"]
    with contextlib.suppress(ValueError):
        bad.append(f"Answer: {int(answer) + 1}")
    return bad

"""Reasoning tasks drawn from a reasoning-gym generator: the generator's own `score_answer` is the verifier.

A task remembers which generator item it is (dataset, generator config, seed, index), so the verifier can
rebuild the item and ask reasoning-gym to score the final answer, and `resample_params` can draw a new
index: a fresh item of the same family whose question and answer both come from the generator. Only the
extracted final answer (a string) is ever passed to reasoning-gym; it is installed package code, not the
user's.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any, Literal

from rlvr_assets.core.domains.base import VerifierSpecBase
from rlvr_assets.core.kernel.verdict import Verdict, bounded

# Items are indexes of one lazily generated dataset this large: seeds take the first `size`, resampling
# draws from the rest, so a resampled item is never one of the source's own.
GYM_SPAN = 1_000_000
GYM_INSTRUCTION = "Give your final answer on the last line as 'Answer: <answer>'."
_ANSWER_TAG = re.compile(r"<answer>(.*?)</answer>", re.DOTALL | re.IGNORECASE)
_ANSWER_MARK = re.compile(r"answer\s*:", re.IGNORECASE)
# reasoning-gym scorers run in this process (some parse with sympy): a model's answer reaches them only this long
MAX_GYM_ANSWER_CHARS = 2_000


class GymAnswer(VerifierSpecBase):
    """Item `index` of reasoning-gym dataset `dataset` (built with `config` and `seed`): the final answer is
    scored by that dataset's `score_answer`; `answer` is the generator's reference answer."""

    type: Literal["reasoning_gym"] = "reasoning_gym"
    dataset: str
    config: str = "{}"  # canonical JSON of the generator's keyword arguments
    seed: int
    index: int
    answer: str

    def summary(self) -> str:
        return self.answer


@lru_cache(maxsize=64)
def _dataset(name: str, config: str, seed: int) -> Any:
    import reasoning_gym

    return reasoning_gym.create_dataset(name, size=GYM_SPAN, seed=seed, **json.loads(config))


def gym_entry(name: str, config: Mapping[str, Any] | str, seed: int, index: int) -> dict[str, Any]:
    """One generator item (question, answer, metadata); raises what reasoning-gym raises for a bad spec."""
    text = config if isinstance(config, str) else json.dumps(dict(config), sort_keys=True)
    return _dataset(name, text, seed)[index]


def score_gym_answer(spec: GymAnswer, answer: str) -> float:
    data = _dataset(spec.dataset, spec.config, spec.seed)
    return float(data.score_answer(answer, data[spec.index]))


def final_gym_answer(completion: str) -> str | None:
    """The last `<answer>...</answer>`, else everything after the last 'Answer:' (answers may span lines)."""
    tags = _ANSWER_TAG.findall(completion)
    if tags:
        return tags[-1].strip()
    last = None
    for last in _ANSWER_MARK.finditer(completion):  # noqa: B007 (the last match is the one wanted)
        pass
    if last is None:
        return None
    return completion[last.end() :].strip() or None


def verify_gym(spec: GymAnswer, completion: str) -> Verdict:
    answer = final_gym_answer(completion)
    if answer is None:
        return Verdict(0.0, "no final answer found")
    if len(answer) > MAX_GYM_ANSWER_CHARS:
        return Verdict(0.0, f"final answer longer than {MAX_GYM_ANSWER_CHARS} characters (not scored)")
    score = score_gym_answer(spec, answer)
    if score >= 1.0:
        return Verdict(1.0, "correct (reasoning-gym score_answer)", bounded(answer))
    return Verdict(score, f"reasoning-gym score_answer gave {score:g} for {bounded(answer, 80)!r}", bounded(answer))


def gym_known_bad(spec: GymAnswer) -> list[str]:
    """Wrong answers the generator's scorer gives 0: the V_verify check needs some that must fail."""
    candidates = [f"Answer: {spec.answer} 0", "Answer: none", f"Answer: not {spec.answer}"]
    return [c for c in candidates if score_gym_answer(spec, final_gym_answer(c) or "") == 0.0]


def gym_item_params(spec: GymAnswer, index: int) -> tuple[dict[str, Any], GymAnswer]:
    """The prompt params and verifier of item `index` of the same generator family."""
    entry = gym_entry(spec.dataset, spec.config, spec.seed, index)
    return {"question": entry["question"], "index": index}, spec.model_copy(
        update={"index": index, "answer": str(entry["answer"])}
    )

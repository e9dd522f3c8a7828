"""Final-answer extraction and comparison for checkable-answer (reasoning) tasks.

The verifier fails closed: no parsable answer is reward 0 with a reason, never a pass.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

_NUMBER = r"[-−]?\$?\d[\d,]*(?:\.\d+)?(?:\s*/\s*\d+)?"
_ANSWER_MARKERS = (
    re.compile(r"\\boxed\{\s*(" + _NUMBER + r")\s*\}", re.IGNORECASE),
    re.compile(r"answer\s*(?:is|=|:)\s*\**\s*(" + _NUMBER + r")", re.IGNORECASE),
)
_ANY_NUMBER = re.compile(_NUMBER)
_WORDS = {
    w: i
    for i, w in enumerate(
        [
            "zero",
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
            "thirteen",
            "fourteen",
            "fifteen",
            "sixteen",
            "seventeen",
            "eighteen",
            "nineteen",
            "twenty",
        ]
    )
}
_WORD_ANSWER = re.compile(r"answer\s*(?:is|=|:)\s*\**\s*(" + "|".join(_WORDS) + r")\b", re.IGNORECASE)


@dataclass(frozen=True)
class Verdict:
    reward: float
    reason: str
    parsed: str | None = None


def parse_number(text: str) -> Fraction | None:
    """Parse '1,234', '-3.5', '$12', '3/4' or a small number word into an exact Fraction."""
    cleaned = text.strip().replace("−", "-").replace("$", "").replace(",", "").replace(" ", "")
    if cleaned.lower() in _WORDS:
        return Fraction(_WORDS[cleaned.lower()])
    try:
        return Fraction(cleaned)
    except (ValueError, ZeroDivisionError):
        return None


def extract_final_answer(completion: str) -> str | None:
    """The last explicitly marked answer (\\boxed{}, 'Answer: x', 'the answer is x'), else the last number."""
    for pattern in (*_ANSWER_MARKERS, _WORD_ANSWER):
        matches = pattern.findall(completion)
        if matches:
            return matches[-1]
    numbers = _ANY_NUMBER.findall(completion)
    return numbers[-1] if numbers else None


def canonical_answer(value: object) -> str:
    """Render a solution program's return value the way task files store answers."""
    if isinstance(value, bool):
        raise TypeError("a boolean is not a numeric answer")
    if isinstance(value, int):
        return str(value)
    frac = Fraction(value).limit_denominator(10_000) if isinstance(value, float) else Fraction(value)  # type: ignore[arg-type]
    return str(frac.numerator) if frac.denominator == 1 else f"{frac.numerator}/{frac.denominator}"


def check_numeric_answer(completion: str, expected: str) -> Verdict:
    """Reward 1.0 iff the completion's final answer equals `expected` exactly (as a rational number)."""
    target = parse_number(expected)
    if target is None:
        return Verdict(0.0, f"task answer {expected!r} is not a number (verifier misconfigured)")
    if not completion or not completion.strip():
        return Verdict(0.0, "empty completion")
    raw = extract_final_answer(completion)
    if raw is None:
        return Verdict(0.0, "no final answer found")
    got = parse_number(raw)
    if got is None:
        return Verdict(0.0, f"final answer {raw!r} is not a number", raw)
    if got == target:
        return Verdict(1.0, "correct", raw)
    return Verdict(0.0, f"wrong answer {raw.strip()} (expected {expected})", raw)

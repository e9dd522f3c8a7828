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


_CHOICE_MARKERS = (
    re.compile(r"\\boxed\{\s*\(?([A-Ha-h])\)?\s*\}"),
    re.compile(r"answer\s*(?:is|=|:)\s*\**\s*\(?([A-Ha-h])\)?(?![A-Za-z])", re.IGNORECASE),
    re.compile(r"\(([A-H])\)"),
)
_EXPRESSION_MARKERS = (
    re.compile(r"\\boxed\{(.+?)\}\s*$", re.MULTILINE),
    re.compile(r"answer\s*(?:is|=|:)\s*\**\s*(.+?)\s*\**\s*$", re.IGNORECASE | re.MULTILINE),
)


def check_choice_answer(completion: str, expected: str) -> Verdict:
    """Multiple choice: the last marked option letter must equal `expected` (case-insensitive)."""
    if not completion.strip():
        return Verdict(0.0, "empty completion")
    for pattern in _CHOICE_MARKERS:
        found = pattern.findall(completion)
        if found:
            got = found[-1].upper()
            if got == expected.strip().upper():
                return Verdict(1.0, "correct", got)
            return Verdict(0.0, f"wrong choice {got} (expected {expected})", got)
    return Verdict(0.0, "no choice letter found")


_SAFE_EXPRESSION = re.compile(r"[0-9A-Za-z+\-*/().\s]*")
_ALLOWED_NAMES = {"x", "y", "z", "a", "b", "c", "n", "k", "t", "sqrt", "sin", "cos", "tan", "log", "exp", "pi", "E"}


def check_expression_answer(completion: str, expected: str) -> Verdict:
    """Symbolic answers: equal when sympy simplifies their difference to 0 (e.g. 2*(x+1) vs 2x+2)."""
    import sympy
    from sympy.parsing.sympy_parser import (
        implicit_multiplication_application,
        parse_expr,
        standard_transformations,
    )

    if not completion.strip():
        return Verdict(0.0, "empty completion")
    raw = next((m[-1] for p in _EXPRESSION_MARKERS if (m := p.findall(completion))), None)
    if raw is None:
        return Verdict(0.0, "no final answer found")
    transformations = (*standard_transformations, implicit_multiplication_application)

    def parse(text: str) -> sympy.Expr:
        cleaned = text.strip().rstrip(".").replace("^", "**").replace("−", "-")
        if "=" in cleaned:  # "y = 2x + 1" -> the right-hand side
            cleaned = cleaned.split("=")[-1]
        if len(cleaned) > 200 or not _SAFE_EXPRESSION.fullmatch(cleaned):
            raise ValueError("not a plain math expression")
        names = set(re.findall(r"[A-Za-z_]+", cleaned))
        if not names <= _ALLOWED_NAMES:  # parse_expr evaluates Python: never let model text name anything else
            raise ValueError(f"names {sorted(names - _ALLOWED_NAMES)} are not allowed")
        return parse_expr(cleaned, transformations=transformations, evaluate=True)

    try:
        target = parse(expected)
    except Exception:
        return Verdict(0.0, f"task answer {expected!r} is not an expression (verifier misconfigured)")
    try:
        got = parse(raw)
        equal = sympy.simplify(got - target) == 0
    except Exception:
        return Verdict(0.0, f"final answer {raw!r} is not an expression", raw)
    return Verdict(1.0, "correct", raw) if equal else Verdict(0.0, f"wrong answer {raw} (expected {expected})", raw)

"""Final-answer extraction and comparison for checkable-answer (reasoning) tasks.

The verifier fails closed: no parsable answer is reward 0 with a reason, never a pass.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

_BRACED = r"\{\s*[-−]?\d[\d,]*(?:\.\d+)?\s*\}"
_LATEX_FRACTION = r"\\[dt]?frac\s*(?:" + _BRACED + r"|\d)\s*(?:" + _BRACED + r"|\d)"
_NUMBER = (
    r"[-−]?\$?(?:"
    r"(?:\d+[ \t]*)?"
    + _LATEX_FRACTION  # \frac{3}{4}, \dfrac34, 1\frac{1}{2}
    + r"|\d[\d,]*[ \t]+\d+[ \t]*/[ \t]*\d+"  # a mixed number: 1 1/2
    + r"|\d[\d,]*(?:\.\d+)?(?:\s*/\s*\d+)?"  # 12, 1,234.5, 3/4
    + r")"
)
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


_LATEX_PARTS = re.compile(r"(-?)(\d+)?\\[dt]?frac(?:\{(-?[\d.]+)\}|(\d))(?:\{(-?[\d.]+)\}|(\d))")
_MIXED_PARTS = re.compile(r"(-?)(\d+)[ \t]+(\d+)[ \t]*/[ \t]*(\d+)")
_BIG_EXPONENT = re.compile(r"[eE][-+]?\d{4,}")


def parse_number(text: str) -> Fraction | None:
    """Parse '1,234', '-3.5', '$12', '3/4', '1 1/2', '\\frac{3}{4}' or a small number word into an exact Fraction."""
    cleaned = text.strip().replace("−", "-").replace("$", "").replace(",", "")
    if cleaned.lower() in _WORDS:
        return Fraction(_WORDS[cleaned.lower()])
    compact = re.sub(r"\s+", "", cleaned)
    if _BIG_EXPONENT.search(compact):  # Fraction('1e999999999') would build a gigantic integer
        return None
    try:
        if mixed := _MIXED_PARTS.fullmatch(cleaned):
            sign, whole, num, den = mixed.groups()
            value = int(whole) + Fraction(int(num), int(den))
            return -value if sign else value
        if latex := _LATEX_PARTS.fullmatch(compact):
            sign, whole, num, num_digit, den, den_digit = latex.groups()
            value = Fraction(num or num_digit) / Fraction(den or den_digit)
            if whole:
                value = int(whole) + value
            return -value if sign else value
        if compact.count("/") == 1:
            num, den = compact.split("/")
            return Fraction(num) / Fraction(den)
        return Fraction(compact)
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
_MAX_LITERAL_DIGITS = 30
_MAX_EXPONENT = 64
_MAX_EXPANSION = 5_000  # bound on the digits (numbers) or degree (polynomials) an answer may expand to
_MAX_TERMS = 1_000  # bound on the terms an answer may expand to: (x+y+1)**64 has 2145


def _exponent_value(expr: Any) -> Fraction:
    """The value of a symbol-free exponent built only from numeric literals with + - * / (else ValueError)."""
    if expr.is_Rational:
        return Fraction(int(expr.p), int(expr.q))
    if expr.is_Float:
        return Fraction(str(expr))
    if expr.is_Add:
        return sum((_exponent_value(a) for a in expr.args), Fraction(0))
    if expr.is_Mul:
        value = Fraction(1)
        for a in expr.args:
            value *= _exponent_value(a)
        return value
    if expr.is_Pow and _exponent_value(expr.exp) == -1:  # a division
        return 1 / _exponent_value(expr.base)
    raise ValueError("an exponent without variables must be a plain number")


def _expansion_cost(expr: Any) -> tuple[int, int]:
    """Upper bounds (digits or degree, terms) of what evaluating and simplifying the unevaluated `expr` can build.

    Raises ValueError for what could hang the verifier: integer literals over 30 digits and powers whose
    exponent has no variables but is not a plain number of magnitude <= 64 (9**9**9, 2**(9**9), 2**E).
    """
    if expr.is_Rational:
        digits = len(str(abs(expr.p))), len(str(expr.q))
        if max(digits) > _MAX_LITERAL_DIGITS:
            raise ValueError("number literal too long")
        return sum(digits), 1
    if expr.is_Pow:
        size, terms = _expansion_cost(expr.base)
        if expr.exp.free_symbols:  # x**n, 2**x: kept symbolic, never expanded
            exp_size, exp_terms = _expansion_cost(expr.exp)
            return size + exp_size, terms + exp_terms
        exponent = _exponent_value(expr.exp)
        if abs(exponent) > _MAX_EXPONENT:
            raise ValueError(f"exponent {exponent} is too large")
        power = max(math.ceil(abs(exponent)), 1)
        terms = min(terms, _MAX_TERMS + 1)
        return max(size, 1) * power, math.comb(terms + power - 1, terms - 1)  # terms of a multinomial expansion
    costs = [_expansion_cost(a) for a in expr.args]
    if not costs:
        return 1, 1
    if expr.is_Mul:
        return sum(c[0] for c in costs), math.prod(min(c[1], _MAX_TERMS + 1) for c in costs)
    return sum(c[0] for c in costs), sum(c[1] for c in costs)


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
        unevaluated = parse_expr(cleaned, transformations=transformations, evaluate=False)
        size, terms = _expansion_cost(unevaluated)  # checked before anything is evaluated or simplified
        if size > _MAX_EXPANSION or terms > _MAX_TERMS:
            raise ValueError("expression too large to evaluate")
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


_JSON_MARKERS = (
    re.compile(r"```(?:json|python)?\s*\n(.*?)```", re.DOTALL),
    re.compile(r"answer\s*(?:is|=|:)\s*\**\s*(.+?)\s*\**\s*$", re.IGNORECASE | re.MULTILINE),
)
_MAX_JSON_CHARS = 20_000
# CodeI/O outputs: integers compare exactly; a float expected value accepts |got - expected| <=
# max(1e-6 * max(|got|, |expected|), 1e-9) (math.isclose), since printed floats round-trip imprecisely.
# reasoning-gym's own score_answer compares floats exactly; this tolerance is a documented difference.
JSON_FLOAT_REL_TOL = 1e-6
JSON_FLOAT_ABS_TOL = 1e-9


def _literal(text: str) -> object:
    """A JSON value, or a Python literal (models often write {'a': 1} or True); never evaluates code."""
    import ast

    text = text.strip().rstrip(".").strip()
    if len(text) > _MAX_JSON_CHARS:
        raise ValueError("answer too long")
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return ast.literal_eval(text)


def _same_value(got: object, expected: object) -> bool:
    if isinstance(expected, bool) or isinstance(got, bool):
        return type(got) is type(expected) and got == expected
    if isinstance(expected, int) and isinstance(got, int | float):
        return got == expected  # exact, also against a float (Python compares int and float exactly)
    if isinstance(expected, float) and isinstance(got, int | float):
        return math.isclose(got, expected, rel_tol=JSON_FLOAT_REL_TOL, abs_tol=JSON_FLOAT_ABS_TOL)
    if isinstance(expected, list) and isinstance(got, list | tuple):
        return len(got) == len(expected) and all(_same_value(g, e) for g, e in zip(got, expected, strict=True))
    if isinstance(expected, dict) and isinstance(got, dict):
        return {str(k) for k in got} == set(expected) and all(
            _same_value(got.get(k, got.get(_int_or(k))), v) for k, v in expected.items()
        )
    return got == expected


def _int_or(key: str) -> object:
    return int(key) if key.lstrip("-").isdigit() else key


def check_json_answer(completion: str, expected: str) -> Verdict:
    """A JSON value (a program's output): the last marked answer or fenced block must equal `expected`
    structurally (integers exactly, floats within JSON_FLOAT_REL_TOL, JSON's string keys matching Python's
    int keys)."""
    try:
        target = json.loads(expected)
    except json.JSONDecodeError:
        return Verdict(0.0, f"task answer {expected!r} is not JSON (verifier misconfigured)")
    if not completion.strip():
        return Verdict(0.0, "empty completion")
    raw = next((m[-1] for p in _JSON_MARKERS if (m := p.findall(completion))), None)
    if raw is None:
        return Verdict(0.0, "no final answer found")
    try:
        got = _literal(raw)
    except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
        return Verdict(0.0, f"final answer {raw[:80]!r} is not a JSON value", raw[:200])
    if _same_value(got, target):
        return Verdict(1.0, "correct", raw[:200])
    return Verdict(0.0, f"wrong answer {raw[:80]} (expected {expected[:80]})", raw[:200])

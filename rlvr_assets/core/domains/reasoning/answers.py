"""Final-answer extraction and comparison for checkable-answer (reasoning) tasks.

The verifier fails closed: no parsable answer is reward 0 with a reason, never a pass.
"""

from __future__ import annotations

import json
import math
import re
from fractions import Fraction
from typing import Any

from rlvr_assets.core.kernel.markers import boxed_at_line_end, fenced_blocks, marked_answers
from rlvr_assets.core.kernel.verdict import Verdict

# a minus: the ASCII hyphen-minus, or one a typesetter or model writes for it (minus sign, en dash, figure dash,
# small and fullwidth hyphen-minus): "–7" is -7, never 7 with its sign dropped
MINUS_SIGNS = "-\u2212\u2013\u2012\ufe63\uff0d"
_MINUS = "[" + MINUS_SIGNS + "]"
_INTEGER = r"(?:\d{1,3}(?:,\d{3})+|\d+)"  # 12, 1,234 (commas group thousands: "5,7" is two numbers)
_BRACED = r"\{\s*" + _MINUS + r"?\d[\d,]*(?:\.\d+)?\s*\}"
_LATEX_FRACTION = r"\\[dt]?frac\s*(?:" + _BRACED + r"|\d)\s*(?:" + _BRACED + r"|\d)"
_NUMBER = (
    _MINUS + r"?\$?(?:"
    r"(?:\d+[ \t]*)?"
    + _LATEX_FRACTION  # \frac{3}{4}, \dfrac34, 1\frac{1}{2}
    + r"|"
    + _INTEGER
    + r"[ \t]+\d+[ \t]*/[ \t]*\d+"  # a mixed number: 1 1/2
    + r"|"
    + _INTEGER
    + r"(?:\.\d+)?(?:[eE][-+]?\d+)?(?:\s*/\s*\d+)?"  # 12, 1,234.5, 1.2e3 (one number, not a hedge), 3/4
    + r")"
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
_NUMBER_OR_WORD = re.compile(_NUMBER + r"|\b(?:" + "|".join(_WORDS) + r")\b", re.IGNORECASE)
_BOXED = re.compile(r"\\boxed\{((?:[^{}]|\{[^{}]*\})*)\}")  # one level of nested braces: \boxed{\frac{3}{4}}
_ANSWER_MARK = re.compile(r"answer\s*(?:is|=|:)[ \t]*", re.IGNORECASE)


_LATEX_PARTS = re.compile(r"(-?)(\d+)?\\[dt]?frac(?:\{(-?[\d.]+)\}|(\d))(?:\{(-?[\d.]+)\}|(\d))")
_MIXED_PARTS = re.compile(r"(-?)(\d+)[ \t]+(\d+)[ \t]*/[ \t]*(\d+)")
_BIG_EXPONENT = re.compile(r"[eE][-+]?\d{4,}")


def _ascii_minus(text: str) -> str:
    return text.translate(_TO_ASCII_MINUS)


_TO_ASCII_MINUS = str.maketrans(dict.fromkeys(MINUS_SIGNS[1:], "-"))


def parse_number(text: str) -> Fraction | None:
    """Parse '1,234', '-3.5', '$12', '3/4', '1 1/2', '\\frac{3}{4}' or a small number word into an exact Fraction."""
    cleaned = _ascii_minus(text.strip()).replace("$", "").replace(",", "")
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


def _last_marked(completion: str) -> str | None:
    """The rest of the line after the last 'answer is / answer: / answer =' (None: there is none)."""
    last = None
    for last in _ANSWER_MARK.finditer(completion):  # noqa: B007 (the last match is the one wanted)
        pass
    if last is None:
        return None
    return completion[last.end() :].split("\n", 1)[0]


def _final_span(completion: str) -> str | None:
    """Where the final answer is: the last \\boxed{...}, else the rest of the line after the last
    'answer is / answer: / answer =', else the last line with a number on it (None: nowhere)."""
    boxed = _BOXED.findall(completion)
    if boxed:
        return boxed[-1]
    marked = _last_marked(completion)
    if marked is not None:
        return marked
    for line in reversed(completion.splitlines()):
        if _ANY_NUMBER.search(line):
            return line
    return None


def final_answer_candidates(completion: str) -> list[str]:
    """Every value the final answer names, in order; more than one is a hedge ("5 or 7", "7 + 1", "5, 7").
    In "x = 2 + 5 = 7" only what follows the last '=' counts."""
    span = _final_span(completion)
    if span is None:
        return []
    return [m.strip() for m in _NUMBER_OR_WORD.findall(span.rsplit("=", 1)[-1])]


def extract_final_answer(completion: str) -> str | None:
    """The last value the final answer names (\\boxed{}, 'Answer: x', 'the answer is x', else the last line
    with a number); `final_answer_candidates` lists all of them."""
    candidates = final_answer_candidates(completion)
    return candidates[-1] if candidates else None


def canonical_answer(value: object) -> str:
    """Render a solution program's return value the way task files store answers."""
    if isinstance(value, bool):
        raise TypeError("a boolean is not a numeric answer")
    if isinstance(value, int):
        return str(value)
    frac = Fraction(value).limit_denominator(10_000) if isinstance(value, float) else Fraction(value)  # type: ignore[arg-type]
    return str(frac.numerator) if frac.denominator == 1 else f"{frac.numerator}/{frac.denominator}"


def check_numeric_answer(completion: str, expected: str) -> Verdict:
    """Reward 1.0 iff the completion's final answer is one value equal to `expected` (as a rational number)."""
    target = parse_number(expected)
    if target is None:
        return Verdict(0.0, f"task answer {expected!r} is not a number (verifier misconfigured)")
    if not completion or not completion.strip():
        return Verdict(0.0, "empty completion")
    candidates = final_answer_candidates(completion)
    if not candidates:
        return Verdict(0.0, "no final answer found")
    if len(candidates) > 1:
        shown = ", ".join(candidates[:4]) + (", ..." if len(candidates) > 4 else "")
        return Verdict(0.0, f"hedged: the final answer names {len(candidates)} values ({shown})", candidates[-1])
    raw = candidates[0]
    got = parse_number(raw)
    if got is None:
        return Verdict(0.0, f"final answer {raw!r} is not a number", raw)
    if got == target:
        return Verdict(1.0, "correct", raw)
    return Verdict(0.0, f"wrong answer {raw} (expected {expected})", raw)


_PAREN_LETTER = re.compile(r"\(([A-Ha-h])\)")
_UPPER_LETTER = re.compile(r"(?<![A-Za-z0-9])([A-H])(?![A-Za-z0-9])")
_LOWER_LETTER = re.compile(r"(?<![A-Za-z0-9])([a-h])(?![A-Za-z0-9])")


def _choice_letters(span: str) -> list[str]:
    """The option letters a final answer names: (X) and standalone capitals; lone lowercase letters only when
    there are neither ('answer: b')."""
    letters = [m.upper() for m in _PAREN_LETTER.findall(span)]
    letters += _UPPER_LETTER.findall(_PAREN_LETTER.sub(" ", span))
    if not letters:
        letters = [m.upper() for m in _LOWER_LETTER.findall(span)]
    return letters


def check_choice_answer(completion: str, expected: str) -> Verdict:
    """Multiple choice: the final answer (last \\boxed{}, else the last 'answer is/:' line, else the last line
    with an (X) on it) must name exactly one option letter, equal to `expected` (case-insensitive)."""
    if not completion.strip():
        return Verdict(0.0, "empty completion")
    boxed = _BOXED.findall(completion)
    marked = _last_marked(completion)
    if boxed:
        span = boxed[-1]
    elif marked is not None:
        span = marked
    else:
        span = next((line for line in reversed(completion.splitlines()) if _PAREN_LETTER.search(line)), "")
    letters = list(dict.fromkeys(_choice_letters(span)))
    if not letters:
        return Verdict(0.0, "no choice letter found")
    if len(letters) > 1:
        return Verdict(0.0, f"hedged: the final answer names {len(letters)} options ({', '.join(letters)})")
    got = letters[0]
    if got == expected.strip().upper():
        return Verdict(1.0, "correct", got)
    return Verdict(0.0, f"wrong choice {got} (expected {expected})", got)


# the last \boxed{...} closing its line, else the last "answer: ..." line (linear scans: `markers.py`)
_EXPRESSION_MARKERS = (boxed_at_line_end, marked_answers)


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


_EXPRESSION_BUDGET_SECONDS = 5.0
_PROBES = 8


def _parse_expression(text: str) -> Any:
    """A guarded sympy parse of a plain math expression (ValueError for anything else or anything too big)."""
    from sympy.parsing.sympy_parser import implicit_multiplication_application, parse_expr, standard_transformations

    transformations = (*standard_transformations, implicit_multiplication_application)
    cleaned = _ascii_minus(text.strip().rstrip(".").replace("^", "**"))
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


def _numerically_different(got: Any, target: Any) -> bool:
    """True when the two differ at some random point where both are finite: a cheap, certain 'no'."""
    import random

    symbols = sorted(got.free_symbols | target.free_symbols, key=str)
    rng = random.Random(0)
    for _ in range(_PROBES):
        point = {s: rng.choice((-1, 1)) * rng.uniform(0.2, 2.0) for s in symbols}
        try:
            a, b = complex(got.evalf(20, subs=point)), complex(target.evalf(20, subs=point))
        except (TypeError, ValueError, OverflowError, ZeroDivisionError, ArithmeticError):
            continue
        if not all(math.isfinite(v) for v in (a.real, a.imag, b.real, b.imag)):
            continue
        if abs(a - b) > 1e-9 * max(1.0, abs(a), abs(b)):
            return True
    return False


def compare_expressions(answer: str, expected: str) -> list[str]:
    """[outcome, detail] with outcome 'equal', 'different', 'bad_answer' or 'bad_task'. Runs in a budgeted
    helper process (`budget.py`): a wrong answer is usually told apart numerically at once; only answers
    that agree numerically go to `simplify`, whose cost the helper's budget bounds."""
    import sympy

    try:
        target = _parse_expression(expected)
    except Exception as exc:
        return ["bad_task", type(exc).__name__]
    try:
        got = _parse_expression(answer)
    except Exception as exc:
        return ["bad_answer", str(exc)[:100] if isinstance(exc, ValueError) else type(exc).__name__]
    if got == target:
        return ["equal", "identical"]
    if _numerically_different(got, target):
        return ["different", "numerically"]
    if sympy.simplify(got - target) != 0:
        return ["different", "symbolically"]
    form = _form(target)
    if form is not None and _form(got) != form:
        return ["wrong_form", form]
    return ["equal", "simplified"]


def _form(expr: Any) -> str | None:
    """'expanded' or 'factored' when the expression is in exactly one of those forms, else None. The expected
    answer's form is part of the task ("expand (x+3)(x-1)"): an equal answer in another form, such as the
    product echoed back, does not do what was asked."""
    import sympy

    expanded = sympy.expand(expr) == expr
    factored = sympy.factor(expr) == expr
    if expanded != factored:
        return "expanded" if expanded else "factored"
    return None


def check_expression_answer(completion: str, expected: str) -> Verdict:
    """Symbolic answers: equal when sympy simplifies their difference to 0 (e.g. 2*(x+1) vs 2x+2), compared in a
    helper process under a time budget; past it the reward is 0: "expression too costly to compare"."""
    from rlvr_assets.core.sandbox.budget import BudgetExceeded, budgeted

    if not completion.strip():
        return Verdict(0.0, "empty completion")
    raw = next((m[-1] for p in _EXPRESSION_MARKERS if (m := p(completion))), None)
    if raw is None:
        return Verdict(0.0, "no final answer found")
    compare = budgeted("rlvr_assets.core.domains.reasoning.answers:compare_expressions")
    try:
        outcome, _detail = compare(raw, expected, budget_seconds=_EXPRESSION_BUDGET_SECONDS)
    except BudgetExceeded:
        return Verdict(0.0, "expression too costly to compare", raw)
    except RuntimeError as exc:
        return Verdict(0.0, f"expression check failed: {exc}", raw)
    if outcome == "bad_task":
        return Verdict(0.0, f"task answer {expected!r} is not an expression (verifier misconfigured)")
    if outcome == "bad_answer":
        return Verdict(0.0, f"final answer {raw!r} is not an expression", raw)
    if outcome == "equal":
        return Verdict(1.0, "correct", raw)
    if outcome == "wrong_form":
        return Verdict(0.0, f"answer {raw} equals the expected value but is not {_detail} like it", raw)
    return Verdict(0.0, f"wrong answer {raw} (expected {expected})", raw)


def _json_fences(text: str) -> list[str]:
    return fenced_blocks(text, ("json", "python"))


_JSON_MARKERS = (_json_fences, marked_answers)  # the last fenced block, else the last "answer: ..." line
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
        try:
            return math.isclose(got, expected, rel_tol=JSON_FLOAT_REL_TOL, abs_tol=JSON_FLOAT_ABS_TOL)
        except OverflowError:  # an int beyond float range is no float's neighbour
            return False
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
    raw = next((m[-1] for p in _JSON_MARKERS if (m := p(completion))), None)
    if raw is None:
        return Verdict(0.0, "no final answer found")
    try:
        got = _literal(raw)
    except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
        return Verdict(0.0, f"final answer {raw[:80]!r} is not a JSON value", raw[:200])
    if _same_value(got, target):
        return Verdict(1.0, "correct", raw[:200])
    return Verdict(0.0, f"wrong answer {raw[:80]} (expected {expected[:80]})", raw[:200])

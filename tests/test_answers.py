from fractions import Fraction

import pytest

from rlvr_assets.core.domains.reasoning.answers import (
    canonical_answer,
    check_json_answer,
    check_numeric_answer,
    extract_final_answer,
    parse_number,
)


@pytest.mark.parametrize(
    ("completion", "expected"),
    [
        ("7 + 5 = 12.\nAnswer: 12", "12"),
        ("The answer is 12.", "12"),
        ("so \\boxed{3/4} is it", "3/4"),
        ("Answer: twelve", "twelve"),
        ("I think 3 then 4 then 9", "9"),
        ("Answer: 5. Wait, no. Answer: 7", "7"),
    ],
)
def test_extracts_the_last_marked_answer(completion: str, expected: str) -> None:
    assert extract_final_answer(completion).strip() == expected


def test_numbers_compare_exactly() -> None:
    assert parse_number("1,234") == 1234
    assert parse_number("$12") == 12
    assert parse_number("0.75") == Fraction(3, 4) == parse_number("3/4")
    assert parse_number("abc") is None
    assert canonical_answer(Fraction(6, 3)) == "2"
    assert canonical_answer(0.5) == "1/2"


def test_verifier_fails_closed() -> None:
    assert check_numeric_answer("Answer: 12", "12").reward == 1.0
    assert check_numeric_answer("Answer: 13", "12").reward == 0.0
    empty = check_numeric_answer("   ", "12")
    assert empty.reward == 0.0 and "empty" in empty.reason
    no_number = check_numeric_answer("I do not know", "12")
    assert no_number.reward == 0.0 and "no final answer" in no_number.reason
    # a misconfigured task never passes anything
    assert check_numeric_answer("Answer: 12", "twelve-ish").reward == 0.0


def test_multiple_choice_answers() -> None:
    from rlvr_assets.core.domains.reasoning.answers import check_choice_answer

    assert check_choice_answer("3/4 is biggest.\nAnswer: (A)", "A").reward == 1.0
    assert check_choice_answer("The answer is b", "B").reward == 1.0
    assert check_choice_answer("Answer: (C)", "A").reward == 0.0
    assert check_choice_answer("no idea", "A").reward == 0.0


def test_expression_answers_compare_symbolically() -> None:
    from rlvr_assets.core.domains.reasoning.answers import check_expression_answer

    assert check_expression_answer("Answer: x^2 + 2x - 3", "x**2 + 2*x - 3").reward == 1.0
    assert check_expression_answer("so y = (x+3)*(x-1)", "x**2 + 2*x - 3").reward == 0.0  # no marked answer
    # the expected answer is expanded, so the product it came from (echoed back) does not do the task (issue 20)
    assert check_expression_answer("\\boxed{(x + 3)(x - 1)}", "x**2 + 2*x - 3").reward == 0.0
    assert check_expression_answer("\\boxed{(x - 1)(x + 3)}", "(x + 3)*(x - 1)").reward == 1.0
    assert check_expression_answer("Answer: x^2 - 3", "x**2 + 2*x - 3").reward == 0.0
    assert check_expression_answer("Answer: import os", "x + 1").reward == 0.0


def test_huge_powers_are_rejected_quickly_not_evaluated() -> None:
    import time

    from rlvr_assets.core.domains.reasoning.answers import check_expression_answer

    for answer in ("9**9**9", "9^9^9", "9**(9**9)", "2^(64*64*64*64*64)", "((((10^60)^64)^64)^64)^64", "sqrt(9^9^9)"):
        start = time.monotonic()
        verdict = check_expression_answer(f"Answer: {answer}", "x + 1")
        assert verdict.reward == 0.0 and time.monotonic() - start < 2, answer
    assert check_expression_answer("Answer: 1234567890123456789012345678901234567890", "1").reward == 0.0
    # ordinary powers, roots and big-but-bounded numbers still compare
    assert check_expression_answer("Answer: 9^9", "387420489").reward == 1.0
    assert check_expression_answer("Answer: x^(1/2) + 2^-3", "sqrt(x) + 1/8").reward == 1.0
    assert check_expression_answer("Answer: x^3 + 3x^2 + 3x + 1", "x**3 + 3*x**2 + 3*x + 1").reward == 1.0
    assert check_expression_answer("Answer: (x+1)^3", "(x + 1)**3").reward == 1.0


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("\\frac{3}{4}", Fraction(3, 4)),
        ("\\dfrac{3}{4}", Fraction(3, 4)),
        ("\\tfrac34", Fraction(3, 4)),
        ("-\\frac{3}{4}", Fraction(-3, 4)),
        ("3/4", Fraction(3, 4)),
        ("3 / 4", Fraction(3, 4)),
        ("1 1/2", Fraction(3, 2)),
        ("-1 1/2", Fraction(-3, 2)),
        ("2\\frac{1}{2}", Fraction(5, 2)),
    ],
)
def test_fraction_forms_parse_to_their_value(text: str, value: Fraction) -> None:
    assert parse_number(text) == value


@pytest.mark.parametrize(
    ("completion", "expected"),
    [
        ("so the answer is \\boxed{\\frac{3}{4}}", "3/4"),
        ("Answer: \\dfrac{3}{4}", "3/4"),
        ("Answer: 3/4", "0.75"),
        ("It takes 1 1/2 hours.\nAnswer: 1 1/2", "3/2"),
        ("Answer: -1 1/2", "-3/2"),
    ],
)
def test_fraction_answers_are_graded_by_value(completion: str, expected: str) -> None:
    assert check_numeric_answer(completion, expected).reward == 1.0
    assert check_numeric_answer(completion, "11/2").reward == 0.0  # '1 1/2' is not 11/2


@pytest.mark.parametrize(
    ("completion", "reward"),
    [
        ('The function returns a dict.\nAnswer: {"total": 3, "ok": true}', 1.0),
        ("Answer: {'total': 3.0, 'ok': True}", 1.0),  # a Python literal; 3.0 equals the integer 3 exactly
        ("Answer: {'total': 3.0000001, 'ok': True}", 0.0),  # an integer output has no tolerance
        ('```json\n{\n  "ok": true,\n  "total": 3\n}\n```', 1.0),
        ('Answer: {"total": 3}', 0.0),
        ('Answer: {"total": 3, "ok": 1}', 0.0),  # 1 is not true
        ("Answer: __import__('os').system('true')", 0.0),  # never evaluated
        ("The output is probably 3.", 0.0),
    ],
)
def test_json_answers_compare_structurally_and_never_evaluate(completion: str, reward: float) -> None:
    assert check_json_answer(completion, '{"total": 3, "ok": true}').reward == reward


def test_json_answers_match_int_keys_and_tuples() -> None:
    assert check_json_answer("Answer: {1: (2, 3)}", '{"1": [2, 3]}').reward == 1.0
    assert check_json_answer("Answer: [1, 2]", "[1, 2, 3]").reward == 0.0


def test_json_answers_compare_integers_exactly_and_floats_within_tolerance() -> None:
    assert check_json_answer("Answer: 5409059695", "5409059695").reward == 1.0
    assert check_json_answer("Answer: 5409059696", "5409059695").reward == 0.0  # within rel 1e-6, still wrong
    assert check_json_answer('Answer: {"n": [1, 2, 4]}', '{"n": [1, 2, 3]}').reward == 0.0
    assert check_json_answer("Answer: 0.30000000000000004", "0.3").reward == 1.0  # floats: rel 1e-6
    assert check_json_answer("Answer: 0.3001", "0.3").reward == 0.0

"""Hedged answers fail: one final answer names one value (or one option), and booleans are not numbers."""

import pytest

from rlvr_assets.core.domains.code.spec import TestCase, UnitTests
from rlvr_assets.core.domains.code.verifier import check_code
from rlvr_assets.core.domains.reasoning.answers import (
    check_choice_answer,
    check_expression_answer,
    check_json_answer,
    check_numeric_answer,
)


@pytest.mark.parametrize(
    "completion",
    [
        # the cases
        "The answer is either 5 or 7",
        "Answer: 7 or 5",
        "\\boxed{5, 7}",
        "Answer: 7 + 1",
        # the same kinds, not listed there
        "Answer: 5 or 7",
        "Answer: 7, 5",
        "Answer: 5,7",
        "Answer: 7 and 5",
        "Answer: 7 (or maybe 8)",
        "Answer: 6-8",
        "Answer: 7 ± 1",
        "The answer is seven or eight",
        "Answer: 7 or eight",
        "\\boxed{7 \\text{ or } 5}",
        "so it is \\boxed{7}, \\boxed{5, 7}",
        "Answer: 7/1 or 5",
        "I think 5 or 7",  # unmarked: the last line with a number must name one value
    ],
)
def test_numeric_hedges_score_zero(completion: str) -> None:
    verdict = check_numeric_answer(completion, "7")
    assert verdict.reward == 0.0, completion
    assert "hedged" in verdict.reason or "wrong" in verdict.reason


@pytest.mark.parametrize(
    "completion",
    [
        "Answer: 7",
        "Answer: **7**",
        "The answer is 7.",
        "4 + 3 = 7\nAnswer: 7",
        "Answer: 4 + 3 = 7",
        "\\boxed{7}",
        "Answer: $7",
        "Answer: 5. Wait, no. Answer: 7",
        "Answer: seven",
        "3 and 4 make 7 in total.\nSo we get 7",
    ],
)
def test_single_values_still_score(completion: str) -> None:
    assert check_numeric_answer(completion, "7").reward == 1.0, completion


def test_thousands_separators_are_one_value() -> None:
    assert check_numeric_answer("Answer: 1,234", "1234").reward == 1.0
    assert check_numeric_answer("Answer: 1,234,567.5", "2469135/2").reward == 1.0
    assert check_numeric_answer("Answer: \\frac{3}{4}", "3/4").reward == 1.0
    assert check_numeric_answer("Answer: 1 1/2", "3/2").reward == 1.0


@pytest.mark.parametrize(
    "completion",
    [
        "A or B",  # the cases
        "(D) (C) (B) (A)",
        "Answer: A or B",
        "Answer: (A) or (B)",
        "Answer: A, B",
        "Answer: A/B",
        "Answer: (A) and (C)",
        "The answer is a or b",
        "\\boxed{A, B}",
        "\\boxed{(A)(B)}",
        "I would say (B) or maybe (A)",
    ],
)
def test_choice_hedges_score_zero(completion: str) -> None:
    for expected in ("A", "B"):
        verdict = check_choice_answer(completion, expected)
        assert verdict.reward == 0.0, (completion, expected)


@pytest.mark.parametrize(
    "completion",
    ["Answer: (A)", "Answer: A", "The answer is a", "\\boxed{A}", "(B) is wrong.\nSo (A)", "Answer: (A) 3/4"],
)
def test_one_choice_still_scores(completion: str) -> None:
    assert check_choice_answer(completion, "A").reward == 1.0, completion


@pytest.mark.parametrize(
    "completion",
    ["Answer: x + 1 or x - 1", "Answer: x + 1, x - 1", "\\boxed{x + 1, x - 1}", "Answer: x + 1 (or x - 1)"],
)
def test_expression_hedges_score_zero(completion: str) -> None:
    assert check_expression_answer(completion, "x + 1").reward == 0.0


@pytest.mark.parametrize("completion", ["Answer: 3 or 4", "Answer: 3, 4", "Answer: [3] or [4]"])
def test_json_hedges_score_zero(completion: str) -> None:
    assert check_json_answer(completion, "3").reward == 0.0


@pytest.mark.parametrize(
    ("returned", "expected"),
    [
        ("1.0", True),  # the cases
        ("0.0", False),
        ("1", True),
        ("True", 1.0),  # and the other way round
        ("False", 0.0),
        ("[1.0, 0.0]", [True, False]),
        ("{'ok': 1.0}", {"ok": True}),
        ("(True,)", [1.0]),
    ],
)
def test_booleans_compare_as_booleans_in_code_tasks(returned: str, expected: object) -> None:
    spec = UnitTests(entry_point="f", cases=[TestCase(args=[], expected=expected)])
    assert check_code(f"```python\ndef f():\n    return {returned}\n```", spec).reward == 0.0
    assert check_code(f"```python\ndef f():\n    return {expected!r}\n```", spec).reward == 1.0

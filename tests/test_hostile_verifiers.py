"""Class 6 of issue 20: verifiers reward the work asked for, not empty or echoed text, and read numbers the
way people write them (a typographic minus is a minus; scientific notation is one number, not a hedge)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rlvr_assets.core.domains.instruction_following.constraints import check_constraints
from rlvr_assets.core.domains.instruction_following.spec import Constraint, Constraints
from rlvr_assets.core.domains.reasoning.answers import MINUS_SIGNS, check_expression_answer, check_numeric_answer


@pytest.mark.parametrize("minus", list(MINUS_SIGNS))
def test_a_typographic_minus_is_a_minus(minus: str) -> None:
    assert check_numeric_answer(f"Answer: {minus}7", "-7").reward == 1.0
    assert check_numeric_answer(f"Answer: {minus}7", "7").reward == 0.0


@pytest.mark.parametrize(
    ("written", "value"), [("1.2e3", "1200"), ("2E5", "200000"), ("5e-1", "1/2"), ("-3.5e2", "-350")]
)
def test_scientific_notation_is_one_number_not_a_hedge(written: str, value: str) -> None:
    verdict = check_numeric_answer(f"The answer is {written}", value)
    assert verdict.reward == 1.0, verdict.reason


@settings(max_examples=300, deadline=1000, database=None)
@given(
    mantissa=st.integers(-(10**6), 10**6),
    exponent=st.integers(-20, 20),
    minus=st.sampled_from(MINUS_SIGNS),
    marker=st.sampled_from(["Answer: ", "The answer is ", "\\boxed{"]),
)
def test_generated_numbers_are_read_with_their_sign_and_exponent(mantissa, exponent, minus, marker) -> None:
    from fractions import Fraction

    text = f"{abs(mantissa)}e{exponent}"
    signed = (minus if mantissa < 0 else "") + text
    completion = marker + signed + ("}" if marker.startswith("\\") else "")
    value = Fraction(mantissa) * Fraction(10) ** exponent
    assert check_numeric_answer(completion, str(value)).reward == 1.0
    if mantissa != 0:
        assert check_numeric_answer(completion, str(-value)).reward == 0.0


def test_echoing_the_product_does_not_pass_expand() -> None:
    expected = "x**2 + 2*x - 3"  # the seed expand-product: "Expand (x + 3)(x - 1) and simplify."
    verdict = check_expression_answer("Answer: (x + 3)(x - 1)", expected)
    assert verdict.reward == 0.0 and "not expanded" in verdict.reason
    assert check_expression_answer("Answer: x^2 + 2x - 3", expected).reward == 1.0


CONTENT_FREE = ["", " ", ".", '""', "* \n* \n* \n* ", "***", "!?", "1", "- -"]
RESTRICTING = Constraints(
    constraints=[
        Constraint(id="change_case:english_lowercase"),
        Constraint(id="punctuation:no_comma"),
        Constraint(id="length_constraints:number_words", kwargs={"num_words": 40, "relation": "less than"}),
    ]
)


@pytest.mark.parametrize("text", CONTENT_FREE)
def test_content_free_text_does_not_satisfy_constraints_that_presume_a_response(text: str) -> None:
    verdict = check_constraints(text, RESTRICTING)
    assert verdict.reward == 0.0
    assert check_constraints("please water the tomato plants", RESTRICTING).reward == 1.0

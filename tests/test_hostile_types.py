"""Class 3 of issue 20: code results are scored by exact type rules, never by what `float()` makes of them."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rlvr_assets.core.domains.code.spec import TestCase, UnitTests
from rlvr_assets.core.domains.code.verifier import CodeSandbox, _equal


@pytest.fixture(scope="module")
def box():
    with CodeSandbox() as sandbox:
        yield sandbox


def _returning(value: str) -> str:
    return f"```python\ndef f():\n    return {value}\n```"


@pytest.mark.parametrize(
    ("returned", "expected", "reward"),
    [
        ('"2.5"', 2.5, 0.0),  # a string that reads as the number is not the number
        ("2.5", "2.50", 0.0),  # nor the other way round
        ('"2.5"', "2.5", 1.0),
        ("2.5000000000001", 2.5, 1.0),  # the float tolerance holds between numbers
        ("3", 3.0, 1.0),
        ("3.0", 3, 1.0),
        ("True", 1, 0.0),  # a bool is not a number
        ("1", True, 0.0),
        ('["2.5"]', [2.5], 0.0),
        ('{"a": "1"}', {"a": 1}, 0.0),
        ("10**400", 1e308, 0.0),  # an int beyond float range is no float's neighbour, not a crash
    ],
)
def test_code_results_compare_by_exact_type(box, returned: str, expected, reward: float) -> None:
    spec = UnitTests(entry_point="f", cases=[TestCase(args=[], expected=expected)])
    assert box.check(_returning(returned), spec).reward == reward


def _kind(value) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, list | tuple):
        return "sequence"
    return type(value).__name__


scalars = st.one_of(
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(alphabet="0123456789.-e +", max_size=6),
    st.none(),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=2), inner, max_size=3),
    max_leaves=8,
)


def _same_shape(a, b) -> bool:
    if _kind(a) != _kind(b):
        return False
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(_same_shape(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same_shape(a[k], b[k]) for k in a)
    return True


@settings(max_examples=400, deadline=1000, database=None)
@given(got=values, expected=values)
def test_equal_only_ever_matches_values_of_the_same_kinds(got, expected) -> None:
    if _equal(got, expected):
        assert _same_shape(got, expected)


@settings(max_examples=200, deadline=1000, database=None)
@given(number=st.one_of(st.integers(), st.floats(allow_nan=False, allow_infinity=False)))
def test_a_number_never_equals_its_text_and_always_equals_itself(number) -> None:
    assert _equal(number, number)
    assert not _equal(str(number), number) and not _equal(number, str(number))
    if isinstance(number, float) and math.isfinite(number) and number == int(number) and abs(number) < 2**53:
        assert _equal(int(number), number)

"""Class 2 of issue 20: answer markers, tool-call tags and code fences are found in linear time, and every
regular expression a seed or candidate file supplies is checked before it is ever run."""

import re
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rlvr_assets.core.domains.code.verifier import extract_code
from rlvr_assets.core.domains.function_calling.environments import parse_tool_calls
from rlvr_assets.core.domains.reasoning.answers import check_expression_answer, check_json_answer, check_numeric_answer
from rlvr_assets.core.kernel.markers import boxed_at_line_end, fenced_blocks, marked_answers, tagged

OLD_MARKED = re.compile(r"answer\s*(?:is|=|:)\s*\**\s*(.+?)\s*\**\s*$", re.IGNORECASE | re.MULTILINE)
OLD_BOXED = re.compile(r"\\boxed\{(.+?)\}\s*$", re.MULTILINE)
OLD_JSON_FENCE = re.compile(r"```(?:json|python)?\s*\n(.*?)```", re.DOTALL)
OLD_TAG = re.compile(r"<tool_call>\s*(.*?)\s*</tool_call>", re.DOTALL)

PIECES = ["answer", "Answer is", "answer:", "=", ":", " ", "  ", "\n", "\t", "*", "**", "x", "7", "y+1", "}", "{"]
PIECES += ["\\boxed{", "```", "```json", "```python", "<tool_call>", "</tool_call>", "\r", "a b"]
texts = st.lists(st.sampled_from(PIECES), max_size=14).map("".join)


def _no_junk(values: list[str]) -> list[str]:
    # where the old pattern matched only by backtracking into spaces or stars, the new scan says ""
    return ["" if not v.strip(" \t\r\f\v*") else v for v in values]


@settings(max_examples=3000, deadline=1000, database=None)
@given(text=texts)
def test_the_linear_scans_find_what_the_old_patterns_found(text: str) -> None:
    assert _no_junk(marked_answers(text)) == _no_junk(OLD_MARKED.findall(text))
    assert boxed_at_line_end(text) == OLD_BOXED.findall(text)
    assert fenced_blocks(text, ("json", "python")) == OLD_JSON_FENCE.findall(text)
    assert tagged(text, "<tool_call>", "</tool_call>") == OLD_TAG.findall(text)


HOSTILE = {
    "spaces inside an answer": "Answer: x" + " " * 2_600 + "y",
    "spaces and stars": "Answer: x" + " *" * 20_000 + "y",
    "many markers": "answer: " * 30_000,
    "unclosed boxes": "\\boxed{" * 40_000,
    "unclosed fences": "```json " * 30_000,
    "opening tags": "<tool_call>" * 20_000,
    "repeated tags": '<tool_call>{"name": "f", "arguments": {}}</tool_call>' * 4_000 + "<tool_call>" * 5_000,
}


@pytest.mark.parametrize("name", HOSTILE)
def test_markers_are_linear_on_hostile_text(name: str) -> None:
    text = HOSTILE[name]
    start = time.monotonic()
    marked_answers(text), boxed_at_line_end(text), fenced_blocks(text, ("json",)), tagged(text, "<a>", "</a>")
    extract_code(text), parse_tool_calls(text)
    assert time.monotonic() - start < 2.0


@pytest.mark.parametrize("name", HOSTILE)
def test_answer_checks_stay_within_their_budget_on_hostile_text(name: str) -> None:
    text = HOSTILE[name]
    for check, expected in ((check_expression_answer, "x+y"), (check_json_answer, "1"), (check_numeric_answer, "7")):
        start = time.monotonic()
        verdict = check(text, expected)
        assert verdict.reward == 0.0
        assert time.monotonic() - start < 6.0, f"{check.__name__} on {name}"  # the expression budget is 5 s


hostile_runs = st.lists(
    st.tuples(
        st.sampled_from(["Answer: ", " ", "*", "\n", "7", "x", "\\boxed{", "}", "```json\n", "<tool_call>"]),
        st.integers(1, 3_000),
    ),
    min_size=1,
    max_size=5,
).map(lambda runs: "".join(piece * count for piece, count in runs))


@settings(max_examples=60, deadline=3000, database=None)
@given(text=hostile_runs)
def test_generated_runs_never_slow_the_markers(text: str) -> None:
    start = time.monotonic()
    marked_answers(text), boxed_at_line_end(text), fenced_blocks(text, ("json", "python")), parse_tool_calls(text)
    check_numeric_answer(text, "7")
    assert time.monotonic() - start < 1.0

"""Class 2 of issue 20, the patterns a task file supplies: instruction-following arguments that checkers run as
regular expressions are judged bounded before use, and the checks themselves run under a time budget."""

import json
import re
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from rlvr_assets.cli import main
from rlvr_assets.core.domains.instruction_following.constraints import CONSTRAINT_BUDGET_SECONDS, check_constraints
from rlvr_assets.core.domains.instruction_following.safe_regex import UnsafePattern, check_pattern
from rlvr_assets.core.domains.instruction_following.spec import Constraint, Constraints

CATASTROPHIC = ["(a+)+$", "(\\w|\\w)*!", "(a|aa)*b", "(x*)*y", "(.*a){12}", "^(\\s*)*$", "a?" * 30 + "a" * 30]


@pytest.mark.parametrize("pattern", CATASTROPHIC)
def test_a_catastrophic_keyword_is_rejected_when_the_task_is_read(pattern: str) -> None:
    with pytest.raises(ValidationError, match="not a safe regular expression"):
        Constraint(id="keywords:existence", kwargs={"keywords": ["fine", pattern]})


@pytest.mark.parametrize("text", ["tomato", "P.S.", "Is there anything else I can help with?", "SECTION", "it's"])
def test_plain_words_and_phrases_stay_valid(text: str) -> None:
    Constraint(id="keywords:existence", kwargs={"keywords": [text], "postscript_marker": text})


def test_seeds_validate_on_a_catastrophic_keyword_is_a_line_naming_the_field_not_a_hang(tmp_path: Path, capsys) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    record = {
        "name": "regex-bomb",
        "split": "base",
        "domain": "instruction_following",
        "template": "Say hello.",
        "constraints": [{"id": "keywords:existence", "kwargs": {"keywords": ["(a+)+$"]}}],
        "reference": "a" * 40 + "!",
        "known_bad": ["b"],
    }
    (seeds / "if.jsonl").write_text(json.dumps(record) + "\n")
    start = time.monotonic()
    code = main(["seeds", "validate", "--seeds-dir", str(seeds)])
    assert time.monotonic() - start < 30
    out = capsys.readouterr().out
    assert code == 1 and "regex-bomb" in out and "keywords" in out and "not a safe regular expression" in out


def test_a_quadratic_checker_pattern_is_cut_off_by_the_budget() -> None:
    # if-verifiable's own postscript pattern is quadratic in a run of spaces
    spec = Constraints(
        constraints=[Constraint(id="detectable_content:postscript", kwargs={"postscript_marker": "P.S."})]
    )
    assert check_constraints("Hi.\nP.S. bye", spec).reward == 1.0  # the helper's start-up is not the check's
    start = time.monotonic()
    verdict = check_constraints("x" + " " * 80_000 + "y", spec)
    assert time.monotonic() - start < CONSTRAINT_BUDGET_SECONDS + 3
    assert verdict.reward == 0.0
    assert check_constraints("Hello there.\nP.S. see you", spec).reward == 1.0  # a fresh helper afterwards


ATOMS = ["a", "\\w", ".", "[ab]", "(a|aa)", "\\s", "x"]
QUANTIFIERS = ["", "?", "*", "+", "{1,3}", "{2,}", "{0,50}"]


@st.composite
def patterns(draw) -> str:
    def term(depth: int) -> str:
        if depth < 2 and draw(st.booleans()):
            inner = "".join(term(depth + 1) for _ in range(draw(st.integers(1, 3))))
            return f"({inner})" + draw(st.sampled_from(QUANTIFIERS))
        return draw(st.sampled_from(ATOMS)) + draw(st.sampled_from(QUANTIFIERS))

    return "".join(term(0) for _ in range(draw(st.integers(1, 5))))


SUBJECTS = ["a" * 3_000 + "!", "ab" * 1_500 + "!", " " * 3_000 + "!", "x" * 3_000]


@settings(max_examples=300, deadline=2000, database=None)
@given(pattern=patterns())
def test_every_pattern_judged_bounded_runs_fast_on_hostile_text(pattern: str) -> None:
    try:
        check_pattern(pattern)
    except UnsafePattern:
        return
    compiled = re.compile(pattern, re.IGNORECASE)
    for subject in SUBJECTS:
        start = time.monotonic()
        compiled.findall(subject)
        re.split(r"\s?" + pattern + r"\s?\d+\s?", subject)  # the way the section checker builds its pattern
        assert time.monotonic() - start < 0.5, pattern

"""Class 4 of issue 20: prompt templates are plain `{name}` fields (templates.py), never `str.format`'s language."""

import json
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from rlvr_assets.cli import main
from rlvr_assets.core.augment.llm_rewrite import validate_rewrite
from rlvr_assets.core.kernel.templates import TemplateError, field_names, parse, render
from rlvr_assets.core.tasks.model import PromptSpec
from rlvr_assets.core.tasks.seeds import load_seed_dir

ROOT = Path(__file__).resolve().parents[1]
HOSTILE = [
    "{a:>1000000000}",  # 2 GB per render with str.format
    "{a:,}",
    "{a!r}",
    "{a.__class__.__mro__}",  # Python internals in a prompt
    "{a[0]}",
    "{}",
    "{0}",
    "{a",
    "a}",
    "{a{b}}",
]


@pytest.mark.parametrize("template", HOSTILE)
def test_anything_but_plain_fields_is_rejected_when_the_prompt_is_read(template: str) -> None:
    with pytest.raises(ValidationError):
        PromptSpec(template=f"Compute {template} now.", params={"a": 3})


def test_a_format_spec_in_a_seed_is_a_line_naming_the_template_fast(tmp_path: Path, capsys) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    record = {
        "name": "wide",
        "split": "base",
        "domain": "reasoning",
        "template": "What is {a:>1000000000} plus {b}?",
        "params": {"a": 2, "b": 3},
        "solution": "def solve(a, b, **_):\n    return a + b",
        "answer": "5",
        "known_bad": ["Answer: 4"],
    }
    (seeds / "r.jsonl").write_text(json.dumps(record) + "\n")
    start = time.monotonic()
    code = main(["seeds", "validate", "--seeds-dir", str(seeds)])
    out = capsys.readouterr().out
    assert time.monotonic() - start < 20
    assert code == 1 and "wide" in out and "'template'" in out and "only plain {name} fields" in out


@pytest.mark.parametrize("added", ["{a:>99999}", "{a.__class__}", "{a[0]}"])
def test_a_rewrite_cannot_add_a_format_spec(added: str) -> None:
    seed = next(t for t in load_seed_dir(ROOT / "seeds") if t.prompt.params)
    name = sorted(seed.prompt.params)[0]
    rewritten = seed.prompt.template.replace("{" + name + "}", added.replace("a", name, 1), 1) + " Be quick."
    reason = validate_rewrite(seed, rewritten)
    assert reason is not None and "not a valid template" in reason


def test_literal_braces_and_fields_render_as_before() -> None:
    assert render("{{x}} = {x}, {y}", {"x": 2, "y": "z"}) == "{x} = 2, z"
    assert field_names("{a} and {b_1} and {{c}}") == {"a", "b_1"}
    with pytest.raises(TemplateError, match="no param"):
        render("{a} {b}", {"a": 1})


PIECES = ["{", "}", "{{", "}}", "a", "b", "x", " ", ":", "!", ".", "[", "0", ">9", "{a}", "{b}"]


@settings(max_examples=2000, deadline=500, database=None)
@given(template=st.lists(st.sampled_from(PIECES), max_size=12).map("".join))
def test_the_language_is_str_format_restricted_to_plain_fields(template: str) -> None:
    params = {"a": 1, "b": "two", "x": 3.5}
    try:
        parts = parse(template)
    except TemplateError:
        return
    names = {p.name for p in parts if not isinstance(p, str)}
    assert all(n.isidentifier() for n in names)
    if names <= set(params):
        assert render(template, params) == template.format(**params)


@settings(max_examples=50, deadline=1000, database=None)
@given(width=st.integers(1, 10**12), spec=st.sampled_from(["<", ">", "^", "0", ","]))
def test_no_template_can_cost_more_than_its_size(width: int, spec: str) -> None:
    with pytest.raises(TemplateError):
        render("{a:" + spec + str(width) + "}", {"a": 1})

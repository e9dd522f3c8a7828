from pathlib import Path

import pytest

from rlvr_assets.core.augment.operators import OPERATORS, apply_operators, operator_versions
from rlvr_assets.core.tasks.seeds import load_seed_dir

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def base():
    return [t for t in load_seed_dir(ROOT / "seeds") if t.provenance.split == "base" and t.domain == "reasoning"]


def test_operators_are_deterministic_given_seed_operator_and_rng(base) -> None:
    first = apply_operators(base[0], list(OPERATORS), 7, 2)
    again = apply_operators(base[0], list(OPERATORS), 7, 2)
    other = apply_operators(base[0], ["resample_params"], 8, 2)
    ids = [a.variant.id for a in first if a.variant]
    assert ids == [a.variant.id for a in again if a.variant]
    assert {a.variant.id for a in other if a.variant} - set(ids)


def test_resampling_rederives_ground_truth_by_running_the_solution(base) -> None:
    marbles = next(t for t in base if t.name == "marble-boxes")
    attempts = apply_operators(marbles, ["resample_params"], 3, 3)
    variants = [a.variant for a in attempts if a.variant]
    assert len(variants) == 3
    for v in variants:
        assert v.truth_key == str(v.prompt.params["boxes"] * v.prompt.params["per"])
        assert v.provenance.parent_id == marbles.id and v.provenance.operator == "resample_params"
        if v.truth_key != marbles.truth_key:
            assert f"Answer: {marbles.truth_key}" in v.known_bad  # the stale answer must now fail


def test_rephrasing_operators_keep_the_answer_and_change_the_prompt(base) -> None:
    for parent in base:
        for a in apply_operators(parent, ["remove_hint", "densify_formatting", "genericize_names", "add_hint"], 1, 1):
            if a.variant is None:
                assert a.status == "not_applicable" and a.reason
                continue
            assert a.variant.truth_key == parent.truth_key
            assert a.variant.prompt_text != parent.prompt_text


def test_invalid_resampled_params_are_recorded_as_failed_attempts(base) -> None:
    pencils = next(t for t in base if t.name == "pencils-give")
    # a space where every draw gives away more than there is makes solve() raise
    broken = pencils.model_copy(
        update={
            "prompt": pencils.prompt.model_copy(
                update={"param_space": {"a": {"min": 1, "max": 2}, "b": {"min": 5, "max": 6}}}
            )
        }
    )
    attempts = apply_operators(broken, ["resample_params"], 0, 2)
    assert attempts and all(a.status == "failed" and "reference solution failed" in a.reason for a in attempts)


def test_unknown_operator_is_an_error() -> None:
    with pytest.raises(KeyError, match="unknown operator"):
        operator_versions(["make_it_better"])


def test_rephrasing_operators_apply_to_every_domain_and_keep_the_verifier() -> None:
    seeds = [t for t in load_seed_dir(ROOT / "seeds") if t.provenance.split == "base"]
    for domain in ("code", "instruction_following", "function_calling"):
        parent = next(t for t in seeds if t.domain == domain)
        attempts = apply_operators(parent, list(OPERATORS), 0, 1)
        resample = next(a for a in attempts if a.operator == "resample_params")
        if domain == "function_calling":
            assert resample.status == "proposed", resample.reason  # archive-notes has a parametric goal
        else:
            assert resample.status == "not_applicable" and "reasoning" in resample.reason
        variants = [a.variant for a in attempts if a.variant and OPERATORS[a.operator].direction != "resample"]
        assert variants, domain
        for v in variants:
            assert v.verifier == parent.verifier and v.environment == parent.environment
            assert v.provenance.parent_id == parent.id


def test_new_initial_states_rederive_the_expected_state_by_replaying_the_reference() -> None:
    from rlvr_assets.core.gate.factors import check_verify
    from rlvr_assets.core.tasks.verifiers import verify

    seeds = load_seed_dir(ROOT / "seeds")
    parent = next(t for t in seeds if t.name == "archive-notes")
    attempts = apply_operators(parent, ["add_distractors"], 11, 2)
    variants = [a.variant for a in attempts if a.variant]
    assert len(variants) == 2 and len({v.id for v in variants}) == 2
    for v in variants:
        extra = set(v.environment.initial_state["files"]) - set(parent.environment.initial_state["files"])
        assert extra and all(p.startswith("misc/") for p in extra)
        assert extra <= set(v.verifier.expected_state["files"])  # distractors must survive untouched
        assert check_verify(v).passed and verify(v, parent.reference_solution).reward == 1.0
        # the parent's expected state no longer describes the new environment
        assert v.verifier.expected_state != parent.verifier.expected_state


def test_obscure_goal_keeps_the_question_inside_an_indirect_frame() -> None:
    seeds = load_seed_dir(ROOT / "seeds")
    parent = next(t for t in seeds if t.domain == "code" and t.provenance.split == "base")
    (attempt,) = apply_operators(parent, ["obscure_goal"], 0, 1)
    assert attempt.variant is not None
    assert parent.prompt.template.replace('"', "'") in attempt.variant.prompt.template
    assert attempt.variant.prompt.template.startswith("A colleague left you this note")


def test_resampled_tool_use_goals_rederive_state_calls_and_known_bad() -> None:
    from rlvr_assets.core.gate.factors import check_faithful, check_verify
    from rlvr_assets.core.tasks.verifiers import verify

    parent = next(t for t in load_seed_dir(ROOT / "seeds") if t.name == "archive-notes")
    attempts = apply_operators(parent, ["resample_params"], 5, 3)
    variants = [a.variant for a in attempts if a.variant]
    assert len(variants) == 3
    faithful, _ = check_faithful(variants, {parent.id: parent})
    for v, f in zip(variants, faithful, strict=True):
        folder = v.prompt.params["folder"]
        assert folder != "archive" and f"the {folder} folder" in v.prompt_text
        assert f"{folder}/notes.txt" in v.verifier.expected_state["files"]
        assert v.verifier.required_calls[0].arguments["destination"] == f"{folder}/notes.txt"
        assert check_verify(v).passed and f.passed, f.reason
        assert verify(v, parent.reference_solution).reward == 0.0  # the old goal's solution fails the new one
        assert parent.reference_solution in v.known_bad


def test_easier_and_vaguer_operators_use_texts_of_the_task_domain() -> None:
    from rlvr_assets.core.domains import get_domain

    code = get_domain("code")

    seeds = load_seed_dir(ROOT / "seeds")
    task = next(t for t in seeds if t.name == "merge-intervals")
    by_op = {
        a.operator: a for a in apply_operators(task, ["add_hint", "add_format_example", "vaguer_instruction"], 0, 1)
    }
    assert by_op["add_hint"].variant.prompt.hint == code.hint
    assert by_op["add_format_example"].variant.prompt.format_example == code.format_example
    assert by_op["vaguer_instruction"].variant.prompt.instruction == code.vague_instruction
    note = next(t for t in seeds if t.name == "packing-list")
    (example,) = apply_operators(note, ["add_format_example"], 0, 1)
    assert example.status == "not_applicable"  # instruction following states its format as constraints

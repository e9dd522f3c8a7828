from pathlib import Path

import pytest

from rlvr_assets.core.augment.operators import apply_operators
from rlvr_assets.core.config import GateConfig
from rlvr_assets.core.domains.reasoning.spec import NumericAnswer
from rlvr_assets.core.gate.factors import (
    check_distinct,
    check_faithful,
    check_informative,
    check_solve,
    check_verify,
    decide,
    run_gate,
)
from rlvr_assets.core.kernel.scoring import pass_at_k
from rlvr_assets.core.tasks.seeds import load_seed_dir

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def family():
    seeds = load_seed_dir(ROOT / "seeds")
    parent = next(t for t in seeds if t.name == "apples-buy")
    attempts = apply_operators(
        parent, ["resample_params", "remove_hint", "remove_format_example", "densify_formatting"], 5, 2
    )
    return parent, [a.variant for a in attempts if a.variant]


def test_pass_at_k_matches_the_unbiased_estimator() -> None:
    assert pass_at_k(16, 0, 8) == 0.0
    assert pass_at_k(16, 1, 8) == pytest.approx(0.5)
    assert pass_at_k(16, 3, 8) == pytest.approx(0.9)
    assert pass_at_k(16, 9, 8) == 1.0
    with pytest.raises(ValueError):
        pass_at_k(4, 1, 8)


def test_solve_band_rejects_unsolvable_and_trivial_variants() -> None:
    cfg = GateConfig()  # study defaults: pass@8 in [0.05, 0.95] from 16 samples
    unsolvable, _ = check_solve("v", [0.0] * 16, cfg)
    trivial, _ = check_solve("v", [1.0] * 16, cfg)
    learnable, value = check_solve("v", [1.0] * 2 + [0.0] * 14, cfg)
    assert not unsolvable.passed and "unsolvable" in unsolvable.reason
    assert not trivial.passed and "too easy" in trivial.reason
    assert learnable.passed and 0.05 <= value <= 0.95


def test_verify_fails_closed_when_a_known_bad_answer_would_pass(family) -> None:
    parent, _ = family
    assert check_verify(parent).passed
    leaky = parent.model_copy(update={"known_bad": [f"Answer: {parent.truth_key}"]})
    result = check_verify(leaky)
    assert not result.passed and "accepted" in result.reason
    assert not check_verify(parent.model_copy(update={"known_bad": []})).passed


def test_distinct_rejects_near_duplicates_and_indistinguishable_siblings(family) -> None:
    parent, variants = family
    cfg = GateConfig(similar_similarity=0.5)
    copy = parent.model_copy(update={"id": "copy"})
    assert not check_distinct(copy, parent, [], [0.0] * 8, cfg).passed
    a, b = (v for v in variants if v.provenance.operator in ("remove_hint", "remove_format_example"))
    same_rewards = [1.0, 0.0] * 4
    rejected = check_distinct(b, parent, [(a, same_rewards)], same_rewards, cfg)
    assert not rejected.passed and "KS p=" in rejected.reason
    different = check_distinct(b, parent, [(a, [1.0] * 8)], [0.0] * 8, cfg)
    assert different.passed


def test_resampled_instance_with_a_new_answer_is_not_a_duplicate(family) -> None:
    parent, variants = family
    resampled = next(
        v for v in variants if v.provenance.operator == "resample_params" and v.truth_key != parent.truth_key
    )
    result = check_distinct(resampled, parent, [], [0.0] * 8, GateConfig())
    assert result.passed and result.value > 0.9  # textually close, yet a different task


def test_faithful_catches_a_wrong_ground_truth(family) -> None:
    parent, variants = family
    wrong_answer = str(int(variants[0].truth_key) + 3)
    wrong = variants[0].model_copy(update={"verifier": NumericAnswer(answer=wrong_answer)})
    results, cpu = check_faithful([variants[0], wrong], {parent.id: parent})
    assert results[0].passed
    assert not results[1].passed and "parent solution gives" in results[1].reason
    assert cpu >= 0.0


def test_informative_counts_groups_with_reward_variance() -> None:
    cfg = GateConfig(group_size=4, min_informative_fraction=0.5)
    assert check_informative("v", [1, 0, 0, 0, 0, 0, 0, 0], cfg).value == 0.5
    assert not check_informative("v", [0.0] * 8, cfg).passed


def test_every_rejection_keeps_all_failing_factors_and_reasons(family) -> None:
    parent, variants = family
    cfg = GateConfig(samples=8, pass_at=4)
    factor_rows, decisions, _ = decide(variants, {parent.id: parent}, {v.id: [0.0] * 8 for v in variants}, cfg)
    assert len(factor_rows) == 5 * len(variants)
    for d in decisions:
        assert not d.accepted and "solve" in d.failed_factors and "V_solve:" in d.reason


def test_run_gate_scores_samples_with_the_variant_verifier(family) -> None:
    parent, variants = family
    cfg = GateConfig(samples=8, pass_at=4, group_size=4, min_informative_fraction=0.0, similar_similarity=0.999)

    def sample_fn(conversations, n):
        # a policy that answers correctly one time in four
        return [
            (i, f"Answer: {variants[i].truth_key if k % 4 == 0 else -1}", 10)
            for i in range(len(conversations))
            for k in range(n)
        ]

    run = run_gate(variants, {parent.id: parent}, sample_fn, cfg)
    assert all(r == [1.0, 0.0, 0.0, 0.0] * 2 for r in run.rewards.values())
    assert run.rollout_tokens[variants[0].id] == 80
    assert any(d.accepted for d in run.decisions)

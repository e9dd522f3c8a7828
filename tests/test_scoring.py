"""core/kernel/scoring.py: one macro mean and bootstrap for eval and the pipeline, paired differences and the MDD."""

import polars as pl
import pytest

from rlvr_assets.core.evaluation.suite import suite_score
from rlvr_assets.core.kernel.draws import arm_macro_score, arm_score_table, bootstrap_arm_scores
from rlvr_assets.core.kernel.scoring import (
    ArmScore,
    ArmShape,
    minimum_detectable_difference,
    normal_difference,
    paired_difference,
    scale_to_detect,
)


def test_eval_grand_mean_and_arm_score_are_the_same_computation() -> None:
    """`rlvr-assets eval` (per-item pass@1 frame) and an arm's score in the pipeline (seed -> item rewards)
    give the same score and the same bootstrap CI for the same rewards."""
    a = [1.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0]
    b = [0.0, 0.0, 1.0] * 9
    items = pl.DataFrame(
        {
            "benchmark": ["a"] * len(a) + ["b"] * len(b),
            "item_id": [f"a{k}" for k in range(len(a))] + [f"b{k}" for k in range(len(b))],
            "pass_at_1": a + b,
        }
    )
    per_seed = {0: dict(zip(items["item_id"].to_list(), items["pass_at_1"].to_list(), strict=True))}
    benchmark_of = dict(zip(items["item_id"].to_list(), items["benchmark"].to_list(), strict=True))
    eval_score = suite_score(items, 300, 4)
    arm = arm_macro_score(per_seed, benchmark_of, 300, 4)
    assert eval_score == arm
    assert arm.score == pytest.approx(100 * (sum(a) / len(a) + sum(b) / len(b)) / 2)  # macro, not pooled
    table = arm_score_table({"x": ArmShape(4, 0, False)}, {"x": per_seed}, 300, 4, benchmark_of)
    assert (table[0].score, table[0].ci_low, table[0].ci_high) == (arm.score, arm.ci_low, arm.ci_high)


def test_mdd_is_2_8_standard_errors_at_80_percent_power() -> None:
    assert minimum_detectable_difference(1.0) == pytest.approx(1.959964 + 0.841621, abs=1e-5)
    assert minimum_detectable_difference(5.0, alpha=0.05, power=0.5) == pytest.approx(1.959964 * 5.0, abs=1e-4)
    assert scale_to_detect(20.0, 10.0) == pytest.approx(4.0)  # half the MDD needs 4x the items x seeds
    assert scale_to_detect(20.0, 0.0) is None


def test_normal_difference_from_ci_widths_is_unpaired() -> None:
    a = ArmScore("a", 4, 4, 60.0, 50.2, 69.8)  # width 19.6 -> SE 5.0
    b = ArmScore("b", 4, 0, 50.0, 40.2, 59.8)
    d = normal_difference(a, b)
    assert d is not None and d.diff == pytest.approx(10.0)
    assert d.se == pytest.approx((5.0**2 + 5.0**2) ** 0.5, rel=1e-4)
    assert d.ci_low < 0 < d.ci_high and not d.significant and "unpaired" in d.method
    assert normal_difference(a, ArmScore("c", 4, 0, 50.0)) is None


def test_paired_bootstrap_cancels_shared_item_difficulty() -> None:
    """Two arms that solve exactly the same items differ by exactly 0 in every paired draw, however noisy
    each arm's own score is; an arm that solves those items plus 10 more is significantly above."""
    items = [f"i{k}" for k in range(60)]
    same = {0: {i: float(k % 2 == 0) for k, i in enumerate(items)}}
    more = {0: {i: float(k % 2 == 0 or k < 20) for k, i in enumerate(items)}}
    arms = {"h": ArmShape(4, 0, False), "twin": ArmShape(8, 0, False), "better": ArmShape(4, 4, True)}
    rewards = {"h": same, "twin": same, "better": more}
    draws = bootstrap_arm_scores(arms, rewards, 300, 1)
    point = [ArmScore("h", 4, 0, 50.0), ArmScore("twin", 8, 0, 50.0), ArmScore("better", 4, 4, 200 / 3)]
    twin = paired_difference(point, draws, "twin", "h")
    assert (twin.diff, twin.ci_low, twin.ci_high, twin.se) == (0.0, 0.0, 0.0, 0.0)
    better = paired_difference(point, draws, "better", "h")
    assert better.significant and better.ci_low <= better.diff <= better.ci_high
    assert better.mdd == pytest.approx(minimum_detectable_difference(better.se))

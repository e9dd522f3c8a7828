import json
import math
from pathlib import Path

import pytest

from rlvr_assets.cli import main
from rlvr_assets.core.economics import (
    ArmScore,
    ArmsFileError,
    ArmShape,
    arm_scores_from_items,
    bootstrap_trade_rates,
    cost_rows,
    read_arms_csv,
    trade_rates,
)

STUDY = [
    ArmScore("10h", 10, 0, 53.61),
    ArmScore("97h", 97, 0, 54.18),
    ArmScore("10h+80a", 10, 80, 54.38),
    ArmScore("10h+319a", 10, 319, 55.14),
]


def _row(rows, arm, estimator):
    return next(r for r in rows if r.arm == arm and r.estimator == estimator)


def test_study_dominance_bound_reproduces_break_even_and_rho_cost() -> None:
    rows = cost_rows(trade_rates(STUDY), [5.13])
    big = _row(rows, "10h+319a", "dominance_bound")
    assert big.rho == pytest.approx(87 / 319)
    assert big.break_even == pytest.approx(3.67, abs=0.005)
    assert big.rho_cost == pytest.approx(1.4, abs=0.005)


def test_extrapolation_is_null_with_a_reason_never_silent() -> None:
    rows = cost_rows(trade_rates(STUDY), [10])
    interp = _row(rows, "10h+319a", "log_interpolation")
    assert interp.rho is None and interp.rho_cost is None and "extrapolation" in interp.reason


def test_log_interpolation_inside_the_curve() -> None:
    arms = [ArmScore("h10", 10, 0, 50.0), ArmScore("h100", 100, 0, 60.0), ArmScore("a", 10, 90, 55.0)]
    est = _row(trade_rates(arms), "a", "log_interpolation")
    assert est.n_equiv == pytest.approx(math.sqrt(10 * 100))  # halfway in log space
    assert est.rho == pytest.approx((math.sqrt(1000) - 10) / 90)
    dom = _row(trade_rates(arms), "a", "dominance_bound")
    assert dom.n_equiv == 10 and dom.rho == 0.0


def test_noisy_human_curve_is_made_monotone_before_inverting() -> None:
    arms = [
        ArmScore("h4", 4, 0, 50.0),
        ArmScore("h8", 8, 0, 48.0),
        ArmScore("h16", 16, 0, 60.0),
        ArmScore("a", 4, 4, 55.0),
    ]
    est = _row(trade_rates(arms), "a", "log_interpolation")
    assert est.rho is not None and 8 <= est.n_equiv <= 16


def test_arm_below_the_base_gets_no_rate() -> None:
    arms = [ArmScore("h4", 4, 0, 50.0), ArmScore("h8", 8, 0, 55.0), ArmScore("a", 4, 4, 40.0)]
    for est in trade_rates(arms):
        assert est.rho is None and est.reason


def test_rho_cost_is_rho_times_r_and_break_even_is_inverse() -> None:
    for row in cost_rows(trade_rates(STUDY), [5, 10, 40]):
        if row.rho is not None:
            assert row.rho_cost == pytest.approx(row.rho * row.cost_ratio)
            assert row.break_even == pytest.approx(1 / row.rho)


def test_bootstrap_brackets_the_point_estimate() -> None:
    arms = {"h4": ArmShape(4, 0, False), "h8": ArmShape(8, 0, False), "a": ArmShape(4, 4, True)}
    items = [f"i{k}" for k in range(40)]
    rewards = {
        "h4": {0: {i: float(k % 4 == 0) for k, i in enumerate(items)}},
        "h8": {0: {i: float(k % 2 == 0) for k, i in enumerate(items)}},
        "a": {0: {i: float(k % 3 == 0) for k, i in enumerate(items)}},
    }
    intervals = {(iv.arm, iv.estimator): iv for iv in bootstrap_trade_rates(arms, rewards, 300, 0)}
    dom = intervals[("a", "dominance_bound")]
    assert dom.defined_fraction > 0.5 and dom.rho_low <= dom.rho_high


def test_cli_economics_json_on_the_study_table(tmp_path: Path, capsys) -> None:
    csv = tmp_path / "arms.csv"
    csv.write_text(
        "arm,n_human,n_aug,score\n10h,10,0,53.61\n97h,97,0,54.18\n10h+80a,10,80,54.38\n10h+319a,10,319,55.14\n"
    )
    assert main(["economics", str(csv), "--cost-ratios", "5.13,10", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {"arm", "estimator", "cost_ratio", "rho", "rho_cost", "break_even"} <= set(rows[0])
    dom = next(
        r for r in rows if r["arm"] == "10h+319a" and r["estimator"] == "dominance_bound" and r["cost_ratio"] == 5.13
    )
    assert round(dom["break_even"], 2) == 3.67 and round(dom["rho_cost"], 1) == 1.4
    interp = next(r for r in rows if r["arm"] == "10h+319a" and r["estimator"] == "log_interpolation")
    assert interp["rho"] is None and "extrapolation" in interp["reason"]


def test_arms_csv_errors_name_file_line_and_column(tmp_path: Path) -> None:
    bad = tmp_path / "arms.csv"
    bad.write_text("arm,n_human,n_aug,score\nh10,10,0,fifty\n")
    with pytest.raises(ArmsFileError, match=r"arms.csv:2: arm 'h10': column 'score'"):
        read_arms_csv(bad)
    missing = tmp_path / "m.csv"
    missing.write_text("arm,n_human,score\nh10,10,50\n")
    with pytest.raises(ArmsFileError, match="missing column"):
        read_arms_csv(missing)
    twice = tmp_path / "twice.csv"
    twice.write_text("arm,n_human,n_aug,score\nh10,10,0,50\nh10b,10,0,52\n")
    with pytest.raises(ArmsFileError, match=r"twice.csv:3: arm 'h10b': column 'n_human': .* already on line 2"):
        read_arms_csv(twice)


def test_cli_reports_bad_csv_with_exit_code(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "arms.csv"
    bad.write_text("arm,n_human,n_aug,score\nh10,ten,0,50\n")
    assert main(["economics", str(bad)]) == 2
    assert "column 'n_human'" in capsys.readouterr().err


def test_augmented_arm_left_without_variants_is_not_a_human_arm() -> None:
    arms = [ArmScore("h4", 4, 0, 50.0), ArmScore("h8", 8, 0, 55.0), ArmScore("aug", 4, 0, 52.0, augmented=True)]
    estimates = trade_rates(arms)
    assert {e.arm for e in estimates} == {"aug"}
    assert all(e.rho is None and "no augmented tasks" in e.reason for e in estimates)


def _two_benchmarks():
    """A 90-item and a 10-item benchmark; rewards are constant within each benchmark."""
    big = [f"big{k}" for k in range(90)]
    small = [f"small{k}" for k in range(10)]
    benchmark_of = {**dict.fromkeys(big, "big"), **dict.fromkeys(small, "small")}

    def arm(big_reward: float, small_reward: float) -> dict[int, dict[str, float]]:
        return {0: {**dict.fromkeys(big, big_reward), **dict.fromkeys(small, small_reward)}}

    arms = {"h4": ArmShape(4, 0, False), "h8": ArmShape(8, 0, False), "a": ArmShape(4, 4, True)}
    # macro (mean of benchmark means): h4 50, h8 100, a 50; pooled over items: h4 10, h8 100, a 90
    rewards = {"h4": arm(0.0, 1.0), "h8": arm(1.0, 1.0), "a": arm(1.0, 0.0)}
    return arms, rewards, benchmark_of


def test_arm_score_is_the_macro_mean_over_benchmarks_not_the_pooled_mean() -> None:
    arms, rewards, benchmark_of = _two_benchmarks()
    scores = {s.arm: s.score for s in arm_scores_from_items(arms, rewards, benchmark_of=benchmark_of)}
    assert scores == {"h4": 50.0, "h8": 100.0, "a": 50.0}  # pooling would give 10, 100, 90
    interp = _row(
        trade_rates(arm_scores_from_items(arms, rewards, benchmark_of=benchmark_of)), "a", "log_interpolation"
    )
    assert interp.rho == 0.0  # a matches h4 exactly; pooling would interpolate to rho ~ 0.85
    # stratified bootstrap: every draw keeps 90 big + 10 small items, so constant rewards give a point interval
    intervals = {
        (iv.arm, iv.estimator): iv for iv in bootstrap_trade_rates(arms, rewards, 200, 7, benchmark_of=benchmark_of)
    }
    iv = intervals[("a", "log_interpolation")]
    assert iv.defined_fraction == 1.0 and iv.rho_low == iv.rho_high == 0.0


def test_arm_score_table_ci_is_stratified_by_benchmark() -> None:
    from rlvr_assets.defs.assets.economics import arm_score_table

    arms, rewards, benchmark_of = _two_benchmarks()
    table = {a.arm: a for a in arm_score_table(arms, rewards, 200, 3, benchmark_of)}
    assert (table["a"].score, table["a"].ci_low, table["a"].ci_high) == (50.0, 50.0, 50.0)


def test_single_benchmark_scores_equal_the_pooled_mean_exactly() -> None:
    arms = {"h4": ArmShape(4, 0, False), "h8": ArmShape(8, 0, False), "a": ArmShape(4, 4, True)}
    items = [f"i{k}" for k in range(37)]
    rewards = {
        name: {s: {i: float((k * (s + 3) + j) % (j + 2) == 0) for k, i in enumerate(items)} for s in (0, 1)}
        for j, name in enumerate(arms)
    }
    one = dict.fromkeys(items, "only")
    assert arm_scores_from_items(arms, rewards, benchmark_of=one) == arm_scores_from_items(arms, rewards)
    for s in arm_scores_from_items(arms, rewards):
        flat = [r for per_seed in rewards[s.arm].values() for r in per_seed.values()]
        assert s.score == 100.0 * sum(flat) / len(flat)
    assert bootstrap_trade_rates(arms, rewards, 100, 5, benchmark_of=one) == bootstrap_trade_rates(
        arms, rewards, 100, 5
    )

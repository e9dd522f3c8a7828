"""Issue 19's eleven problems of the trade-rate statistics, each on a constructed input, plus the verdict,
item-level input and strict JSON (issue 20, class 9). Every test here failed on the code before the fix."""

import json
import math
from pathlib import Path

import polars as pl
import pytest

from rlvr_assets.cli import main
from rlvr_assets.core.economics.trade_rate import (
    TRADE_ROW_SCHEMA,
    ArmsFileError,
    TradeInterval,
    read_arms_csv,
    trade_intervals,
    trade_rates,
)
from rlvr_assets.core.kernel.draws import arm_macro_score, bootstrap_arm_scores
from rlvr_assets.core.kernel.scoring import (
    ArmScore,
    ArmShape,
    arm_scores_from_items,
    bootstrap_differences,
    ci_differences,
    normal_difference,
)


def _row(rows, arm, estimator):
    return next(r for r in rows if r.arm == arm and r.estimator == estimator)


def _solves(items: list[str], picked) -> dict[int, dict[str, float]]:
    return {0: {i: float(k in picked) for k, i in enumerate(items)}}


def test_1_dominance_bound_on_a_tie_is_not_identified() -> None:
    """48 items, 1 seed, the augmented arm tied with human-16 (same score, other items): the bound claims
    aug >= human-16, which the non-inferiority test refuses, so it is not identified."""
    items = [f"i{k:02d}" for k in range(48)]
    arms = {
        "h4": ArmShape(4, 0, False),
        "h8": ArmShape(8, 0, False),
        "h16": ArmShape(16, 0, False),
        "aug": ArmShape(4, 12, True),
    }
    rewards = {
        "h4": _solves(items, range(8)),
        "h8": _solves(items, range(16)),
        "h16": _solves(items, range(24)),
        "aug": _solves(items, range(12, 36)),
    }
    point = arm_scores_from_items(arms, rewards)
    draws = bootstrap_arm_scores(arms, rewards, 400, 0)
    dom = _row(trade_rates(point, bootstrap_differences(point, draws)), "aug", "dominance_bound")
    assert dom.rho == 1.0 and dom.human_upper == "h16"
    assert dom.identified is False and "non-inferiority" in dom.identified_reason


def test_2_undefined_draws_count_as_unbounded_in_the_rho_ci() -> None:
    """Interpolation defined in 56% of the draws (above the largest human arm in the rest): the upper bound
    is unbounded, not truncated at the largest defined draw."""
    draws = []
    for k in range(100):
        score = 55.0 + 0.04 * k if k < 56 else 65.0  # 65: above h8 (60), extrapolation
        draws.append([ArmScore("h4", 4, 0, 50.0), ArmScore("h8", 8, 0, 60.0), ArmScore("a", 4, 4, score)])
    iv: TradeInterval = next(i for i in trade_intervals(draws) if i.estimator == "log_interpolation")
    assert iv.defined_fraction == pytest.approx(0.56)
    assert iv.rho_high is None and iv.rho_low is not None


def test_3_interpolation_searches_only_from_n_base_up() -> None:
    arms = [
        ArmScore("human-4", 4, 0, 50.0, 48.0, 52.0),
        ArmScore("human-8", 8, 0, 40.0, 38.0, 42.0),
        ArmScore("human-16", 16, 0, 60.0, 58.0, 62.0),
        ArmScore("aug", 8, 8, 45.0, 43.0, 47.0),
    ]
    est = _row(trade_rates(arms, ci_differences(arms)), "aug", "log_interpolation")
    assert est.rho is not None and est.rho > 0
    assert 8 < est.n_equiv < 16
    assert est.n_equiv == pytest.approx(8 * 2**0.25)


def test_4_a_significant_dip_is_reported_and_not_identified() -> None:
    arms = [
        ArmScore("h4", 4, 0, 40.0, 38.0, 42.0),
        ArmScore("h8", 8, 0, 60.0, 58.0, 62.0),
        ArmScore("h16", 16, 0, 50.0, 48.0, 52.0),
        ArmScore("h32", 32, 0, 70.0, 68.0, 72.0),
        ArmScore("aug", 4, 28, 55.0, 53.0, 57.0),
    ]
    est = _row(trade_rates(arms, ci_differences(arms)), "aug", "log_interpolation")
    assert est.identified is False and "dips" in est.identified_reason
    from rlvr_assets.core.economics.trade_stats import analyse, ci_score_draws, reference_lines

    lines = reference_lines(analyse(ci_score_draws(arms, 500, 0)))
    assert any(line.startswith("FINDING: human curve dips h16 - h8 = -10.0") for line in lines)


def test_5_a_ci_in_other_units_than_the_score_is_refused(tmp_path: Path) -> None:
    csv = tmp_path / "arms.csv"
    csv.write_text("arm,n_human,n_aug,score,ci_low,ci_high\nh4,4,0,27.1,0.146,0.396\nh8,8,0,30,29,31\n")
    with pytest.raises(ArmsFileError, match=r"arms.csv:2: arm 'h4': column 'score': 27.1 is outside its CI"):
        read_arms_csv(csv)


def test_6_an_asymmetric_ci_is_read_on_the_side_that_matters() -> None:
    low = ArmScore("h4", 4, 0, 2.0, 1.0, 15.0)
    high = ArmScore("h16", 16, 0, 12.0, 11.0, 13.0)
    d = normal_difference(high, low)
    assert d is not None and not d.significant  # 12 - 2 with h4's upper half-width 13: not a rise
    assert d.ci_low == pytest.approx(10 - math.hypot(1, 13))


def test_7_a_duplicated_seed_does_not_shrink_the_ci() -> None:
    items = [f"i{k:02d}" for k in range(48)]
    one = {0: {i: float(k % 4 == 0) for k, i in enumerate(items)}}
    two = {0: one[0], 1: dict(one[0])}
    w1 = arm_macro_score(one, None, 1000, 0)
    w2 = arm_macro_score(two, None, 1000, 0)
    assert (w2.ci_high - w2.ci_low) >= 0.9 * (w1.ci_high - w1.ci_low)


def test_7_one_seed_says_seed_variance_is_not_measured() -> None:
    from rlvr_assets.core.economics.item_scores import ItemScores
    from rlvr_assets.core.economics.trade_stats import SEED_NOT_MEASURED, item_score_draws

    items = [f"i{k}" for k in range(20)]
    scores = ItemScores.from_rewards({"h": ArmShape(4, 0, False)}, {"h": _solves(items, range(5))})
    assert SEED_NOT_MEASURED in item_score_draws(scores, 100, 0).resamples


def _item_csv(path: Path, arms: dict[str, tuple[int, int, list[list[int]]]], items: int = 60) -> Path:
    """arms: name -> (n_human, n_aug, per seed the solved item indices)."""
    lines = ["arm,n_human,n_aug,seed,benchmark,item,reward"]
    for name, (h, a, seeds) in arms.items():
        for s, solved in enumerate(seeds):
            for k in range(items):
                lines.append(f"{name},{h},{a},{s},{'b1' if k % 2 else 'b2'},q{k:03d},{int(k in solved)}")
    path.write_text("\n".join(lines) + "\n")
    return path


STRONG = {
    "h4": (4, 0, [list(range(0, 12)), list(range(1, 13))]),
    "h8": (8, 0, [list(range(0, 24)), list(range(1, 25))]),
    "h16": (16, 0, [list(range(0, 36)), list(range(1, 37))]),
    "aug": (4, 12, [[*list(range(0, 36)), 50, 51, 52], [*list(range(1, 37)), 53, 54, 55]]),
}


def test_8_item_level_csv_gets_seeds_pairing_and_a_rho_ci(tmp_path: Path, capsys) -> None:
    csv = _item_csv(tmp_path / "items.csv", STRONG)
    assert main(["economics", str(csv), "--cost-ratios", "5", "--json", "--samples", "500"]) == 0
    rows = json.loads(capsys.readouterr().out)
    dom = next(r for r in rows if r["estimator"] == "dominance_bound")
    assert dom["rho_low"] is not None and dom["rho_high"] is not None
    assert "paired" in dom["rests_on"] and "seed" in dom["rests_on"]
    # the same scores as arm-level CIs: unpaired, so the augmented gain's MDD is wider
    arms_csv = tmp_path / "arms.csv"
    from rlvr_assets.core.economics.item_scores import load_item_scores
    from rlvr_assets.core.economics.trade_stats import item_score_draws

    drawn = item_score_draws(load_item_scores(csv), 500, 0).arms
    arms_csv.write_text(
        "arm,n_human,n_aug,score,ci_low,ci_high\n"
        + "".join(f"{a.arm},{a.n_human},{a.n_aug},{a.score},{a.ci_low},{a.ci_high}\n" for a in drawn)
    )
    assert main(["economics", str(arms_csv), "--cost-ratios", "5", "--json", "--samples", "500"]) == 0
    unpaired = next(r for r in json.loads(capsys.readouterr().out) if r["estimator"] == "dominance_bound")
    assert dom["aug_gain_mdd"] < unpaired["aug_gain_mdd"]


def test_9_the_summary_says_pays_from_a_bound_not_from_the_point_estimate() -> None:
    from rlvr_assets.core.economics.report import mdd_frame, run_summary

    est = trade_rates([ArmScore("h4", 4, 0, 40.0), ArmScore("h8", 8, 0, 60.0), ArmScore("a", 4, 4, 50.0)])
    trade = pl.DataFrame([{**e.as_row(), "identified": True} for e in est], schema=TRADE_ROW_SCHEMA)
    text = run_summary([], trade, {"measured_cost_ratio": 5.0}, pl.DataFrame())
    assert "augmentation pays at it" not in text and "cannot be told" in text
    judged = trade.with_columns(pl.lit("h4").alias("human_base"), pl.lit(1.0).alias("aug_gain"))
    assert "x_items_seeds_to_detect" not in mdd_frame(judged).columns


def test_10_the_base_model_is_a_reference_arm(tmp_path: Path, capsys) -> None:
    arms = dict(STRONG)
    arms["base"] = (0, 0, [list(range(0, 45))])  # the untrained model beats every trained arm
    csv = _item_csv(tmp_path / "items.csv", arms)
    assert main(["economics", str(csv), "--cost-ratios", "5", "--samples", "500"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("NO ARM BEATS THE BASE MODEL (base")
    assert main(["economics", str(csv), "--cost-ratios", "5", "--json", "--samples", "500"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert all(r["gain_over_base_high"] < 0 for r in rows)


def test_11_the_report_opens_with_a_narrow_decision_table(tmp_path: Path) -> None:
    from rlvr_assets.core.economics.item_scores import load_item_scores
    from rlvr_assets.core.economics.report import write_report
    from rlvr_assets.core.economics.trade_stats import analyse, item_score_draws, trade_frame

    drawn = item_score_draws(load_item_scores(_item_csv(tmp_path / "i.csv", STRONG)), 300, 0)
    trade = trade_frame(analyse(drawn))
    report = write_report(
        tmp_path / "r", list(drawn.arms), trade, pl.DataFrame(), pl.DataFrame({"operator": ["x"]}), {}, [5.0, 10.0]
    ).read_text()
    sections = report.split("\n## ")
    assert sections[1].startswith("Decision") and "| arm | estimator | rho [95% CI]" in sections[1]
    tables = [line for line in report.splitlines() if line.startswith("| ")]
    assert max(line.count(" | ") + 1 for line in tables) <= 10
    reason = next(r["identified_reason"] for r in trade.iter_rows(named=True) if r["identified_reason"])
    assert report.count(reason) == 1  # each reason once, as a note


def test_verdict_pays_and_does_not_pay_from_item_level_scores(tmp_path: Path, capsys) -> None:
    arms = dict(STRONG)
    arms["aug"] = (4, 12, [list(range(0, 33)), list(range(1, 34))])  # between h8 and h16: no extrapolation
    arms["worse"] = (4, 12, [list(range(0, 3)), list(range(1, 4))])
    csv = _item_csv(tmp_path / "items.csv", arms)
    assert main(["economics", str(csv), "--cost-ratios", "10", "--json", "--samples", "1000"]) == 0
    rows = {(r["arm"], r["estimator"]): r for r in json.loads(capsys.readouterr().out)}
    good, bad = rows[("aug", "joint_curve")], rows[("worse", "joint_curve")]
    assert good["primary"] and good["verdict"] == "pays" and good["rho_cost_low"] > 1
    assert good["p_rho_cost_above_1"] > 0.95
    assert bad["verdict"] == "does not pay" and bad["rho_cost_high"] < 1


def test_study_table_keeps_the_bound_and_says_the_verdict_needs_uncertainty(tmp_path: Path, capsys) -> None:
    csv = tmp_path / "arms.csv"
    csv.write_text(
        "arm,n_human,n_aug,score\n10h,10,0,53.61\n97h,97,0,54.18\n10h+80a,10,80,54.38\n10h+319a,10,319,55.14\n"
    )
    assert main(["economics", str(csv), "--cost-ratios", "5.13", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    dom = next(r for r in rows if r["arm"] == "10h+319a" and r["estimator"] == "dominance_bound")
    assert dom["rho"] == pytest.approx(87 / 319) and round(dom["break_even"], 3) == 3.667
    assert all(r["verdict"] == "cannot tell" and "needs uncertainty" in r["verdict_reason"] for r in rows)


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ("h4,4,0,0,b,q1,1.5\n", "items.csv:2: arm 'h4': column 'reward': '1.5' is outside [0, 1]"),
        ("h4,4,0,0,b,q1,1\nh8,8,0,0,b,q2,1\n", "column 'item': seed 0 has 1 of the 2 items"),
        ("h4,4,0,0,b,q1,1\nh4,5,0,0,b,q2,1\n", "items.csv:3: arm 'h4': column 'n_human'"),
    ],
)
def test_item_level_csv_errors_name_line_and_column(tmp_path: Path, capsys, body: str, where: str) -> None:
    csv = tmp_path / "items.csv"
    csv.write_text("arm,n_human,n_aug,seed,benchmark,item,reward\n" + body)
    assert main(["economics", str(csv)]) == 2
    err = capsys.readouterr().err
    assert where in err and len(err.strip().splitlines()) == 1


def test_mixed_levels_are_one_line_errors(tmp_path: Path, capsys) -> None:
    csv = tmp_path / "mixed.csv"
    csv.write_text("arm,n_human,n_aug,score,item,reward\nh4,4,0,50,q1,1\n")
    assert main(["economics", str(csv)]) == 2
    assert "mixed levels" in capsys.readouterr().err


def test_json_is_strict_even_where_finite_inputs_overflow(tmp_path: Path, capsys) -> None:
    """Issue 20, class 9: rho x 1.7e308 is inf in floats; --json says null, never `Infinity`."""
    csv = tmp_path / "arms.csv"
    csv.write_text("arm,n_human,n_aug,score\n10h,10,0,53.61\n97h,97,0,54.18\n10h+80a,10,80,54.38\n")
    assert main(["economics", str(csv), "--cost-ratios", "1.7e308", "--json"]) == 0

    def refuse(name: str) -> None:
        raise ValueError(f"not JSON: {name}")

    rows = json.loads(capsys.readouterr().out, parse_constant=refuse)
    assert rows


def test_a_400_digit_task_count_is_a_one_line_error(tmp_path: Path, capsys) -> None:
    csv = tmp_path / "arms.csv"
    csv.write_text(f"arm,n_human,n_aug,score\nh,{'9' * 400},0,50\nh2,20,0,60\n")
    assert main(["economics", str(csv)]) == 2
    err = capsys.readouterr().err
    assert "column 'n_human'" in err and "outside" in err and len(err.strip().splitlines()) == 1

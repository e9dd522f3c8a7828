import json
import math
from pathlib import Path

import pytest

from rlvr_assets.cli import main
from rlvr_assets.core.economics.trade_rate import (
    ArmsFileError,
    bootstrap_trade_rates,
    cost_rows,
    read_arms_csv,
    trade_rates,
)
from rlvr_assets.core.kernel.draws import arm_score_table
from rlvr_assets.core.kernel.scoring import ArmScore, ArmShape, arm_scores_from_items

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
    # draws where the arm reaches no human arm count as -inf: the lower bound may be unbounded (None)
    assert dom.defined_fraction > 0.5 and dom.rho_high is not None
    assert dom.rho_low is None or dom.rho_low <= dom.rho_high


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


# --- identified: statistics that refuse noise -------------------------------------------------------------


def _economics_json(tmp_path: Path, capsys, text: str, *args: str) -> list[dict]:
    csv = tmp_path / "arms.csv"
    csv.write_text(text)
    assert main(["economics", str(csv), "--cost-ratios", "5,10", "--json", *args]) == 0
    return json.loads(capsys.readouterr().out)


FLAT_WIDE = (  # the CPU default's shape: a human curve that wobbles within +-12 points
    "arm,n_human,n_aug,score,ci_low,ci_high\n"
    "human-4,4,0,29.17,16.67,41.67\n"
    "human-8,8,0,27.08,14.58,39.58\n"
    "human-16,16,0,31.25,18.75,43.75\n"
    "aug-0.50,4,4,31.25,18.75,43.75\n"
)
STEEP_TIGHT = (
    "arm,n_human,n_aug,score,ci_low,ci_high\n"
    "h10,10,0,30.0,28.0,32.0\n"
    "h40,40,0,50.0,48.0,52.0\n"
    "h100,100,0,60.0,58.0,62.0\n"
    "aug,10,90,56.0,54.0,58.0\n"
)


def test_flat_human_curve_with_wide_cis_is_not_identified(tmp_path: Path, capsys) -> None:
    rows = _economics_json(tmp_path, capsys, FLAT_WIDE)
    dom = next(r for r in rows if r["estimator"] == "dominance_bound")
    assert dom["rho"] == 3.0, "the numbers are still shown"
    assert dom["identified"] is False
    assert dom["identified_reason"].startswith("human curve flat within noise: +2.1 [")
    assert "normal approximation from each side of the CIs, unpaired" in dom["identified_reason"]
    assert dom["human_rise_low"] < 0 < dom["human_rise_high"] and dom["human_rise_mdd"] > 2.1
    assert all(r["identified"] is False and r["identified_reason"] for r in rows)


def test_steep_human_curve_with_tight_cis_is_identified(tmp_path: Path, capsys) -> None:
    rows = _economics_json(tmp_path, capsys, STEEP_TIGHT)
    assert {(r["estimator"], r["identified"]) for r in rows} == {
        ("joint_curve", True),
        ("dominance_bound", True),
        ("log_interpolation", True),
    }
    dom = next(r for r in rows if r["estimator"] == "dominance_bound")
    assert dom["human_base"] == "h10" and dom["human_upper"] == "h40" and dom["rho"] == pytest.approx(30 / 90)
    assert dom["identified_reason"].startswith("human curve rises +20.0 [")
    interp = next(r for r in rows if r["estimator"] == "log_interpolation")
    assert interp["human_upper"] == "h100"  # N_equiv = 69 lies between h40 and h100: the range used reaches h100


def test_point_scores_only_give_identified_null(tmp_path: Path, capsys) -> None:
    rows = _economics_json(
        tmp_path, capsys, "arm,n_human,n_aug,score\n10h,10,0,53.61\n97h,97,0,54.18\n10h+319a,10,319,55.14\n"
    )
    assert rows and all(r["identified"] is None for r in rows)
    assert all(r["identified_reason"].startswith("no uncertainty given") for r in rows)


def test_economics_table_prints_the_banner_and_the_mdd(tmp_path: Path, capsys) -> None:
    csv = tmp_path / "arms.csv"
    csv.write_text(FLAT_WIDE)
    assert main(["economics", str(csv)]) == 0
    out = capsys.readouterr().out
    assert "NOT IDENTIFIED" in out and "Minimum detectable difference" in out
    assert "aug-0.50 - human-4 (augmented gain): +2.1" in out


def test_paired_bootstrap_identifies_a_real_rise_and_refuses_a_flat_curve() -> None:
    """In the pipeline the differences come from the paired bootstrap over items and seeds."""
    from rlvr_assets.core.kernel.draws import bootstrap_arm_scores
    from rlvr_assets.core.kernel.scoring import bootstrap_differences

    items = [f"i{k}" for k in range(120)]

    def solves(fraction: float) -> dict[int, dict[str, float]]:
        return {s: {i: float(k < fraction * len(items)) for k, i in enumerate(items)} for s in (0, 1)}

    arms = {"h4": ArmShape(4, 0, False), "h8": ArmShape(8, 0, False), "a": ArmShape(4, 4, True)}
    # the augmented arm is above h8 (a tie would not pass the non-inferiority test of the dominance bound)
    for fractions, expected in (((0.2, 0.6, 0.7), True), ((0.3, 0.32, 0.32), False)):
        rewards = {name: solves(f) for name, f in zip(arms, fractions, strict=True)}
        point = arm_scores_from_items(arms, rewards)
        draws = bootstrap_arm_scores(arms, rewards, 300, 0)
        dom = _row(trade_rates(point, bootstrap_differences(point, draws)), "a", "dominance_bound")
        assert dom.rho == 1.0 and dom.identified is expected, dom.identified_reason
        assert "paired bootstrap" in dom.identified_reason
        assert dom.aug_gain_mdd is not None and dom.aug_gain_mdd > 0


def test_report_opens_with_a_banner_only_when_nothing_is_identified(tmp_path: Path) -> None:
    import polars as pl

    from rlvr_assets.core.economics.report import rho_cost_style, write_report
    from rlvr_assets.core.economics.trade_rate import TRADE_ROW_SCHEMA
    from rlvr_assets.core.kernel.scoring import ci_differences

    for name, text, banner in (("flat", FLAT_WIDE, True), ("steep", STEEP_TIGHT, False)):
        (tmp_path / f"{name}.csv").write_text(text)
        arms = read_arms_csv(tmp_path / f"{name}.csv")
        estimates = trade_rates(arms, ci_differences(arms))
        trade = pl.DataFrame([e.as_row() for e in estimates], schema=TRADE_ROW_SCHEMA)
        cost = pl.DataFrame([c.as_dict() for c in cost_rows(estimates, [5.0])])
        funnel = pl.DataFrame({"operator": ["x"], "accepted": [1]})
        report = write_report(tmp_path / name, arms, trade, cost, funnel, {}, [5.0]).read_text()
        opening = report.split("\n## Arms")[0]  # the decision first, then the summary with its banner
        assert ("NOT IDENTIFIED" in opening) is banner
        assert "Minimum detectable difference" in report and (tmp_path / name / "rho_cost.png").stat().st_size
        styles = [rho_cost_style(r) for r in trade.iter_rows(named=True)]
        assert all((s["linestyle"] == "--") is banner for s in styles)  # not identified: dashed, still coloured
        assert not any("color" in s for s in styles)  # never greyed out into the background


# --- ties are not evidence (issue 14, finding 6) ---------------------------------------------------------


def test_all_zero_arms_give_no_rho() -> None:
    arms = [ArmScore("human-4", 4, 0, 0.0), ArmScore("human-8", 8, 0, 0.0), ArmScore("aug-0.50", 4, 4, 0.0)]
    rows = cost_rows(trade_rates(arms), [5, 40])
    assert rows and all(r.rho is None and r.rho_cost is None for r in rows)
    assert all("floor" in r.reason for r in rows)


def test_a_tie_along_a_flat_human_curve_is_not_a_match() -> None:
    """The CPU default's numbers: human 29.17 / 27.08 / 27.08. The augmented arm ties the base; matching
    human-16 (rho 3, rho_cost 15) would read a flat curve as a trade rate."""
    arms = [
        ArmScore("human-4", 4, 0, 29.17),
        ArmScore("human-8", 8, 0, 27.08),
        ArmScore("human-16", 16, 0, 27.08),
        ArmScore("aug-0.50", 4, 4, 29.17),
    ]
    dom = _row(trade_rates(arms), "aug-0.50", "dominance_bound")
    assert dom.rho == 0.0 and dom.n_equiv == 4
    assert "did not rise" in dom.reason
    assert _row(trade_rates(arms), "aug-0.50", "log_interpolation").rho is None  # isotonic fit is flat


def test_a_match_needs_the_curve_to_have_risen_to_that_arm() -> None:
    arms = [
        ArmScore("h4", 4, 0, 20.0),
        ArmScore("h8", 8, 0, 30.0),
        ArmScore("h16", 16, 0, 30.0),  # flat from 8 to 16: reaching 30 says nothing about 16 tasks
        ArmScore("a", 4, 4, 30.0),
    ]
    dom = _row(trade_rates(arms), "a", "dominance_bound")
    assert dom.n_equiv == 8 and dom.rho == 1.0
    below = [ArmScore("h4", 4, 0, 20.0), ArmScore("h8", 8, 0, 30.0), ArmScore("a", 4, 4, 19.0)]
    assert _row(trade_rates(below), "a", "dominance_bound").rho is None
    at_floor = [ArmScore("h4", 4, 0, 0.0), ArmScore("h8", 8, 0, 10.0), ArmScore("a", 4, 4, 0.0)]
    assert all(e.rho is None for e in trade_rates(at_floor))


# --- economics input (issue 14, finding 7) ---------------------------------------------------------------


def _cli_error(capsys, *argv: str) -> str:
    assert main(["economics", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and "Traceback" not in err, err
    return err


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e400"])
def test_non_finite_scores_are_rejected(tmp_path: Path, capsys, value: str) -> None:
    csv = tmp_path / "arms.csv"
    csv.write_text(f"arm,n_human,n_aug,score\nh4,4,0,50\nh8,8,0,{value}\naug,4,4,52\n")
    err = _cli_error(capsys, str(csv))
    assert f"arms.csv:3: arm 'h8': column 'score': '{value}' is not a finite number" in err
    csv.write_text(f"arm,n_human,n_aug,score,ci_low,ci_high\nh4,4,0,50,40,{value}\naug,4,4,52,40,60\n")
    assert "column 'ci_high'" in _cli_error(capsys, str(csv))


def test_duplicate_arm_names_are_rejected(tmp_path: Path, capsys) -> None:
    csv = tmp_path / "arms.csv"
    csv.write_text("arm,n_human,n_aug,score\nh4,4,0,50\nh8,8,0,55\naug,4,4,52\naug,4,12,54\n")
    err = _cli_error(capsys, str(csv))
    assert "arms.csv:5: arm 'aug': column 'arm': the same arm is already on line 4" in err


@pytest.mark.parametrize("ratios", ["nan", "inf", "1e400", "5,-1", "five", ""])
def test_non_finite_or_bad_cost_ratios_are_one_line_errors(tmp_path: Path, capsys, ratios: str) -> None:
    csv = tmp_path / "arms.csv"
    csv.write_text("arm,n_human,n_aug,score\nh4,4,0,50\nh8,8,0,55\naug,4,4,52\n")
    assert "--cost-ratios" in _cli_error(capsys, str(csv), "--cost-ratios", ratios)


def test_config_rejects_non_finite_cost_ratios(tmp_path: Path) -> None:
    from rlvr_assets.core.config import EconomicsConfig

    with pytest.raises(ValueError, match="finite"):
        EconomicsConfig(cost_ratios=[5.0, float("inf")])


def test_a_utf8_bom_is_read(tmp_path: Path, capsys) -> None:
    csv = tmp_path / "arms.csv"
    csv.write_bytes(
        b"\xef\xbb\xbfarm,n_human,n_aug,score\r\n10h,10,0,53.61\r\n97h,97,0,54.18\r\n10h+319a,10,319,55.14\r\n"
    )
    assert [a.arm for a in read_arms_csv(csv)] == ["10h", "97h", "10h+319a"]
    rows = _economics_json(tmp_path, capsys, csv.read_text(encoding="utf-8"))
    assert any(r["rho"] == pytest.approx(87 / 319) for r in rows)


def test_binary_file_or_directory_is_a_one_line_error(tmp_path: Path, capsys) -> None:
    binary = tmp_path / "model.bin"
    binary.write_bytes(bytes(range(256)) * 4)
    assert "binary file" in _cli_error(capsys, str(binary))
    latin = tmp_path / "latin.csv"
    latin.write_bytes("arm,n_human,n_aug,score\nh\xe9,4,0,50\n".encode("latin-1"))
    assert "not UTF-8" in _cli_error(capsys, str(latin))
    assert "is a directory" in _cli_error(capsys, str(tmp_path))
    assert "cannot read" in _cli_error(capsys, str(tmp_path / "absent.csv"))

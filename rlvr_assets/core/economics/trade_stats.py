"""Trade-rate statistics a decision can rest on: bootstrap draws of every arm's score, the joint human
scaling curve refitted on every draw, intervals in which undefined draws count as unbounded, dips in the
human curve, gains over the base model, and the verdict at a cost ratio.

What the draws resample (each interval names it in `rests_on`):
- item-level scores: held-out items with replacement within each benchmark, the same items for every arm
  (paired), a seed's rewards on an item kept together; the seed level adds, per draw, a normal deviation with
  the pooled seed variance of the arms (method of moments, the item x seed residual removed) drawn from its
  scaled-inverse-chi-square posterior, so 2-5 seeds get t-like tails (a small-sample correction). With one
  seed there is no seed variance to measure and every interval says so. The base model has no seeds.
- arm-level CSV with CIs: independent normal draws from each arm's CI, split at the score so an asymmetric
  CI is read side by side (unpaired, seeds as the CI had them).

The joint curve fits score = a + b log2(n_human) over the human arms (weights 1 / bootstrap variance),
refitted on every draw; N_equiv = 2^((score_aug - a) / b), rho = (N_equiv - n_base) / n_aug. When the slope's
95% CI does not exclude 0 the rho interval is unbounded (Fieller: the ratio's denominator may be 0).
Formulas and the planner: docs/statistics.md.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from statistics import NormalDist

import numpy as np
import polars as pl

from rlvr_assets.core.economics.trade_rate import (
    TRADE_ROW_SCHEMA,
    TradeEstimate,
    dominance_bound,
    draw_value,
    human_curve,
    identify,
    log_interpolation,
)
from rlvr_assets.core.economics.trade_rate import Dip as Dip
from rlvr_assets.core.economics.trade_rate import curve_dips as curve_dips
from rlvr_assets.core.kernel.cost_ratio import CostRatio as CostRatio
from rlvr_assets.core.kernel.cost_ratio import cost_ratio as cost_ratio
from rlvr_assets.core.kernel.draws import ALPHA as ALPHA
from rlvr_assets.core.kernel.draws import SEED_NOT_MEASURED as SEED_NOT_MEASURED
from rlvr_assets.core.kernel.draws import ScoreDraws as ScoreDraws
from rlvr_assets.core.kernel.draws import arm_scores_of as arm_scores_of
from rlvr_assets.core.kernel.draws import item_score_draws as item_score_draws
from rlvr_assets.core.kernel.draws import pooled_seed_variance as pooled_seed_variance
from rlvr_assets.core.kernel.scoring import ArmScore, Difference, DifferenceFn, ci_differences

ESTIMATORS = ("joint_curve", "log_interpolation", "dominance_bound")
_Z = NormalDist()


def ci_score_draws(arms: Sequence[ArmScore], samples: int, seed: int, alpha: float = ALPHA) -> ScoreDraws:
    """Arm-level scores: normal draws from each reported (1 - alpha) CI, split at the score (each side its own
    half-width), independent across arms; point scores only (no draws) when any arm lacks a CI."""
    if any(a.ci_low is None or a.ci_high is None for a in arms):
        return ScoreDraws(tuple(arms), None, "point scores only: no uncertainty", False)
    z = _Z.inv_cdf(1 - alpha / 2)
    score = np.array([a.score for a in arms])
    below = (score - np.array([a.ci_low for a in arms])) / z
    above = (np.array([a.ci_high for a in arms]) - score) / z
    e = np.random.default_rng(seed).standard_normal((samples, len(arms)))
    draws = score + np.where(e > 0, e * above, e * below)
    note = f"{samples} normal draws from each arm's reported CI (split at the score), unpaired across arms"
    return ScoreDraws(tuple(arms), draws, note, False)


def _quantile(values: np.ndarray, q: float) -> float:
    """The q-quantile of draws in which NaN (an undefined estimate on no known side) counts as -inf for a lower
    quantile and +inf for an upper one, so undefined draws widen the interval instead of vanishing from it."""
    fill = -np.inf if q < 0.5 else np.inf
    v = np.sort(np.where(np.isnan(values), fill, values))
    k = min(len(v) - 1, max(0, math.floor(q * len(v))))
    return float(v[k])


@dataclass(frozen=True)
class RhoInterval:
    """rho's two-sided (1 - alpha) interval and one-sided (1 - alpha) bounds; None = unbounded."""

    low: float | None
    high: float | None
    low_1s: float | None
    high_1s: float | None
    defined_fraction: float
    note: str = ""


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None


def rho_interval(values: np.ndarray, alpha: float = ALPHA, unbounded: str | None = None) -> RhoInterval:
    """Percentile bounds over every draw (undefined ones unbounded); `unbounded` forces (-inf, inf) with a reason."""
    frac = float(np.mean(np.isfinite(values))) if len(values) else 0.0
    if unbounded is not None or not len(values):
        return RhoInterval(None, None, None, None, frac, unbounded or "no draws")
    return RhoInterval(
        _finite(_quantile(values, alpha / 2)),
        _finite(_quantile(values, 1 - alpha / 2)),
        _finite(_quantile(values, alpha)),
        _finite(_quantile(values, 1 - alpha)),
        frac,
    )


@dataclass(frozen=True)
class CurveFit:
    """score = a + b log2(n) over the human arms; b in points per doubling with its percentile CI."""

    a: float
    b: float
    b_low: float | None
    b_high: float | None
    sizes: tuple[int, ...]
    a_draws: np.ndarray | None = field(default=None, repr=False)
    b_draws: np.ndarray | None = field(default=None, repr=False)

    @property
    def significant(self) -> bool | None:
        return None if self.b_low is None else self.b_low > 0

    def describe(self) -> str:
        ci = "" if self.b_low is None else f" [{self.b_low:+.2f}, {self.b_high:+.2f}]"
        return f"b = {self.b:+.2f}{ci} points per doubling over human sizes {', '.join(map(str, self.sizes))}"


def _wls(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted least squares of y (..., k) on x (k,); returns (a, b) with y's leading shape."""
    xm = (w * x).sum() / w.sum()
    ym = (y * w).sum(axis=-1) / w.sum()
    b = ((y - ym[..., None]) * (w * (x - xm))).sum(axis=-1) / (w * (x - xm) ** 2).sum()
    return ym - b * xm, b


def fit_curve(draws: ScoreDraws, alpha: float = ALPHA) -> CurveFit | None:
    """The joint human curve, refitted on every draw; None with fewer than two human sizes."""
    human = sorted((a for a in draws.arms if a.is_human_only), key=lambda a: a.n_human)
    if len({a.n_human for a in human}) < 2:
        return None
    x = np.log2([a.n_human for a in human])
    y = np.array([a.score for a in human])
    sizes = tuple(a.n_human for a in human)
    if draws.draws is None:
        a, b = _wls(x, y, np.ones_like(x))
        return CurveFit(float(a), float(b), None, None, sizes)
    cols = np.stack([draws.column(h.arm) for h in human], axis=1)
    var = cols.var(axis=0, ddof=1)
    w = 1.0 / var if np.all(var > 0) else np.ones_like(x)
    a, b = _wls(x, y, w)
    ad, bd = _wls(x, cols, w)
    low, high = np.quantile(bd, [alpha / 2, 1 - alpha / 2])
    return CurveFit(float(a), float(b), float(low), float(high), sizes, ad, bd)


def _n_equiv(score: np.ndarray | float, a: np.ndarray | float, b: np.ndarray | float) -> np.ndarray:
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        b_arr = np.asarray(b, dtype=float)
        n = np.exp2(np.clip((np.asarray(score) - a) / np.where(b_arr > 0, b_arr, np.nan), -1000, 1000))
    return np.where(b_arr > 0, n, np.nan)


def joint_curve_estimate(
    arm: ArmScore, fit: CurveFit | None, draws: ScoreDraws, alpha: float = ALPHA
) -> tuple[TradeEstimate, np.ndarray | None, RhoInterval | None]:
    """rho from the joint curve for one augmented arm, its draws and interval, and `identified`: the slope
    significantly > 0, the arm significantly above the curve at n_base and N_equiv inside the measured sizes."""

    def null(reason: str) -> tuple[TradeEstimate, None, None]:
        return TradeEstimate(arm.arm, "joint_curve", arm.n_human, arm.n_aug, arm.score, None, None, reason), None, None

    if arm.n_aug <= 0:
        return null("arm has no augmented tasks")
    if fit is None:
        return null("the joint curve needs human arms of at least two sizes")
    if arm.n_human <= 0:
        return null("an augmented arm without human tasks has no n_base on the log curve")
    x0 = math.log2(arm.n_human)
    n_eq = float(_n_equiv(arm.score, fit.a, fit.b))
    rho = (n_eq - arm.n_human) / arm.n_aug if math.isfinite(n_eq) else None
    reason = f"log-linear human curve, {fit.describe()}"
    if rho is None:
        reason += ": the fitted slope is not > 0, so no size reaches the score"
    extrapolated = math.isfinite(n_eq) and not (fit.sizes[0] <= n_eq <= fit.sizes[-1])
    if extrapolated:
        reason += f"; N_equiv {n_eq:.4g} lies outside the measured sizes (the log-linear form carries it)"
    est = TradeEstimate(
        arm.arm, "joint_curve", arm.n_human, arm.n_aug, arm.score, n_eq if rho is not None else None, rho, reason
    )
    if draws.draws is None or fit.b_draws is None or fit.a_draws is None:
        return est, None, None
    s = draws.column(arm.arm)
    rho_d = (_n_equiv(s, fit.a_draws, fit.b_draws) - arm.n_human) / arm.n_aug
    gain_d = s - (fit.a_draws + fit.b_draws * x0)
    x_top = math.log2(fit.sizes[-1])
    rise_d = fit.b_draws * (x_top - x0)
    q = [alpha / 2, 1 - alpha / 2]
    g_lo, g_hi = (float(v) for v in np.quantile(gain_d, q))
    r_lo, r_hi = (float(v) for v in np.quantile(rise_d, q))
    gain = arm.score - (fit.a + fit.b * x0)
    z = _Z.inv_cdf(1 - alpha / 2) + _Z.inv_cdf(0.8)
    sig = bool(fit.significant)
    unbounded = None if sig else f"slope not significantly > 0 ({fit.describe()}): rho is unbounded (Fieller)"
    interval = rho_interval(rho_d, alpha, unbounded)
    parts = [
        f"human curve rises {fit.describe()}" if sig else f"human curve flat within noise: {fit.describe()}",
        f"{arm.arm} {'above' if g_lo > 0 else 'not above'} the curve at n_base = {arm.n_human}: "
        f"{gain:+.1f} [{g_lo:+.1f}, {g_hi:+.1f}]",
    ]
    if extrapolated:
        parts.append("N_equiv outside the measured human sizes")
    identified = sig and g_lo > 0 and rho is not None and not extrapolated
    est = replace(
        est,
        identified=identified,
        identified_reason="; ".join(parts) + f" (95% CIs; {draws.resamples})",
        human_base=f"curve@{arm.n_human}",
        human_upper=f"curve@{fit.sizes[-1]}",
        human_rise=fit.b * (x_top - x0),
        human_rise_low=r_lo,
        human_rise_high=r_hi,
        human_rise_mdd=z * float(np.std(rise_d, ddof=1)),
        aug_gain=gain,
        aug_gain_low=g_lo,
        aug_gain_high=g_hi,
        aug_gain_mdd=z * float(np.std(gain_d, ddof=1)),
    )
    return est, rho_d, interval


def _estimator_draws(draws: ScoreDraws, aug: Sequence[ArmScore]) -> dict[tuple[str, str], np.ndarray]:
    """rho of the dominance bound and of isotonic interpolation on every draw (NaN where undefined)."""
    assert draws.draws is not None
    out = {(a.arm, e): np.full(len(draws.draws), np.nan) for a in aug for e in ESTIMATORS[1:]}
    for k, row in enumerate(draws.draws):
        arms = [replace(a, score=float(v)) for a, v in zip(draws.arms, row, strict=True)]
        by = {a.arm: a for a in arms}
        curve = human_curve(arms)
        for a in aug:
            for est in (dominance_bound(by[a.arm], curve), log_interpolation(by[a.arm], curve)):
                out[(a.arm, est.estimator)][k] = draw_value(est)
    return out


@dataclass(frozen=True)
class TradeAnalysis:
    """Everything the report, `economics`, `run` and the assets state about the trade rate."""

    draws: ScoreDraws
    estimates: tuple[TradeEstimate, ...]
    intervals: Mapping[tuple[str, str], RhoInterval]
    rho_draws: Mapping[tuple[str, str], np.ndarray]
    curve: CurveFit | None
    dips: tuple[Dip, ...]
    base_gains: tuple[Difference, ...]  # every trained arm minus the base model
    base: ArmScore | None
    primary: str


def analyse(
    draws: ScoreDraws,
    difference: DifferenceFn | None = None,
    *,
    primary: str = "joint_curve",
    margin: float = 0.0,
    alpha: float = ALPHA,
) -> TradeAnalysis:
    """All three estimators per augmented arm with `identified`, rho intervals over every draw, the curve's
    dips and each arm's gain over the base model. `difference` defaults to the draws' own (paired for
    item-level scores) or, for CIs without draws, the CIs' normal approximation."""
    if primary not in ESTIMATORS:
        raise ValueError(f"primary estimator {primary!r} is not one of {ESTIMATORS}")
    arms = list(draws.arms)
    if difference is None:
        difference = (
            draws.difference
            if draws.draws is not None and draws.paired
            else (ci_differences(arms) if draws.draws is not None else None)
        )
    curve = human_curve(arms)
    dips = curve_dips(arms, difference)
    fit = fit_curve(draws, alpha)
    aug = [a for a in arms if not a.is_human_only and not a.is_base]
    per_draw = _estimator_draws(draws, aug) if draws.draws is not None else {}
    estimates: list[TradeEstimate] = []
    intervals: dict[tuple[str, str], RhoInterval] = {}
    rho_draws: dict[tuple[str, str], np.ndarray] = {}
    for a in aug:
        est, rd, iv = joint_curve_estimate(a, fit, draws, alpha)
        if draws.draws is None:
            est = replace(est, identified=None)
        elif fit is not None and fit.significant is not None and est.identified:
            bad = [d for d in dips if d.significant]
            if bad:
                est = replace(
                    est,
                    identified=False,
                    identified_reason=est.identified_reason + "; " + "; ".join(d.describe() for d in bad),
                )
        estimates.append(est)
        if rd is not None and iv is not None:
            rho_draws[(a.arm, est.estimator)], intervals[(a.arm, est.estimator)] = rd, iv
        for e in (dominance_bound(a, curve), log_interpolation(a, curve)):
            judged = identify(e, curve, difference, dips=dips, margin=margin) if difference is not None else e
            estimates.append(judged)
            if (a.arm, e.estimator) in per_draw:
                rho_draws[(a.arm, e.estimator)] = per_draw[(a.arm, e.estimator)]
                intervals[(a.arm, e.estimator)] = rho_interval(per_draw[(a.arm, e.estimator)], alpha)
    base = next((a for a in arms if a.is_base), None)
    gains: list[Difference] = []
    if base is not None and difference is not None:
        for a in arms:
            if a is not base:
                d = difference(a.arm, base.arm)
                if d is not None:
                    gains.append(d)
    return TradeAnalysis(draws, tuple(estimates), intervals, rho_draws, fit, tuple(dips), tuple(gains), base, primary)


# ---------------------------------------------------------------------------------------------------------------
# The trade_rate frame (one row per arm x estimator) and the verdict


TRADE_FRAME_SCHEMA = {
    **TRADE_ROW_SCHEMA,
    "primary": pl.Boolean,
    "rho_low": pl.Float64,  # two-sided 95% percentile interval over every draw; null = unbounded
    "rho_high": pl.Float64,
    "rho_low_1s": pl.Float64,  # one-sided 95% bounds (5% / 95% quantiles): the verdict's bounds
    "rho_high_1s": pl.Float64,
    "bootstrap_defined_fraction": pl.Float64,
    "rho_draws": pl.List(pl.Float64),  # every draw's rho (NaN: undefined), for P(rho_cost > 1) at any r
    "rests_on": pl.String,
    "items": pl.Int64,
    "seeds": pl.Int64,
}


def trade_frame(analysis: TradeAnalysis) -> pl.DataFrame:
    """The trade_rate table: every estimate with its interval, its draws and what it rests on."""
    rows = []
    d = analysis.draws
    for e in analysis.estimates:
        iv = analysis.intervals.get((e.arm, e.estimator))
        rd = analysis.rho_draws.get((e.arm, e.estimator))
        rows.append(
            {
                **e.as_row(),
                "primary": e.estimator == analysis.primary,
                "rho_low": iv.low if iv else None,
                "rho_high": iv.high if iv else None,
                "rho_low_1s": iv.low_1s if iv else None,
                "rho_high_1s": iv.high_1s if iv else None,
                "bootstrap_defined_fraction": iv.defined_fraction if iv else None,
                "rho_draws": rd.tolist() if rd is not None else None,
                "rests_on": d.resamples,
                "items": d.items,
                "seeds": d.seeds,
            }
        )
    return pl.DataFrame(rows, schema=TRADE_FRAME_SCHEMA)


VERDICTS = ("pays", "does not pay", "cannot tell")


@dataclass(frozen=True)
class Decision:
    """The verdict for one augmented arm, estimator and cost ratio."""

    arm: str
    estimator: str
    primary: bool
    cost_ratio: float
    ratio_label: str
    rho: float | None
    rho_low: float | None
    rho_high: float | None
    rho_cost: float | None
    rho_cost_low: float | None  # one-sided 95% lower bound (None: unbounded below)
    rho_cost_high: float | None  # one-sided 95% upper bound (None: unbounded above)
    p_rho_cost_above_1: float | None
    verdict: str
    reason: str
    identified: bool | None
    rests_on: str


DECISION_SCHEMA = {
    "arm": pl.String,
    "estimator": pl.String,
    "primary": pl.Boolean,
    "cost_ratio": pl.Float64,
    "ratio_label": pl.String,
    "rho": pl.Float64,
    "rho_low": pl.Float64,
    "rho_high": pl.Float64,
    "rho_cost": pl.Float64,
    "rho_cost_low": pl.Float64,
    "rho_cost_high": pl.Float64,
    "p_rho_cost_above_1": pl.Float64,
    "verdict": pl.String,
    "reason": pl.String,
    "identified": pl.Boolean,
    "rests_on": pl.String,
}


def _num(x: object) -> float | None:
    return float(x) if isinstance(x, int | float) and math.isfinite(float(x)) else None


def decide(row: Mapping[str, object], ratio: CostRatio) -> Decision:
    """The verdict from one trade_rate row at one cost ratio: `pays` when the one-sided 95% lower bound of
    rho_cost exceeds 1 (and the estimate is identified), `does not pay` when the upper bound is below 1,
    otherwise `cannot tell` with the reason."""
    r = ratio.value
    rho = _num(row.get("rho"))
    lo1, hi1 = _num(row.get("rho_low_1s")), _num(row.get("rho_high_1s"))
    draws = row.get("rho_draws")
    has_draws = isinstance(draws, Sequence) and len(draws) > 0
    low = r * lo1 if lo1 is not None else None
    high = r * hi1 if hi1 is not None else None
    p = None
    if has_draws:
        arr = np.asarray(draws, dtype=float)
        with np.errstate(over="ignore", invalid="ignore"):
            p = float(np.mean(np.nan_to_num(arr, nan=-np.inf) * r > 1))
    identified = row.get("identified")
    if not has_draws:
        verdict = "cannot tell"
        why = "point scores only: the verdict needs uncertainty (CIs, or item-level scores)"
        if rho is None:
            why += f"; no estimate ({row.get('reason')})"
    elif low is not None and low > 1 and identified is True:
        verdict, why = "pays", f"rho_cost >= {low:.3g} at one-sided 95%"
    elif high is not None and high < 1:
        verdict, why = "does not pay", f"rho_cost <= {high:.3g} at one-sided 95%"
    else:
        verdict = "cannot tell"
        if low is not None and low > 1:
            why = f"rho_cost >= {low:.3g}, but the trade rate is not identified"
        elif rho is None:
            why = f"no estimate ({row.get('reason')})"
        elif lo1 is None and hi1 is None and row.get("estimator") == "joint_curve":
            why = "rho interval unbounded: the human curve's slope is not significantly above 0"
        else:
            lo_t = "-inf" if low is None else f"{low:.3g}"
            hi_t = "inf" if high is None else f"{high:.3g}"
            why = f"rho_cost 90% interval [{lo_t}, {hi_t}] contains 1"
    if has_draws and SEED_NOT_MEASURED in str(row.get("rests_on") or ""):
        why += "; " + SEED_NOT_MEASURED
    return Decision(
        str(row["arm"]),
        str(row["estimator"]),
        bool(row.get("primary")),
        r,
        ratio.label,
        rho,
        _num(row.get("rho_low")),
        _num(row.get("rho_high")),
        rho * r if rho is not None else None,
        low,
        high,
        p,
        verdict,
        why,
        identified if isinstance(identified, bool) else None,
        str(row.get("rests_on") or "point scores"),
    )


def decision_rows(trade: pl.DataFrame, ratios: Sequence[CostRatio]) -> list[Decision]:
    """Every augmented arm x estimator x cost ratio, primary estimator first. The report, `economics --json`,
    `run`'s last lines and the `economics_report` asset all state these."""
    rows = sorted(trade.iter_rows(named=True), key=lambda r: (not r.get("primary"), r["arm"], r["estimator"]))
    return [decide(r, ratio) for r in rows for ratio in ratios]


def decision_frame(decisions: Sequence[Decision]) -> pl.DataFrame:
    """The decisions as a long frame (one row per arm x estimator x cost ratio)."""
    return pl.DataFrame([d.__dict__ for d in decisions], schema=DECISION_SCHEMA)


def _bound(x: float | None, inf: str) -> str:
    return inf if x is None else f"{x:.3g}"


def decision_table(decisions: Sequence[Decision]) -> pl.DataFrame:
    """The short decision table the report and the UI open with: one row per arm and estimator, rho with its
    95% CI, and per cost ratio the one-sided lower bound of rho_cost and the verdict."""
    by: dict[tuple[str, str], dict[str, object]] = {}
    for d in decisions:
        row = by.setdefault(
            (d.arm, d.estimator),
            {
                "arm": d.arm,
                "estimator": d.estimator + (" (primary)" if d.primary else ""),
                "rho [95% CI]": "-"
                if d.rho is None
                else f"{d.rho:.3g}"
                + (
                    " (no CI)"
                    if d.p_rho_cost_above_1 is None
                    else f" [{_bound(d.rho_low, '-inf')}, {_bound(d.rho_high, 'inf')}]"
                ),
                "identified": "-" if d.identified is None else ("yes" if d.identified else "no"),
            },
        )
        label = f"r={d.cost_ratio:.3g}" + ("" if d.ratio_label == "configured" else f" ({d.ratio_label})")
        low = "" if d.p_rho_cost_above_1 is None else f" (low {_bound(d.rho_cost_low, '-inf')})"
        row[label] = d.verdict + low
    return pl.DataFrame(list(by.values()))


def verdict_lines(decisions: Sequence[Decision], analysis_notes: Sequence[str] = ()) -> list[str]:
    """Plain lines that open the report and end `run`: the primary estimator's verdict per arm and ratio."""
    lines = list(analysis_notes)
    primary = [d for d in decisions if d.primary] or list(decisions)
    for d in primary:
        p = "" if d.p_rho_cost_above_1 is None else f", P(rho_cost > 1) = {d.p_rho_cost_above_1:.2f}"
        lines.append(
            f"{d.arm} at r = {d.cost_ratio:.3g} ({d.ratio_label}, {d.estimator}): {d.verdict.upper()}: {d.reason}{p}"
        )
    return lines


def reference_lines(analysis: TradeAnalysis) -> list[str]:
    """Findings that come before any trade rate: whether any trained arm beats the base model, dips in the
    human curve, and seed variance not measured."""
    lines = []
    if analysis.base is not None and analysis.base_gains:
        beats = [g for g in analysis.base_gains if g.ci_low > 0]
        if not beats:
            lines.append(
                f"NO ARM BEATS THE BASE MODEL ({analysis.base.arm}, {analysis.base.score:.1f}): training did not "
                "measurably improve on the untrained model; every gain's 95% CI includes 0 or lies below it."
            )
        else:
            lines.append(f"Arms above the base model ({analysis.base.arm}): {', '.join(g.arm for g in beats)}.")
    for dip in analysis.dips:
        if dip.significant:
            lines.append(f"FINDING: {dip.describe()}: the human curve is not monotone there.")
    if analysis.draws.draws is not None and analysis.draws.paired and analysis.draws.seed_df == 0:
        lines.append(f"Note: {SEED_NOT_MEASURED}; every interval is over items only.")
    return lines


def base_gain_frame(analysis: TradeAnalysis) -> pl.DataFrame:
    """Every trained arm's gain over the base model with its CI."""
    return pl.DataFrame(
        [
            {"arm": g.arm, "gain_over_base": g.diff, "ci_low": g.ci_low, "ci_high": g.ci_high, "method": g.method}
            for g in analysis.base_gains
        ],
        schema={
            "arm": pl.String,
            "gain_over_base": pl.Float64,
            "ci_low": pl.Float64,
            "ci_high": pl.Float64,
            "method": pl.String,
        },
    )


def strict_json_value(value: object) -> object:
    """JSON has no Infinity / NaN: non-finite floats become null (recursively), so `json.dumps(...,
    allow_nan=False)` never fails and every reader can parse the output."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): strict_json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [strict_json_value(v) for v in value]
    return value

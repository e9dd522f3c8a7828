"""Trade rate and cost-adjusted trade rate between augmented and human-authored tasks.

For an augmented arm (n_human humans, the study's n_base, + n_aug variants) find N_equiv, the human task count that reaches the
same score on the human-only scaling curve; rho = (N_equiv - n_base) / n_aug; rho_cost(r) = rho * r with
r = c_human / c_aug; break-even r* = 1 / rho. The estimators here, never silent extrapolation (the joint
log-linear curve, the verdict and the draws live in `core/economics/trade_stats.py`; docs/statistics.md):

- dominance_bound: the largest human arm the augmented arm matches. A match needs the arm's score to be at
  least the human arm's and the human curve to have actually risen to that arm (above every smaller human
  arm from n_base on): a tie along a flat stretch, or at the floor (score 0), is not evidence. A lower bound
  on N_equiv and so on rho; identified only if the arm is significantly not below that human arm
  (non-inferiority), never on a tie.
- log_interpolation: invert the isotonic human curve from n_base upward, linear in log task count. Outside
  the measured curve, on a flat curve or at the floor the estimate is null with the reason.

A ratio of differences is noise when its differences are. Every estimate carries `identified`: true only
when (i) the human curve rises significantly over the range the estimate uses (score of the largest human
arm used minus the n_base arm's, 95% CI excludes 0), (ii) the augmented arm is significantly above its
n_base human arm, and (iii) no significant dip of the human curve lies in that range. The differences come
from the paired bootstrap in the pipeline, from the reported CIs read side by side (normal approximation,
unpaired) for a CSV, and are unknown (`identified` null) for point scores. Each comparison also carries its
minimum detectable difference (see `core/kernel/scoring.py`).
"""

from __future__ import annotations

import csv
import io
import itertools
import math
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

import polars as pl

from rlvr_assets.core.kernel.draws import bootstrap_arm_scores
from rlvr_assets.core.kernel.files import FileProblem, read_table_text

# ArmScore / ArmShape (the estimators' inputs) live in core/kernel/scoring.py with the rest of the scoring
from rlvr_assets.core.kernel.scoring import ArmScore, ArmShape, Difference, DifferenceFn, RewardTable

IDENTIFICATION_SCHEMA = {
    "identified": pl.Boolean,
    "identified_reason": pl.String,
    "human_base": pl.String,
    "human_upper": pl.String,
    "human_rise": pl.Float64,
    "human_rise_low": pl.Float64,
    "human_rise_high": pl.Float64,
    "human_rise_mdd": pl.Float64,
    "aug_gain": pl.Float64,
    "aug_gain_low": pl.Float64,
    "aug_gain_high": pl.Float64,
    "aug_gain_mdd": pl.Float64,
}
TRADE_ROW_SCHEMA = {
    "arm": pl.String,
    "estimator": pl.String,
    "n_human": pl.Int64,
    "n_aug": pl.Int64,
    "score": pl.Float64,
    "n_equiv": pl.Float64,
    "rho": pl.Float64,
    "reason": pl.String,
    **IDENTIFICATION_SCHEMA,
}
COST_ROW_SCHEMA = {
    "arm": pl.String,
    "estimator": pl.String,
    "cost_ratio": pl.Float64,
    "n_equiv": pl.Float64,
    "rho": pl.Float64,
    "rho_cost": pl.Float64,
    "break_even": pl.Float64,
    "reason": pl.String,
    **IDENTIFICATION_SCHEMA,
}

MAX_TASKS = 10**9  # task counts above this are input errors (and would overflow the float arithmetic)
MAX_SCORE = 1e6  # points; larger magnitudes are input errors, not scores
NO_UNCERTAINTY = "no uncertainty given: point scores only (add ci_low/ci_high, or score items in the pipeline)"


@dataclass(frozen=True)
class TradeEstimate:
    arm: str
    estimator: str
    n_human: int  # the augmented arm's human tasks (its base; the study writes n_base)
    n_aug: int
    score: float
    n_equiv: float | None
    rho: float | None
    reason: str
    identified: bool | None = None
    identified_reason: str = NO_UNCERTAINTY
    human_base: str | None = None  # the n_base human arm every comparison is against
    human_upper: str | None = None  # the largest human arm the estimate uses (a null estimate: the whole curve)
    # score(human_upper) - score(human_base), points, 95% CI, MDD at 80% power
    human_rise: float | None = None
    human_rise_low: float | None = None
    human_rise_high: float | None = None
    human_rise_mdd: float | None = None
    # score(augmented arm) - score(n_base human arm)
    aug_gain: float | None = None
    aug_gain_low: float | None = None
    aug_gain_high: float | None = None
    aug_gain_mdd: float | None = None

    def as_row(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_row(cls, row: dict[str, object]) -> TradeEstimate:
        """Back from a trade_rate table row (extra columns ignored)."""
        return cls(**{f.name: row[f.name] for f in fields(cls) if f.name in row})  # type: ignore[arg-type]


@dataclass(frozen=True)
class CostRow:
    arm: str
    estimator: str
    cost_ratio: float
    n_equiv: float | None
    rho: float | None
    rho_cost: float | None
    break_even: float | None
    reason: str
    identified: bool | None = None
    identified_reason: str = NO_UNCERTAINTY
    human_base: str | None = None
    human_upper: str | None = None
    human_rise: float | None = None
    human_rise_low: float | None = None
    human_rise_high: float | None = None
    human_rise_mdd: float | None = None
    aug_gain: float | None = None
    aug_gain_low: float | None = None
    aug_gain_high: float | None = None
    aug_gain_mdd: float | None = None

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


class ArmsFileError(ValueError):
    pass


def _isotonic(values: Sequence[float]) -> list[float]:
    """Pool-adjacent-violators: the non-decreasing fit, so a noisy human curve can be inverted."""
    blocks: list[list[float]] = []  # [sum, count]
    for v in values:
        blocks.append([v, 1])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] > blocks[-1][0] / blocks[-1][1]:
            s, c = blocks.pop()
            blocks[-1][0] += s
            blocks[-1][1] += c
    fitted: list[float] = []
    for s, c in blocks:
        fitted.extend([s / c] * int(c))
    return fitted


def human_curve(arms: Sequence[ArmScore]) -> list[ArmScore]:
    curve = sorted((a for a in arms if a.is_human_only), key=lambda a: a.n_human)
    if len({a.n_human for a in curve}) != len(curve):
        raise ValueError("two human-only arms have the same n_human")
    return curve


def _floor_reason(arm: ArmScore) -> str | None:
    if arm.score <= 0:
        return f"score {arm.score:.4g} is at the floor: a tie at 0 is not evidence"
    return None


def dominance_bound(arm: ArmScore, curve: Sequence[ArmScore]) -> TradeEstimate:
    def null(reason: str) -> TradeEstimate:
        return TradeEstimate(arm.arm, "dominance_bound", arm.n_human, arm.n_aug, arm.score, None, None, reason)

    if arm.n_aug <= 0:
        return null("arm has no augmented tasks")
    floor = _floor_reason(arm)
    if floor:
        return null(floor)
    matched: list[ArmScore] = []
    flat: list[ArmScore] = []  # human arms the score reaches only where the curve did not rise
    highest_below = -math.inf
    for h in sorted((h for h in curve if h.n_human >= arm.n_human), key=lambda h: h.n_human):
        if arm.score >= h.score:
            (matched if h.score > highest_below else flat).append(h)
        highest_below = max(highest_below, h.score)
    if not matched:
        reason = f"score {arm.score:.4g} does not reach any human arm with >= {arm.n_human} tasks"
        if flat:
            reason += f" where the human curve rose (ties along a flat stretch: {', '.join(h.arm for h in flat)})"
        return null(reason)
    best = max(matched, key=lambda h: h.n_human)
    rho = (best.n_human - arm.n_human) / arm.n_aug
    reason = f"matches human arm {best.arm} ({best.score:.4g}); rho is a lower bound"
    skipped = [h.arm for h in flat if h.n_human > best.n_human]
    if skipped:
        reason += f" (not {', '.join(skipped)}: the human curve did not rise there)"
    return TradeEstimate(
        arm.arm, "dominance_bound", arm.n_human, arm.n_aug, arm.score, float(best.n_human), rho, reason
    )


def log_interpolation(arm: ArmScore, curve: Sequence[ArmScore]) -> TradeEstimate:
    def null(reason: str) -> TradeEstimate:
        return TradeEstimate(arm.arm, "log_interpolation", arm.n_human, arm.n_aug, arm.score, None, None, reason)

    if arm.n_aug <= 0:
        return null("arm has no augmented tasks")
    floor = _floor_reason(arm)
    if floor:
        return null(floor)
    # only from n_base upward: a flat or falling stretch below the arm's own base says nothing about it
    curve = [h for h in curve if h.n_human >= arm.n_human]
    if len(curve) < 2:
        return null(f"human curve needs at least two arms with >= {arm.n_human} tasks (n_base)")
    xs = [math.log(h.n_human) for h in curve]
    ys = _isotonic([h.score for h in curve])
    if ys[-1] <= ys[0]:
        return null(f"human curve is flat (fitted {ys[0]:.4g} at every size): any N_equiv fits")
    if arm.score > ys[-1]:
        return null(
            f"extrapolation: score {arm.score:.4g} is above the largest human arm "
            f"({curve[-1].arm}, fitted {ys[-1]:.4g})"
        )
    if arm.score < ys[0]:
        return null(
            f"extrapolation: score {arm.score:.4g} is below the smallest human arm ({curve[0].arm}, fitted {ys[0]:.4g})"
        )
    # smallest N whose fitted score reaches the arm's score (conservative on flat stretches)
    n_equiv = None
    for i, y in enumerate(ys):
        if y >= arm.score:
            if i == 0 or ys[i] == ys[i - 1]:
                n_equiv = float(curve[i].n_human)
            else:
                t = (arm.score - ys[i - 1]) / (ys[i] - ys[i - 1])
                n_equiv = math.exp(xs[i - 1] + t * (xs[i] - xs[i - 1]))
            break
    assert n_equiv is not None
    rho = (n_equiv - arm.n_human) / arm.n_aug
    return TradeEstimate(
        arm.arm,
        "log_interpolation",
        arm.n_human,
        arm.n_aug,
        arm.score,
        n_equiv,
        rho,
        "interpolated on the isotonic human curve in log task count, from n_base up",
    )


def _comparison(d: Difference | None, prefix: str) -> dict[str, float | None]:
    if d is None:
        return {}
    return {prefix: d.diff, f"{prefix}_low": d.ci_low, f"{prefix}_high": d.ci_high, f"{prefix}_mdd": d.mdd}


def identify(
    est: TradeEstimate,
    curve: Sequence[ArmScore],
    difference: DifferenceFn | None,
    dips: Sequence[Any] = (),
    margin: float = 0.0,
) -> TradeEstimate:
    """Fill `identified` and its reason: the human rise over the range the estimate uses and the augmented
    arm's gain over its n_base human arm must both be significantly above 0 (see the module docstring).
    A null estimate is never identified, but its comparisons (the gain, and the rise over the whole human
    curve) are still measured, so their minimum detectable differences are reported."""
    if difference is None:
        return replace(est, identified=None, identified_reason=NO_UNCERTAINTY)
    no_estimate = est.rho is None or est.n_equiv is None
    prefix = [f"no estimate ({est.reason})"] if no_estimate else []
    base = next((h for h in curve if h.n_human == est.n_human), None)
    if base is None:
        why = f"no human-only arm with n_human = {est.n_human} to compare the augmented arm with"
        return replace(est, identified=False, identified_reason="; ".join([*prefix, why]))
    if no_estimate:
        upper: ArmScore | None = curve[-1] if curve else None
    else:
        n_equiv = float(est.n_equiv)  # type: ignore[arg-type]
        upper = next((h for h in curve if h.n_human >= n_equiv * (1 - 1e-9)), None)
    gain = difference(est.arm, base.arm)
    uses_rise = upper is not None and upper.n_human > base.n_human
    rise = difference(upper.arm, base.arm) if uses_rise and upper is not None else None
    if gain is None or (uses_rise and rise is None):
        lacking = [a for a, d in ((est.arm, gain), (upper.arm if upper else "", rise)) if d is None and a]
        return replace(est, identified=None, identified_reason=f"no uncertainty given for {', '.join(lacking)} (no CI)")
    parts = list(prefix)
    if rise is None or upper is None:
        parts.append(f"N_equiv <= n_base = {est.n_human}: the estimate uses no rise of the human curve")
    elif rise.significant:
        parts.append(f"human curve rises {rise.describe()} ({base.arm} -> {upper.arm})")
    else:
        parts.append(f"human curve flat within noise: {rise.describe()} ({base.arm} -> {upper.arm})")
    if gain.significant:
        parts.append(f"{est.arm} above {base.arm}: {gain.describe()}")
    else:
        parts.append(f"{est.arm} not above {base.arm} within noise: {gain.describe()}")
    identified = not no_estimate and rise is not None and rise.significant and gain.significant
    if est.estimator == "dominance_bound" and not no_estimate and upper is not None and upper.n_human > base.n_human:
        # the bound claims score(arm) >= score(human_upper): a tie is not evidence, so test it (non-inferiority)
        ni = difference(est.arm, upper.arm)
        if ni is None or ni.ci_low <= -margin:
            identified = False
            shown = "no CI" if ni is None else ni.describe()
            parts.append(f"{est.arm} not shown >= {upper.arm} (non-inferiority, margin {margin:g}): {shown}")
        else:
            parts.append(f"{est.arm} >= {upper.arm} - {margin:g} (non-inferiority): {ni.describe()}")
    # a dip inside the range the estimate uses; isotonic interpolation pools over everything from n_base up
    lo_n = base.n_human
    hi_n: float = upper.n_human if upper is not None else base.n_human
    if est.estimator == "log_interpolation":
        hi_n = math.inf
    inside = [d for d in dips if getattr(d, "significant", False) and _dip_within(d, curve, lo_n, hi_n)]
    if inside and not no_estimate:
        identified = False
        parts.extend(d.describe() for d in inside)
    return replace(
        est,
        identified=identified,
        identified_reason="; ".join(parts) + f" (95% CIs, {gain.method})",
        human_base=base.arm,
        human_upper=upper.arm if rise is not None and upper is not None else None,
        **_comparison(rise, "human_rise"),
        **_comparison(gain, "aug_gain"),
    )


def _dip_within(dip: Any, curve: Sequence[ArmScore], lo: float, hi: float) -> bool:
    sizes = {h.arm: h.n_human for h in curve}
    return lo <= sizes.get(dip.smaller, -1) and sizes.get(dip.larger, math.inf) <= hi


def trade_rates(arms: Sequence[ArmScore], difference: DifferenceFn | None = None) -> list[TradeEstimate]:
    """Both estimators for every augmented arm, each judged by `identify` (null without a `difference`)."""

    curve = human_curve(arms)
    dips = curve_dips(arms, difference) if difference is not None else []
    out: list[TradeEstimate] = []
    for arm in arms:
        if arm.is_human_only or arm.is_base:
            continue
        for est in (dominance_bound(arm, curve), log_interpolation(arm, curve)):
            out.append(identify(est, curve, difference, dips) if difference is not None else est)
    return out


def cost_rows(estimates: Sequence[TradeEstimate], cost_ratios: Sequence[float]) -> list[CostRow]:
    """rho_cost(r) = rho * r and break-even r* = 1/rho for every estimate and cost ratio."""
    rows = []
    for est in estimates:
        judged = {k: v for k, v in est.as_row().items() if k in IDENTIFICATION_SCHEMA}
        for r in cost_ratios:
            if est.rho is None:
                rows.append(CostRow(est.arm, est.estimator, r, est.n_equiv, None, None, None, est.reason, **judged))
                continue
            break_even = 1.0 / est.rho if est.rho > 0 else None
            reason = est.reason if est.rho > 0 else f"{est.reason}; rho <= 0, augmentation never breaks even"
            rows.append(
                CostRow(est.arm, est.estimator, r, est.n_equiv, est.rho, est.rho * r, break_even, reason, **judged)
            )
    return rows


def parse_cost_ratios(text: str) -> list[float]:
    """`5,10,40` -> [5.0, 10.0, 40.0]; every ratio must be a finite positive number (`1e400` is inf)."""
    ratios = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        try:
            value = float(part)
        except ValueError:
            raise ValueError(f"{part!r} is not a number (comma-separated c_human / c_aug ratios)") from None
        if not math.isfinite(value) or value <= 0:
            raise ValueError(f"{part!r} is not a finite positive number")
        ratios.append(value)
    if not ratios:
        raise ValueError("needs at least one positive number")
    return ratios


def _read_text(path: Path) -> str:
    """The file as text (`kernel/files.read_table_text`: bounded, regular files only); any problem is one line."""
    try:
        return read_table_text(path, "a CSV file")
    except FileProblem as exc:
        raise ArmsFileError(str(exc)) from None


def read_arms_csv(path: Path) -> list[ArmScore]:
    """Read `arm,n_human,n_aug,score[,ci_low,ci_high]`; errors name the file, line and column."""
    reader = csv.DictReader(io.StringIO(_read_text(path), newline=""))
    try:
        fieldnames = reader.fieldnames
    except csv.Error as exc:
        raise ArmsFileError(f"{path}:1: not a readable CSV header: {exc}") from None
    required = {"arm", "n_human", "n_aug", "score"}
    missing = required - set(fieldnames or [])
    if missing:
        raise ArmsFileError(f"{path}: missing column(s) {sorted(missing)}; need arm,n_human,n_aug,score")
    arms = []
    human_lines: dict[int, int] = {}
    arm_lines: dict[str, int] = {}
    line = 1
    for line, row in csv_rows(reader, path, ArmsFileError):
        name = (row.get("arm") or "").strip()

        def num(col: str, cast: type, row: dict[str, str] = row, line: int = line) -> float | int | None:
            value = (row.get(col) or "").strip()
            if value == "" and col in ("ci_low", "ci_high"):
                return None
            where = f"{path}:{line}: arm {row.get('arm')!r}: column '{col}'"
            try:
                parsed = cast(value)
            except ValueError:
                raise ArmsFileError(f"{where}: {value!r} is not a valid {cast.__name__}") from None
            if cast is int and not 0 <= parsed <= MAX_TASKS:  # before isfinite: a 400-digit int overflows a float
                raise ArmsFileError(f"{where}: {value[:40]!r} is outside [0, {MAX_TASKS}]")
            if not math.isfinite(parsed):
                raise ArmsFileError(f"{where}: {value[:40]!r} is not a finite number")
            if cast is float and abs(parsed) > MAX_SCORE:
                raise ArmsFileError(
                    f"{where}: {value[:40]!r} is outside [-{MAX_SCORE:g}, {MAX_SCORE:g}] (scores are points)"
                )
            return parsed

        if not name:
            raise ArmsFileError(f"{path}:{line}: column 'arm': empty arm name")
        if name in arm_lines:
            raise ArmsFileError(
                f"{path}:{line}: arm {name!r}: column 'arm': the same arm is already on line {arm_lines[name]}"
            )
        arm = ArmScore(
            name,
            int(num("n_human", int)),  # type: ignore[arg-type]
            int(num("n_aug", int)),  # type: ignore[arg-type]
            float(num("score", float)),  # type: ignore[arg-type]
            num("ci_low", float),
            num("ci_high", float),
        )
        if (arm.ci_low is None) != (arm.ci_high is None):
            col = "ci_high" if arm.ci_high is None else "ci_low"
            raise ArmsFileError(
                f"{path}:{line}: arm {name!r}: column '{col}': give both ci_low and ci_high, or neither"
            )
        if arm.ci_low is not None and arm.ci_high is not None and arm.ci_low > arm.ci_high:
            raise ArmsFileError(f"{path}:{line}: arm {name!r}: column 'ci_low': {arm.ci_low} > ci_high {arm.ci_high}")
        if arm.ci_low is not None and arm.ci_high is not None and not arm.ci_low <= arm.score <= arm.ci_high:
            raise ArmsFileError(
                f"{path}:{line}: arm {name!r}: column 'score': {arm.score} is outside its CI [{arm.ci_low}, "
                f"{arm.ci_high}] (are the CI and the score in the same units?)"
            )
        if arm.n_human <= 0 and not arm.is_base:
            raise ArmsFileError(
                f"{path}:{line}: arm {arm.arm!r}: column 'n_human': must be > 0 (n_human = n_aug = 0 is the base model)"
            )
        if arm.is_human_only and arm.n_human in human_lines:
            raise ArmsFileError(
                f"{path}:{line}: arm {arm.arm!r}: column 'n_human': a human-only arm with n_human = {arm.n_human} "
                f"is already on line {human_lines[arm.n_human]} (average the two, or keep one)"
            )
        if arm.is_human_only:
            human_lines[arm.n_human] = line
        arm_lines[name] = line
        arms.append(arm)
    if sum(a.is_base for a in arms) > 1:
        raise ArmsFileError(f"{path}: more than one base-model row (n_human = n_aug = 0)")
    if len([a for a in arms if a.is_human_only]) < 1:
        raise ArmsFileError(f"{path}: no human-only rows (n_aug = 0) to form the human curve")
    return arms


def draw_value(est: TradeEstimate) -> float:
    """rho of one bootstrap draw for an interval: the estimate, or where there is none the side it lies on
    (-inf: the arm reaches no human arm / is below the curve; +inf: above the largest human arm; NaN: either,
    e.g. a flat curve). Undefined draws so widen the interval instead of dropping out of it."""
    if est.rho is not None:
        return est.rho
    r = est.reason
    if "above the largest" in r:
        return math.inf
    if "below the smallest" in r or "at the floor" in r or "does not reach" in r:
        return -math.inf
    return math.nan


@dataclass(frozen=True)
class TradeInterval:
    arm: str
    estimator: str
    rho_low: float | None
    rho_high: float | None
    defined_fraction: float


def trade_intervals(draws: Sequence[Sequence[ArmScore]], alpha: float = 0.05) -> list[TradeInterval]:
    """Percentile CIs for rho over bootstrap draws of the arm scores (`scoring.bootstrap_arm_scores`), every
    draw counted: one without an estimate is unbounded, so a bound is null (unbounded) once more than
    alpha / 2 of the draws have none."""
    samples = len(draws)
    values_by: dict[tuple[str, str], list[float]] = {}
    for draw in draws:
        for est in trade_rates(draw):
            values_by.setdefault((est.arm, est.estimator), []).append(draw_value(est))
    out = []
    for (arm, estimator), values in sorted(values_by.items()):
        n = len(values)
        frac = sum(math.isfinite(v) for v in values) / n if n else 0.0
        # an undefined draw counts on its side (`draw_value`; NaN: -inf for the lower bound, +inf for the
        # upper), so the CI never shrinks to the draws where the estimate happens to exist; null = unbounded
        lows = sorted(-math.inf if math.isnan(v) else v for v in values)
        highs = sorted(math.inf if math.isnan(v) else v for v in values)
        lo = lows[int(alpha / 2 * n)] if n else -math.inf
        hi = highs[min(n - 1, int((1 - alpha / 2) * n))] if n else math.inf
        out.append(
            TradeInterval(arm, estimator, lo if math.isfinite(lo) else None, hi if math.isfinite(hi) else None, frac)
        )
    del samples
    return out


def bootstrap_trade_rates(
    arms: dict[str, ArmShape],
    item_rewards: RewardTable,
    samples: int,
    seed: int,
    alpha: float = 0.05,
    benchmark_of: dict[str, str] | None = None,
) -> list[TradeInterval]:
    """Percentile CIs for rho, resampling benchmark items within each benchmark (stratified, paired across
    arms) and each arm's training seeds; arm scores are the macro mean over benchmarks."""
    return trade_intervals(bootstrap_arm_scores(arms, item_rewards, samples, seed, benchmark_of), alpha)


@dataclass(frozen=True)
class Dip:
    """A drop of the human curve between two adjacent human arms; `significant` when its CI is below 0."""

    smaller: str
    larger: str
    difference: Difference

    @property
    def significant(self) -> bool:
        return self.difference.ci_high < 0

    def describe(self) -> str:
        return f"human curve dips {self.larger} - {self.smaller} = {self.difference.describe()}"


def curve_dips(arms: Sequence[ArmScore], difference: DifferenceFn | None) -> list[Dip]:
    """Every adjacent pair of human arms whose larger one scores lower (a finding; never pooled away silently)."""
    curve = human_curve(arms)
    out = []
    for small, large in itertools.pairwise(curve):
        if large.score < small.score and difference is not None:
            d = difference(large.arm, small.arm)
            if d is not None:
                out.append(Dip(small.arm, large.arm, d))
    return out


def csv_rows(
    reader: csv.DictReader, path: Path, error: type[Exception] = ArmsFileError
) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row) of a user's CSV; a row the csv module cannot read is a one-line `error` naming the line."""
    rows = iter(reader)
    while True:
        try:
            row = next(rows)
        except StopIteration:
            return
        except csv.Error as exc:
            raise error(f"{path}:{reader.line_num}: not a readable CSV row: {exc}") from None
        yield reader.line_num, row

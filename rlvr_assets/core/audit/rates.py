"""Audit of the gate: how often it lets a broken variant through or throws a good one away, per operator.

Two kinds of evidence, kept apart because they see different things:

- **Probes** (core/audit/probes.py) run on every accepted variant: a failed probe proves the variant broken
  (a gate false positive with the probe as its reason). Passing them does not prove it correct: no probe
  sees a vaguer instruction that changed the task's meaning or an obscured goal that became ambiguous.
- **Reviews**: a person's verdict (correct / broken / unsure) on a reproducible stratified sample
  (`rlvr-assets audit sample`, read back with `rlvr-assets audit record`).

Gate precision (share of accepted variants that are correct) = P(all probes pass) x P(correct | all probes
pass). The first factor is counted over every accepted variant; the second is estimated from the reviewed
accepted variants that passed their probes (the sample draws from those only: a probe failure is already a
verdict). Its interval is the product of the two factors' Wilson intervals at 97.5% each (Bonferroni, so
at least 95% jointly); each factor treats this run's variants of an operator as a binomial sample of what
the operator produces. Without reviews the precision is the probe pass rate: an upper bound, and it says so.

The false-rejection rate is the share of correct variants among reviewed variants the gate rejected on a
correctness factor (V_verify or V_faithful, the factors that claim the variant itself is wrong), Wilson 95%.
A rejection on V_solve, V_distinct or V_informative says a variant would not teach this policy or repeats
another, which a correct variant can deserve, so those reviews are counted beside it but not as errors.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import polars as pl
from scipy.stats import norm

from rlvr_assets.core.economics.trade_rate import TradeEstimate, cost_rows

VERDICTS = ("correct", "broken", "unsure")
CORRECTNESS_FACTORS = ("verify", "faithful")
REVIEWS_TABLE = "gate_reviews"
SAMPLE_TABLE = "gate_audit_sample"
INTERVAL_NOTE = (
    "Wilson intervals; each treats this run's variants of an operator as a binomial sample of what the operator "
    "produces; precision = probe pass rate x reviewed share correct, its interval the product of both 97.5% "
    "Wilson intervals (Bonferroni, >= 95% jointly)"
)


# ---------------------------------------------------------------------------------------------- intervals


def wilson(k: int, n: int, confidence: float = 0.95) -> tuple[float | None, float | None]:
    """Wilson score interval for k successes in n binomial trials; (None, None) when n = 0."""
    if n <= 0:
        return None, None
    z = float(norm.ppf(1 - (1 - confidence) / 2))
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    # the interval always holds p; say so exactly (at k = n, centre + half rounds to just under 1)
    return max(0.0, min(p, centre - half)), min(1.0, max(p, centre + half))


# ---------------------------------------------------------------------------------------------- per variant

VARIANT_SCHEMA = {
    "variant_id": pl.String,
    "parent_id": pl.String,
    "operator": pl.String,
    "accepted": pl.Boolean,
    "failed_factors": pl.String,
    "decision_reason": pl.String,
    "probed": pl.Boolean,
    "probe_failures": pl.String,
    "verdict": pl.String,
    "note": pl.String,
}


def variant_audit_frame(gate: pl.DataFrame, probes: pl.DataFrame | None, reviews: pl.DataFrame | None) -> pl.DataFrame:
    """One row per gated variant: its decision, failed factors, probe failures (null: not probed) and verdict."""
    failed: dict[str, list[str]] = {}
    probed: set[str] = set()
    probe_fail: dict[str, list[str]] = {}
    if probes is not None and probes.height:
        probed = set(probes["variant_id"].to_list())
        for r in probes.filter(~pl.col("passed")).iter_rows(named=True):
            probe_fail.setdefault(r["variant_id"], []).append(f"{r['probe']}: {r['reason']}")
    verdicts: dict[str, tuple[str, str | None]] = {}
    if reviews is not None and reviews.height:
        verdicts = {r["variant_id"]: (r["verdict"], r["note"]) for r in reviews.iter_rows(named=True)}
    rows = []
    for r in gate.sort("variant_id", "factor").iter_rows(named=True):
        if not r["passed"]:
            failed.setdefault(r["variant_id"], []).append(r["factor"])
    for r in gate.filter(pl.col("factor") == "verify").sort("variant_id").iter_rows(named=True):
        vid = r["variant_id"]
        verdict, note = verdicts.get(vid, (None, None))
        rows.append(
            {
                "variant_id": vid,
                "parent_id": r["parent_id"],
                "operator": r["operator"],
                "accepted": r["accepted"],
                "failed_factors": ",".join(failed.get(vid, [])),
                "decision_reason": r["decision_reason"],
                "probed": vid in probed,
                "probe_failures": " | ".join(probe_fail.get(vid, [])) or None,
                "verdict": verdict,
                "note": note,
            }
        )
    return pl.DataFrame(rows, schema=VARIANT_SCHEMA)


# ---------------------------------------------------------------------------------------------- rates

RATE_SCHEMA = {
    "operator": pl.String,
    "attempts": pl.Int64,
    "accepted": pl.Int64,
    "yield": pl.Float64,
    "probed": pl.Int64,
    "probe_failed": pl.Int64,
    "probe_pass_rate": pl.Float64,
    "reviewed_accepted": pl.Int64,
    "reviewed_accepted_correct": pl.Int64,
    "unsure_accepted": pl.Int64,
    "false_positives": pl.Int64,
    "precision": pl.Float64,
    "precision_low": pl.Float64,
    "precision_high": pl.Float64,
    "precision_basis": pl.String,
    "rejected": pl.Int64,
    "rejected_on_correctness": pl.Int64,
    "reviewed_rejected": pl.Int64,
    "reviewed_rejected_correct": pl.Int64,
    "reviewed_rejected_utility": pl.Int64,
    "false_rejection_rate": pl.Float64,
    "false_rejection_low": pl.Float64,
    "false_rejection_high": pl.Float64,
    "false_rejection_basis": pl.String,
    "correct_yield": pl.Float64,
}


def _precision(probed: int, probe_failed: int, reviewed: int, correct: int) -> tuple[Any, Any, Any, str]:
    passing = probed - probe_failed
    if probed == 0 and reviewed == 0:
        return None, None, None, "not audited: no probes and no reviews"
    if reviewed == 0:
        low, high = wilson(passing, probed)
        return (
            passing / probed,
            low,
            high,
            f"probes only ({passing}/{probed} pass): an upper bound, no review has looked for what probes cannot see",
        )
    r_low, r_high = wilson(correct, reviewed, 0.975)
    share = correct / reviewed
    if probed == 0:
        low, high = wilson(correct, reviewed)
        return share, low, high, f"reviews only ({correct}/{reviewed} correct), no probes ran"
    p_low, p_high = wilson(passing, probed, 0.975)
    assert r_low is not None and r_high is not None and p_low is not None and p_high is not None
    return (
        passing / probed * share,
        p_low * r_low,
        p_high * r_high,
        f"probes ({passing}/{probed} pass) x reviews ({correct}/{reviewed} of the probe-passing correct)",
    )


def _rates_row(operator: str, attempts: int, variants: pl.DataFrame) -> dict[str, Any]:
    accepted = variants.filter(pl.col("accepted"))
    rejected = variants.filter(~pl.col("accepted"))
    probed = accepted.filter(pl.col("probed"))
    probe_failed = probed.filter(pl.col("probe_failures").is_not_null()).height
    clean = accepted.filter(pl.col("probe_failures").is_null())
    reviewed = clean.filter(pl.col("verdict").is_in(["correct", "broken"]))
    correct = reviewed.filter(pl.col("verdict") == "correct").height
    precision, p_low, p_high, p_basis = _precision(probed.height, probe_failed, reviewed.height, correct)
    on_correctness = rejected.filter(
        pl.col("failed_factors").str.contains("verify") | pl.col("failed_factors").str.contains("faithful")
    )
    judged = on_correctness.filter(pl.col("verdict").is_in(["correct", "broken"]))
    judged_correct = judged.filter(pl.col("verdict") == "correct").height
    utility = rejected.filter(
        ~pl.col("variant_id").is_in(on_correctness["variant_id"].to_list())
        & pl.col("verdict").is_in(["correct", "broken"])
    )
    if judged.height:
        frr: float | None = judged_correct / judged.height
        f_low, f_high = wilson(judged_correct, judged.height)
        f_basis = f"reviews: {judged_correct}/{judged.height} rejected on V_verify/V_faithful judged correct"
    else:
        frr, f_low, f_high = None, None, None
        f_basis = "not audited: no reviewed variant rejected on V_verify/V_faithful"
    yield_ = accepted.height / attempts if attempts else None
    broken_reviewed = accepted.filter((pl.col("verdict") == "broken") & pl.col("probe_failures").is_null()).height
    return {
        "operator": operator,
        "attempts": attempts,
        "accepted": accepted.height,
        "yield": yield_,
        "probed": probed.height,
        "probe_failed": probe_failed,
        "probe_pass_rate": (probed.height - probe_failed) / probed.height if probed.height else None,
        "reviewed_accepted": reviewed.height,
        "reviewed_accepted_correct": correct,
        "unsure_accepted": clean.filter(pl.col("verdict") == "unsure").height,
        "false_positives": probe_failed + broken_reviewed,
        "precision": precision,
        "precision_low": p_low,
        "precision_high": p_high,
        "precision_basis": p_basis,
        "rejected": rejected.height,
        "rejected_on_correctness": on_correctness.height,
        "reviewed_rejected": judged.height,
        "reviewed_rejected_correct": judged_correct,
        "reviewed_rejected_utility": utility.height,
        "false_rejection_rate": frr,
        "false_rejection_low": f_low,
        "false_rejection_high": f_high,
        "false_rejection_basis": f_basis,
        "correct_yield": yield_ * precision if yield_ is not None and precision is not None else None,
    }


def audit_rates(augmented: pl.DataFrame, variants: pl.DataFrame) -> pl.DataFrame:
    """Precision and false-rejection rate with intervals, per operator and overall ('all', pooled counts:
    the review sample is allocated in proportion to stratum size, so pooling is close to self-weighting)."""
    attempts = dict(augmented.group_by("operator").agg(pl.len()).iter_rows())
    operators = sorted(set(attempts) | set(variants["operator"].drop_nulls().to_list()))
    rows = [_rates_row(op, int(attempts.get(op, 0)), variants.filter(pl.col("operator") == op)) for op in operators]
    rows.append(_rates_row("all", augmented.height, variants))
    return pl.DataFrame(rows, schema=RATE_SCHEMA)


FALSE_POSITIVE_SCHEMA = {"variant_id": pl.String, "operator": pl.String, "source": pl.String, "reason": pl.String}


def false_positive_frame(variants: pl.DataFrame) -> pl.DataFrame:
    """Every accepted variant known to be broken, with what showed it: a failed probe or a reviewer."""
    rows = []
    for r in variants.filter(pl.col("accepted")).iter_rows(named=True):
        if r["probe_failures"]:
            rows.append({**_pick(r), "source": "probe", "reason": r["probe_failures"]})
        elif r["verdict"] == "broken":
            rows.append({**_pick(r), "source": "review", "reason": r["note"] or "reviewer: broken"})
    return pl.DataFrame(rows, schema=FALSE_POSITIVE_SCHEMA)


def _pick(r: dict[str, Any]) -> dict[str, Any]:
    return {"variant_id": r["variant_id"], "operator": r["operator"]}


# ---------------------------------------------------------------------------------------------- economics

AUDITED_COST_SCHEMA = {
    "arm": pl.String,
    "estimator": pl.String,
    "rho": pl.Float64,
    "c_aug_usd": pl.Float64,
    "precision": pl.Float64,
    "precision_low": pl.Float64,
    "precision_high": pl.Float64,
    "c_aug_correct_usd": pl.Float64,
    "c_aug_correct_low": pl.Float64,
    "c_aug_correct_high": pl.Float64,
    "cost_ratio": pl.Float64,
    "rho_cost": pl.Float64,
    "audited_cost_ratio": pl.Float64,
    "rho_cost_audited": pl.Float64,
    "rho_cost_audited_low": pl.Float64,
    "rho_cost_audited_high": pl.Float64,
    "relative_gap": pl.Float64,
    "identified": pl.Boolean,
    "comparison": pl.String,
}


def _pays(value: float | None) -> str:
    return "n/a" if value is None else ("above 1" if value > 1 else "at or below 1")


def audited_rho_cost(trade: pl.DataFrame, costs: pl.DataFrame, rates: pl.DataFrame) -> pl.DataFrame:
    """c_aug per *correct* accepted variant (c_aug / audited precision) and rho_cost at the measured ratio
    r = c_human / c_aug beside rho_cost at the audited ratio r x precision, per arm and estimator. The
    audited interval carries the precision's uncertainty only (rho's own CI is in the trade_rate table)."""
    cost = costs.row(0, named=True) if costs.height else {}
    c_aug, ratio = cost.get("c_aug_usd"), cost.get("measured_cost_ratio")
    overall = rates.filter(pl.col("operator") == "all")
    prec = overall.row(0, named=True) if overall.height else {}
    p, p_low, p_high = prec.get("precision"), prec.get("precision_low"), prec.get("precision_high")
    basis = prec.get("precision_basis", "not audited")
    estimates = [TradeEstimate.from_row(r) for r in trade.iter_rows(named=True)]
    rows = []
    for est in estimates:
        plain = cost_rows([est], [ratio])[0] if ratio else None
        audited_ratio = ratio * p if ratio and p else None
        audited = cost_rows([est], [audited_ratio])[0] if audited_ratio else None
        rc, ra = (plain.rho_cost if plain else None), (audited.rho_cost if audited else None)
        low = rc * p_low if rc is not None and p_low is not None else None
        high = rc * p_high if rc is not None and p_high is not None else None
        gap = (rc - ra) / rc if rc and ra is not None else None
        if rc is None or ra is None:
            why = est.reason if est.rho is None else ("no audited precision" if not p else "no measured cost ratio")
            text = f"no comparison: {why}"
        else:
            flips = (rc > 1) != (ra > 1)
            text = (
                f"audited rho_cost {ra:.3g} is {gap:.0%} below the unaudited {rc:.3g} (precision {p:.3g}, "
                f"{basis}); {'crosses break-even: ' if flips else ''}unaudited {_pays(rc)}, audited {_pays(ra)}"
            )
        rows.append(
            {
                "arm": est.arm,
                "estimator": est.estimator,
                "rho": est.rho,
                "c_aug_usd": c_aug,
                "precision": p,
                "precision_low": p_low,
                "precision_high": p_high,
                "c_aug_correct_usd": c_aug / p if c_aug is not None and p else None,
                "c_aug_correct_low": c_aug / p_high if c_aug is not None and p_high else None,
                "c_aug_correct_high": c_aug / p_low if c_aug is not None and p_low else None,
                "cost_ratio": ratio,
                "rho_cost": rc,
                "audited_cost_ratio": audited_ratio,
                "rho_cost_audited": ra,
                "rho_cost_audited_low": low,
                "rho_cost_audited_high": high,
                "relative_gap": gap,
                "identified": est.identified,
                "comparison": text,
            }
        )
    return pl.DataFrame(rows, schema=AUDITED_COST_SCHEMA)


# ---------------------------------------------------------------------------------------------- report


def plot_gate_audit(path: Path, rates: pl.DataFrame) -> Path:
    """Left: precision and false-rejection rate per operator with their intervals. Right: yield and correct
    yield (yield x precision) side by side, so the operators worth keeping stand out."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = rates.to_dicts()
    names = [r["operator"] for r in rows]
    ys = list(range(len(rows)))
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 1.6 + 0.42 * max(1, len(rows))), sharey=True)
    for dy, key, color, label in (
        (-0.15, "precision", "tab:green", "precision (share of accepted that are correct)"),
        (0.15, "false_rejection", "tab:red", "false-rejection rate (V_verify/V_faithful rejections)"),
    ):
        col = "precision" if key == "precision" else "false_rejection_rate"
        for y, r in zip(ys, rows, strict=True):
            value, low, high = r[col], r[f"{key}_low"], r[f"{key}_high"]
            if value is None:
                left.scatter([0], [y + dy], marker="x", color="#9e9e9e", s=25)
                continue
            err = [[max(0.0, value - low)], [max(0.0, high - value)]] if low is not None and high is not None else None
            hollow = key == "precision" and not r["reviewed_accepted"]
            left.errorbar(
                [value],
                [y + dy],
                xerr=err,
                fmt="o",
                capsize=3,
                color=color,
                markerfacecolor="white" if hollow else color,
            )
        left.plot([], [], "o", color=color, label=label)
    left.set_xlim(-0.05, 1.05)
    left.set_yticks(ys, names, fontsize=7)
    left.invert_yaxis()
    left.set_xlabel("rate (95% interval; hollow: probes only, an upper bound; x: not audited)")
    left.set_title("Gate audit per operator")
    left.legend(fontsize=6.5, loc="lower left")
    for dy, col, color, label in (
        (-0.2, "yield", "#bbbbbb", "yield (accepted / attempts)"),
        (0.2, "correct_yield", "tab:green", "correct yield (x precision)"),
    ):
        right.barh([y + dy for y in ys], [r[col] or 0.0 for r in rows], height=0.4, color=color, label=label)
    right.set_xlabel("share of attempts")
    right.set_title("Yield per operator")
    right.legend(fontsize=6.5)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


RATE_VIEW = [
    "operator",
    "attempts",
    "accepted",
    "yield",
    "precision",
    "precision_low",
    "precision_high",
    "correct_yield",
    "probe_failed",
    "reviewed_accepted",
    "false_rejection_rate",
    "false_rejection_low",
    "false_rejection_high",
    "reviewed_rejected",
    "precision_basis",
]
AUDITED_COST_VIEW = [
    "arm",
    "estimator",
    "c_aug_usd",
    "c_aug_correct_usd",
    "c_aug_correct_low",
    "c_aug_correct_high",
    "cost_ratio",
    "rho_cost",
    "audited_cost_ratio",
    "rho_cost_audited",
    "rho_cost_audited_low",
    "rho_cost_audited_high",
    "comparison",
]


def audit_markdown(rates: pl.DataFrame, audited: pl.DataFrame | None, figure_name: str = "gate_audit.png") -> str:
    """The report's gate-audit section: per-operator yield beside audited precision, and rho_cost at the
    audited c_aug beside the unaudited one."""
    from rlvr_assets.core.economics.report import markdown_table

    lines = [
        "## Gate audit (probes of every accepted variant + reviewed sample)",
        f"![gate audit]({figure_name})",
        "",
        INTERVAL_NOTE + ".",
        "",
        markdown_table(rates.select([c for c in RATE_VIEW if c in rates.columns])),
        "",
    ]
    if audited is not None and audited.height:
        lines += [
            "### rho_cost at the audited c_aug (c_aug per correct accepted variant = c_aug / precision)",
            "The audited interval carries the precision's uncertainty only; rho's own CI is in the trade-rate table.",
            "",
            markdown_table(audited.select(AUDITED_COST_VIEW)),
            "",
        ]
    return "\n".join(lines) + "\n"


def json_cell(value: Any) -> str:
    """A solution or spec as review-file text: strings as they are, anything else as indented JSON."""
    return value if isinstance(value, str) else json.dumps(value, indent=1, sort_keys=True)

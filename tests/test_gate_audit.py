"""The gate audit: probes of every accepted variant, the review loop and the error rates with intervals.

The gated run here is built directly (real seeds, real operators, the real gate's `decide` on fixed rewards)
so no model is needed; one variant is planted with a wrong ground truth and let through, as a gate miss.
"""

from __future__ import annotations

import csv
import dataclasses
from pathlib import Path

import polars as pl
import pytest

from rlvr_assets.core.audit.probes import probe_frame, run_probes
from rlvr_assets.core.audit.rates import audit_rates, false_positive_frame, variant_audit_frame, wilson
from rlvr_assets.core.audit.review import draw_sample, merge_reviews, read_review_file
from rlvr_assets.core.augment.operators import OPERATORS, Attempt, apply_operators
from rlvr_assets.core.config import GateConfig, PricesConfig
from rlvr_assets.core.domains.base import parent_truth
from rlvr_assets.core.gate.factors import GateRun, decide
from rlvr_assets.core.gate.frames import attempts_to_frame, gate_to_frame, tasks_to_frame
from rlvr_assets.core.tasks.model import Provenance, build_task
from rlvr_assets.core.tasks.seeds import load_seed_dir

ROOT = Path(__file__).resolve().parents[1]
GATE = GateConfig(samples=8, pass_at=4, solve_band=(0.0, 0.95), min_informative_fraction=0.0)
REWARDS = [0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0]


def wrong_truth_variant(parent):  # type: ignore[no-untyped-def]
    """apples-buy with new numbers (5 + 6 = 11) that kept its parent's answer (7): a wrong ground truth."""
    prompt = parent.prompt.model_copy(update={"params": {**parent.prompt.params, "a": 5, "b": 6}})
    truth = parent_truth(parent)
    return build_task(
        name=f"{parent.name}~planted-wrong-truth",
        domain=parent.domain,
        prompt=prompt,
        verifier=truth.verifier,
        reference_solution=truth.reference_solution,
        known_bad=[k for k in truth.known_bad if k != "Answer: 11"],
        authoring_cost_usd=0.0,
        provenance=Provenance(
            kind="augmented", parent_id=parent.id, operator="resample_params", operator_version="2", rng_seed=99
        ),
        solution_program=parent.solution_program,
        system=parent.system,
    )


def numbers_in_words_variant(parent):  # type: ignore[no-untyped-def]
    """apples-buy paraphrased without its hint and with a number spelled out ("three"): the same task and
    answer, but V_faithful finds param a=3 not shown in the prompt and rejects it, a correct variant thrown
    away (gated in a batch of its own, as `rlvr-assets gate` gates outside candidates)."""
    template = parent.prompt.template.replace("{a}", "three")
    truth = parent_truth(parent)
    return build_task(
        name=f"{parent.name}~planted-words",
        domain=parent.domain,
        prompt=parent.prompt.model_copy(update={"template": template, "hint": None}),
        verifier=truth.verifier,
        reference_solution=truth.reference_solution,
        known_bad=truth.known_bad,
        authoring_cost_usd=0.0,
        provenance=Provenance(
            kind="augmented", parent_id=parent.id, operator="llm_paraphrase", operator_version="1", rng_seed=0
        ),
        solution_program=parent.solution_program,
        system=parent.system,
    )


@pytest.fixture(scope="module")
def gated() -> dict:  # type: ignore[type-arg]
    seeds = load_seed_dir(ROOT / "seeds", 20.0)
    base = [t for t in seeds if t.provenance.split == "base"]
    # every domain, few code variants (each code check starts a sandbox): 2 seeds per domain, 2 code operators
    picked = [
        t
        for d in ("reasoning", "function_calling", "instruction_following", "code")
        for t in [b for b in base if b.domain == d][:2]
    ]
    attempts = [
        a
        for p in picked
        for a in apply_operators(p, ["remove_hint", "obscure_goal"] if p.domain == "code" else list(OPERATORS), 0, 2)
        if p.domain != "code" or p is picked[-1]
    ]
    parent = next(t for t in base if t.name == "apples-buy")
    planted = wrong_truth_variant(parent)
    attempts.append(
        Attempt(parent.id, "resample_params", "2", "parameter_resampling", 99, "proposed", "ok", planted, 0.0)
    )
    variants = [a.variant for a in attempts if a.variant is not None]
    parents = {t.id: t for t in seeds}
    rewards = {v.id: list(REWARDS) for v in variants}
    rows, decisions, cpu = decide(variants, parents, rewards, GATE)
    words = numbers_in_words_variant(parent)
    attempts.append(Attempt(parent.id, "llm_paraphrase", "1", "rewrite", 0, "proposed", "ok", words, 0.0))
    rewards[words.id] = list(REWARDS)
    w_rows, w_decisions, _ = decide([words], parents, rewards, GATE)
    variants, rows, decisions = [*variants, words], [*rows, *w_rows], [*decisions, *w_decisions]
    # the gate rejects the planted variant (V_faithful); let it through, as a gate with a blind spot would
    assert not next(d for d in decisions if d.variant_id == planted.id).accepted
    decisions = [dataclasses.replace(d, accepted=True) if d.variant_id == planted.id else d for d in decisions]
    assert next(d for d in decisions if d.variant_id == words.id).failed_factors == ("faithful",)
    run = GateRun(rows, decisions, dict.fromkeys(rewards, 10), rewards, cpu)
    gate = gate_to_frame(run, variants, PricesConfig())
    accepted = [v for v, d in zip(variants, decisions, strict=True) if d.accepted]
    probes = probe_frame(run_probes(accepted, parents).results)
    augmented = attempts_to_frame(attempts, PricesConfig())
    return {
        "gate": gate,
        "probes": probes,
        "augmented": augmented,
        "seeds": tasks_to_frame(seeds),
        "accepted": accepted,
        "planted": planted,
        "words": words,
    }


def test_every_accepted_variant_has_probe_results_and_the_floor_scores_zero(gated: dict) -> None:  # type: ignore[type-arg]
    probes = gated["probes"]
    assert set(probes["variant_id"]) == {v.id for v in gated["accepted"]}
    per_variant = probes.group_by("variant_id").agg(pl.col("probe"))
    for probe_names in per_variant["probe"].to_list():
        assert {"floor_empty", "floor_refusal", "floor_echo", "own_reference", "rederived_reference"} <= set(
            probe_names
        )
    floor = probes.filter(pl.col("kind") == "floor")
    assert floor["passed"].all() and (floor["reward"] == 0.0).all()
    # resampled reasoning variants carry the parent-answer probe, and honest ones pass it
    parent_probes = probes.filter((pl.col("probe") == "parent_answer") & (pl.col("variant_id") != gated["planted"].id))
    assert parent_probes.height > 0 and parent_probes["passed"].all()
    assert probes.filter(pl.col("domain") == "code").filter(pl.col("kind") == "hack").height > 0


def test_the_planted_wrong_ground_truth_is_caught_by_a_probe_and_counted(gated: dict) -> None:  # type: ignore[type-arg]
    planted = gated["planted"].id
    failed = gated["probes"].filter(~pl.col("passed"))
    assert set(failed["variant_id"]) == {planted}  # no honest variant fails a probe
    assert {"parent_answer", "rederived_reference"} <= set(failed["probe"])
    variants = variant_audit_frame(gated["gate"], gated["probes"], None)
    rates = audit_rates(gated["augmented"], variants)
    row = rates.filter(pl.col("operator") == "resample_params").row(0, named=True)
    assert row["false_positives"] == 1 and row["probe_failed"] == 1
    assert row["precision"] == pytest.approx((row["probed"] - 1) / row["probed"])
    assert row["precision_high"] < 1.0 or row["probed"] > 40
    assert "upper bound" in row["precision_basis"]
    fp = false_positive_frame(variants)
    assert fp["variant_id"].to_list() == [planted] and "parent_answer" in fp["reason"][0]


def test_wilson_matches_the_textbook_values() -> None:
    low, high = wilson(8, 10)
    assert low == pytest.approx(0.4902, abs=1e-3) and high == pytest.approx(0.9433, abs=1e-3)
    assert wilson(0, 0) == (None, None)
    for n in range(1, 200):  # every interval holds its point, exactly at k = n (a figure's error bar needs it)
        assert wilson(n, n)[1] == 1.0 and wilson(0, n)[0] == 0.0
        for k in (1, n // 2, n - 1):
            low, high = wilson(k, n)
            assert low <= k / n <= high
    low0, high0 = wilson(0, 5)
    assert low0 == 0.0 and 0.4 < high0 < 0.6


def test_sample_is_stratified_and_reproducible(gated: dict) -> None:  # type: ignore[type-arg]
    variants = variant_audit_frame(gated["gate"], gated["probes"], None)
    a, b = draw_sample(variants, 24, seed=3), draw_sample(variants, 24, seed=3)
    assert a["variant_id"].to_list() == b["variant_id"].to_list()
    assert a["variant_id"].to_list() != draw_sample(variants, 24, seed=4)["variant_id"].to_list()
    assert a.height == 24
    strata = set(
        variants.with_columns(
            (
                pl.col("operator")
                + "|"
                + pl.when(pl.col("accepted")).then(pl.lit("accepted")).otherwise(pl.lit("rejected"))
            ).alias("s")
        )["s"]
    )
    assert set(a["stratum"]) == strata  # every operator, accepted and rejected
    assert gated["planted"].id not in a["variant_id"].to_list()  # a probe failure is already a verdict


def _write_verdicts(path: Path, rows: list[tuple[str, str]]) -> Path:
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["variant_id", "verdict", "note"])
        writer.writerows([(vid, verdict, "") for vid, verdict in rows])
    return path


def test_bad_review_rows_are_one_line_problems_and_the_rest_is_kept(gated: dict, tmp_path: Path) -> None:  # type: ignore[type-arg]
    ids = sorted(gated["gate"]["variant_id"].unique())
    path = _write_verdicts(
        tmp_path / "v.csv",
        [
            (ids[0], "correct"),
            ("vari-000000000000", "correct"),
            (ids[1], "maybe"),
            (ids[0], "broken"),
            (ids[2], ""),
            (ids[3], " Broken "),
        ],
    )
    parsed = read_review_file(path, set(ids))
    assert [(r.variant_id, r.verdict) for r in parsed.reviews] == [(ids[0], "correct"), (ids[3], "broken")]
    assert parsed.blank == 1
    lines = [p.line() for p in parsed.problems]
    assert len(lines) == 3 and all("\n" not in line and str(path) in line for line in lines)
    assert "row 2" in lines[0] and "'variant_id'" in lines[0] and "unknown" in lines[0]
    assert "row 3" in lines[1] and "'verdict'" in lines[1] and "'maybe'" in lines[1]
    assert "row 4" in lines[2] and "duplicate" in lines[2]


def test_reviews_give_precision_and_false_rejection_with_intervals_per_operator(gated: dict, tmp_path: Path) -> None:  # type: ignore[type-arg]
    variants = variant_audit_frame(gated["gate"], gated["probes"], None)
    sample = draw_sample(variants, 30, seed=0)
    ids = set(gated["gate"]["variant_id"])
    # the reviewer: every accepted resample is correct but one; every rejection on a correctness factor correct
    accepted = sample.filter(pl.col("accepted"))
    verdicts = [(r["variant_id"], "correct") for r in accepted.iter_rows(named=True)]
    verdicts[0] = (verdicts[0][0], "broken")
    rejected = sample.filter(~pl.col("accepted"))
    verdicts += [(r["variant_id"], "correct") for r in rejected.iter_rows(named=True)]
    parsed = read_review_file(_write_verdicts(tmp_path / "r.csv", verdicts), ids)
    reviews = merge_reviews(None, parsed, tmp_path / "r.csv")
    rates = audit_rates(gated["augmented"], variant_audit_frame(gated["gate"], gated["probes"], reviews))
    overall = rates.filter(pl.col("operator") == "all").row(0, named=True)
    assert overall["reviewed_accepted"] == accepted.height
    assert overall["precision"] < overall["probe_pass_rate"]
    assert 0 <= overall["precision_low"] < overall["precision"] < overall["precision_high"] <= 1
    assert "reviews" in overall["precision_basis"]
    broken_op = accepted.filter(pl.col("variant_id") == verdicts[0][0])["operator"][0]
    assert rates.filter(pl.col("operator") == broken_op)["false_positives"][0] >= 1
    # the correct variant V_faithful threw away is the only rejection on a correctness factor: drawn, and counted
    assert rejected.filter(pl.col("failed_factors").str.contains("verify|faithful"))["variant_id"].to_list() == [
        gated["words"].id
    ]
    assert overall["reviewed_rejected"] == 1 and overall["reviewed_rejected_utility"] == rejected.height - 1
    para = rates.filter(pl.col("operator") == "llm_paraphrase").row(0, named=True)
    assert para["false_rejection_rate"] == 1.0 and 0.0 < para["false_rejection_low"] < 1.0
    assert para["false_rejection_high"] == 1.0 and "1/1" in para["false_rejection_basis"]
    others = rates.filter(~pl.col("operator").is_in(["llm_paraphrase", "all"]))
    assert others["false_rejection_rate"].is_null().all()  # rejections for usefulness are not errors


def _rates(precision: float, low: float, high: float) -> pl.DataFrame:
    from rlvr_assets.core.audit.rates import RATE_SCHEMA

    row = dict.fromkeys(RATE_SCHEMA)
    row.update(operator="all", precision=precision, precision_low=low, precision_high=high, precision_basis="test")
    return pl.DataFrame([row], schema=RATE_SCHEMA)


def test_audited_c_aug_and_rho_cost_sit_beside_the_unaudited_ones() -> None:
    from rlvr_assets.core.audit.rates import audited_rho_cost
    from rlvr_assets.core.economics.trade_rate import TRADE_ROW_SCHEMA, TradeEstimate
    from rlvr_assets.core.gate.frames import COST_SCHEMA

    trade = pl.DataFrame(
        [
            TradeEstimate("aug-a", "log_interpolation", 4, 8, 50.0, 8.0, 0.5, "ok").as_row(),
            TradeEstimate("aug-b", "log_interpolation", 4, 8, 50.0, 5.0, 0.12, "ok").as_row(),
            TradeEstimate("aug-c", "dominance_bound", 4, 8, 0.0, None, None, "score at the floor").as_row(),
        ],
        schema=TRADE_ROW_SCHEMA,
    )
    costs = pl.DataFrame([{"c_aug_usd": 2.0, "c_human_usd": 20.0, "measured_cost_ratio": 10.0}]).cast(
        {k: v for k, v in COST_SCHEMA.items() if k in ("c_aug_usd", "c_human_usd", "measured_cost_ratio")}
    )
    out = audited_rho_cost(trade, costs, _rates(0.8, 0.6, 0.9))
    a, b, c = out.rows(named=True)
    assert a["c_aug_correct_usd"] == pytest.approx(2.5)
    assert (a["c_aug_correct_low"], a["c_aug_correct_high"]) == (pytest.approx(2 / 0.9), pytest.approx(2 / 0.6))
    assert a["rho_cost"] == pytest.approx(5.0) and a["rho_cost_audited"] == pytest.approx(4.0)
    assert (a["rho_cost_audited_low"], a["rho_cost_audited_high"]) == (pytest.approx(3.0), pytest.approx(4.5))
    assert a["relative_gap"] == pytest.approx(0.2) and "20% below" in a["comparison"]
    assert "crosses break-even" not in a["comparison"]
    assert b["rho_cost"] == pytest.approx(1.2) and b["rho_cost_audited"] == pytest.approx(0.96)
    assert "crosses break-even" in b["comparison"]
    assert c["rho_cost_audited"] is None and "floor" in c["comparison"]


def test_review_files_escape_untrusted_text_and_a_headerless_file_is_one_line(tmp_path: Path) -> None:
    from rlvr_assets.core.audit.review import ReviewFileError, write_review_csv, write_review_html

    hostile = {
        "variant_id": "reas-000000000001",
        "verdict": "",
        "note": "",
        "operator": "obscure_goal",
        "domain": "reasoning",
        "decision": "accepted",
        "failed_factors": "",
        "gate_reasons": "V_verify pass: ok",
        "probe_failures": "",
        "parent_prompt": "</pre><script>fetch('http://x')</script>",
        "variant_prompt": '=HYPERLINK("http://x")',
        "parent_truth": "",
        "variant_truth": "",
        "parent_id": "reas-000000000000",
    }
    page = write_review_html(tmp_path / "r.html", [hostile], "t", "v.csv").read_text()
    assert "<script>fetch" not in page and "&lt;script&gt;fetch" in page
    assert "default-src 'none'" in page  # nothing outside the page can load, even if escaping failed
    with write_review_csv(tmp_path / "r.csv", [hostile]).open(newline="") as fh:
        row = next(csv.DictReader(fh))
    assert row["variant_prompt"].startswith("'=")  # a spreadsheet shows it, never runs it
    (tmp_path / "bad.csv").write_text("id,verdict\nx,correct\n")
    with pytest.raises(ReviewFileError) as err:
        read_review_file(tmp_path / "bad.csv", {"x"})
    assert "\n" not in str(err.value) and "bad.csv" in str(err.value) and "variant_id" in str(err.value)


def test_the_figure_draws_a_precision_of_one(tmp_path: Path) -> None:
    """10 of 10 probes passing: the interval's top is exactly 1, so the error bar is drawable."""
    from rlvr_assets.core.audit.rates import plot_gate_audit

    low, high = wilson(10, 10)
    assert plot_gate_audit(tmp_path / "a.png", _rates(1.0, low, high)).stat().st_size > 0

"""`rlvr-assets plan`: the budget a verdict needs, from an item-level pilot or stated priors."""

import json
from pathlib import Path

import numpy as np

from rlvr_assets.cli import main
from rlvr_assets.core.economics.calibration import Truth, simulate
from rlvr_assets.core.economics.planner import VarianceComponents, estimate_components, items_needed, slope_cap


def test_items_needed_is_the_smallest_count_under_the_cap() -> None:
    comp = VarianceComponents(900.0, 400.0, 4.0, "test", True)
    cap = slope_cap((4, 8, 16, 32, 64), 5.0)
    for seeds in (2, 3, 5):
        n = items_needed(comp, cap, seeds)
        assert n is not None and comp.per_arm(n, seeds) <= cap < comp.per_arm(n - 1, seeds)
    assert items_needed(comp, 3.9, 1) is None  # seed variance alone exceeds the cap: no item count helps


def test_pilot_components_recover_a_known_seed_variance() -> None:
    scores = simulate(Truth(slope=5.0, rho=1.0, seed_sd=4.0), items=400, seeds=5, rng=np.random.default_rng(3))
    comp = estimate_components(scores)
    assert comp.seed_measured and 4.0 < comp.seed < 40.0  # true 16 points^2, on 20 df
    assert 0.0 < comp.item_arm < 60.0  # true 9 points^2 of item x arm deviation


def test_plan_prints_the_budget_for_a_five_point_slope(tmp_path: Path, capsys) -> None:
    scores = simulate(Truth(slope=5.0, rho=1.0), items=60, seeds=2, rng=np.random.default_rng(0))
    lines = ["arm,n_human,n_aug,seed,benchmark,item,reward"]
    for a in scores.arms:
        for s, row in zip(scores.seeds[a.name], scores.rewards[a.name], strict=True):
            lines += [
                f"{a.name},{a.n_human},{a.n_aug},{s},{b},{i},{int(v)}"
                for i, b, v in zip(scores.items, scores.benchmarks, row, strict=True)
            ]
    csv = tmp_path / "pilot.csv"
    csv.write_text("\n".join(lines) + "\n")
    assert main(["plan", "--items-csv", str(csv)]) == 0
    out = capsys.readouterr().out
    assert "To see a +5-point slope per doubling over human sizes [4, 8, 16, 32]" in out
    assert "seed variance measured" in out
    assert main(["plan", "--priors", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["rows"]
    assert any(r["goal"].startswith("slope") and r["items"] for r in rows)
    assert main(["plan", "--items-csv", str(tmp_path / "missing.csv")]) == 2


def test_plan_reads_a_pipeline_duckdb(tmp_path: Path, capsys) -> None:
    import polars as pl

    from rlvr_assets.core.store.storage import write_frame

    scores = simulate(Truth(slope=5.0, rho=1.0), items=40, seeds=2, rng=np.random.default_rng(1))
    db = tmp_path / "rlvr.duckdb"
    corpus, rows = [], []
    for a in scores.arms:
        origins = ["human"] * a.n_human + ["augmented"] * a.n_aug
        corpus += [{"arm": a.name, "origin": o, "arm_kind": "augmented" if a.augmented else "human"} for o in origins]
        for s, row in zip(scores.seeds[a.name], scores.rewards[a.name], strict=True):
            rows += [
                {"arm": a.name, "training_seed": s, "benchmark": b, "item_id": i, "reward": float(v)}
                for i, b, v in zip(scores.items, scores.benchmarks, row, strict=True)
            ]
    write_frame(db, "training_corpus", pl.DataFrame(corpus))
    write_frame(db, "benchmark_scores", pl.DataFrame(rows))
    assert main(["plan", "--duckdb", str(db)]) == 0
    out = capsys.readouterr().out
    assert "pilot of 5 trained arms x 40 items x 2 seeds" in out and "+5-point slope" in out

"""`rlvr-assets lineage` on the tiny sweep: every training task traced to its seed, operator and gate verdicts."""

import json

import polars as pl
import pytest

from rlvr_assets.cli import main
from rlvr_assets.core.gate.factors import FACTORS
from rlvr_assets.core.store.storage import read_frame


def _lineage(tiny_sweep, capsys, *args: str) -> tuple[int, str, str]:
    code = main(["lineage", *args, "--config", str(tiny_sweep["dir"] / "pipeline.yaml")])
    out = capsys.readouterr()
    return code, out.out, out.err


def _table(tiny_sweep, name: str) -> pl.DataFrame:
    return read_frame(tiny_sweep["cfg"].paths.duckdb_path, name)


def test_lineage_json_answers_which_variants_from_which_seeds_by_which_operators_accepted_why(
    tiny_sweep, capsys
) -> None:
    code, out, _ = _lineage(tiny_sweep, capsys, "aug-0.50", "--json")
    assert code == 0
    lineage = json.loads(out)
    corpus = _table(tiny_sweep, "training_corpus").filter(pl.col("arm") == "aug-0.50")
    assert {t["task_id"] for t in lineage["tasks"]} == set(corpus["task_id"].to_list())
    seeds = [t for t in lineage["tasks"] if t["origin"] == "seed"]
    variants = [t for t in lineage["tasks"] if t["origin"] == "variant"]
    assert len(seeds) == 4 and variants, "the augmented arm is the base plus gated variants"
    seed_ids = {s["task_id"]: s["name"] for s in seeds}
    augmented = _table(tiny_sweep, "augmented_tasks").filter(pl.col("task_id").is_not_null())
    by_id = {r["task_id"]: r for r in augmented.iter_rows(named=True)}
    for v in variants:
        row = by_id[v["task_id"]]
        assert v["parent_id"] in seed_ids and v["seed_name"] == seed_ids[v["parent_id"]]
        assert (v["operator"], v["operator_version"], v["rng_seed"]) == (
            row["operator"],
            row["operator_version"],
            row["rng_seed"],
        )
        assert v["accepted"] is True
        assert [f["factor"] for f in v["factors"]] == list(FACTORS)
        assert all(f["passed"] and f["reason"] for f in v["factors"])
    for s in seeds:
        assert s["operator"] is None and s["parent_id"] is None and s["factors"] == []


def test_rejected_lists_every_refused_variant_of_the_arms_parents_with_its_reasons(tiny_sweep, capsys) -> None:
    code, out, _ = _lineage(tiny_sweep, capsys, "aug-0.50", "--rejected", "--json")
    assert code == 0
    lineage = json.loads(out)
    parents = {t["task_id"] for t in lineage["tasks"] if t["origin"] == "seed"}
    gate = _table(tiny_sweep, "gate_results")
    refused = gate.filter(~pl.col("accepted") & pl.col("parent_id").is_in(list(parents)))
    gate_rejected = [r for r in lineage["rejected"] if r["stage"] == "gate"]
    assert refused.height > 0
    assert {r["task_id"] for r in gate_rejected} == set(refused["variant_id"].unique().to_list())
    for r in gate_rejected:
        failing = refused.filter((pl.col("variant_id") == r["task_id"]) & ~pl.col("passed"))
        assert set(r["failed_factors"]) == set(failing["factor"].to_list()) != set()
        assert r["reason"] and all(f["reason"] for f in r["factors"] if not f["passed"])
        assert r["parent_id"] in parents


def test_seed_filter_keeps_one_seed_and_its_variants_and_the_table_names_operators(tiny_sweep, capsys) -> None:
    code, out, _ = _lineage(tiny_sweep, capsys, "aug-0.50", "--json")
    variant = next(t for t in json.loads(out)["tasks"] if t["origin"] == "variant")
    code, out, _ = _lineage(tiny_sweep, capsys, "aug-0.50", "--seed", variant["seed_name"], "--json")
    assert code == 0
    rows = json.loads(out)["tasks"]
    assert {r["seed_name"] for r in rows} == {variant["seed_name"]}
    assert variant["task_id"] in {r["task_id"] for r in rows}
    code, out, _ = _lineage(tiny_sweep, capsys, "aug-0.50", "--seed", variant["seed_name"])
    assert code == 0
    assert f"{variant['operator']}@{variant['operator_version']}" in out
    assert "informative" in out and variant["task_id"] in out


@pytest.mark.parametrize(
    ("args", "needle"),
    [(["aug-0.99"], "no arm 'aug-0.99'"), (["aug-0.50", "--seed", "no-such-seed"], "no-such-seed")],
)
def test_unknown_arm_or_seed_is_one_line_and_exit_2(tiny_sweep, capsys, args: list[str], needle: str) -> None:
    code, out, err = _lineage(tiny_sweep, capsys, *args)
    assert code == 2 and not out
    assert needle in err and len(err.strip().splitlines()) == 1

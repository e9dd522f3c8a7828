"""The gate audit on the tiny default-like sweep: probes of every accepted variant come with the run, the
report shows rho_cost at the audited c_aug, and `audit sample` -> `audit record` gives the rates in DuckDB
and the UI (a copy of the sweep's tables, so the shared sweep itself is left as it was)."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from rlvr_assets.cli import main
from rlvr_assets.core.store.storage import read_frame
from tests.conftest import write_config


def test_every_accepted_variant_of_the_run_is_probed_and_the_report_shows_the_audited_rho_cost(tiny_sweep) -> None:  # type: ignore[no-untyped-def]
    cfg, instance = tiny_sweep["cfg"], tiny_sweep["instance"]
    gate = read_frame(cfg.paths.duckdb_path, "gate_results")
    probes = read_frame(cfg.paths.duckdb_path, "gate_probes")
    accepted = set(gate.filter(pl.col("accepted"))["variant_id"])
    assert accepted and set(probes["variant_id"]) == accepted
    rates = read_frame(cfg.paths.duckdb_path, "gate_audit")
    assert "all" in rates["operator"].to_list() and rates.filter(pl.col("operator") == "all")["accepted"][0] == len(
        accepted
    )
    report = (cfg.paths.artifacts_dir / "report" / "report.md").read_text()
    assert "## Gate audit" in report and "rho_cost at the audited c_aug" in report
    assert (cfg.paths.artifacts_dir / "report" / "gate_audit.png").exists()
    record = instance.get_latest_materialization_event(dg.AssetKey("economics_report"))
    assert "rho_cost_audited" in record.asset_materialization.metadata
    audit = instance.get_latest_materialization_event(dg.AssetKey("gate_audit")).asset_materialization.metadata
    assert "gate_audit_figure" in audit and "gate_audit" in audit


def test_audit_sample_then_record_gives_rates_per_operator_in_duckdb_and_the_ui(
    tiny_sweep, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:  # type: ignore[no-untyped-def]
    source = tiny_sweep["cfg"]
    (tmp_path / "var").mkdir()
    shutil.copy(source.paths.duckdb_path, tmp_path / "var" / "rlvr.duckdb")
    config = write_config(tmp_path)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    (tmp_path / "dagster_home").mkdir()

    assert main(["audit", "sample", "--n", "12", "--seed", "5", "--config", str(config), "--out", str(tmp_path)]) == 0
    review = tmp_path / "review-seed5-n12.csv"
    html = (tmp_path / "review-seed5-n12.html").read_text()
    assert "Content-Security-Policy" in html and "<script>" in html
    with review.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 12 and {r["decision"] for r in rows} == {"accepted", "rejected"}
    # the reviewer: one accepted variant broken, the rest correct, one left blank; plus three bad rows
    accepted_rows = [r for r in rows if r["decision"] == "accepted"]
    for r in rows:
        r["verdict"] = "correct"
    accepted_rows[0]["verdict"] = "broken"
    [r for r in rows if r["decision"] == "rejected"][-1]["verdict"] = ""
    bad = [
        {**rows[0], "variant_id": "reas-ffffffffffff"},
        {**rows[1], "verdict": "looks fine"},
        {**rows[0], "verdict": "correct"},
    ]
    with review.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows([*rows, *bad])
    capsys.readouterr()

    code = main(["audit", "record", str(review), "--config", str(config)])
    out, err = capsys.readouterr()
    assert code == 2
    errors = err.strip().splitlines()
    assert len(errors) == 3 and all(str(review) in line for line in errors)
    assert "row 13" in errors[0] and "'variant_id'" in errors[0]
    assert "row 14" in errors[1] and "'verdict'" in errors[1]
    assert "row 15" in errors[2] and "duplicate" in errors[2]

    db = tmp_path / "var" / "rlvr.duckdb"
    reviews = read_frame(db, "gate_reviews")
    assert reviews.height == 11  # every good verdict kept, the blank one not reviewed yet
    rates = read_frame(db, "gate_audit")
    overall = rates.filter(pl.col("operator") == "all").row(0, named=True)
    assert overall["reviewed_accepted"] == len(accepted_rows)
    assert overall["precision_low"] < overall["precision"] < overall["precision_high"]
    assert "reviews" in overall["precision_basis"]
    per_op = rates.filter((pl.col("operator") != "all") & (pl.col("reviewed_accepted") > 0))
    assert per_op.height >= 1 and per_op["precision_low"].is_not_null().all()
    broken_op = accepted_rows[0]["operator"]
    assert rates.filter(pl.col("operator") == broken_op)["false_positives"][0] >= 1
    assert "precision rests on" in out
    with dg.DagsterInstance.get() as instance:
        event = instance.get_latest_materialization_event(dg.AssetKey("gate_audit"))
        assert event is not None and event.asset_materialization.metadata["reviews"].value == 11
